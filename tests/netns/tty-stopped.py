#!/usr/bin/env python3
"""tty-stopped.py NS HG CONF ARGS...: runs hostguard with its output on a
terminal whose output is stopped (^S: writes block), and prints
"BLOCKED FREE RC": whether the command was still blocked after a second,
whether the namespace's record lock ($RECORD_LOCK, /run/hostguard/applied-*:
every writer of the record holds it) could be taken meanwhile, and its exit
code once output resumed."""
import fcntl
import os
import subprocess
import sys
import termios
import threading
import time

ns, hg, conf = sys.argv[1:4]
master, slave = os.openpty()
termios.tcflow(slave, termios.TCOOFF)
p = subprocess.Popen(["ip", "netns", "exec", ns, hg, "--config", conf] + sys.argv[4:],
                     stdout=slave, stderr=slave)
time.sleep(1)
blocked = p.poll() is None
free = False
fd = os.open(os.environ["RECORD_LOCK"], os.O_RDONLY)
# one success in two seconds will do
for _ in range(40):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        free = True
        break
    except BlockingIOError:
        time.sleep(0.05)
threading.Thread(target=lambda: os.read(master, 65536), daemon=True).start()
termios.tcflow(slave, termios.TCOON)
rc = p.wait(timeout=20)
print(int(blocked), int(free), rc)
