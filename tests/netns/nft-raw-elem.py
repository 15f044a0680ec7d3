#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Adds one element with a key of raw bytes to a set of table inet hostguard,
as a program with CAP_NET_ADMIN can and nft cannot (nft writes every key
through its data type: the padding of a concatenation is always zero).

    nft-raw-elem.py SET HEXKEY[-HEXKEYEND] [TIMEOUT_MS [COMMENT]]
    nft-raw-elem.py SET HEXKEY --counter
    nft-raw-elem.py SET '*'

(an end key for an element of an interval set; --counter: the element
carries a counter expression of its own, which nft writes only for a set
declared with one; '*': the catch-all element, which nft 1.0.6 crashes
writing into an interval set of ports).

Exit 0 when the kernel took it, 1 with its error otherwise.  Used by the
attack tests to forge elements hostguard must not read as its own.
"""
import os
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11
NFT_MSG_NEWSETELEM = 12
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE = 0x1, 0x4, 0x400
NLA_F_NESTED = 0x8000
NFPROTO_INET = 1


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def nest(t, *parts):
    return attr(t | NLA_F_NESTED, b"".join(parts))


def msg(mtype, flags, seq, family, res_id, body=b""):
    payload = struct.pack("=BBH", family, 0, socket.htons(res_id)) + body
    return struct.pack("=IHHII", 16 + len(payload), mtype, flags, seq, 0) + payload


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    setname = sys.argv[1]
    keys = [] if sys.argv[2] == "*" else [bytes.fromhex(k) for k in sys.argv[2].split("-")]
    if not keys:
        elem = [attr(3, struct.pack(">I", 2))]          # NFTA_SET_ELEM_FLAGS: NFT_SET_ELEM_CATCHALL
    else:
        elem = [nest(1, attr(1, keys[0]))]              # NFTA_SET_ELEM_KEY / NFTA_DATA_VALUE
    if len(keys) > 1:
        elem.append(nest(10, attr(1, keys[1])))         # NFTA_SET_ELEM_KEY_END
    if sys.argv[3:4] == ["--counter"]:
        # NFTA_SET_ELEM_EXPRESSIONS / NFTA_LIST_ELEM / NFTA_EXPR_NAME, NFTA_EXPR_DATA
        elem.append(nest(11, nest(1, attr(1, b"counter\0"), nest(2))))
    elif len(sys.argv) > 3 and int(sys.argv[3]):
        elem.append(attr(4, struct.pack(">Q", int(sys.argv[3]))))  # NFTA_SET_ELEM_TIMEOUT
    if len(sys.argv) > 4:
        text = sys.argv[4].encode() + b"\0"
        elem.append(attr(6, bytes([0, len(text)]) + text))        # USERDATA: comment TLV
    body = (attr(1, b"hostguard\0") + attr(2, setname.encode() + b"\0") +
            nest(3, nest(1, *elem)))
    seq = os.getpid() << 8
    batch = (msg(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES) +
             msg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM,
                 NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, seq + 1, NFPROTO_INET, 0, body) +
             msg(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq + 2, 0, NFNL_SUBSYS_NFTABLES))
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.send(batch)
    data = s.recv(65536)
    while data:
        n, t = struct.unpack_from("=IH", data)
        if t == 2:  # NLMSG_ERROR
            err = struct.unpack_from("=i", data, 16)[0]
            if err:
                sys.exit("kernel: " + os.strerror(-err))
            return
        data = data[n:]
    sys.exit("no answer")


main()
