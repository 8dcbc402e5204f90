#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""totp::send_mail against a real SMTP server (aiosmtpd) on 127.0.0.1.

Usage: test_smtp_delivery.py MAIL_SEND_DRIVER

Each case starts its own server on a free port (plain, STARTTLS with a self-signed
certificate made here, implicit TLS, or STARTTLS + AUTH), writes a root-owned config
with a [reset] section, runs the driver and checks what the server received. Exits 77
(skipped) when not root: the config and password files must be root-owned.
"""
import email
import email.policy
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DRIVER = None
SENT_AT = 1700000000  # Tue, 14 Nov 2023 22:13:20 +0000
TO = "alice@example.net"
FROM_ADDRESS = "reset@example.org"
FROM = f"Example Reset <{FROM_ADDRESS}>"
SUBJECT = "Réinitialisation du mot de passe — code 123456"
USER = "mailer"
PASSWORD = "correct horse battery staple"

# Leading dots (a lone "." would end the DATA phase if libcurl did not dot-stuff it),
# a line longer than 76 columns, non-ASCII, trailing space, and both line endings.
TEXT = (
    "Hello Alice,\n"
    ".hidden line that starts with a dot\n"
    ".\n"
    "..two dots\n"
    "A long line: " + "x" * 150 + " end\r\n"
    "Grüße, naïve café ☕ \n"
    "trailing space \n"
    "= sign and tab\there\n"
)
HTML = (
    "<!DOCTYPE html>\n"
    "<p>Hello Alice,</p>\n"
    ".<p>dot first</p>\n"
    "<p>Grüße</p>\n"
)


def text_of(part):
    """A part's decoded text with the wire's CRLF line endings as LF."""
    return part.get_content().replace("\r\n", "\n")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: aiosmtpd then answers 535 itself (with True it would say nothing).
    return AuthResult(success=ok, handled=False)


def make_certificate(directory, name):
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=" + name, "-keyout", key, "-out", cert,
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=30)
    return cert, key


class SmtpDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="totp-mail-")
        cls.cert, cls.key = make_certificate(cls.dir, "server")
        cls.other_cert, _ = make_certificate(cls.dir, "stranger")
        cls.text_file = cls.write("text.txt", TEXT)
        cls.html_file = cls.write("body.html", HTML)
        cls.password_file = cls.write("smtp-password", PASSWORD + "\n", 0o600)
        cls.wrong_password_file = cls.write("wrong-password", "not the password\n", 0o600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def setUp(self):
        self.controllers = []

    def tearDown(self):
        for controller in self.controllers:
            controller.stop()

    @classmethod
    def write(cls, name, text, mode=0o644):
        path = os.path.join(cls.dir, name)
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(path, mode)
        return path

    def server_context(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def start_server(self, **kwargs):
        """A server on a free port; returns (port, recorder)."""
        recorder = Recorder()
        for _ in range(5):
            controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **kwargs)
            try:
                controller.start()
            except Exception:  # the port was taken in between: try another
                continue
            self.controllers.append(controller)
            return controller.port, recorder
        self.fail("could not start an SMTP server")

    def send(self, url, html=True, **keys):
        settings = {"smtp_url": url, "mail_from": FROM, "smtp_timeout": "5",
                    "smtp_retries": "0"}
        settings.update(keys)
        config = self.write("pam_totp.conf", "[reset]\n" + "".join(
            f"{key} = {value}\n" for key, value in settings.items()), 0o600)
        started = time.monotonic()
        result = subprocess.run(
            [DRIVER, config, TO, SUBJECT, self.text_file, self.html_file if html else "-",
             str(SENT_AT)],
            capture_output=True, text=True, timeout=90)
        result.elapsed = time.monotonic() - started
        return result

    def assert_sent(self, result, recorder):
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(recorder.envelopes), 1)
        envelope = recorder.envelopes[0]
        self.assertEqual(envelope.mail_from, FROM_ADDRESS)
        self.assertEqual(envelope.rcpt_tos, [TO])
        return email.message_from_bytes(envelope.content, policy=email.policy.default)

    def assert_refused(self, result, recorder, reason):
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertRegex(result.stderr, reason)
        self.assertEqual(recorder.envelopes, [])

    # --- Plain SMTP --------------------------------------------------------------------

    def test_optional_starttls_delivers_to_a_server_without_tls(self):
        port, recorder = self.start_server()
        message = self.assert_sent(
            self.send(f"smtp://127.0.0.1:{port}", smtp_starttls="optional"), recorder)
        self.assertEqual(message["To"], TO)
        self.assertEqual(message["From"], FROM)
        self.assertEqual(message["Subject"], SUBJECT)
        self.assertEqual(message["Date"], "Tue, 14 Nov 2023 22:13:20 +0000")
        self.assertRegex(message["Message-ID"], r"^<[0-9a-f]{32}@example\.org>$")
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        parts = list(message.iter_parts())
        self.assertEqual([part.get_content_type() for part in parts], ["text/plain", "text/html"])
        self.assertEqual(text_of(parts[0]), TEXT.replace("\r\n", "\n"))
        self.assertEqual(text_of(parts[1]), HTML)
        self.assertIn("\n.hidden line that starts with a dot\n.\n..two dots\n",
                      text_of(parts[0]))

    def test_every_received_line_is_crlf_terminated_and_short(self):
        port, recorder = self.start_server()
        self.assert_sent(self.send(f"smtp://127.0.0.1:{port}", smtp_starttls="optional"),
                         recorder)
        raw = recorder.envelopes[0].original_content
        self.assertTrue(raw.endswith(b"\r\n"))
        lines = raw[:-2].split(b"\r\n")
        for line in lines:
            self.assertNotIn(b"\r", line)
            self.assertNotIn(b"\n", line)
            self.assertLessEqual(len(line), 78, line)

    def test_text_only_message_is_single_part(self):
        port, recorder = self.start_server()
        message = self.assert_sent(
            self.send(f"smtp://127.0.0.1:{port}", html=False, smtp_starttls="optional"), recorder)
        self.assertEqual(message.get_content_type(), "text/plain")
        self.assertEqual(text_of(message), TEXT.replace("\r\n", "\n"))

    def test_required_starttls_refuses_a_server_without_tls(self):
        port, recorder = self.start_server()
        result = self.send(f"smtp://127.0.0.1:{port}", smtp_starttls="required", smtp_retries="2")
        self.assert_refused(result, recorder, r"after 1 attempt: STARTTLS not supported")

    def test_required_is_the_default(self):
        port, recorder = self.start_server()
        self.assert_refused(self.send(f"smtp://127.0.0.1:{port}"), recorder,
                            r"STARTTLS not supported")

    def test_credentials_are_never_sent_without_tls_even_if_optional(self):
        port, recorder = self.start_server(auth_require_tls=False, authenticator=authenticator)
        result = self.send(f"smtp://127.0.0.1:{port}", smtp_starttls="optional",
                           smtp_user=USER, smtp_password_file=self.password_file)
        self.assert_refused(result, recorder, r"STARTTLS not supported")

    # --- TLS ---------------------------------------------------------------------------

    def test_starttls_with_the_servers_certificate_as_ca_delivers(self):
        port, recorder = self.start_server(tls_context=self.server_context())
        message = self.assert_sent(
            self.send(f"smtp://127.0.0.1:{port}", smtp_ca_file=self.cert), recorder)
        self.assertEqual(message["Subject"], SUBJECT)

    def test_starttls_with_another_ca_is_refused_and_not_retried(self):
        port, recorder = self.start_server(tls_context=self.server_context())
        result = self.send(f"smtp://127.0.0.1:{port}", smtp_ca_file=self.other_cert,
                           smtp_retries="3")
        self.assert_refused(result, recorder, r"after 1 attempt: SSL certificate problem")

    def test_starttls_with_the_system_cas_refuses_a_self_signed_server(self):
        port, recorder = self.start_server(tls_context=self.server_context())
        self.assert_refused(self.send(f"smtp://127.0.0.1:{port}"), recorder,
                            r"SSL certificate problem")

    def test_smtps_delivers_with_the_right_ca(self):
        port, recorder = self.start_server(ssl_context=self.server_context())
        self.assert_sent(self.send(f"smtps://127.0.0.1:{port}", smtp_ca_file=self.cert),
                         recorder)

    def test_smtps_with_another_ca_is_refused(self):
        port, recorder = self.start_server(ssl_context=self.server_context())
        result = self.send(f"smtps://127.0.0.1:{port}", smtp_ca_file=self.other_cert)
        self.assert_refused(result, recorder, r"SSL certificate problem")

    # --- Authentication ----------------------------------------------------------------

    def auth_server(self):
        return self.start_server(tls_context=self.server_context(), auth_required=True,
                                 auth_require_tls=True, authenticator=authenticator)

    def test_auth_with_the_right_password_delivers(self):
        port, recorder = self.auth_server()
        self.assert_sent(self.send(f"smtp://127.0.0.1:{port}", smtp_ca_file=self.cert,
                                   smtp_user=USER, smtp_password_file=self.password_file),
                         recorder)

    def test_auth_with_a_wrong_password_is_refused_and_not_retried(self):
        port, recorder = self.auth_server()
        result = self.send(f"smtp://127.0.0.1:{port}", smtp_ca_file=self.cert, smtp_user=USER,
                           smtp_password_file=self.wrong_password_file, smtp_retries="3")
        self.assert_refused(result, recorder, r"after 1 attempt: Login denied \(server reply 535\)")
        self.assertNotIn("not the password", result.stderr)

    def test_5xx_reply_is_not_retried(self):
        port, recorder = self.auth_server()  # answers MAIL FROM with 530: no credentials
        result = self.send(f"smtp://127.0.0.1:{port}", smtp_ca_file=self.cert, smtp_retries="2")
        self.assert_refused(result, recorder, r"after 1 attempt: .*\(server reply 530\)")

    def test_group_readable_password_file_is_refused_before_connecting(self):
        port, recorder = self.auth_server()
        exposed = self.write("exposed-password", PASSWORD + "\n", 0o640)
        result = self.send(f"smtp://127.0.0.1:{port}", smtp_ca_file=self.cert, smtp_user=USER,
                           smtp_password_file=exposed)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("smtp_password_file", result.stderr)
        self.assertEqual(recorder.envelopes, [])

    # --- Failures ----------------------------------------------------------------------

    def test_server_down_fails_after_every_retry_in_bounded_time(self):
        port = free_port()  # nothing listens there
        result = self.send(f"smtp://127.0.0.1:{port}", smtp_starttls="optional",
                           smtp_retries="2")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("after 3 attempts:", result.stderr)
        # Backoff 0.5 s + 1 s between the three attempts.
        self.assertGreaterEqual(result.elapsed, 1.4)
        self.assertLess(result.elapsed, 15)

    def test_silent_server_times_out(self):
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(4)  # connections complete, but no greeting ever comes
            port = silent.getsockname()[1]
            result = self.send(f"smtp://127.0.0.1:{port}", smtp_starttls="optional",
                               smtp_timeout="1", smtp_retries="0")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("after 1 attempt:", result.stderr)
        self.assertLess(result.elapsed, 10)


def main():
    global DRIVER
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    DRIVER = sys.argv.pop(1)
    if os.geteuid() != 0:
        print("SKIP: must run as root (config and password files must be root-owned)")
        return 77
    program = unittest.main(exit=False, verbosity=2)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
