#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Technique: choose the output interface per datagram with an IP_PKTINFO /
IPV6_PKTINFO control message (ipi_ifindex / ipi6_ifindex), no bind, no option.

  send-pktinfo.py --iface IF ADDR PORT [--token T] [--count N]
"""
import socket
import struct
import sys

import hgattack

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)


def main():
    p = hgattack.base_parser(__doc__)
    p.add_argument("--iface", required=True)
    a = p.parse_args()
    idx = socket.if_nametoindex(a.iface)
    s = hgattack.udp_socket(a.addr)
    if hgattack.family_of(a.addr) == socket.AF_INET6:
        # struct in6_pktinfo { in6_addr ipi6_addr (:: = kernel picks); int ipi6_ifindex }
        cmsg = (socket.IPPROTO_IPV6, IPV6_PKTINFO, bytes(16) + struct.pack("@i", idx))
    else:
        # struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr }
        cmsg = (socket.IPPROTO_IP, IP_PKTINFO, struct.pack("@i", idx) + bytes(8))
    dst = hgattack.sockaddr(a.addr, a.port)
    t = hgattack.Tally()
    t.run(lambda: s.sendmsg([a.token.encode()], [cmsg], 0, dst), a.count, a.interval)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
