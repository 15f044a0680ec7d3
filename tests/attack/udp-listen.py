#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The receiving end of the attacks: UDP on every address of the namespace.

  udp-listen.py PORT [--join GROUP%IFACE]... [--ready FILE]

Binds 0.0.0.0:PORT and [::]:PORT (v6only), joins the given multicast groups
on the given interfaces, and prints one line per datagram until killed:
  recv PAYLOAD from SRC to DST
(DST from IP_PKTINFO / IPV6_PKTINFO: unicast, broadcast, multicast or anycast.)
"""
import argparse
import select
import socket
import struct
import sys

IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--join", action="append", default=[], metavar="GROUP%IFACE")
    p.add_argument("--ready")
    a = p.parse_args()

    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s4.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s4.bind(("0.0.0.0", a.port))
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s6.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    s6.bind(("::", a.port))
    for j in a.join:
        group, _, iface = j.partition("%")
        idx = socket.if_nametoindex(iface)
        if ":" in group:
            mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", idx)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        else:
            # struct ip_mreqn: group, local address, ifindex
            mreq = socket.inet_aton(group) + socket.inet_aton("0.0.0.0") + struct.pack("@i", idx)
            s4.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    if a.ready:
        open(a.ready, "w").close()
    while True:
        r, _, _ = select.select([s4, s6], [], [])
        for s in r:
            data, anc, _, src = s.recvmsg(2048, 256)
            dst = "?"
            for level, typ, cdata in anc:
                if level == socket.IPPROTO_IP and typ == IP_PKTINFO:
                    dst = socket.inet_ntop(socket.AF_INET, cdata[8:12])
                elif level == socket.IPPROTO_IPV6 and typ == IPV6_PKTINFO:
                    dst = socket.inet_ntop(socket.AF_INET6, cdata[:16])
            print("recv %s from %s to %s" % (data.decode(errors="replace").strip(), src[0], dst))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
