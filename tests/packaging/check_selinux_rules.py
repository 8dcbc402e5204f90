#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The rules of a policy linked with the pam_totp module (check_selinux_policy.sh makes
it): who may use the state, the config, the programs' domains, the boolean. One load of
the policy through setools (what sesearch and seinfo use), one line per check.
    check_selinux_rules.py POLICY"""
import functools
import sys

import setools

policy = setools.SELinuxPolicy(sys.argv[1])
results = {"passed": 0, "failed": 0}


def check(name, ok):
    results["passed" if ok else "failed"] += 1
    print(("ok - " if ok else "FAIL - ") + name)


@functools.cache
def rules_on(target, ruletype):
    """Every rule of the type on `target` (through its attributes too), with the types its
    source stands for: one query per target, the checks filter (a query each is slow)."""
    query = setools.TERuleQuery(policy, ruletype=[ruletype], target=target)
    return [(rule, {str(t) for t in rule.source.expand()}) for rule in query.results()]


def rules(source, target, tclass, perm=None, ruletype="allow"):
    return [rule for rule, sources in rules_on(target, ruletype)
            if source in sources and str(rule.tclass) == tclass
            and (perm is None or perm in rule.perms)]


def condition(rule):
    try:
        return str(rule.conditional)
    except setools.exception.RuleNotConditional:
        return None


def allowed(source, target, tclass, perm, when=None):
    """An allow rule grants it: always (when=None), or under boolean expression `when`."""
    return any(condition(rule) == when for rule in rules(source, target, tclass, perm))


STATE = "pam_totp_var_lib_t"
CONFIG = "pam_totp_conf_t"
# sudo and su run in one domain per role: staff's and user's stand for all of them.
for domain in ["sshd_t", "local_login_t", "staff_sudo_t", "staff_su_t", "user_su_t", "xdm_t",
               "totp_enroll_t", "totp_resetd_t", "totp_verify_t"]:
    for perm in ["read", "write", "lock", "create", "rename", "unlink"]:
        check(f"{domain} may {perm} state files", allowed(domain, STATE, "file", perm))
    check(f"{domain} may add files to the state directory",
          allowed(domain, STATE, "dir", "add_name"))
    check(f"{domain} may read the config", allowed(domain, CONFIG, "file", "read"))

for domain in ["user_t", "staff_t", "ssh_t"]:
    for perm in ["read", "write", "getattr"]:
        check(f"{domain} may not {perm} state files", not rules(domain, STATE, "file", perm))
    check(f"{domain} may not list the state directory", not rules(domain, STATE, "dir", "read"))
    check(f"{domain} may not read the config", not rules(domain, CONFIG, "file", "read"))

check("sshd_t may not write the config", not rules("sshd_t", CONFIG, "file", "write"))
check("totp-enroll may rewrite the roll-out state", allowed("totp_enroll_t", CONFIG, "file", "create"))
transitions = rules("totp_enroll_t", "etc_t", "file", ruletype="type_transition")
check("the roll-out file totp-enroll writes in /etc keeps the config's type",
      [str(rule.default) for rule in transitions] == ["pam_totp_conf_t"])
for domain in ["user_t", "staff_t"]:
    transitions = rules(domain, "totp_enroll_exec_t", "process", ruletype="type_transition")
    check(f"{domain} runs totp-enroll in totp_enroll_t",
          [str(rule.default) for rule in transitions] == ["totp_enroll_t"])

# totp-verify: the module's setuid helper when its caller is not root (screen lockers in
# the user domains, display managers' lock screens, OpenVPN, a web server's PAM).
VERIFY = "totp_verify_t"
for domain, role in [("user_t", "user_r"), ("staff_t", "staff_r"), ("sysadm_t", "sysadm_r"),
                     ("unconfined_t", "unconfined_r"), ("xdm_t", "system_r"),
                     ("openvpn_t", "system_r"), ("httpd_t", "system_r")]:
    transitions = rules(domain, "totp_verify_exec_t", "process", ruletype="type_transition")
    check(f"{domain} runs totp-verify in totp_verify_t",
          allowed(domain, "totp_verify_exec_t", "file", "execute")
          and allowed(domain, VERIFY, "process", "transition")
          and [str(rule.default) for rule in transitions] == [VERIFY])
    check(f"{role} may hold totp_verify_t (for {domain})",
          VERIFY in {str(t) for t in policy.lookup_role(role).types()})
    check(f"totp-verify reads the code from and answers {domain} through its pipes",
          allowed(VERIFY, domain, "fd", "use") and allowed(VERIFY, domain, "fifo_file", "read")
          and allowed(VERIFY, domain, "fifo_file", "write"))
    check(f"{domain} may end a totp-verify that outlives its deadline",
          allowed(domain, VERIFY, "process", "sigkill"))
check("totp_verify_t is entered through totp-verify",
      allowed(VERIFY, "totp_verify_exec_t", "file", "entrypoint"))
check("totp-verify may not read /etc/shadow", not rules(VERIFY, "shadow_t", "file", "read"))
for home_type in ["user_home_t", "user_home_dir_t"]:
    check(f"totp-verify may not read {home_type}",
          not rules(VERIFY, home_type, "file", "read")
          and not rules(VERIFY, home_type, "dir", "search"))
check("totp-verify may not write the config", not rules(VERIFY, CONFIG, "file", "write"))
network = setools.TERuleQuery(policy, ruletype=["allow"], source=VERIFY,
                              perms=["name_bind", "name_connect"]).results()
# Name lookups (nsswitch_domain, as unix_chkpwd's) may reach DNS and, under the reference
# policy's own boolean, LDAP; the fleet store under this module's boolean. Nothing else.
check("totp-verify binds no port and connects only for name lookups and the fleet store",
      all(str(rule.source) == "nsswitch_domain" and "name_bind" not in rule.perms
          or condition(rule) == "pam_totp_use_postgresql" for rule in network))

check("totp-resetd binds its port",
      allowed("totp_resetd_t", "totp_resetd_port_t", "tcp_socket", "name_bind"))
check("totp-resetd sends mail", allowed("totp_resetd_t", "smtp_port_t", "tcp_socket", "name_connect"))
check("totp-resetd changes passwords (pam_unix writes /etc/shadow)",
      allowed("totp_resetd_t", "shadow_t", "file", "write"))
check("totp-resetd makes its unix socket",
      allowed("totp_resetd_t", "totp_resetd_runtime_t", "sock_file", "create"))

booleans = {str(b): b.state for b in policy.bools()}
check("the boolean pam_totp_use_postgresql exists, off by default",
      booleans.get("pam_totp_use_postgresql") is False)
for domain in ["local_login_t", "totp_resetd_t", "totp_verify_t"]:
    port = (domain, "postgresql_port_t", "tcp_socket", "name_connect")
    check(f"{domain} reaches PostgreSQL only with pam_totp_use_postgresql",
          not allowed(*port) and allowed(*port, when="pam_totp_use_postgresql"))

print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
