#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Technique: SO_BINDTODEVICE an unprivileged UDP socket to an interface (a
bridge port, say) and send there: broadcast, limited broadcast, multicast or
unicast.  Since Linux 5.7 no capability is needed for this.

  send-bindtodevice.py --iface IF ADDR PORT [--token T] [--count N]
"""
import socket
import sys

import hgattack


def main():
    p = hgattack.base_parser(__doc__)
    p.add_argument("--iface", required=True)
    a = p.parse_args()
    s = hgattack.udp_socket(a.addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    dst = hgattack.sockaddr(a.addr, a.port)
    t = hgattack.Tally()
    t.run(lambda: s.sendto(a.token.encode(), dst), a.count, a.interval)
    return t.report()


if __name__ == "__main__":
    sys.exit(main())
