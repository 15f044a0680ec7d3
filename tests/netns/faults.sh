#!/bin/bash
# Every allocation of apply, edits and status fails in turn (tests/netns/
# faults.c): no crash, no leak, a clean error, and the kernel holds the old
# table or the new one, never part of it.
. "$(dirname "$0")/lib.sh"
: "${HG_FAULTS:?HG_FAULTS must point at the faults binary}"

netns_new "$H"
out=$(h "$HG_FAULTS" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(ok|FAIL) ' | head -40
n=$(printf '%s\n' "$out" | grep -c '^FAIL')
if [ $rc = 0 ] && [ "$n" = 0 ]; then
	pass "$(printf '%s\n' "$out" | tail -n 1)"
else
	fail "fault injection (exit $rc): $(printf '%s\n' "$out" | tail -n 1)"
fi
finish
