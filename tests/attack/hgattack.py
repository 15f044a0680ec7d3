# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers of the attack programs (Python 3 stdlib only).

Every sender prints one result line:  sent=N blocked=M error=E
  sent     datagrams the kernel accepted (that says nothing about delivery:
           the receiver counts what arrived)
  blocked  sends that failed with EPERM/EACCES (a local netfilter drop)
  error    any other failure (first errno is printed on stderr)
"""
import argparse
import errno
import socket
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sockaddr(addr, port, iface=None):
    if family_of(addr) == socket.AF_INET6:
        scope = socket.if_nametoindex(iface) if iface else 0
        return (addr, port, 0, scope)
    return (addr, port)


def base_parser(desc):
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("addr", help="destination address")
    p.add_argument("port", type=int, help="destination UDP port")
    p.add_argument("--token", default="hg-attack", help="payload (the receiver greps it)")
    p.add_argument("--count", type=int, default=3, help="datagrams to send")
    p.add_argument("--interval", type=float, default=0.05, help="seconds between sends")
    return p


class Tally:
    def __init__(self):
        self.sent = self.blocked = self.error = 0
        self.first_error = None

    def run(self, send, count, interval):
        for i in range(count):
            try:
                send()
                self.sent += 1
            except OSError as e:
                if e.errno in (errno.EPERM, errno.EACCES):
                    self.blocked += 1
                else:
                    self.error += 1
                    if self.first_error is None:
                        self.first_error = e
            if i + 1 < count:
                time.sleep(interval)

    def report(self):
        if self.first_error is not None:
            print("error: %s" % self.first_error, file=sys.stderr)
        print("sent=%d blocked=%d error=%d" % (self.sent, self.blocked, self.error))
        sys.stdout.flush()
        return 0 if self.error == 0 else 3


def udp_socket(addr):
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    if family_of(addr) == socket.AF_INET:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    return s
