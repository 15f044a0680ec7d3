#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An outbound UDP flow, the victim of reply forgery: binds SRC:SPORT,
connects to PEER:PORT, sends one query (conntrack now holds the flow), then
prints one line per datagram the socket receives, until killed:
  recv PAYLOAD from SRC

  udp-flow.py --src ADDR --sport PORT PEER PORT [--ready FILE] [--every S]
--every S re-sends the query every S seconds (keeps the flow alive).
"""
import argparse
import select
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("peer")
    p.add_argument("port", type=int)
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--ready")
    p.add_argument("--every", type=float, default=1.0)
    a = p.parse_args()
    fam = socket.AF_INET6 if ":" in a.peer else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((a.src, a.sport))
    s.connect((a.peer, a.port))
    s.send(b"query")
    if a.ready:
        open(a.ready, "w").close()
    last = time.monotonic()
    while True:
        r, _, _ = select.select([s], [], [], a.every)
        if r:
            try:
                data, src = s.recvfrom(2048)
            except OSError as e:  # an ICMP error for the query
                print("error %s" % e)
                sys.stdout.flush()
                continue
            print("recv %s from %s" % (data.decode(errors="replace").strip(), src[0]))
            sys.stdout.flush()
        if time.monotonic() - last >= a.every:
            try:
                s.send(b"query")
            except OSError:
                pass
            last = time.monotonic()


if __name__ == "__main__":
    main()
