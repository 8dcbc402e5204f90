#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A syslog daemon stand-in for the benchmark: reads datagrams from a Unix socket (bound
over /dev/log inside bench/run.sh's private mount namespace) and appends each message as
one line to a file, so every module pays the realistic cost of logging to a live reader.

usage: syslog_sink.py SOCKET LOGFILE      (stops on SIGTERM)
"""
import os
import signal
import socket
import sys


def main():
    path, logfile = sys.argv[1], sys.argv[2]
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sink.bind(path)
    os.chmod(path, 0o666)
    # Unbuffered: one write per message, as a syslog daemon appending to a file does.
    with open(logfile, "ab", buffering=0) as out:
        def stop(*_):
            os._exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            out.write(sink.recv(65536).rstrip(b"\0\n") + b"\n")


if __name__ == "__main__":
    main()
