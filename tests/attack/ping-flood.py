#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ICMP echo through an unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP /
IPPROTO_ICMPV6; needs the caller's gid in net.ipv4.ping_group_range), over
and over for a duration.  Prints:  attempts=N ok=K blocked=B

  ping-flood.py ADDR --duration MS [--timeout MS] [--log FILE]
--log FILE gets one line "START END" per echo that got its reply: wall-clock
microseconds (as bash's $EPOCHREALTIME without the dot).
"""
import argparse
import errno
import select
import socket
import struct
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("addr")
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--timeout", type=int, default=50)
    p.add_argument("--log")
    a = p.parse_args()
    log = open(a.log, "w") if a.log else None
    v6 = ":" in a.addr
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.connect((a.addr, 0))
    etype = 128 if v6 else 8
    attempts = ok = blocked = 0
    end = time.monotonic() + a.duration / 1000
    seq = 0
    while time.monotonic() < end:
        seq = (seq + 1) & 0xFFFF
        attempts += 1
        start = time.time_ns() // 1000
        try:
            s.send(struct.pack("!BBHHH", etype, 0, 0, 0, seq) + b"hg-ping")
        except OSError as e:
            if e.errno in (errno.EPERM, errno.EACCES):
                blocked += 1
                time.sleep(a.timeout / 1000)
            continue
        deadline = time.monotonic() + a.timeout / 1000
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                data = s.recv(2048)
            except OSError:
                break
            if len(data) >= 8 and data[0] == (129 if v6 else 0) and struct.unpack("!H", data[6:8])[0] == seq:
                ok += 1
                if log:
                    log.write("%d %d\n" % (start, time.time_ns() // 1000))
                break
    if log:
        log.close()
    print("attempts=%d ok=%d blocked=%d" % (attempts, ok, blocked))


if __name__ == "__main__":
    main()
