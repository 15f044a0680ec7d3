#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Technique: a plain UDP socket (SO_BROADCAST on) sending to whatever the
kernel will route: a unicast, broadcast (subnet or 255.255.255.255),
multicast or anycast address.  --scope IF sets the IPv6 scope id (link-local
multicast such as ff02::1) and, for IPv4 multicast, IP_MULTICAST_IF.

  send-plain.py [--scope IF] ADDR PORT [--token T] [--count N]
"""
import socket
import struct
import sys

import hgattack


def main():
    p = hgattack.base_parser(__doc__)
    p.add_argument("--scope")
    a = p.parse_args()
    s = hgattack.udp_socket(a.addr)
    if a.scope and hgattack.family_of(a.addr) == socket.AF_INET:
        idx = socket.if_nametoindex(a.scope)
        mreqn = socket.inet_aton("0.0.0.0") + socket.inet_aton("0.0.0.0") + struct.pack("@i", idx)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
    dst = hgattack.sockaddr(a.addr, a.port, a.scope)
    t = hgattack.Tally()
    t.run(lambda: s.sendto(a.token.encode(), dst), a.count, a.interval)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
