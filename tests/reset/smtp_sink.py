#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A loopback SMTP server (aiosmtpd) that keeps every message it receives.

Usage: smtp_sink.py PORT DIRECTORY

Each message becomes DIRECTORY/NNNN.json (written under a temporary name, then renamed):
envelope sender and recipients, the headers, and the decoded text and HTML parts. Creates
DIRECTORY/ready once listening; runs until killed.
"""
import asyncio
import email
import email.policy
import json
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Keeper:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[name, str(value)] for name, value in message.items()],
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "text": text.get_content().replace("\r\n", "\n") if text is not None else "",
            "html": html.get_content().replace("\r\n", "\n") if html is not None else "",
            "raw": envelope.content.decode("utf-8", "replace"),
        }
        self.count += 1
        path = os.path.join(self.directory, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Keeper(directory), hostname="127.0.0.1", port=port)
    controller.start()
    open(os.path.join(directory, "ready"), "w").close()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
