#!/usr/bin/env python3
"""record-set.py RECORD FIELD VALUE: rewrites one number of hostguard's
record (/run/hostguard/applied-*) as root could, with the sum made right
again (FNV-1a 64 of what precedes "\\nsum "), so that hostguard believes it.
FIELD: generation, table-generation (the table line's "at"), verified
(the policy line's), or "verified-ago" with
VALUE in seconds before now (CLOCK_BOOTTIME)."""
import re
import sys
import time

path, field, value = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "rb") as f:
    text = f.read().decode()
if field == "verified-ago":
    field, value = "verified", int(time.clock_gettime(time.CLOCK_BOOTTIME)) - value
pattern = {"generation": r"(\ngeneration )\d+", "table-generation": r"(\ntable [0-9a-f]{16} at )\d+",
           "verified": r"( verified )\d+"}[field]
body, n = re.subn(pattern, lambda m: m.group(1) + str(value), text.split("\nsum ")[0], count=1)
if n != 1:
    sys.exit(f"record-set.py: no {field} in {path}")
h = 0xcbf29ce484222325
for b in body.encode():
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
out = (body + "\nsum %016x\n" % h).encode()
out += b" " * (len(text) - 1 - len(out)) + b"\n"
with open(path, "r+b") as f:
    f.write(out)
