#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""totp-resetd's two processes under systemd's eyes: readiness, the watchdog, deadlines,
and a web process that is a fresh executable rather than a copy of the root monitor.

Run by run_e2e.sh inside its sandbox (root, private /etc copy, SMTP sink). Each instance is
started here the way systemd starts a Type=notify unit with WatchdogSec=: NOTIFY_SOCKET
names a datagram socket this script reads (with the sender's credentials), WATCHDOG_USEC
the interval. systemd itself is not needed: what it would act on is what arrives there,
and how the processes end. Users: alice and tim (enrolled, verified mail). Prints
"ok - ..." / "FAIL - ..." per check (abuse_cases.check) and exits 1 if anything failed.
"""
import argparse
import ctypes
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import abuse_cases as cases  # noqa: E402  (the HTTP client, mail and code helpers)
from abuse_cases import check  # noqa: E402

ARGS = None
WATCHDOG_USEC = 2_000_000  # short, so that pings come often enough to count here
AT_RANDOM = 25  # the auxv entry pointing at the kernel's 16 random bytes for this exec
PR_SET_PDEATHSIG = 1


class Daemon:
    """One totp-resetd, started as systemd starts the unit, and the notices it sends."""

    def __init__(self, port, config):
        self.base = f"http://127.0.0.1:{port}/"
        path = os.path.join(ARGS.work, f"notify-{port}.sock")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(path)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC=str(WATCHDOG_USEC),
                   ASAN_OPTIONS="detect_leaks=0")
        with open(ARGS.log, "ab") as log:
            self.process = subprocess.Popen(
                [ARGS.resetd, "--config", config, "--foreground"], stdout=log, stderr=log,
                env=env)
        self.pid = self.process.pid

    def notices(self, seconds):
        """Every datagram that arrives within `seconds`: (sender pid, set of lines)."""
        found = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.socket.settimeout(left)
            try:
                data, ancillary, _, _ = self.socket.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                break
            sender = None
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    sender = struct.unpack("iII", payload[:12])[0]
            found.append((sender, set(data.decode("utf-8", "replace").split("\n"))))
        return found

    def wait_for_notice(self, line, seconds):
        """The pid that sent `line` first within `seconds`, or None."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            for sender, lines in self.notices(min(left, 0.5)):
                if line in lines:
                    return sender
        return None

    def wait_until_answering(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                if cases.new_client(self.base).get("/style.css")[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def pings(self, seconds):
        return [sender for sender, lines in self.notices(seconds) if "WATCHDOG=1" in lines]

    def web_pid(self):
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as children:
                pids = children.read().split()
        except OSError:
            return None
        return int(pids[0]) if len(pids) == 1 else None

    def exit_status(self, seconds):
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
            self.process.terminate()
            self.exit_status(20)
        self.socket.close()


# --- what the processes look like ---


def at_random(pid):
    """The 16 bytes the kernel gave this process at its exec (glibc's stack canary and
    pointer guard come from them): a fork keeps its parent's, an exec gets new ones."""
    with open(f"/proc/{pid}/auxv", "rb") as stream:
        auxv = stream.read()
    for offset in range(0, len(auxv) - 15, 16):
        kind, value = struct.unpack_from("QQ", auxv, offset)
        if kind == AT_RANDOM:
            with open(f"/proc/{pid}/mem", "rb") as memory:
                memory.seek(value)
                return memory.read(16)
    return None


def program_base(pid):
    """Where the program's own file is mapped first."""
    program = os.readlink(f"/proc/{pid}/exe")
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == program:
                return fields[0].split("-")[0]
    return None


def aslr_enabled():
    with open("/proc/sys/kernel/randomize_va_space") as setting:
        return setting.read().strip() != "0"


# --- helpers ---


def stopped_lock_holder(path):
    """A process that takes the flock of `path` and stops itself holding it, as a user's
    suspended totp-enroll would (Ctrl-Z); returns its pid once it is stopped."""
    pid = os.fork()
    if pid == 0:
        try:
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            descriptor = os.open(path, os.O_RDONLY)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.kill(os.getpid(), signal.SIGSTOP)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        raise RuntimeError("the lock holder did not stop")
    return pid


def end_process(pid):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def answered(client, action):
    """The HTTP status that `action` (a request of `client`) gets, or the error when none
    comes within 90 s, and the seconds it took."""
    client.timeout = 90
    started = time.monotonic()
    try:
        status = action()[0]
    except OSError as error:
        status = repr(error)
    return status, time.monotonic() - started


# --- the cases ---


def ready_is_sent_once_the_service_answers(daemon):
    sender = daemon.wait_for_notice("READY=1", 20)
    if not check("READY=1 reaches the notify socket", sender is not None):
        return False
    check("it comes from the monitor, the unit's main process", sender == daemon.pid,
          (sender, daemon.pid))
    check("when it arrives the web process runs", daemon.web_pid() is not None)
    status, _, _ = cases.new_client(daemon.base).get("/style.css")
    check("and the listener answers at once", status == 200, status)
    return True


def web_process_is_a_fresh_executable(daemon):
    web = daemon.web_pid()
    if not check("the monitor has one child, the web process", web is not None):
        return
    monitor_random, web_random = at_random(daemon.pid), at_random(web)
    check("the web process got its own AT_RANDOM bytes at an exec (stack canary, pointer guard)",
          monitor_random and web_random and monitor_random != web_random,
          (monitor_random, web_random))
    if aslr_enabled():
        check("the program is mapped at another address in the web process",
              program_base(daemon.pid) != program_base(web),
              (program_base(daemon.pid), program_base(web)))
    else:
        print("# address layout not compared: ASLR is off on this kernel")
    with open(f"/proc/{web}/cmdline", "rb") as cmdline:
        arguments = cmdline.read().split(b"\0")
    check("the web process was started as totp-resetd --web-child", b"--web-child" in arguments,
          arguments)
    descriptors = sorted(int(name) for name in os.listdir(f"/proc/{web}/fd"))
    kinds = {number: os.readlink(f"/proc/{web}/fd/{number}") for number in descriptors
             if number > 2}
    check("the web process holds no signalfd or file of the monitor's",
          not any("signalfd" in kind or kind.startswith("/") and not kind.startswith("/dev/")
                  for kind in kinds.values()), kinds)


def monitor_pings_the_watchdog_while_it_answers(daemon):
    client = cases.new_client(daemon.base)
    started = time.monotonic()
    senders = []
    while time.monotonic() - started < 4:
        client.get("/reset?token=" + "0" * 24 + "." + "0" * 64)  # a question to the monitor
        senders += daemon.pings(0.5)
    check("WATCHDOG=1 arrives repeatedly while the monitor answers (%d in 4 s, interval 2 s)"
          % len(senders), len(senders) >= 3, senders)
    check("every ping comes from the monitor", senders and set(senders) == {daemon.pid},
          senders)


def stopped_lock_holder_delays_only_its_own_user(daemon):
    token = cases.link_for("alice", cases.new_client(daemon.base))
    if not check("alice got a link", token):
        return
    holder = stopped_lock_holder(os.path.join(ARGS.state, "alice"))
    try:
        client = cases.new_client(daemon.base)
        code = cases.valid_code("alice")
        status, took = answered(
            client, lambda: cases.reset(client, token, code, cases.STRONG_PASSWORD))
        check("alice's reset fails while a stopped process holds her record's lock "
              "(answered in %.1f s; lock deadline 5 s)" % took,
              status == 500 and took < 30, status)
        tim_before = len(cases.mails_to("tim@example.test"))
        cases.new_client(daemon.base).request_link("alice")
        cases.new_client(daemon.base).request_link("tim")
        check("tim still gets his link, requested after one for alice",
              len(cases.wait_for_mails("tim@example.test", tim_before + 1, 30)) > tim_before)
        check("the monitor pings the watchdog again", len(daemon.pings(3)) >= 2)

        # Each of these would hold the monitor (which answers one request at a time) for
        # the lock deadline: a local user who stops their own totp-enroll and sends them
        # could keep everyone else waiting.
        tim_token = cases.link_for("tim", cases.new_client(daemon.base))
        flood = [threading.Thread(target=answered, args=(flooder, lambda flooder=flooder: cases.reset(
            flooder, token, code, cases.STRONG_PASSWORD)))
            for flooder in [cases.new_client(daemon.base) for _ in range(8)]]
        for thread in flood:
            thread.start()
        time.sleep(0.5)
        client = cases.new_client(daemon.base)
        status, took = answered(client, lambda: client.get(f"/reset?token={tim_token}"))
        check("tim's link opens while resets for alice pile up (answered in %.1f s)" % took,
              status == 200 and took < 15, status)
        for thread in flood:
            thread.join()
    finally:
        end_process(holder)


def stopped_monitor_stops_the_pings_and_the_web_process_gives_up(daemon):
    client = cases.new_client(daemon.base)
    field = client.csrf()
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        daemon.notices(0.2)  # whatever was sent before the stop
        check("no WATCHDOG=1 arrives while the monitor is stopped (4 s, interval 2 s)",
              not daemon.pings(4))
        status, took = answered(
            client, lambda: client.post("/request", {"user": "tim", "csrf": field}))
        check("the web process answers 503 when the monitor does not answer "
              "(after %.0f s; answer deadline 35 s + 5 s)" % took,
              status == 503 and took < 60, status)
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    status = daemon.exit_status(30)
    check("then the service ends with a failure status, for systemd to restart it",
          status is not None and status != 0, status)


def web_child_argument_is_refused_without_its_descriptors(config):
    for name, redirections in (("no descriptors", ""),
                               ("/dev/null at 3, 4 and 5", "3</dev/null 4</dev/null 5</dev/null")):
        result = subprocess.run(
            ["sh", "-c", f'exec "$0" --web-child --config "$1" {redirections}', ARGS.resetd,
             config], capture_output=True, text=True, timeout=30,
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        check(f"--web-child with {name} is refused (exit 2, says why)",
              result.returncode == 2 and "descriptor" in result.stderr,
              (result.returncode, result.stderr))


def request_past_its_deadline_ends_the_service(daemon):
    """A password change stuck in PAM (a module waiting for a lock this test holds, as a
    module waiting for a dead network server would) past the answer deadline."""
    token = cases.link_for("tim", cases.new_client(daemon.base))
    if not check("tim got a link", token):
        return
    stuck = os.path.join(ARGS.work, "pam-stuck.lock")
    service = "/etc/pam.d/totp-reset"
    with open(service) as stream:
        original = stream.read()
    blocker = os.open(stuck, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(blocker, fcntl.LOCK_EX)
    hanging = original.replace(
        "password requisite  pam_pwquality.so",
        f"password requisite  pam_exec.so /usr/bin/flock {stuck} true\n"
        "password requisite  pam_pwquality.so", 1)
    try:
        with open(service, "w") as stream:
            stream.write(hanging)
        client = cases.new_client(daemon.base)
        code = cases.valid_code("tim")
        status, took = answered(
            client, lambda: cases.reset(client, token, code, cases.STRONG_PASSWORD))
        check("the stuck request is answered 503 (after %.0f s; answer deadline 35 s)" % took,
              status == 503 and took < 80, status)
        exit_status = daemon.exit_status(30)
        check("the monitor ended itself with status 3", exit_status == 3, exit_status)
        check("and said why in one line",
              cases.wait_for_log("ran past its deadline of 35 s"))
        check("the web process ended with it", daemon.web_pid() is None)
    finally:
        with open(service, "w") as stream:
            stream.write(original)
        os.close(blocker)
    check("tim's password is unchanged",
          cases.pam_works("reset-check", "tim", ARGS.old_password))


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for name in ("resetd", "mail", "state", "secret", "old-password", "log", "code-helper",
                 "work"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--instance", action="append", required=True,
                        help="PORT=CONFIG of an instance this script may start")
    ARGS = parser.parse_args()
    cases.ARGS = ARGS
    instances = [instance.split("=", 1) for instance in ARGS.instance]

    first = Daemon(*instances[0])
    try:
        if not ready_is_sent_once_the_service_answers(first):
            first.wait_until_answering(20)
        web_process_is_a_fresh_executable(first)
        monitor_pings_the_watchdog_while_it_answers(first)
        stopped_lock_holder_delays_only_its_own_user(first)
        stopped_monitor_stops_the_pings_and_the_web_process_gives_up(first)
    finally:
        first.stop()
    web_child_argument_is_refused_without_its_descriptors(instances[1][1])

    second = Daemon(*instances[1])
    try:
        if second.wait_for_notice("READY=1", 20) is None:
            second.wait_until_answering(20)
        request_past_its_deadline_ends_the_service(second)
    finally:
        second.stop()

    print(f"{cases.PASSED} passed, {cases.FAILED} failed")
    return 1 if cases.FAILED or not cases.PASSED else 0


if __name__ == "__main__":
    raise SystemExit(main())
