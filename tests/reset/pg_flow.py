#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""totp-resetd on the PostgreSQL store: one reset link issued and used, over plain HTTP.

Run by run_e2e.sh (mode postgresql) inside its sandbox: alice is enrolled only in the
database. Uses abuse_cases.py's client and mail helpers; --sql is the command that runs
one SQL statement on the test database and prints the rows. Prints "ok - ..." /
"FAIL - ..." per check; exits 1 if anything failed.
"""
import argparse
import shlex
import subprocess

import abuse_cases as cases


def sql(statement):
    return subprocess.run(shlex.split(ARGS.sql) + [statement], capture_output=True, text=True,
                          check=True).stdout.strip()


def current_code():
    """alice has used no code yet, so the current step's is accepted."""
    code = subprocess.run([ARGS.code_helper, ARGS.secret], capture_output=True, text=True,
                          check=True).stdout.strip()
    cases.SECRETS_USED.add(code)
    return code


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for name in ("base", "mail", "secret", "log", "code-helper", "sql"):
        parser.add_argument("--" + name, required=True)
    ARGS = cases.ARGS = parser.parse_args()
    check = cases.check

    token = cases.link_for("alice")
    if not check("alice got a link", token):
        return 1
    selector, verifier = token.split(".")
    check("the database holds the link's entry",
          sql(f"SELECT username FROM pam_totp_reset_tokens WHERE selector = '{selector}'")
          == "alice")
    check("but not its secret half",
          verifier not in sql("SELECT string_agg(encode(verifier_hash, 'hex') || selector, ' ') "
                              "FROM pam_totp_reset_tokens"))

    client = cases.new_client()
    status, _, page = client.get(f"/reset?token={token}")
    check("the link opens the form for its account",
          status == 200 and "Account: <strong>alice</strong>" in page, status)
    status, _, page = cases.reset(client, token, current_code(), cases.STRONG_PASSWORD)
    check("a code from the database's secret and a strong password change the password",
          status == 200 and "Your password was changed" in page, (status, page[-800:]))
    check("the link's entry is gone from the database",
          sql("SELECT count(*) FROM pam_totp_reset_tokens WHERE username = 'alice'") == "0")
    check("the code used is recorded in the database (replay protection)",
          sql("SELECT last_step IS NOT NULL FROM pam_totp_users WHERE username = 'alice'") == "t")
    status, _, page = client.get(f"/reset?token={token}")
    check("the used link cannot be opened again",
          status == 400 and "This link cannot be used" in page, status)
    check("the new password works through PAM",
          cases.pam_works("reset-check", "alice", cases.STRONG_PASSWORD))
    cases.logs_hold_no_token_code_or_password()
    print(f"{cases.PASSED} passed, {cases.FAILED} failed")
    return 1 if cases.FAILED or not cases.PASSED else 0


if __name__ == "__main__":
    raise SystemExit(main())
