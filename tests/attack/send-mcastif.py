#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Technique: pick the multicast output interface with IPV6_MULTICAST_IF (an
ifindex) or IP_MULTICAST_IF (struct ip_mreqn with the ifindex), then send
to a multicast group.

  send-mcastif.py --iface IF GROUP PORT [--token T] [--count N]
"""
import socket
import struct
import sys

import hgattack


def main():
    p = hgattack.base_parser(__doc__)
    p.add_argument("--iface", required=True)
    a = p.parse_args()
    idx = socket.if_nametoindex(a.iface)
    s = hgattack.udp_socket(a.addr)
    if hgattack.family_of(a.addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, struct.pack("@i", idx))
    else:
        mreqn = socket.inet_aton("0.0.0.0") + socket.inet_aton("0.0.0.0") + struct.pack("@i", idx)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
    dst = hgattack.sockaddr(a.addr, a.port)
    t = hgattack.Tally()
    t.run(lambda: s.sendto(a.token.encode(), dst), a.count, a.interval)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
