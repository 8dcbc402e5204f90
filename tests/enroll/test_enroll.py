#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""totp-enroll end to end: the built tool against a private store, and logins through the
built pam_totp.so under pam_wrapper + nss_wrapper (nothing on the host is touched).

Usage: test_enroll.py GROUP [CASE]    (run as root, inside tests/support/with_private_tmp.sh)

Paths and preload lists come from the environment (see CMakeLists.txt):
  TOTP_ENROLL             the totp-enroll binary
  TOTP_PAM_LOGIN          tests/enroll/pam_login (logs in through a pam_wrapper service)
  TOTP_MODULE             pam_totp.so
  TOTP_PAM_WRAPPER_MODULES  directory holding pam_matrix.so
  TOTP_TOOL_PRELOAD       LD_PRELOAD for the tool (nss_wrapper + test clock)
  TOTP_LOGIN_PRELOAD      LD_PRELOAD for pam_login (pam_wrapper + nss_wrapper + test clock)
  TOTP_NODE_DIR           where npm installs the otpauth package (group "uris")

Each case gets a fresh sandbox: users alice, bob, carol and dave (password NAME-pw, home
under the sandbox), a root-owned config naming a private state directory, and a PAM
service "login" (pam_matrix for the password, then pam_totp). The test clock
(TOTP_TEST_NOW) is set for the tool and the module alike, and oathtool computes the codes
for the same instant, so every case is deterministic.
"""
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
import traceback

TOOL = os.environ.get("TOTP_ENROLL", "")
PAM_LOGIN = os.environ.get("TOTP_PAM_LOGIN", "")
MODULE = os.environ.get("TOTP_MODULE", "")
WRAPPER_MODULES = os.environ.get("TOTP_PAM_WRAPPER_MODULES", "")
TOOL_PRELOAD = os.environ.get("TOTP_TOOL_PRELOAD", "")
LOGIN_PRELOAD = os.environ.get("TOTP_LOGIN_PRELOAD", "")
NODE_DIR = os.environ.get("TOTP_NODE_DIR", "")
HERE = os.path.dirname(os.path.abspath(__file__))
LOCALE_DIR = os.environ.get("TOTP_LOCALE_DIR", "")
BUILD_LOCALE_DIR = os.environ.get("TOTP_BUILD_LOCALE_DIR", "")

EPOCH = 1_700_000_000  # a multiple of 30 and 60
LOCK_DEADLINE = 5  # seconds: kLockDeadline in core/include/totp/file_lock.hpp
USERS = ["alice", "bob", "carol", "dave"]
RECOVERY_HEADER = "Recovery codes (each works once; store them safely):"
CODE_PROMPT = "Enter the code from your app: "
SECRET_LINE = re.compile(r"^Secret: ([A-Z2-7]{4}(?: [A-Z2-7]{1,4})*)$", re.M)
RECOVERY_LINE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")

CASES = []


def case(group):
    def register(function):
        CASES.append((group, function))
        return function
    return register


class Failed(Exception):
    pass


def check(condition, what, detail=""):
    if not condition:
        raise Failed(what + (("\n" + detail) if detail else ""))


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __str__(self):
        return f"exit {self.rc}\n--- stdout\n{self.out}--- stderr\n{self.err}"


class Sandbox:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="totp_enroll_test.")
        os.chmod(self.root, 0o755)
        self.state = os.path.join(self.root, "state")
        os.mkdir(self.state, 0o700)
        self.services = os.path.join(self.root, "services")
        os.mkdir(self.services)
        self.now = EPOCH
        self.mounts = []
        passwd = ["root:x:0:0:root:/root:/bin/sh"]
        group = ["root:x:0:"]
        passdb = []
        for uid, user in enumerate(USERS, start=1001):
            home = self.home(user)
            os.makedirs(home)
            os.chown(home, uid, uid)
            passwd.append(f"{user}:x:{uid}:{uid}::{home}:/bin/sh")
            group.append(f"{user}:x:{uid}:")
            passdb.append(f"{user}:{user}-pw:any")
        self.write("passwd", "\n".join(passwd) + "\n", 0o644)
        self.write("group", "\n".join(group) + "\n", 0o644)
        self.write("passdb", "\n".join(passdb) + "\n", 0o600)
        self.config = self.write_config()
        self.write("services/login",
                   f"auth required {WRAPPER_MODULES}/pam_matrix.so passdb={self.root}/passdb\n"
                   f"auth required {MODULE} state_dir={self.state} config={self.config}\n", 0o644)
        self.write("services/other", "auth required pam_deny.so\n", 0o644)

    def home(self, user):
        return os.path.join(self.root, "home", user)

    def path(self, name):
        return os.path.join(self.root, name)

    def write(self, name, text, mode=0o600):
        path = self.path(name)
        with open(path, "w") as file:
            file.write(text)
        os.chmod(path, mode)
        return path

    def write_config(self, extra="", name="pam_totp.conf", state_dir=None):
        state_dir = state_dir or self.state
        return self.write(name, f"[global]\nstate_dir = {state_dir}\nissuer = TestIssuer\n{extra}",
                          0o644)

    def tool_env(self):
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LD_PRELOAD": TOOL_PRELOAD,
            "NSS_WRAPPER_PASSWD": self.path("passwd"),
            "NSS_WRAPPER_GROUP": self.path("group"),
            "NSS_WRAPPER_MODULE_SO_PATH": "",
            "TOTP_TEST_NOW": str(self.now),
            "TOTP_TEST_SYSLOG": self.path("syslog"),
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
        }
        return env

    def syslog(self):
        path = self.path("syslog")
        return open(path, encoding="utf-8").read() if os.path.exists(path) else ""

    def tool(self, *args, stdin="", config=True, timeout=60):
        command = [TOOL, *args] + (["--config", self.config] if config else [])
        done = subprocess.run(command, input=stdin, capture_output=True, text=True,
                              env=self.tool_env(), timeout=timeout)
        return Result(done.returncode, done.stdout, done.stderr)

    def login(self, user, *answers):
        return self.authenticate("login", user, f"{user}-pw", *answers)

    def authenticate(self, service, user, *answers):
        env = self.tool_env()
        env.update({
            "LD_PRELOAD": LOGIN_PRELOAD,
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_DISABLE_DEEPBIND": "1",
            "PAM_WRAPPER_SERVICE_DIR": self.services,
        })
        if service == "oath":
            # pam_oath never frees the conversation's answers: its leak, which the sanitizer
            # build would otherwise report at the exit of our login program.
            env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                         "detect_leaks=0"]))
        done = subprocess.run([PAM_LOGIN, service, user, *answers],
                              capture_output=True, text=True, env=env, timeout=60)
        return done.returncode == 0

    def state_files(self):
        return sorted(os.listdir(self.state))

    def state_bytes(self, user):
        with open(os.path.join(self.state, user), "rb") as file:
            return file.read()

    def admin_enroll(self, user, *options):
        result = self.tool("--user", user, "--no-confirm", "--qr", "none", *options)
        check(result.rc == 0, f"admin enrollment of {user}", str(result))
        return result

    def cleanup(self):
        for target in reversed(self.mounts):
            subprocess.run(["umount", target], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def printed_secret(output):
    match = SECRET_LINE.search(output)
    check(match is not None, "a 'Secret: XXXX XXXX ...' line is printed", output)
    return match.group(1).replace(" ", "")


def printed_uri(output):
    lines = [line for line in output.splitlines() if line.startswith("otpauth://")]
    check(len(lines) == 1, "exactly one otpauth:// line is printed", output)
    return lines[0]


def recovery_codes(output):
    lines = output.splitlines()
    check(RECOVERY_HEADER in lines, "the recovery code header is printed", output)
    after = lines[lines.index(RECOVERY_HEADER) + 1:]
    return [line for line in after if RECOVERY_LINE.match(line)]


def oathtool(key, now, algorithm="SHA1", digits=6, period=30, hex_key=False):
    command = ["oathtool", f"--totp={algorithm}", f"--digits={digits}",
               f"--time-step-size={period}s", f"--now=@{now}"]
    if not hex_key:
        command.append("--base32")
    done = subprocess.run(command + [key], capture_output=True, text=True, timeout=30)
    check(done.returncode == 0, "oathtool runs", done.stderr)
    return done.stdout.strip()


def one_stderr_line(result, *fragments):
    lines = result.err.strip().splitlines()
    check(len(lines) == 1, "exactly one line on stderr", str(result))
    check(lines[0].startswith("totp-enroll: "), "the line names the program", str(result))
    for fragment in fragments:
        check(fragment in lines[0], f"the message says '{fragment}'", str(result))


# --- Admin enrollment, then logins with codes computed by oathtool --------------------------

@case("admin")
def admin_enrollment_logs_in_with_oathtool_codes_for_every_algorithm_digits_and_period(box):
    secret_lengths = {"SHA1": 32, "SHA256": 52, "SHA512": 103}  # 20, 32 and 64 bytes
    for algorithm in ["SHA1", "SHA256", "SHA512"]:
        for digits in [6, 8]:
            for period in [30, 60]:
                box.now += 3600
                what = f"{algorithm}/{digits}/{period}"
                result = box.admin_enroll("alice", "--algorithm", algorithm, "--digits",
                                          str(digits), "--period", str(period))
                secret = printed_secret(result.out)
                check(len(secret) == secret_lengths[algorithm], f"{what}: secret size", secret)
                uri = printed_uri(result.out)
                check(f"algorithm={algorithm}&digits={digits}&period={period}" in uri,
                      f"{what}: the URI names the parameters", uri)
                code = oathtool(secret, box.now, algorithm, digits, period)
                check(box.login("alice", code), f"{what}: oathtool's code logs in")
                later = oathtool(secret, box.now + 2 * period, algorithm, digits, period)
                check(not box.login("alice", later), f"{what}: a code two steps ahead is refused")


@case("admin")
def imported_secret_and_recovery_codes_log_in(box):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    result = box.admin_enroll("bob", "--secret", secret, "--recovery-codes", "3")
    check(printed_secret(result.out) == secret, "the given secret is the one enrolled")
    check(result.out.splitlines().count("Enrollment active.") == 1, "'Enrollment active.'")
    codes = recovery_codes(result.out)
    check(len(codes) == 3, "--recovery-codes 3 prints three codes", result.out)
    check(box.login("bob", oathtool(secret, box.now)), "a code of the given secret logs in")
    check(box.login("bob", codes[0]), "a printed recovery code logs in")
    check(not box.login("bob", codes[0]), "the same recovery code does not work twice")


@case("admin")
def defaults_come_from_the_config_and_options_override_them(box):
    box.write_config("algorithm = SHA256\ndigits = 8\nperiod = 60\nrecovery_codes = 4\n")
    result = box.admin_enroll("carol")
    uri = printed_uri(result.out)
    check(uri.startswith("otpauth://totp/TestIssuer:carol?"), "issuer and label", uri)
    check("algorithm=SHA256&digits=8&period=60" in uri, "parameters from the config", uri)
    check(len(recovery_codes(result.out)) == 4, "recovery_codes= from the config", result.out)
    result = box.admin_enroll("carol", "--issuer", "Other Org", "--label", "carol@example.org",
                              "--digits", "7")
    uri = printed_uri(result.out)
    check(uri.startswith("otpauth://totp/Other%20Org:carol%40example.org?"),
          "--issuer and --label", uri)
    check("&issuer=Other%20Org&algorithm=SHA256&digits=7&period=60" in uri, "--digits 7", uri)
    secret = printed_secret(result.out)
    check(box.login("carol", oathtool(secret, box.now, "SHA256", 7, 60)), "7 digits log in")


# --- The printed URI, read by two independent parsers: Debian's pyotp and npm's otpauth -------

# A space, letters outside ASCII, and a colon (the label's issuer/account separator).
URI_ISSUERS = ["Example Corp", "Société Générale Ünïcode", "Example Corp: Ops"]


def npm_otpauth_reader():
    """Installs npm's otpauth (pinned by package-lock.json) into the build tree once."""
    check(NODE_DIR != "", "TOTP_NODE_DIR is set")
    os.makedirs(NODE_DIR, exist_ok=True)
    for name in ["package.json", "package-lock.json"]:
        shutil.copy(os.path.join(HERE, name), NODE_DIR)
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "otpauth")):
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=NODE_DIR, capture_output=True, text=True, timeout=300)
        check(done.returncode == 0, "npm ci installs otpauth", done.stdout + done.stderr)

    def read(uri, now):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "NODE_PATH": os.path.join(NODE_DIR, "node_modules")}
        done = subprocess.run(["node", os.path.join(HERE, "otpauth_read.cjs")],
                              input=json.dumps([{"uri": uri, "time": now}]),
                              capture_output=True, text=True, env=env, timeout=60)
        check(done.returncode == 0, "node reads the URI", done.stderr)
        return json.loads(done.stdout)[0]
    return read


def pyotp_reads(uri, now):
    import pyotp  # Debian's python3-pyotp
    try:
        otp = pyotp.parse_uri(uri)
    except ValueError as error:
        return {"error": str(error)}
    return {"issuer": otp.issuer, "account": otp.name, "code": otp.at(now)}


def both_parsers_show_issuer_and_account_and_their_codes_log_in(box, npm_reads, uri, issuer,
                                                                period, what):
    for name, reads in [("pyotp", pyotp_reads), ("npm otpauth", npm_reads)]:
        box.now += period  # the previous parser's code used this step
        seen = reads(uri, box.now)
        check("error" not in seen, f"{what}: {name} reads the URI", f"{seen}\n{uri}")
        check(seen["issuer"] == issuer, f"{what}: {name} shows the issuer '{issuer}'",
              f"{seen}\n{uri}")
        check(seen["account"] == "alice", f"{what}: {name} shows the account 'alice'",
              f"{seen}\n{uri}")
        check(box.login("alice", seen["code"]), f"{what}: {name}'s code logs in", uri)


@case("uris")
def printed_uris_read_the_same_in_pyotp_and_npm_otpauth_and_their_codes_log_in(box):
    npm_reads = npm_otpauth_reader()
    combinations = [(algorithm, digits, period) for algorithm in ["SHA1", "SHA256", "SHA512"]
                    for digits in [6, 8] for period in [30, 60]]
    for index, (algorithm, digits, period) in enumerate(combinations):
        # Each algorithm meets every issuer.
        issuer = URI_ISSUERS[index % len(URI_ISSUERS)]
        box.now += 3600
        result = box.admin_enroll("alice", "--issuer", issuer, "--algorithm", algorithm,
                                  "--digits", str(digits), "--period", str(period))
        both_parsers_show_issuer_and_account_and_their_codes_log_in(
            box, npm_reads, printed_uri(result.out), issuer, period,
            f"{issuer} {algorithm}/{digits}/{period}")


@case("uris")
def an_issuer_with_a_colon_in_the_config_reads_the_same_in_both_parsers(box):
    npm_reads = npm_otpauth_reader()
    for issuer in URI_ISSUERS:
        box.write("pam_totp.conf", f"[global]\nstate_dir = {box.state}\nissuer = {issuer}\n",
                  0o644)
        result = box.admin_enroll("alice")
        both_parsers_show_issuer_and_account_and_their_codes_log_in(
            box, npm_reads, printed_uri(result.out), issuer, 30, f"config issuer={issuer}")


@case("uris")
def a_label_with_a_colon_is_refused_with_one_line_and_nothing_written(box):
    result = box.tool("--user", "alice", "--no-confirm", "--qr", "none", "--label", "ops:alice")
    check(result.rc == 2, "exit 2", str(result))
    one_stderr_line(result, "--label", "':'")
    check("otpauth://" not in result.out, "no key shown", result.out)
    check(box.state_files() == [], "nothing written", str(box.state_files()))


# --- The QR code: terminal renderings and image files decode to the printed URI --------------

def qr_lines(output):
    lines = output.splitlines()
    start = lines.index("Scan this QR code with your authenticator app:") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("otpauth://"))
    return lines[start:end]


def half_blocks_to_modules(lines, drawn_is_dark):
    """Each character is two modules stacked: full, upper, lower or no half block."""
    halves = {"\u2588": (True, True), "\u2580": (True, False), "\u2584": (False, True),
              " ": (False, False)}
    rows = []
    for line in lines:
        top, bottom = [], []
        for char in line:
            check(char in halves, f"unexpected character {char!r} in the QR code")
            upper, lower = halves[char]
            top.append(upper == drawn_is_dark)
            bottom.append(lower == drawn_is_dark)
        rows += [top, bottom]
    return rows


def ansi_to_modules(lines):
    rows = []
    for line in lines:
        cells = re.findall(r"\x1b\[(40|47)m  ", line)
        check(cells and line.endswith("\x1b[0m"), "ANSI QR line", repr(line))
        rows.append([cell == "40" for cell in cells])
    return rows


def decode_modules(rows, path):
    """Writes the modules as a PBM (8 pixels each, 4 light modules of margin) and decodes it."""
    scale, margin = 8, 4
    width = max(len(row) for row in rows) + 2 * margin
    height = len(rows) + 2 * margin
    pixels = []
    for y in range(height):
        row = rows[y - margin] if margin <= y < height - margin else []
        line = []
        for x in range(width):
            dark = margin <= x < width - margin and x - margin < len(row) and row[x - margin]
            line.extend(["1" if dark else "0"] * scale)
        pixels.extend([" ".join(line)] * scale)
    with open(path, "w") as file:
        file.write(f"P1\n{width * scale} {height * scale}\n" + "\n".join(pixels) + "\n")
    return zbarimg(path)


def zbarimg(path):
    done = subprocess.run(["zbarimg", "-q", "--raw", path], capture_output=True, text=True,
                          timeout=60)
    check(done.returncode == 0, f"zbarimg decodes {os.path.basename(path)}", done.stderr)
    return done.stdout.rstrip("\n")


@case("qr")
def terminal_qr_codes_decode_to_the_printed_uri(box):
    for style, to_modules in [
            ("utf8", lambda lines: half_blocks_to_modules(lines, drawn_is_dark=False)),
            ("utf8-inverted", lambda lines: half_blocks_to_modules(lines, drawn_is_dark=True)),
            ("ansi", ansi_to_modules)]:
        result = box.tool("--user", "alice", "--no-confirm", "--qr", style)
        check(result.rc == 0, f"--qr {style}", str(result))
        uri = printed_uri(result.out)
        decoded = decode_modules(to_modules(qr_lines(result.out)), box.path(f"{style}.pbm"))
        check(decoded == uri, f"--qr {style} decodes to the printed URI",
              f"decoded: {decoded}\nprinted: {uri}")
        check(printed_secret(result.out) in uri, "the secret line matches the URI")


@case("qr")
def qr_none_prints_only_the_uri_and_secret(box):
    result = box.admin_enroll("alice")
    check("\u2580" not in result.out and "\x1b[" not in result.out, "no QR code", result.out)
    lines = result.out.splitlines()
    uri = printed_uri(result.out)
    check(lines.index(uri) + 1 < len(lines) and lines[lines.index(uri) + 1].startswith("Secret: "),
          "the secret follows the URI", result.out)


@case("qr")
def qr_png_and_svg_decode_to_the_printed_uri_and_are_private(box):
    png, svg = box.path("key.png"), box.path("key.svg")
    result = box.admin_enroll("alice", "--qr-png", png, "--qr-svg", svg)
    uri = printed_uri(result.out)
    for path in [png, svg]:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check(mode == 0o600, f"{os.path.basename(path)} has mode 0600", oct(mode))
    with open(png, "rb") as file:
        check(file.read(8) == b"\x89PNG\r\n\x1a\n", "the PNG is a PNG")
    check(zbarimg(png) == uri, "the PNG decodes to the printed URI")
    with open(svg) as file:
        check(file.read().lstrip().startswith("<?xml"), "the SVG is XML")
    converted = box.path("from-svg.png")
    done = subprocess.run(["convert", svg, converted], capture_output=True, text=True, timeout=60)
    check(done.returncode == 0, "ImageMagick converts the SVG", done.stderr)
    check(zbarimg(converted) == uri, "the SVG decodes to the printed URI")
    leftovers = [name for name in os.listdir(box.root) if name.startswith(".key.")]
    check(not leftovers, "no temporary image files are left", str(leftovers))


# --- The confirmation flow, fed through stdin (not a terminal) -------------------------------

def confirm_enrollment(box, user, secret, answers):
    stdin = "".join(answer + "\n" for answer in answers)
    return box.tool("--user", user, "--secret", secret, "--qr", "none", stdin=stdin)


SECRET_A = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SECRET_B = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"


def wrong_code(secret, now):
    valid = {oathtool(secret, now + offset) for offset in (-90, -60, -30, 0, 30, 60, 90)}
    return next(code for code in (f"{n:06d}" for n in range(123456, 999999, 7919))
                if code not in valid)


@case("confirm")
def wrong_code_then_right_code_enrolls(box):
    right = oathtool(SECRET_A, box.now)
    result = confirm_enrollment(box, "alice", SECRET_A, [wrong_code(SECRET_A, box.now), right])
    check(result.rc == 0, "the second try succeeds", str(result))
    check(result.out.count(CODE_PROMPT) == 2, "asked twice", result.out)
    check(result.out.count("That code is not correct.") == 1, "told once it was wrong", result.out)
    lines = result.out.splitlines()
    check(lines.index("Enrollment active.") < lines.index(RECOVERY_HEADER), "order", result.out)
    check(len(recovery_codes(result.out)) == 10, "ten recovery codes by default", result.out)
    check(not box.login("alice", right), "the confirmation code cannot be replayed")
    box.now += 30
    check(box.login("alice", oathtool(SECRET_A, box.now)), "the next code logs in")


def show_build_catalogs(box):
    """The build's catalogs where the tool reads them (its compiled-in locale directory), in
    this test's mount namespace only; a directory not there yet gets a tmpfs over its parent."""
    if not os.path.isdir(LOCALE_DIR):
        parent = os.path.dirname(LOCALE_DIR)
        check(os.path.isdir(parent) and parent not in ("/", "/usr"),
              "a place to show the catalogs at", LOCALE_DIR)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "test-locale", parent],
                       check=True)
        box.mounts.append(parent)
        os.makedirs(LOCALE_DIR)
    subprocess.run(["mount", "--bind", BUILD_LOCALE_DIR, LOCALE_DIR], check=True)
    box.mounts.append(LOCALE_DIR)


@case("confirm")
def the_confirmation_flow_speaks_the_callers_language(box):
    show_build_catalogs(box)
    env = box.tool_env()
    env.update({"LC_ALL": "C.UTF-8", "LANGUAGE": "de"})
    answers = [wrong_code(SECRET_A, box.now), oathtool(SECRET_A, box.now)]
    done = subprocess.run([TOOL, "--user", "alice", "--secret", SECRET_A, "--qr", "none",
                           "--config", box.config], input="".join(a + "\n" for a in answers),
                          capture_output=True, text=True, env=env, timeout=60)
    result = Result(done.returncode, done.stdout, done.stderr)
    check(result.rc == 0, "the second try succeeds", str(result))
    check(result.out.count("Code aus Ihrer App eingeben: ") == 2, "asked twice in German",
          result.out)
    for line in ["Dieser Code ist nicht korrekt.", "Einrichtung aktiv.",
                 "Wiederherstellungscodes (jeder gilt nur einmal; sicher aufbewahren):"]:
        check(line in result.out.splitlines(), f"says {line!r}", result.out)
    check(re.search(r"^Geheimer Schlüssel: [A-Z2-7 ]+$", result.out, re.M), "the secret line",
          result.out)
    printed = [line for line in result.out.splitlines() if RECOVERY_LINE.match(line)]
    check(len(printed) == 10, "the recovery codes as usual", result.out)


@case("confirm")
def adding_an_hotp_token_speaks_the_callers_language(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    show_build_catalogs(box)
    env = box.tool_env()
    env.update({"LC_ALL": "C.UTF-8", "LANGUAGE": "de"})
    near = {oathtool_hotp(SECRET_B, counter) for counter in range(0, 11)}  # hotp_window 10
    wrong = next(code for code in (f"{n:06d}" for n in range(123456, 999999, 7919))
                 if code not in near)
    answers = [wrong, oathtool_hotp(SECRET_B, 0)]
    done = subprocess.run([TOOL, "add", "--user", "alice", "--name", "yubikey", "--type", "hotp",
                           "--secret", SECRET_B, "--config", box.config],
                          input="".join(a + "\n" for a in answers), capture_output=True,
                          text=True, env=env, timeout=60)
    result = Result(done.returncode, done.stdout, done.stderr)
    check(result.rc == 0, "the second try succeeds", str(result))
    check(result.out.count("Code vom Token eingeben: ") == 2, "asked twice in German", result.out)
    for line in ["Dieser Code ist nicht korrekt.", "Nächster Zähler: 0",
                 "Authentifikator 'yubikey' für alice hinzugefügt."]:
        check(line in result.out.splitlines(), f"says {line!r}", result.out)
    for prefix in ["Geheimer Schlüssel (Base32): ", "Geheimer Schlüssel (hex): "]:
        check(any(line.startswith(prefix) for line in result.out.splitlines()),
              f"says {prefix!r}", result.out)


@case("confirm")
def three_wrong_codes_exit_5_and_the_old_enrollment_still_works(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    before = box.state_bytes("alice")
    wrong = wrong_code(SECRET_B, box.now)
    result = confirm_enrollment(box, "alice", SECRET_B, [wrong, wrong, wrong, oathtool(SECRET_B, box.now)])
    check(result.rc == 5, "exit 5", str(result))
    check(result.out.count(CODE_PROMPT) == 3, "three tries, no fourth", result.out)
    check(result.out.count("That code is not correct.") == 3, "each refused", result.out)
    check("Enrollment active." not in result.out, "nothing activated", result.out)
    one_stderr_line(result, "nothing was changed")
    check(box.state_bytes("alice") == before, "the state file is unchanged")
    check(box.login("alice", oathtool(SECRET_A, box.now)), "the old secret still logs in")


@case("confirm")
def end_of_input_exits_5_and_writes_nothing(box):
    for answers in [[], [wrong_code(SECRET_A, box.now)]]:
        result = confirm_enrollment(box, "alice", SECRET_A, answers)
        check(result.rc == 5, f"EOF after {len(answers)} answers: exit 5", str(result))
        one_stderr_line(result, "aborted")
        check(box.state_files() == [], "no state file", str(box.state_files()))


# --- On a terminal: echo, Ctrl-C, width -------------------------------------------------------

class Terminal:
    """The tool on a pseudo-terminal of the given size, as the controlling terminal of a
    new session (so Ctrl-C typed on it is a SIGINT)."""

    def __init__(self, box, args, columns=120, rows=60):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.slave = slave

        def controlling_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen([TOOL, *args, "--config", box.config], stdin=slave,
                                        stdout=slave, stderr=slave, env=box.tool_env(),
                                        preexec_fn=controlling_terminal)
        self.output = b""

    def expect(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            remaining = deadline - time.monotonic()
            check(remaining > 0, f"'{text}' appears on the terminal", self.text())
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                check(chunk, f"'{text}' appears before the tool ends", self.text())
                self.output += chunk

    def send(self, data):
        os.write(self.master, data)

    def finish(self, timeout=30):
        rc = self.process.wait(timeout=timeout)
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                break
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk
        return rc

    def echo_enabled(self):
        return bool(termios.tcgetattr(self.slave)[3] & termios.ECHO)

    def text(self):
        return self.output.decode(errors="replace")

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
        os.close(self.slave)


@case("terminal")
def code_is_not_echoed_and_echo_is_back_afterwards(box):
    term = Terminal(box, ["--user", "alice", "--secret", SECRET_A, "--qr", "none"])
    try:
        term.expect(CODE_PROMPT)
        check(not term.echo_enabled(), "echo is off while the code is typed")
        code = oathtool(SECRET_A, box.now)
        term.send(code.encode() + b"\r")
        term.expect("Enrollment active.")
        rc = term.finish()
        check(rc == 0, "enrolled", term.text())
        check(code not in term.text(), "the typed code was not echoed", term.text())
        check(term.echo_enabled(), "echo is on again")
    finally:
        term.close()


@case("terminal")
def ctrl_c_at_the_prompt_exits_5_restores_echo_and_keeps_the_old_enrollment(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    before = box.state_bytes("alice")
    term = Terminal(box, ["--user", "alice", "--secret", SECRET_B, "--qr", "none"])
    try:
        term.expect(CODE_PROMPT)
        term.send(b"12")
        time.sleep(0.2)
        term.send(b"\x03")
        rc = term.finish()
        check(rc == 5, "exit 5 after Ctrl-C", f"rc={rc}\n{term.text()}")
        check("aborted" in term.text(), "says it was aborted", term.text())
        check(term.echo_enabled(), "echo is restored")
    finally:
        term.close()
    check(box.state_bytes("alice") == before, "the state file is unchanged")
    check(box.login("alice", oathtool(SECRET_A, box.now)), "the old secret still logs in")


@case("terminal")
def a_narrow_terminal_gets_the_uri_and_secret_instead_of_the_qr_code(box):
    wide = Terminal(box, ["--user", "alice", "--no-confirm"], columns=120)
    try:
        check(wide.finish() == 0, "enrolled on a wide terminal", wide.text())
        text = wide.text().replace("\r", "")
        needed = len(qr_lines(text)[0])
    finally:
        wide.close()
    narrow = Terminal(box, ["--user", "bob", "--no-confirm"], columns=needed - 1)
    try:
        check(narrow.finish() == 0, "enrolled on a narrow terminal", narrow.text())
        text = narrow.text().replace("\r", "")
    finally:
        narrow.close()
    check(f"Terminal too narrow for the QR code (needs {needed} columns); add the key by hand:"
          in text, "says the terminal is too narrow and how wide it must be", text)
    check("\u2580" not in text and "\u2584" not in text, "no QR code drawn", text)
    uri = printed_uri(text)
    check(printed_secret(text) in uri, "URI and secret are printed", text)
    check(box.login("bob", oathtool(printed_secret(text), box.now)), "and they work")


# --- Several authenticators, HOTP tokens, resync (codes from oathtool) ----------------------

def oathtool_hotp(key, counter, digits=6, hex_key=False):
    encoding = [] if hex_key else ["--base32"]
    done = subprocess.run(["oathtool", "--hotp", *encoding, f"--digits={digits}",
                           f"--counter={counter}", key],
                          capture_output=True, text=True, timeout=30)
    check(done.returncode == 0, "oathtool --hotp runs", done.stderr)
    return done.stdout.strip()


def add_hotp(box, user, name, secret, counter=0):
    result = box.tool("add", "--user", user, "--name", name, "--type", "hotp", "--secret", secret,
                      "--counter", str(counter), "--no-confirm")
    check(result.rc == 0, f"add {name}", str(result))


def state_text(box, user):
    return box.state_bytes(user).decode("ascii", "replace")


@case("authenticators")
def two_authenticators_each_log_in_replay_is_per_authenticator_and_removing_one_keeps_the_other(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    result = box.tool("add", "--user", "alice", "--name", "spare", "--secret", SECRET_B,
                      "--no-confirm", "--qr", "none")
    check(result.rc == 0, "add a second TOTP authenticator", str(result))
    code_a = oathtool(SECRET_A, box.now)
    code_b = oathtool(SECRET_B, box.now)
    check(box.login("alice", code_a), "the first authenticator logs in")
    check(box.login("alice", code_b), "the second logs in in the same time step")
    check(not box.login("alice", code_a), "the first one's code is refused again")
    check(not box.login("alice", code_b), "the second one's code is refused again")
    box.now += 30
    result = box.tool("remove", "--user", "alice", "--name", "default")
    check(result.rc == 0, "remove the first", str(result))
    check(not box.login("alice", oathtool(SECRET_A, box.now)), "the removed one is refused")
    check(box.login("alice", oathtool(SECRET_B, box.now)), "the other still logs in")
    result = box.tool("remove", "--user", "alice", "--name", "spare")
    check(result.rc == 2, "the last one is not removed: exit 2", str(result))
    one_stderr_line(result, "only authenticator", "remove --user alice")
    result = box.tool("remove", "--user", "alice", "--name", "nosuch")
    check(result.rc == 4, "an unknown name: exit 4", str(result))


@case("authenticators")
def hotp_look_ahead_accepts_a_code_a_few_counters_ahead_then_refuses_older_ones(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    add_hotp(box, "alice", "yubikey", SECRET_B, counter=10)
    check(not box.login("alice", oathtool_hotp(SECRET_B, 9)), "a counter below the next refused")
    check(not box.login("alice", oathtool_hotp(SECRET_B, 21)), "beyond hotp_window refused")
    check(box.login("alice", oathtool_hotp(SECRET_B, 14)), "four presses ahead is accepted")
    for older in [10, 12, 14]:
        check(not box.login("alice", oathtool_hotp(SECRET_B, older)),
              f"counter {older} is refused after 14 was used")
    check(box.login("alice", oathtool_hotp(SECRET_B, 15)), "the next counter is accepted")
    check("authenticator=yubikey:hotp:SHA1:6:30:" + SECRET_B + ":16:0:" in state_text(box, "alice"),
          "the counter moved past the accepted code, durably", state_text(box, "alice"))
    check(box.login("alice", oathtool(SECRET_A, box.now)), "the TOTP app still logs in")
    box.write_config("hotp_window = 2\n")
    check(not box.login("alice", oathtool_hotp(SECRET_B, 19)), "hotp_window = 2 stops at 18")
    check(box.login("alice", oathtool_hotp(SECRET_B, 18)), "and accepts 18")


@case("authenticators")
def resync_after_a_50_counter_gap_and_a_3_step_clock_offset(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    add_hotp(box, "alice", "yubikey", SECRET_B)
    check(not box.login("alice", oathtool_hotp(SECRET_B, 50)), "50 presses ahead is refused")
    result = box.tool("resync", "--user", "alice", "--name", "yubikey",
                      oathtool_hotp(SECRET_B, 52), oathtool_hotp(SECRET_B, 51))
    check(result.rc == 5, "codes out of order do not resync: exit 5", str(result))
    result = box.tool("resync", "--user", "alice", "--name", "yubikey",
                      oathtool_hotp(SECRET_B, 51), oathtool_hotp(SECRET_B, 52))
    check(result.rc == 0 and "next counter 53" in result.out, "HOTP resync", str(result))
    check(not box.login("alice", oathtool_hotp(SECRET_B, 52)), "the resync codes are used")
    check(box.login("alice", oathtool_hotp(SECRET_B, 53)), "the next press logs in")

    # A TOTP token whose clock runs three steps (90 s) ahead.
    token = box.now + 90
    check(not box.login("alice", oathtool(SECRET_A, token)), "three steps ahead is refused")
    result = box.tool("resync", "--user", "alice", "--name", "default",
                      oathtool(SECRET_A, token - 30), oathtool(SECRET_A, token))
    check(result.rc == 0 and "clock offset 3 steps (90 s)" in result.out, "TOTP resync",
          str(result))
    check(not box.login("alice", oathtool(SECRET_A, token)), "the second resync code is used")
    box.now += 30
    check(box.login("alice", oathtool(SECRET_A, box.now + 90)), "the drifted token logs in")
    check(not box.login("alice", oathtool(SECRET_A, box.now + 90)), "and its code only once")
    check(not box.login("alice", oathtool(SECRET_A, box.now - 30)),
          "codes of the host's own time are now outside the window")
    result = box.tool("status", "alice")
    check("  offset: 3" in result.out.splitlines(), "status shows the offset", str(result))


@case("authenticators")
def add_refuses_a_taken_name_and_more_than_max_authenticators_and_status_shows_no_secret(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    result = box.tool("add", "--user", "alice", "--name", "default", "--no-confirm")
    check(result.rc == 2, "a taken name: exit 2", str(result))
    one_stderr_line(result, "exists already")
    box.write_config("max_authenticators = 2\n")
    add_hotp(box, "alice", "yubikey", SECRET_B)
    result = box.tool("add", "--user", "alice", "--name", "third", "--no-confirm")
    check(result.rc == 2, "a third over max_authenticators = 2: exit 2", str(result))
    one_stderr_line(result, "max_authenticators")
    result = box.tool("add", "--user", "bob", "--name", "x", "--no-confirm")
    check(result.rc == 4, "add for a user who is not enrolled: exit 4", str(result))
    for args in [["status", "alice"], ["list"], ["list", "--json"]]:
        result = box.tool(*args)
        check(result.rc == 0, " ".join(args), str(result))
        check(SECRET_A not in result.out and SECRET_B not in result.out,
              f"{' '.join(args)} shows no secret", result.out)
        check("yubikey" in result.out and "hotp" in result.out, "the token is listed", result.out)
    result = box.tool("list", "--json")
    tokens = json.loads(result.out)[0]["authenticators"]
    check([token["name"] for token in tokens] == ["default", "yubikey"]
          and tokens[1]["counter"] == 0 and tokens[1]["type"] == "hotp", "JSON", result.out)
    result = box.tool("--user", "alice", "--no-confirm", "--qr", "none")
    check(result.rc == 0, "enrolling again", str(result))
    check("authenticator=yubikey:" in state_text(box, "alice"),
          "enrolling again keeps the other authenticators", state_text(box, "alice"))


@case("authenticators")
def every_change_of_authenticators_is_logged_with_the_caller(box):
    # Whoever has the password and one code (a phished one, a recovery code) can add an
    # authenticator of their own and keep it while the owner's phone goes on working: each
    # change must leave an authpriv line naming the user, the authenticator and the caller.
    box.admin_enroll("alice", "--secret", SECRET_A)
    add_hotp(box, "alice", "yubikey", SECRET_B)
    result = box.tool("resync", "--user", "alice", "--name", "yubikey",
                      oathtool_hotp(SECRET_B, 51), oathtool_hotp(SECRET_B, 52))
    check(result.rc == 0, "resync", str(result))
    check(box.tool("remove", "--user", "alice", "--name", "yubikey").rc == 0, "remove")
    box.admin_enroll("alice")
    log = box.syslog()
    for line in ["alice: authenticator 'yubikey' (hotp) added by root",
                 "alice: authenticator 'yubikey' resynchronised by root",
                 "alice: authenticator 'yubikey' removed by root",
                 "alice: authenticator 'default' (totp) enrolled by root"]:
        check(line in log, f"logged: {line}", log)
    check(SECRET_A not in log and SECRET_B not in log, "no secret in the log", log)


def wait_until_open(process, path, timeout=10):
    """Polls (bounded) until `process` has `path` open: it has parsed its command line."""
    deadline = time.monotonic() + timeout
    fds = f"/proc/{process.pid}/fd"
    while time.monotonic() < deadline and process.poll() is None:
        for fd in os.listdir(fds):
            try:
                if os.readlink(os.path.join(fds, fd)) == path:
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise Failed(f"the tool opens {path} (exit {process.poll()})")


@case("authenticators")
def resync_codes_are_not_in_the_command_line_others_can_read(box):
    # /proc/PID/cmdline is readable by every local user: codes left there while the tool
    # waits (for the record's lock here, for PAM's questions when a user runs it) could be
    # read with ps and used first.
    box.admin_enroll("alice", "--secret", SECRET_A)
    add_hotp(box, "alice", "yubikey", SECRET_B)
    codes = [oathtool_hotp(SECRET_B, 51), oathtool_hotp(SECRET_B, 52)]
    record = os.path.join(box.state, "alice")
    holder = stopped_lock_holder(record)
    tool = subprocess.Popen([TOOL, "resync", "--user", "alice", "--name", "yubikey", *codes,
                             "--config", box.config], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=box.tool_env())
    try:
        wait_until_open(tool, record)
        with open(f"/proc/{tool.pid}/cmdline", "rb") as file:
            arguments = file.read().split(b"\0")
    finally:
        for process in [tool, holder]:
            process.kill()
            process.wait()
    check(b"yubikey" in arguments, "the command line was read", str(arguments))
    for code in codes:
        check(code.encode() not in arguments, f"the code {code} is not in the command line",
              str(arguments))


class SyslogSocket:
    """Receives what the libc's syslog() sends to /dev/log, in this test's own mount
    namespace (with_private_tmp.sh): the real line, with the tag the program gave."""

    def __init__(self, box):
        if not os.path.lexists("/dev/log"):  # no syslog at all: a /dev of our own
            self.private_dev(box)
        target = os.path.realpath("/dev/log")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.exists(target):  # a socket: ours is bound over it
            own = box.path("dev-log")
            self.socket.bind(own)
            subprocess.run(["mount", "--bind", own, target], check=True)
            box.mounts.append(target)
        else:  # a dangling link (systemd's journal not running): ours goes where it points
            parent = os.path.dirname(target)
            existing = parent
            while not os.path.isdir(existing):
                existing = os.path.dirname(existing)
            subprocess.run(["mount", "-t", "tmpfs", "private-dev-log", existing], check=True)
            box.mounts.append(existing)
            os.makedirs(parent, exist_ok=True)
            self.socket.bind(target)
        self.socket.setblocking(False)

    @staticmethod
    def private_dev(box):
        """A tmpfs over /dev in this namespace, with links to the host's entries (seen
        through a bind mount) and an empty name /dev/log for the socket to take."""
        host_dev = box.path("host-dev")
        os.makedirs(host_dev, exist_ok=True)
        subprocess.run(["mount", "--bind", "/dev", host_dev], check=True)
        entries = os.listdir(host_dev)
        subprocess.run(["mount", "-t", "tmpfs", "private-dev", "/dev"], check=True)
        box.mounts.extend([host_dev, "/dev"])
        for entry in entries:
            os.symlink(os.path.join(host_dev, entry), os.path.join("/dev", entry))
        open("/dev/log", "w").close()

    def lines(self):
        received = []
        while True:
            try:
                received.append(self.socket.recv(8192).decode("utf-8", "replace"))
            except BlockingIOError:
                return received


@case("authenticators")
def every_log_line_is_tagged_totp_enroll_whatever_argv0_says(box):
    # The setuid tool's caller chooses argv[0]; syslog tags a line with it unless the
    # program names itself, and an audit line tagged "cron" is one an admin passes over.
    syslog = SyslogSocket(box)
    env = box.tool_env()
    env["LD_PRELOAD"] = ":".join(library for library in TOOL_PRELOAD.split(":")
                                 if "test_preload" not in library)  # it would take the lines
    done = subprocess.run(["cron", "--user", "alice", "--no-confirm", "--qr", "none",
                           "--config", box.config], executable=TOOL, capture_output=True,
                          text=True, env=env, timeout=60)
    check(done.returncode == 0, "enrolled", done.stdout + done.stderr)
    lines = syslog.lines()
    audit = [line for line in lines if "alice: authenticator 'default' (totp) enrolled" in line]
    check(len(audit) == 1, "the audit line reached syslog", "\n".join(lines))
    check(re.search(r" totp-enroll\[\d+\]: alice: ", audit[0]) is not None,
          "tagged totp-enroll with the process id", audit[0])
    check(not any(" cron" in line for line in lines), "no line tagged cron", "\n".join(lines))


@case("authenticators")
def enrolling_again_without_a_default_at_max_authenticators_is_refused_before_the_key(box):
    # Each authenticator widens what one guess covers, so max_authenticators is a cap on the
    # guess rate: re-enrolling (which adds "default" back) must not go past it either.
    box.admin_enroll("alice", "--secret", SECRET_A)
    box.write_config("max_authenticators = 2\n")
    add_hotp(box, "alice", "yubikey", SECRET_B)
    check(box.tool("remove", "--user", "alice", "--name", "default").rc == 0, "remove default")
    result = box.tool("add", "--user", "alice", "--name", "spare", "--no-confirm", "--qr", "none")
    check(result.rc == 0, "a second authenticator again", str(result))
    result = box.tool("--user", "alice", "--no-confirm", "--qr", "none")
    check(result.rc == 2, "a third by enrolling again: exit 2", str(result))
    one_stderr_line(result, "max_authenticators")
    check("otpauth://" not in result.out, "no key was shown", result.out)
    result = box.tool("status", "alice")
    check(result.out.count("authenticator: ") == 2, "still two authenticators", result.out)
    # Replacing 'default' adds none: it stays possible (a lost phone) below a lowered limit.
    box.admin_enroll("bob", "--secret", SECRET_A)
    add_hotp(box, "bob", "yubikey", SECRET_B)
    box.write_config("max_authenticators = 1\n")
    result = box.tool("--user", "bob", "--no-confirm", "--qr", "none")
    check(result.rc == 0, "enrolling again over a lowered limit, replacing default", str(result))


# --- Subcommands ------------------------------------------------------------------------------

@case("subcommands")
def status_shows_an_enrollment_and_refuses_the_unenrolled(box):
    box.admin_enroll("alice", "--algorithm", "SHA256", "--digits", "8", "--period", "60",
                     "--recovery-codes", "4")
    result = box.tool("status", "alice")
    check(result.rc == 0, "status of an enrolled user", str(result))
    for line in ["user: alice", "enrolled: yes", "authenticator: default", "  type: totp",
                 "  algorithm: SHA256", "  digits: 8", "  period: 60", "  offset: 0",
                 "  last_used: -", "created: 2023-11-14T22:13:20Z", "recovery codes left: 4", "failures: 0",
                 "locked until: -", "email: -"]:
        check(line in result.out.splitlines(), f"status shows '{line}'", result.out)
    result = box.tool("status", "bob")
    check(result.rc == 4, "status of a user who is not enrolled: exit 4", str(result))
    one_stderr_line(result, "bob is not enrolled")
    result = box.tool("status", "nosuchuser")
    check(result.rc == 4, "status of an unknown user: exit 4", str(result))
    one_stderr_line(result, "no such user")


def stopped_lock_holder(path):
    """A process that holds the lock of `path` and is stopped, like a suspended totp-enroll."""
    holder = subprocess.Popen([sys.executable, "-c",
                               "import fcntl, os, signal, sys\n"
                               "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                               "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                               "os.kill(os.getpid(), signal.SIGSTOP)\n", path])
    _, status = os.waitpid(holder.pid, os.WUNTRACED)
    check(os.WIFSTOPPED(status), "the lock holder is stopped")
    return holder


@case("subcommands")
def status_and_unlock_fail_with_one_line_within_deadline_while_the_record_is_held(box):
    box.admin_enroll("alice")
    holder = stopped_lock_holder(os.path.join(box.state, "alice"))
    try:
        for args in [["status", "alice"], ["unlock", "--user", "alice"]]:
            started = time.monotonic()
            result = box.tool(*args, timeout=LOCK_DEADLINE + 25)
            waited = time.monotonic() - started
            check(result.rc == 1, f"{' '.join(args)}: exit 1", str(result))
            one_stderr_line(result, "locked by another process")
            check(waited < LOCK_DEADLINE + 5, f"{' '.join(args)}: gave up at the deadline",
                  f"waited {waited:.1f} s")
    finally:
        holder.kill()
        holder.wait()
    result = box.tool("status", "alice")
    check(result.rc == 0, "status once the holder is gone", str(result))


@case("subcommands")
def list_shows_every_enrolled_user_as_text_and_json(box):
    box.admin_enroll("bob", "--recovery-codes", "2")
    box.admin_enroll("alice", "--algorithm", "SHA512", "--period", "60")
    result = box.tool("list")
    check(result.rc == 0, "list", str(result))
    lines = result.out.splitlines()
    check(len(lines) == 2, "one line per enrolled user", result.out)
    check(lines[0].startswith("alice authenticators=default(type=totp,algorithm=SHA512,digits=6,"
                              "period=60,offset=0,last_used=-) "), "alice first", lines[0])
    check(lines[1].startswith("bob authenticators=default(type=totp,algorithm=SHA1,")
          and " recovery_codes=2 " in lines[1], "bob second", lines[1])
    result = box.tool("list", "--json")
    check(result.rc == 0, "list --json", str(result))
    entries = json.loads(result.out)
    check([entry["user"] for entry in entries] == ["alice", "bob"], "users", result.out)
    alice = entries[0]["authenticators"]
    check(len(alice) == 1 and alice[0]["name"] == "default" and alice[0]["type"] == "totp"
          and alice[0]["algorithm"] == "SHA512" and alice[0]["period"] == 60, "alice", result.out)
    check("secret" not in result.out.lower(), "no secret in the listing", result.out)
    check(entries[1]["recovery_codes"] == 2 and entries[1]["failures"] == 0, "bob", result.out)
    check(entries[1]["created"] == EPOCH and entries[1]["email_verified"] is False, "bob", result.out)


@case("subcommands")
def unlock_ends_a_lockout(box):
    box.write_config("max_failures = 2\nlockout_seconds = 600\n")
    box.admin_enroll("alice", "--secret", SECRET_A)
    for _ in range(2):
        check(not box.login("alice", "000000" if oathtool(SECRET_A, box.now) != "000000" else "111111"),
              "a wrong code is refused")
    status = box.tool("status", "alice")
    check("locked until: 2023-11-14T22:23:20Z" in status.out, "status shows the lockout", str(status))
    check(not box.login("alice", oathtool(SECRET_A, box.now)), "locked: even the right code fails")
    result = box.tool("unlock", "--user", "alice")
    check(result.rc == 0 and "alice: unlocked" in result.out, "unlock", str(result))
    status = box.tool("status", "alice")
    check("locked until: -" in status.out and "failures: 0" in status.out, "unlocked", str(status))
    box.now += 30
    check(box.login("alice", oathtool(SECRET_A, box.now)), "the right code logs in again")
    result = box.tool("unlock", "--user", "bob")
    check(result.rc == 4, "unlocking someone not enrolled: exit 4", str(result))


@case("subcommands")
def remove_deletes_the_enrollment(box):
    box.admin_enroll("alice", "--secret", SECRET_A)
    result = box.tool("remove", "--user", "alice")
    check(result.rc == 0 and "alice: enrollment removed" in result.out, "remove", str(result))
    check(box.state_files() == [], "the state file is gone", str(box.state_files()))
    check(not box.login("alice", oathtool(SECRET_A, box.now)), "the old code no longer logs in")
    result = box.tool("remove", "--user", "alice")
    check(result.rc == 4, "removing again: exit 4", str(result))
    one_stderr_line(result, "alice is not enrolled")
    result = box.tool("remove")
    check(result.rc == 2, "remove without --user: exit 2", str(result))


@case("subcommands")
def recovery_codes_replaces_the_set(box):
    old = recovery_codes(box.admin_enroll("alice", "--secret", SECRET_A).out)
    result = box.tool("recovery-codes", "--user", "alice")
    check(result.rc == 0, "recovery-codes", str(result))
    new = recovery_codes(result.out)
    check(len(new) == 10 and not set(new) & set(old), "ten new codes", result.out)
    check(not box.login("alice", old[0]), "an old code is refused")
    check(box.login("alice", new[0]), "a new code logs in")
    check(not box.login("alice", new[0]), "once")
    check(box.login("alice", new[1]), "another new code logs in")
    result = box.tool("recovery-codes", "--user", "bob")
    check(result.rc == 4, "not enrolled: exit 4", str(result))


# --- Imports -----------------------------------------------------------------------------------

def google_authenticator(path, *options):
    done = subprocess.run(["google-authenticator", "-f", "-q", "-s", path, *options],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    check(done.returncode == 0, "google-authenticator writes a file", done.stderr)
    with open(path) as file:
        lines = file.read().splitlines()
    return lines[0], [line for line in lines[1:] if re.fullmatch(r"\d{8}", line)]


@case("imports")
def a_google_authenticator_file_imports_and_its_secret_and_scratch_codes_log_in(box):
    path = os.path.join(box.home("alice"), ".google_authenticator")
    secret, scratch = google_authenticator(path, "-t", "-d", "-r", "3", "-R", "30", "-w", "3",
                                           "-e", "5")
    os.chown(path, 1001, 1001)
    result = box.tool("import-google-authenticator", "--user", "alice")  # the default FILE
    check(result.rc == 0, "import", str(result))
    check("SHA1, 6 digits, 30 s, 5 scratch codes" in result.out, "summary", result.out)
    check("WINDOW_SIZE 3 is ignored" in result.out, "the window is now root's policy", result.out)
    check("RATE_LIMIT is ignored" in result.out, "rate limit note", result.out)
    check(secret not in result.out + result.err, "the secret is not printed")
    box.now += 30
    check(box.login("alice", oathtool(secret, box.now)), "the next code from the file logs in")
    check(box.login("alice", scratch[2]), "a scratch code logs in")
    check(not box.login("alice", scratch[2]), "a scratch code works once")
    status = box.tool("status", "alice")
    check("recovery codes left: 4" in status.out, "the other scratch codes remain", str(status))


@case("imports")
def a_google_authenticator_step_size_is_kept(box):
    path = box.path("ga60")
    secret, _ = google_authenticator(path, "-t", "-D", "-u", "-W", "-S", "60", "-e", "1")
    result = box.tool("import-google-authenticator", "--user", "bob", path)
    check(result.rc == 0 and "SHA1, 6 digits, 60 s" in result.out, "60 s import", str(result))
    check(box.login("bob", oathtool(secret, box.now, period=60)), "a 60 s code logs in")


@case("imports")
def a_google_authenticator_hotp_file_imports_and_logs_in_with_the_next_counter(box):
    path = box.path("ga-hotp")
    secret, scratch = google_authenticator(path, "-c", "-u", "-w", "3", "-e", "2")
    result = box.tool("import-google-authenticator", "--user", "alice", path)
    check(result.rc == 0, "import", str(result))
    # The CLI's new HOTP file starts at counter 1.
    check("HOTP, SHA1, 6 digits, next counter 1, 2 scratch codes" in result.out, "summary",
          result.out)
    check(not box.login("alice", oathtool_hotp(secret, 0)), "the counter before it is refused")
    check(box.login("alice", oathtool_hotp(secret, 1)), "the next counter logs in")
    check(not box.login("alice", oathtool_hotp(secret, 1)), "and only once")
    check(box.login("alice", oathtool_hotp(secret, 2)), "the one after it logs in")
    check(box.login("alice", scratch[1]), "a scratch code logs in")


@case("imports")
def unreadable_and_malformed_google_authenticator_files_are_not_imported(box):
    result = box.tool("import-google-authenticator", "--user", "alice", box.path("missing"))
    check(result.rc == 4, "unreadable file: exit 4", str(result))
    one_stderr_line(result, "cannot read", "No such file")
    bad = box.write("ga-bad", "NOT!BASE32\n\" TOTP_AUTH\n")
    result = box.tool("import-google-authenticator", "--user", "alice", bad)
    check(result.rc == 2, "bad base32: exit 2", str(result))
    one_stderr_line(result, "line 1", "base32")
    check("NOT!BASE32" not in result.err, "the bad secret is not echoed")
    check(box.state_files() == [], "nothing written", str(box.state_files()))


@case("imports")
def a_pam_oath_usersfile_imports_every_line_as_authenticators_and_reports_what_it_cannot(box):
    keys = {"alice": "3132333435363738393031323334353637383930",
            "bob": "00112233445566778899aabbccddeeff00112233",
            "carol": "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"}
    box.admin_enroll("dave")
    dave_before = box.state_bytes("dave")
    usersfile = box.write("users.oath", "\n".join([
        "# pam_oath users",
        f"HOTP/T30 alice - {keys['alice']}",
        f"HOTP/T60/8 bob 4321 {keys['bob']} 0",
        f"HOTP carol - {keys['carol']}",
        f"HOTP/T30/6 nosuchuser - {keys['carol']}",
        "HOTP/T30 carol - not-hex",
        f"HOTP/T30 dave - {keys['carol']}",
        f"HOTP/T30 alice - {keys['carol']}",
        f"HOTP/T30 alice - {keys['alice']}",
        f"HOTP/T30 dave - {keys['bob']}",
        "",
    ]))
    result = box.tool("import-oath", usersfile)
    check(result.rc == 0, "import-oath", str(result))
    out = result.out.splitlines()
    expected = [
        "alice: imported (line 2) as 'default': SHA1, 6 digits, 30 s",
        "alice: imported (line 8) as 'line-8': SHA1, 6 digits, 30 s",
        "alice: not imported (line 9): authenticator 'default' has this secret already",
        "bob: imported (line 3) as 'default': SHA1, 8 digits, 60 s; its PIN is not used by "
        "pam_totp",
        "carol: imported (line 4) as 'default': HOTP, SHA1, 6 digits, next counter 0",
        "nosuchuser: not imported (line 5): no such user: nosuchuser",
        "carol: not imported (line 6): the secret is not an even number of hex digits",
        "dave: not imported (line 7, line 10): already enrolled with pam_totp",
        "4 imported, 5 not imported",
    ]
    for line in expected:
        check(any(got.startswith(line) for got in out), f"reports '{line}'", result.out)
    check(len(out) == len(expected), "one line per token, one for dave's two", result.out)
    check(keys["alice"] not in result.out + result.err, "no secret is printed")
    check(box.login("alice", oathtool(keys["alice"], box.now, hex_key=True)), "alice logs in")
    check(box.login("alice", oathtool(keys["carol"], box.now, hex_key=True)),
          "alice logs in with her second line's token")
    check(box.login("bob", oathtool(keys["bob"], box.now, digits=8, period=60, hex_key=True)),
          "bob logs in with 8 digits / 60 s")
    check(box.login("carol", oathtool_hotp(keys["carol"], 0, hex_key=True)),
          "carol logs in with her HOTP token's first code")
    check(box.state_files() == ["alice", "bob", "carol", "dave"], "three imported, dave kept",
          str(box.state_files()))
    check(box.state_bytes("dave") == dave_before, "dave's enrollment is untouched")


PAM_OATH = next((path for path in ["/usr/lib/x86_64-linux-gnu/security/pam_oath.so",
                                    "/lib/x86_64-linux-gnu/security/pam_oath.so",
                                    "/usr/lib/security/pam_oath.so"] if os.path.exists(path)), "")


@case("imports")
def a_users_file_rewritten_by_the_real_pam_oath_imports_both_lines_and_hotp_continues_where_pam_oath_stopped(box):
    check(PAM_OATH != "", "pam_oath.so is installed (Debian libpam-oath)")
    hotp_key = "3132333435363738393031323334353637383930"
    totp_key = "00112233445566778899aabbccddeeff00112233"
    usersfile = box.write("users.oath", f"HOTP alice - {hotp_key}\nHOTP/T30 alice - {totp_key}\n")
    box.write("services/oath", f"auth required {PAM_OATH} usersfile={usersfile} window=20\n", 0o644)
    # Two HOTP logins through the real pam_oath, the second a few counters ahead.
    check(box.authenticate("oath", "alice", oathtool_hotp(hotp_key, 0, hex_key=True)), "pam_oath: counter 0")
    check(box.authenticate("oath", "alice", oathtool_hotp(hotp_key, 4, hex_key=True)), "pam_oath: counter 4")
    check(not box.authenticate("oath", "alice", oathtool_hotp(hotp_key, 3, hex_key=True)),
          "pam_oath: an older counter is refused")
    with open(usersfile) as file:
        rewritten = file.read()
    check(re.search(rf"^HOTP\s+alice\s+-\s+{hotp_key}\s+4\s+\d{{6}}\s+\S+$", rewritten, re.M),
          "pam_oath rewrote the line with the counter, code and time of the last login",
          rewritten)
    result = box.tool("import-oath", usersfile)
    check(result.rc == 0, "import-oath", str(result))
    out = result.out.splitlines()
    check(out == ["alice: imported (line 1) as 'default': HOTP, SHA1, 6 digits, next counter 5",
                  "alice: imported (line 2) as 'line-2': SHA1, 6 digits, 30 s",
                  "2 imported, 0 not imported"],
          "both lines are imported, HOTP at the counter after the one pam_oath accepted last",
          result.out)
    check(box.state_files() == ["alice"], "one record", str(box.state_files()))
    check(not box.login("alice", oathtool_hotp(hotp_key, 4, hex_key=True)),
          "the HOTP code pam_oath accepted last is refused by pam_totp")
    check(box.login("alice", oathtool_hotp(hotp_key, 5, hex_key=True)),
          "the next counter logs in through pam_totp")
    check(box.login("alice", oathtool(totp_key, box.now, hex_key=True)),
          "the TOTP line's code logs in through pam_totp")


@case("imports")
def tokens_beyond_max_authenticators_are_reported_one_line_each_and_the_others_are_stored(box):
    box.write_config("max_authenticators = 2\n")
    keys = ["3132333435363738393031323334353637383930", "00112233445566778899aabbccddeeff00112233",
            "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", "0102030405060708090a0b0c0d0e0f1011121314"]
    usersfile = box.write("users.oath", "".join(f"HOTP/T30 alice - {key}\n" for key in keys)
                          + f"HOTP bob - {keys[0]}\n")
    result = box.tool("import-oath", usersfile)
    check(result.rc == 0, "import-oath", str(result))
    out = result.out.splitlines()
    for line in ["alice: not imported (line 3): already 2 authenticators, the most allowed "
                 "(max_authenticators)",
                 "alice: not imported (line 4): already 2 authenticators, the most allowed "
                 "(max_authenticators)",
                 "alice: imported (line 1) as 'default': SHA1, 6 digits, 30 s",
                 "alice: imported (line 2) as 'line-2': SHA1, 6 digits, 30 s",
                 "bob: imported (line 5) as 'default': HOTP, SHA1, 6 digits, next counter 0",
                 "3 imported, 2 not imported"]:
        check(line in out, f"reports '{line}'", result.out)
    listed = json.loads(box.tool("list", "--json").out)
    check([token["name"] for token in listed[0]["authenticators"]] == ["default", "line-2"],
          "alice has the first two", str(listed))
    check(box.login("alice", oathtool(keys[1], box.now, hex_key=True)), "line 2 logs in")
    check(not box.login("alice", oathtool(keys[2], box.now, hex_key=True)),
          "line 3 was not stored")
    check(box.login("bob", oathtool_hotp(keys[0], 0, hex_key=True)), "bob logs in")


@case("imports")
def a_user_whose_record_cannot_be_written_gets_nothing_and_the_others_are_imported(box):
    keys = ["3132333435363738393031323334353637383930", "00112233445566778899aabbccddeeff00112233"]
    usersfile = box.write("users.oath", f"HOTP/T30 alice - {keys[0]}\nHOTP alice - {keys[1]}\n"
                          f"HOTP/T30 bob - {keys[0]}\n")
    damaged = box.write("state/alice", "not a record\n")  # the store refuses to touch it
    result = box.tool("import-oath", usersfile)
    check(result.rc == 1, "a record not written: exit 1", str(result))
    out = result.out.splitlines()
    check([line for line in out if line.startswith("alice: ")] != [] and
          all(line.startswith("alice: failed, nothing written for this user: ")
              for line in out if line.startswith("alice: ")), "one failure line for alice",
          result.out)
    check("bob: imported (line 3) as 'default': SHA1, 6 digits, 30 s" in out, "bob", result.out)
    check("1 imported, 0 not imported, 2 failed" in out, "summary", result.out)
    with open(damaged) as file:
        check(file.read() == "not a record\n", "alice's file is left as it was")
    check(box.login("bob", oathtool(keys[0], box.now, hex_key=True)), "bob logs in")


def pskc_totp_package(serial, drift):
    """RFC 6030's plain example turned into a TOTP key with a TimeDrift."""
    with open(os.path.join(PSKC_DIR, "rfc6030-plain.xml")) as file:
        text = file.read()
    package = text[text.index("<KeyPackage>"):text.index("</KeyPackage>") + len("</KeyPackage>")]
    counter = package[package.index("<Counter>"):package.index("</Counter>") + len("</Counter>")]
    return (package.replace("987654321", serial).replace("pskc:hotp", "pskc:totp")
            .replace('Length="8"', 'Length="6"')
            .replace(counter, "<TimeInterval><PlainValue>30</PlainValue></TimeInterval>"
                     f"<TimeDrift><PlainValue>{drift}</PlainValue></TimeDrift>")), text, package


@case("imports")
def a_pskc_time_drift_becomes_the_clock_offset_and_one_beyond_ten_minutes_is_reported(box):
    near, text, original = pskc_totp_package("NEAR", 3)
    far, _, _ = pskc_totp_package("FAR", 21)
    container = box.write("drift.pskc", text.replace(original, near + far))
    result = box.tool("import-pskc", container, "--map", "NEAR=alice", "--map", "FAR=bob")
    check(result.rc == 0, "import-pskc", str(result))
    out = result.out.splitlines()
    check("alice: imported (KeyPackage 1, serial NEAR) as 'default': SHA1, 6 digits, 30 s, "
          "clock offset 3 steps" in out, "alice's token keeps its drift", result.out)
    check("bob: not imported (KeyPackage 2, serial FAR): its clock is 21 steps of 30 s off, "
          "more than the 600 s pam_totp follows" in out, "bob's is reported", result.out)
    check(box.state_files() == ["alice"], "only alice enrolled", str(box.state_files()))
    rfc_key = b"12345678901234567890".hex()
    check(box.login("alice", oathtool(rfc_key, box.now + 90, hex_key=True)),
          "a code of the token's clock, 3 steps ahead, logs in (window 1)")


# RFC 6030's examples; their key is the RFC 4226 test key.
PSKC_DIR = os.path.join(HERE, "pskc")
RFC_PRESHARED_KEY = "12345678901234567890123456789012"


def openssl(*args, input=None):
    done = subprocess.run(["openssl", *args], input=input, capture_output=True, timeout=60)
    check(done.returncode == 0, f"openssl {args[0]} runs", done.stderr.decode())
    return done.stdout


def pskc_encrypt(key_hex, plain):
    """XML Encryption's AES-128-CBC as RFC 6030 uses it: the IV, then the ciphertext."""
    iv = os.urandom(16)
    return iv + openssl("enc", "-aes-128-cbc", "-K", key_hex, "-iv", iv.hex(), "-nosalt",
                        input=plain)


def pskc_mac(mac_key_hex, data):
    return openssl("dgst", "-sha1", "-mac", "HMAC", "-macopt", f"hexkey:{mac_key_hex}",
                   "-binary", input=data)


def b64(data):
    import base64
    return base64.b64encode(data).decode()


def encrypted_pskc(keys, encryption_key_hex, encryption_key_element):
    """A PSKC container whose secrets are encrypted and MACed with the openssl CLI.
    keys: (serial, algorithm URI suffix, hex secret, digits, period, suite)."""
    mac_key = os.urandom(20)
    packages = []
    for serial, kind, secret, digits, period, suite in keys:
        cipher = pskc_encrypt(encryption_key_hex, bytes.fromhex(secret))
        packages.append(f"""
  <KeyPackage>
    <DeviceInfo><Manufacturer>Test</Manufacturer><SerialNo>{serial}</SerialNo></DeviceInfo>
    <Key Id="{serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:{kind}">
      <AlgorithmParameters>
        <Suite>{suite}</Suite>
        <ResponseFormat Length="{digits}" Encoding="DECIMAL"/>
      </AlgorithmParameters>
      <Data>
        <Secret>
          <EncryptedValue>
            <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData><xenc:CipherValue>{b64(cipher)}</xenc:CipherValue></xenc:CipherData>
          </EncryptedValue>
          <ValueMAC>{b64(pskc_mac(mac_key.hex(), cipher))}</ValueMAC>
        </Secret>
        <TimeInterval><PlainValue>{period}</PlainValue></TimeInterval>
      </Data>
    </Key>
  </KeyPackage>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"
    xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"
    xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">
  <EncryptionKey>{encryption_key_element}</EncryptionKey>
  <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
    <MACKey>
      <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
      <xenc:CipherData>
        <xenc:CipherValue>{b64(pskc_encrypt(encryption_key_hex, mac_key))}</xenc:CipherValue>
      </xenc:CipherData>
    </MACKey>
  </MACMethod>{"".join(packages)}
</KeyContainer>
"""


def pbkdf2_element_and_key(password):
    salt = os.urandom(8)
    derived = openssl("kdf", "-keylen", "16", "-kdfopt", "digest:SHA1", "-kdfopt",
                      f"pass:{password}", "-kdfopt", f"hexsalt:{salt.hex()}", "-kdfopt",
                      "iter:1000", "PBKDF2").decode().strip().replace(":", "").lower()
    element = f"""<xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod
          Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
        <pkcs5:PBKDF2-params>
          <Salt><Specified>{b64(salt)}</Specified></Salt>
          <IterationCount>1000</IterationCount>
          <KeyLength>16</KeyLength>
        </pkcs5:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
    </xenc11:DerivedKey>"""
    return element, derived


ALICE_TOKEN = ("TOTP-0001", "totp", "3132333435363738393031323334353637383930", 6, 30, "HMAC-SHA1")
BOB_TOKEN = ("TOTP-0002", "totp", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
             8, 60, "HMAC-SHA256")
CAROL_HOTP = ("HOTP-0003", "hotp", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", 6, 30, "HMAC-SHA1")


@case("imports")
def rfc6030_examples_import_as_hotp_tokens_that_log_in_with_the_rfc4226_test_vectors(box):
    cases = [("rfc6030-plain.xml", "alice", []),
             ("rfc6030-preshared-key.xml", "bob",
              ["--key-file", box.write("psk", RFC_PRESHARED_KEY + "\n")]),
             ("rfc6030-pbkdf2.xml", "carol",
              ["--password-file", box.write("password", "qwerty\n")])]
    rfc_key = b"12345678901234567890".hex()
    # RFC 4226 appendix D: HOTP values 1284755224 (count 0) and 1094287082 (count 1).
    check([oathtool_hotp(rfc_key, count, digits=8, hex_key=True) for count in (0, 1)]
          == ["84755224", "94287082"], "oathtool gives RFC 4226's test vectors")
    for name, user, key in cases:
        result = box.tool("import-pskc", os.path.join(PSKC_DIR, name), "--map",
                          f"987654321={user}", *key)
        check(result.rc == 0, f"{name}: import-pskc", str(result))
        check(result.out.splitlines() == [
            f"{user}: imported (KeyPackage 1, serial 987654321) as 'default': HOTP, SHA1, "
            "8 digits, next counter 0",
            "1 imported, 0 not imported"], f"{name}: one line for the token", str(result))
        check(box.login(user, "84755224"), f"{name}: the code for counter 0 logs in")
        check(not box.login(user, "84755224"), f"{name}: only once")
        check(box.login(user, "94287082"), f"{name}: the code for counter 1 logs in")


@case("imports")
def encrypted_pskc_built_with_openssl_imports_its_totp_and_hotp_keys_and_their_codes_log_in(box):
    element, key = pbkdf2_element_and_key("correct horse")
    container = box.write("tokens.pskc", encrypted_pskc([ALICE_TOKEN, BOB_TOKEN, CAROL_HOTP],
                                                        key, element))
    password = box.write("password", "correct horse\n")
    result = box.tool("import-pskc", container, "--map", "TOTP-0001=alice", "--map",
                      "TOTP-0002=bob", "--map", "HOTP-0003=carol", "--password-file", password)
    check(result.rc == 0, "import-pskc with a password", str(result))
    out = result.out.splitlines()
    check("alice: imported (KeyPackage 1, serial TOTP-0001) as 'default': SHA1, 6 digits, 30 s"
          in out, "alice", result.out)
    check("bob: imported (KeyPackage 2, serial TOTP-0002) as 'default': SHA256, 8 digits, 60 s"
          in out, "bob", result.out)
    check("carol: imported (KeyPackage 3, serial HOTP-0003) as 'default': HOTP, SHA1, 6 digits, "
          "next counter 0" in out, "carol's HOTP token", result.out)
    check(box.state_files() == ["alice", "bob", "carol"], "alice, bob and carol enrolled",
          str(box.state_files()))
    check(box.login("alice", oathtool(ALICE_TOKEN[2], box.now, hex_key=True)), "alice logs in")
    check(box.login("bob", oathtool(BOB_TOKEN[2], box.now, "SHA256", 8, 60, hex_key=True)),
          "bob logs in")
    check(box.login("carol", oathtool_hotp(CAROL_HOTP[2], 0, hex_key=True)), "carol logs in")
    check(ALICE_TOKEN[2] not in result.out + result.err, "no secret is printed")

    # The same with a pre-shared key and a --map-file giving dave two tokens; alice's serial
    # is not mapped.
    psk = os.urandom(16).hex()
    dave = ("TOTP-0004", "totp", "0102030405060708090a0b0c0d0e0f1011121314", 6, 30, "HMAC-SHA1")
    dave_spare = ("SN 5/5", "hotp", "1112131415161718191a1b1c1d1e1f2021222324", 6, 30, "HMAC-SHA1")
    container = box.write("psk.pskc", encrypted_pskc(
        [dave, ALICE_TOKEN, dave_spare], psk, "<ds:KeyName>Pre-shared-key</ds:KeyName>"))
    mapping = box.write("map.csv", "# serial,user\nTOTP-0004,dave\nSN 5/5,dave\n")
    result = box.tool("import-pskc", container, "--map-file", mapping, "--key-file",
                      box.write("psk", psk + "\n"))
    check(result.rc == 0, "import-pskc with a pre-shared key", str(result))
    out = result.out.splitlines()
    check("dave: imported (KeyPackage 1, serial TOTP-0004) as 'default': SHA1, 6 digits, 30 s"
          in out, "dave's first token", result.out)
    check("dave: imported (KeyPackage 3, serial SN 5/5) as 'SN-5-5': HOTP, SHA1, 6 digits, "
          "next counter 0" in out, "dave's second token is named after its serial", result.out)
    check("-: not imported (KeyPackage 2, serial TOTP-0001): serial TOTP-0001 is not mapped to "
          "a user" in out, "an unmapped serial is reported", result.out)
    check(box.login("dave", oathtool(dave[2], box.now, hex_key=True)), "dave logs in")
    check(box.login("dave", oathtool_hotp(dave_spare[2], 0, hex_key=True)),
          "dave logs in with his spare token")


@case("bad_input")
def bad_pskc_input_is_one_line_and_writes_nothing(box):
    element, key = pbkdf2_element_and_key("right")
    container = box.write("tokens.pskc", encrypted_pskc([ALICE_TOKEN], key, element))
    rfc = os.path.join(PSKC_DIR, "rfc6030-plain.xml")
    # A password or key others may read opens the container for them too; one another
    # user owns, they may change.
    alices_key = box.write("alices-psk", RFC_PRESHARED_KEY + "\n")
    os.chown(alices_key, 1001, 1001)
    # Which of two KeyPackages with one serial would the user get? Neither.
    with open(rfc) as file:
        plain = file.read()
    package = plain[plain.index("<KeyPackage>"):plain.index("</KeyPackage>") + len("</KeyPackage>")]
    twice = box.write("twice.pskc", plain.replace(package, package + package))
    cases = [
        (["import-pskc", twice, "--map", "987654321=alice"], 2,
         ["serial 987654321 is in", "2 times"]),
        (["import-pskc", container, "--map", "TOTP-0001=alice", "--password-file",
          box.write("shared", "right\n", 0o644)], 2, ["shared", "chmod 600"]),
        (["import-pskc", os.path.join(PSKC_DIR, "rfc6030-preshared-key.xml"), "--map",
          "987654321=alice", "--key-file", alices_key], 2, ["alices-psk", "owned by root"]),
        (["import-pskc", container, "--map", "TOTP-0001=alice", "--password-file",
          box.write("wrong", "wrong\n")], 2, ["wrong password or key"]),
        (["import-pskc", container, "--map", "TOTP-0001=alice"], 2, ["--password-file"]),
        (["import-pskc", rfc, "--map", "987654321=nosuchuser"], 4, ["nosuchuser"]),
        (["import-pskc", rfc, "--map", "111=alice"], 2, ["serial 111 is not in"]),
        (["import-pskc", rfc, "--map", "987654321=alice", "--map", "987654321=bob"], 2,
         ["mapped twice"]),
        (["import-pskc", rfc], 2, ["--map"]),
        (["import-pskc", rfc, "--map", "987654321"], 2, ["SERIAL=USER"]),
        (["import-pskc", rfc, "--map-file", box.write("bad.csv", "987654321;alice\n")], 2,
         ["line 1", "SERIAL,USER"]),
        (["import-pskc", box.write("not.xml", "<KeyContainer"), "--map", "1=alice"], 2,
         ["not well-formed XML"]),
        (["import-pskc", box.path("missing.xml"), "--map", "1=alice"], 4, ["cannot read"]),
    ]
    for args, rc, fragments in cases:
        result = box.tool(*args)
        check(result.rc == rc, f"{' '.join(args[2:])}: exit {rc}", str(result))
        one_stderr_line(result, *fragments)
        check("right" not in result.err and "wrong\n" not in result.err, "no password echoed")
        check(box.state_files() == [], "nothing written", str(box.state_files()))


# --- email: the reset address, verified with a code sent to a local SMTP server -------------

class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""

    def __init__(self):
        import socket
        from aiosmtpd.controller import Controller
        self.messages = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append(envelope)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def wait_for_message(self, count=1, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        check(len(self.messages) >= count, "a message reached the SMTP server")
        return self.messages[count - 1]

    def stop(self):
        self.controller.stop()


def mail_config(box, port):
    box.write_config(f"[reset]\nsmtp_url = smtp://127.0.0.1:{port}\nsmtp_starttls = optional\n"
                     "mail_from = pam_totp <root@localhost>\nsmtp_timeout = 5\nsmtp_retries = 0\n")


def code_in(envelope):
    import email
    import email.policy
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"code is (\d{6})", body)
    check(match is not None, "the message holds a 6-digit code", body)
    return message, match.group(1)


def other_code(code, offset=1):
    return f"{(int(code) + offset) % 1000000:06d}"


def run_email(box, sink, user, address, answers_for):
    """Runs `email ADDRESS --user USER`, waits for the mail, then types answers_for(code)."""
    process = subprocess.Popen([TOOL, "email", address, "--user", user, "--config", box.config],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=box.tool_env())
    try:
        message, code = code_in(sink.wait_for_message(len(sink.messages) + 1))
        out, err = process.communicate("".join(a + "\n" for a in answers_for(code)), timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Result(process.returncode, out, err), message, code


@case("email")
def an_address_is_verified_with_the_mailed_code_and_survives_re_enrollment(box):
    sink = SmtpSink()
    try:
        mail_config(box, sink.port)
        box.admin_enroll("alice", "--secret", SECRET_A)
        result, message, code = run_email(box, sink, "alice", "alice@example.org",
                                          lambda code: [other_code(code), code])
    finally:
        sink.stop()
    check(result.rc == 0, "verified on the second try", str(result))
    check(message["To"] == "alice@example.org", "sent to the address", str(message["To"]))
    check(result.out.count("That code is not correct.") == 1, "a wrong code is refused", result.out)
    check("Email address verified: alice@example.org" in result.out, "says so", result.out)
    check(code not in result.out + result.err, "the code is not printed")
    status = box.tool("status", "alice")
    check("email: alice@example.org (verified)" in status.out, "recorded as verified", str(status))
    result = confirm_enrollment(box, "alice", SECRET_B, [oathtool(SECRET_B, box.now)])
    check(result.rc == 0, "re-enrollment", str(result))
    status = box.tool("status", "alice")
    check("email: alice@example.org (verified)" in status.out, "re-enrolling keeps it", str(status))


@case("email")
def three_wrong_codes_record_nothing(box):
    sink = SmtpSink()
    try:
        mail_config(box, sink.port)
        box.admin_enroll("alice")
        result, _, _ = run_email(box, sink, "alice", "alice@example.org",
                                 lambda code: [other_code(code, n) for n in (1, 2, 3)])
    finally:
        sink.stop()
    check(result.rc == 5, "exit 5", str(result))
    one_stderr_line(result, "not confirmed")
    status = box.tool("status", "alice")
    # Only the count of mails sent changed (see the limit below), not the address.
    check("email: -" in status.out and "example.org" not in status.out,
          "no address is recorded", str(status))


@case("email")
def verification_mails_are_limited_to_five_a_day_per_account(box):
    # The caller chooses the address: without a limit any user could make the host send
    # mail to anyone, as often as they like.
    sink = SmtpSink()
    try:
        mail_config(box, sink.port)
        box.admin_enroll("alice")
        for round in range(5):
            result, _, _ = run_email(box, sink, "alice", f"victim{round}@example.org",
                                     lambda code: [other_code(code, n) for n in (1, 2, 3)])
            check(result.rc == 5, f"mail {round + 1} of the day is sent", str(result))
        before = len(sink.messages)
        box.now += 3600
        # A new secret (re-enrollment, or an import) does not start the count again.
        result = confirm_enrollment(box, "alice", SECRET_B, [oathtool(SECRET_B, box.now)])
        check(result.rc == 0, "alice re-enrolls", str(result))
        result = box.tool("email", "victim@example.org", "--user", "alice")
        check(result.rc == 3, "the sixth within a day is refused: exit 3", str(result))
        one_stderr_line(result, "5 verification mails for alice", "try again in 23 hours")
        check(len(sink.messages) == before, "and sends nothing", len(sink.messages))
        box.now += 23 * 3600
        result, message, code = run_email(box, sink, "alice", "alice@example.org",
                                          lambda code: [code])
        check(result.rc == 0, "a day after the first, mail is sent again", str(result))
    finally:
        sink.stop()


@case("email")
def an_address_is_not_recorded_when_the_old_links_cannot_be_dropped(box):
    # Links mailed to the old address go first: a failure (or a kill) between the two steps
    # must not leave them working next to the new address.
    with open(os.path.join(box.state, ".reset-tokens"), "w", encoding="utf-8"):
        pass  # a file where the links' directory belongs: dropping them fails
    sink = SmtpSink()
    try:
        mail_config(box, sink.port)
        box.admin_enroll("alice")
        result, _, _ = run_email(box, sink, "alice", "alice@example.org", lambda code: [code])
    finally:
        sink.stop()
    check(result.rc != 0, "the command fails", str(result))
    status = box.tool("status", "alice")
    check("email: -" in status.out and "example.org" not in status.out,
          "no address is recorded", str(status))


@case("email")
def no_mail_for_someone_not_enrolled_and_a_dead_server_is_exit_1(box):
    sink = SmtpSink()
    try:
        mail_config(box, sink.port)
        result = box.tool("email", "bob@example.org", "--user", "bob")
        check(result.rc == 4, "not enrolled: exit 4", str(result))
        one_stderr_line(result, "bob is not enrolled")
        check(sink.messages == [], "no mail was sent")
    finally:
        sink.stop()
    box.admin_enroll("bob")
    result = box.tool("email", "bob@example.org", "--user", "bob")  # the server is gone now
    check(result.rc == 1, "mail failure: exit 1", str(result))
    one_stderr_line(result, "mail not sent")
    # The attempt counts against the daily limit (a server may fail after accepting the
    # mail), but no address is recorded.
    status = box.tool("status", "bob")
    check("email: -" in status.out, "no address is recorded", str(status))


# --- Bad input: one line on stderr, the documented exit status, nothing written --------------

@case("bad_input")
def bad_input_is_refused_with_one_line_and_nothing_written(box):
    png = ["--qr-png", box.path("x.png")]
    cases = [
        (["--user", "nosuchuser", "--no-confirm", *png], 4, ["no such user: nosuchuser"]),
        (["--user", "alice", "--no-confirm", "--secret", "NOT-BASE32!", *png], 2, ["bad base32"]),
        (["--user", "alice", "--no-confirm", "--secret", "JBSWY3DP", *png], 2, ["10-128 bytes"]),
        (["--user", "alice", "--no-confirm", "--algorithm", "MD5", *png], 2, ["unsupported algorithm 'MD5'"]),
        (["--user", "alice", "--no-confirm", "--digits", "9", *png], 2, ["unsupported number of digits"]),
        (["--user", "alice", "--no-confirm", "--period", "10", *png], 2, ["unsupported period"]),
        (["--user", "alice", "--no-confirm", "--qr", "sixel", *png], 2, ["unknown QR style"]),
        (["--user", "alice", "--no-confirm", "--recovery-codes", "21", *png], 2, ["0-20"]),
        (["--user", "alice", "--bogus"], 2, ["unknown option '--bogus'"]),
        (["frobnicate"], 2, ["unknown command 'frobnicate'"]),
        (["status", "--no-confirm"], 2, ["--no-confirm does not apply to 'status'"]),
        (["--user", "alice", "--user", "bob"], 2, ["--user given twice"]),
        (["import-google-authenticator", "--user", "alice", "/nonexistent/ga"], 4, ["cannot read"]),
        (["import-oath", "/nonexistent/users"], 4, ["cannot read"]),
        (["email", "not an address", "--user", "alice"], 2, ["bad address"]),
    ]
    for args, status, fragments in cases:
        result = box.tool(*args)
        check(result.rc == status, f"{' '.join(args)}: exit {status}", str(result))
        one_stderr_line(result, *fragments)
        check("otpauth://" not in result.out, f"{' '.join(args)}: no key shown", result.out)
        check(box.state_files() == [], f"{' '.join(args)}: no state file", str(box.state_files()))
        check(not os.path.exists(box.path("x.png")), f"{' '.join(args)}: no image file")


@case("bad_input")
def a_config_problem_is_one_line_naming_the_line_never_its_text(box):
    # iniparser's default would print the bad line itself, to whoever runs the tool.
    broken = box.write_config("MARKER-4d2e hunter2\n", name="broken.conf")
    misplaced = box.write_config("[reset]\nnullok = MARKER-4d2e\n", name="misplaced.conf")
    for config, fragments in [(broken, ["syntax error at line 4"]),
                              (misplaced, ["line 5", "'nullok'", "[reset]"])]:
        box.config = config
        result = box.tool("--user", "alice", "--no-confirm", "--qr", "none")
        check(result.rc == 1, f"{fragments[0]}: exit 1", str(result))
        one_stderr_line(result, *fragments)
        check("MARKER" not in result.out + result.err, "the line's text is not shown", str(result))
        check(box.state_files() == [], "nothing enrolled")


@case("bad_input")
def an_unusable_store_fails_before_anything_is_shown(box):
    missing = box.write_config(name="missing.conf", state_dir=box.path("no-such-dir"))
    open_dir = box.path("open-state")
    os.mkdir(open_dir, 0o755)
    loose = box.write_config(name="loose.conf", state_dir=open_dir)
    for config, fragment in [(missing, "does not exist"), (loose, "world-readable")]:
        box.config = config
        result = box.tool("--user", "alice", "--secret", SECRET_A, "--qr-png", box.path("k.png"))
        check(result.rc == 1, f"{fragment}: exit 1", str(result))
        one_stderr_line(result, fragment)
        check("otpauth://" not in result.out, "the key is not shown", result.out)
        check(not os.path.exists(box.path("k.png")), "no image written")
    check(os.listdir(open_dir) == [], "nothing written to the loose directory")


@case("bad_input")
def a_read_only_store_fails_cleanly_and_removes_the_images(box):
    # Inside this test's private mount namespace (tests/support/with_private_tmp.sh) only.
    subprocess.run(["mount", "--bind", box.state, box.state], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", box.state], check=True)
    try:
        result = box.tool("--user", "alice", "--no-confirm", "--qr-png", box.path("k.png"))
        check(result.rc == 1, "read-only store: exit 1", str(result))
        one_stderr_line(result, "Read-only file system")
        check("Enrollment active." not in result.out, "not reported active", result.out)
        check(not os.path.exists(box.path("k.png")), "the image of a key never activated is removed")
    finally:
        subprocess.run(["umount", box.state], check=True)
    check(box.state_files() == [], "no state file", str(box.state_files()))


@case("bad_input")
def an_unwritable_image_path_fails_before_activation(box):
    result = box.tool("--user", "alice", "--no-confirm", "--qr-png", box.path("no/such/dir/k.png"))
    check(result.rc == 1, "exit 1", str(result))
    one_stderr_line(result, "cannot write")
    check(box.state_files() == [], "no state file", str(box.state_files()))


@case("bad_input")
def a_caller_other_than_root_is_refused_root_only_options(box):
    # Not the setuid path (tests/system does that as real users): the same binary run
    # with a non-root uid must refuse before it opens anything.
    copy = box.path("totp-enroll")
    shutil.copy(TOOL, copy)
    os.chmod(copy, 0o755)
    for args in [["--config", box.config], ["--user", "bob"], ["--no-confirm"],
                 ["--secret", SECRET_A], ["list"], ["remove", "--user", "bob"],
                 ["unlock", "--user", "bob"], ["import-oath", box.path("users")],
                 ["import-pskc", box.path("tokens.pskc"), "--map", "1=bob"]]:
        done = subprocess.run(["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups", copy,
                               *args], capture_output=True, text=True, env=box.tool_env(),
                              timeout=60)
        result = Result(done.returncode, done.stdout, done.stderr)
        check(result.rc == 3, f"{' '.join(args)}: exit 3", str(result))
        one_stderr_line(result, "root only")
    check(box.state_files() == [], "no state file", str(box.state_files()))


@case("bad_input")
def help_and_version(box):
    result = box.tool("--help", config=False)
    check(result.rc == 0 and "import-google-authenticator" in result.out, "--help", str(result))
    result = box.tool("--version", config=False)
    check(result.rc == 0 and result.out.startswith("totp-enroll "), "--version", str(result))


# --- Rollout and enforcement (the rollout file next to the config) ------------------------

def rollout_file(box):
    return box.path("pam_totp.rollout")


def mode_line(path):
    with open(path) as file:
        lines = [line.strip() for line in file if line.strip() and not line.startswith("#")]
    return lines


def pam_root(box, common_auth):
    """A root holding etc/pam.d/common-auth (Debian's layout) for --pam-root."""
    root = box.path("pamroot")
    os.makedirs(os.path.join(root, "etc", "pam.d"), exist_ok=True)
    with open(os.path.join(root, "etc", "pam.d", "common-auth"), "w") as file:
        file.write(common_auth)
    return root


COMMON_AUTH_WITHOUT_TOTP = ("auth [success=1 default=ignore] pam_unix.so nullok\n"
                            "auth requisite pam_deny.so\n"
                            "auth required pam_permit.so\n")
COMMON_AUTH_WITH_TOTP = COMMON_AUTH_WITHOUT_TOTP + "auth required pam_totp.so\n"


@case("rollout")
def enforce_refuses_with_the_list_of_accounts_not_enrolled_and_writes_nothing(box):
    box.admin_enroll("alice")
    result = box.tool("enforce")
    check(result.rc == 1, "enforce while users are not enrolled: exit 1", str(result))
    for user in ["bob", "carol", "dave"]:
        check(re.search(rf"^\s*{user}$", result.err, re.M) is not None,
              f"{user} is listed", str(result))
    check(re.search(r"^\s*alice$", result.err, re.M) is None, "alice (enrolled) is not listed",
          str(result))
    check("--force" in result.err, "the refusal says how to go ahead anyway", str(result))
    check(not os.path.exists(rollout_file(box)), "no rollout file written", str(result))


@case("rollout")
def enforce_force_writes_enforce_and_an_unenrolled_user_is_refused_despite_nullok(box):
    box.config = box.write_config("nullok = yes\n")
    check(box.login("bob"), "before: nullok = yes lets bob in without a code")
    result = box.tool("enforce", "--force")
    check(result.rc == 0, "enforce --force", str(result))
    check(mode_line(rollout_file(box)) == ["enforce"], "the file says enforce", str(result))
    info = os.lstat(rollout_file(box))
    check(stat.S_ISREG(info.st_mode) and info.st_uid == 0 and stat.S_IMODE(info.st_mode) == 0o644,
          "a regular file, root's, mode 0644", oct(info.st_mode))
    check("line 4" in result.out and "nullok" in result.out,
          "the output names the config line that sets nullok", str(result))
    check(not box.login("bob"), "after: bob is refused without a code")


def host_root(box, login_defs="UID_MIN 1000\n", nsswitch="passwd: files systemd\n"):
    """A root holding etc/login.defs and etc/nsswitch.conf (no pam.d) for --pam-root."""
    root = box.path("hostroot")
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    for name, text in [("login.defs", login_defs), ("nsswitch.conf", nsswitch)]:
        with open(os.path.join(root, "etc", name), "w") as file:
            file.write(text)
    return root


def add_passwd_lines(box, *lines, replace=()):
    with open(box.path("passwd")) as file:
        passwd = file.read()
    for old, new in replace:
        passwd = passwd.replace(old, new)
    box.write("passwd", passwd + "".join(line + "\n" for line in lines), 0o644)


def bind_shadow(box, *lines):
    """glibc's getspnam_r reads /etc/shadow (nss_wrapper does not wrap it): a sandbox file is
    bound over it, in this test's own mount namespace only (with_private_tmp.sh)."""
    check(os.environ.get("TOTP_IN_PRIVATE_TMP") == "1", "a private mount namespace for /etc/shadow")
    path = box.write("shadow", "".join(line + "\n" for line in lines), 0o600)
    subprocess.run(["mount", "--bind", path, "/etc/shadow"], check=True)
    box.mounts.append("/etc/shadow")


def listed_line(result, user):
    found = re.search(rf"^\s*{re.escape(user)}(?: \((.*)\))?$", result.err, re.M)
    return None if found is None else (found.group(1) or "")


@case("rollout")
def enforce_lists_accounts_with_a_locked_password_or_a_nologin_shell_and_says_why(box):
    # bob logs in with an ssh key, dave through sftp; the system accounts below UID_MIN
    # without a usable password or shell, and nobody, cannot log in at all.
    add_passwd_lines(box, "backup:x:34:34::/var/backups:/usr/sbin/nologin",
                     "sysop:x:500:500::/srv:/bin/sh",
                     "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin",
                     replace=[("/home/dave:/bin/sh", "/home/dave:/usr/sbin/nologin")])
    bind_shadow(box, "root:$6$salt$hash:19000:0:99999:7:::", "alice:$6$salt$hash:19000::::::",
                "bob:!$6$salt$hash:19000::::::", "carol:$6$salt$hash:19000::::::",
                "dave:*:19000::::::", "sysop:!:19000::::::", "backup:*:19000::::::",
                "nobody:*:19000::::::")
    box.admin_enroll("alice")
    result = box.tool("enforce", "--pam-root", host_root(box))
    check(result.rc == 1, "enforce while users are not enrolled: exit 1", str(result))
    check(listed_line(result, "bob") == "password locked: may log in with an ssh key",
          "bob (locked password) is listed with why", str(result))
    check(listed_line(result, "dave") ==
          "password locked: may log in with an ssh key; shell /usr/sbin/nologin: may "
          "authenticate through sftp, tunnels or mail services",
          "dave (nologin shell) is listed with why", str(result))
    check(listed_line(result, "carol") == "" and listed_line(result, "root") == "",
          "carol and root are listed", str(result))
    for user in ["alice", "backup", "sysop", "nobody"]:
        check(listed_line(result, user) is None, f"{user} is not listed", str(result))
    check(not os.path.exists(rollout_file(box)), "no rollout file written", str(result))


@case("rollout")
def enforce_lists_an_account_whose_alias_line_can_log_in(box):
    add_passwd_lines(box, "svc:x:990:990::/srv:/usr/sbin/nologin",
                     "svc-admin:x:990:990::/srv:/bin/sh")
    for user in ["root", "alice", "bob", "carol", "dave"]:
        box.admin_enroll(user)
    result = box.tool("enforce", "--pam-root", host_root(box))
    check(result.rc == 1, "svc-admin logs into svc's account: exit 1", str(result))
    check(listed_line(result, "svc") == "logs in as svc-admin", "svc is listed, through its alias",
          str(result))


@case("rollout")
def enforce_scopes_every_name_of_an_account_as_the_module_does(box):
    # require_group: an alias line whose own gid is in the group requires the code of bob.
    with open(box.path("group")) as file:
        groups = file.read()
    box.write("group", groups + "admins:x:2000:\nops:x:2001:carol\n", 0o644)
    add_passwd_lines(box, f"bobadm:x:1002:2000::{box.home('bob')}:/bin/sh",
                     f"carolx:x:1003:1003::{box.home('carol')}:/bin/sh")
    box.config = box.write_config("require_group = admins\n")
    result = box.tool("enforce", "--pam-root", host_root(box))
    check(result.rc == 1, "bob is in scope through bobadm: exit 1", str(result))
    check(listed_line(result, "bob") == "logs in as bobadm", "bob is listed", str(result))
    for user in ["root", "alice", "carol", "dave"]:
        check(listed_line(result, user) is None, f"{user} (not in admins) is not listed",
              str(result))
    # exempt_group: carol's own entry is in ops, but carolx's is not, so it is not exempt.
    box.config = box.write_config("exempt_group = ops\n")
    for user in ["root", "alice", "bob", "dave"]:
        box.admin_enroll(user)
    result = box.tool("enforce", "--pam-root", host_root(box))
    check(result.rc == 1, "carol is in scope through carolx: exit 1", str(result))
    check(listed_line(result, "carol") == "logs in as carolx", "carol is listed", str(result))


@case("rollout")
def enforce_refuses_while_nsswitch_takes_accounts_from_a_directory_until_force(box):
    for user in ["root", "alice", "bob", "carol", "dave"]:
        box.admin_enroll(user)
    root = host_root(box, nsswitch="passwd: files [NOTFOUND=return] sss winbind\n")
    result = box.tool("enforce", "--pam-root", root)
    check(result.rc == 1, "enforce with directory users: exit 1", str(result))
    check("sss, winbind" in result.err and "directory users are not listed" in result.err and
          "--force" in result.err, "the refusal names the sources and how to go ahead",
          str(result))
    check(not os.path.exists(rollout_file(box)), "no rollout file written", str(result))
    result = box.tool("enforce", "--force", "--pam-root", root)
    check(result.rc == 0 and "WARNING" in result.out and "sss, winbind" in result.out,
          "enforce --force goes ahead with the warning", str(result))
    check(mode_line(rollout_file(box)) == ["enforce"], "the file says enforce", str(result))


@case("rollout")
def enforce_without_force_succeeds_when_every_account_that_can_log_in_is_enrolled(box):
    add_passwd_lines(box, replace=[(":1004:1004::", ":999:999::"),
                                   ("/home/dave:/bin/sh", "/home/dave:/usr/sbin/nologin")])
    for user in ["root", "alice", "bob", "carol"]:
        box.admin_enroll(user)
    result = box.tool("enforce", "--pam-root", host_root(box))
    check(result.rc == 0, "enforce with everyone enrolled (dave, a system account with a "
          "nologin shell, cannot log in)", str(result))
    check(mode_line(rollout_file(box)) == ["enforce"], "the file says enforce", str(result))
    check("refused" in result.out, "the output says what it means for logins", str(result))


@case("rollout")
def rollout_writes_rollout_and_an_unenrolled_user_logs_in_with_the_password(box):
    check(not box.login("bob"), "before: the built-in nullok = no refuses bob")
    result = box.tool("rollout")
    check(result.rc == 0, "rollout", str(result))
    check(mode_line(rollout_file(box)) == ["rollout"], "the file says rollout", str(result))
    check(box.login("bob"), "after: bob logs in with the password alone")
    result = box.tool("enforce", "--force")
    check(result.rc == 0 and not box.login("bob"), "enforce undoes it", str(result))
    result = box.tool("rollout")
    check(result.rc == 0 and box.login("bob"), "and rollout again", str(result))


@case("rollout")
def rollout_is_refused_with_secret_path_and_status_warns_of_a_rollout_file_with_it(box):
    box.config = box.write_config("secret_path = ~/.pam_totp\n")
    box.admin_enroll("alice")
    result = box.tool("rollout")
    check(result.rc == 1, "rollout with secret_path: exit 1", str(result))
    one_stderr_line(result, "secret_path", "refuses every login", "require_group")
    check(not os.path.exists(rollout_file(box)), "no rollout file written", str(result))
    box.write("pam_totp.rollout", "rollout\n", 0o644)
    result = box.tool("status", "alice")
    check(result.rc == 0 and re.search(r"^WARNING: secret_path .*refuses every login",
                                       result.out, re.M) is not None,
          "status warns of the rollout file with secret_path", str(result))


@case("rollout")
def rollout_says_when_the_config_file_still_enforces_with_nullok_no(box):
    box.config = box.write_config("nullok = no\n")
    result = box.tool("rollout")
    check(result.rc == 0, "rollout", str(result))
    check("line 4" in result.out and "nullok = no" in result.out,
          "the output names the config line that keeps enforcing", str(result))
    check(not box.login("bob"), "nullok = no in the config still refuses bob")


@case("rollout")
def the_rollout_file_is_replaced_atomically_and_nothing_else_is_left(box):
    box.tool("rollout")
    old = box.path("old-rollout")
    os.link(rollout_file(box), old)
    result = box.tool("enforce", "--force")
    check(result.rc == 0, "enforce --force", str(result))
    check(mode_line(old) == ["rollout"], "the old file was replaced, not rewritten in place")
    check(mode_line(rollout_file(box)) == ["enforce"], "the new file says enforce")
    leftovers = [name for name in os.listdir(box.root) if "rollout" in name and
                 name not in ("pam_totp.rollout", "old-rollout")]
    check(leftovers == [], "no temporary file is left", str(leftovers))


@case("rollout")
def enforce_and_rollout_are_refused_to_a_caller_other_than_root(box):
    copy = box.path("totp-enroll")
    shutil.copy(TOOL, copy)
    os.chmod(copy, 0o755)
    for args in [["enforce"], ["enforce", "--force"], ["rollout"]]:
        done = subprocess.run(["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups", copy,
                               *args], capture_output=True, text=True, env=box.tool_env(),
                              timeout=60)
        result = Result(done.returncode, done.stdout, done.stderr)
        check(result.rc == 3, f"{' '.join(args)}: exit 3", str(result))
        one_stderr_line(result, "root only")
    check(not os.path.exists(rollout_file(box)), "no rollout file written")


@case("rollout")
def a_bad_rollout_file_makes_the_tool_refuse_naming_the_file_and_line(box):
    box.admin_enroll("alice")
    box.write("pam_totp.rollout", "# mode\nenforced\n", 0o644)
    result = box.tool("status", "alice")
    check(result.rc == 1, "status with a bad rollout file: exit 1", str(result))
    one_stderr_line(result, rollout_file(box) + ", line 2")


@case("rollout")
def status_and_list_show_the_rollout_mode_and_warn_when_the_stack_lacks_pam_totp(box):
    box.admin_enroll("alice")
    box.tool("rollout")
    root = pam_root(box, COMMON_AUTH_WITHOUT_TOTP)
    # status prints them with the enrollment; list on stderr, keeping stdout one line per user.
    for args, prefix in [(["status", "alice"], ""), (["list"], "totp-enroll: ")]:
        result = box.tool(*args, "--pam-root", root)
        shown = result.out if not prefix else result.err
        check(result.rc == 0, f"{args[0]}", str(result))
        check(prefix + "rollout mode: rollout" in shown, f"{args[0]} shows the rollout mode",
              str(result))
        check(re.search(rf"^{prefix}WARNING: .*common-auth.*do not ask for a code", shown, re.M)
              is not None, f"{args[0]} warns that logins do not ask for codes", str(result))
        check("'auth required pam_totp.so'" in shown and "after line 3" in shown,
              f"{args[0]} gives the line to add and where", str(result))
    root = pam_root(box, COMMON_AUTH_WITH_TOTP)
    result = box.tool("status", "alice", "--pam-root", root)
    check(result.rc == 0 and "WARNING" not in result.out,
          "no warning when common-auth runs pam_totp after the password", str(result))


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: test_enroll.py GROUP [CASE]", file=sys.stderr)
        return 2
    group = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) == 3 else None
    if os.geteuid() != 0:
        print("test_enroll: must run as root (the store and config are root-owned)")
        return 77
    selected = [(g, f) for g, f in CASES if g == group and only in (None, f.__name__)]
    if not selected:
        print(f"test_enroll: no cases in group {group}", file=sys.stderr)
        return 2
    passed = failed = 0
    for _, function in selected:
        box = Sandbox()
        try:
            function(box)
            passed += 1
            print(f"ok   {function.__name__}")
        except Failed as failure:
            failed += 1
            print(f"FAIL {function.__name__}: {failure}")
        except Exception:
            failed += 1
            print(f"FAIL {function.__name__}: {traceback.format_exc()}")
        finally:
            box.cleanup()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
