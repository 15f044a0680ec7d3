#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""How long table inet hostguard was gone, as the kernel saw it.

Listens on the nf_tables netlink monitor group (NFNLGRP_NFTABLES) of the
network namespace it runs in and prints, for each deletion of table inet
hostguard followed by its re-creation, the gap in milliseconds between the
two notifications as this listener receives them (it sleeps in select(),
so it wakes for each; netlink carries no kernel timestamp).

Usage: nft-gap.py READY_FILE COUNT TIMEOUT_S
Prints one number per gap, "lost" for a deletion without re-creation
before the timeout; exits after COUNT gaps or the timeout.
"""
import os
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NFNLGRP_NFTABLES = 7
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE = 0, 2
NFPROTO_INET = 1


def table_name(payload):
    # struct nfgenmsg (4 bytes), then attributes; NFTA_TABLE_NAME is 1
    off = 4
    while off + 4 <= len(payload):
        alen, atype = struct.unpack_from("=HH", payload, off)
        if alen < 4:
            break
        if atype & 0x3FFF == 1:
            return payload[off + 4:off + alen].split(b"\0")[0].decode()
        off += (alen + 3) & ~3
    return None


def main():
    ready, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTABLES)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    open(ready, "w").close()
    end = time.monotonic() + timeout
    deleted_at = None
    seen = 0
    while seen < count:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        data = s.recv(1 << 20)
        ts = time.monotonic()
        off = 0
        while off + 16 <= len(data):
            mlen, mtype = struct.unpack_from("=IH", data, off)
            if mlen < 16:
                break
            payload = data[off + 16:off + mlen]
            off += (mlen + 3) & ~3
            if mtype >> 8 != NFNL_SUBSYS_NFTABLES or len(payload) < 4:
                continue
            family = payload[0]
            kind = mtype & 0xFF
            if family != NFPROTO_INET or kind not in (NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE):
                continue
            if table_name(payload) != "hostguard":
                continue
            if kind == NFT_MSG_DELTABLE:
                deleted_at = ts
            elif deleted_at is not None:
                print("%.1f" % ((ts - deleted_at) * 1000), flush=True)
                deleted_at = None
                seen += 1
    if deleted_at is not None:
        print("lost", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
