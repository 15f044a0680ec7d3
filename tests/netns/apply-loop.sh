#!/bin/bash
# While apply re-runs in a loop, not one packet from a non-allowed uid gets
# through: the replace is one transaction, never a moment without the table.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
write_conf <<'CONF'
allowed_uids = 0
CONF
expect_rc 0 "first apply" hg apply

DUR=8000
h setpriv --reuid=2000 --regid=2000 --clear-groups "$PROBE" flood udp 10.77.0.2 9000 --duration $DUR --timeout 20 >"$T/udp2000" &
p1=$!
h setpriv --reuid=2000 --regid=2000 --clear-groups "$PROBE" flood tcp 10.77.0.2 9000 --duration $DUR --timeout 50 >"$T/tcp2000" &
p2=$!
h setpriv --reuid=2000 --regid=2000 --clear-groups "$PROBE" flood udp fd77::2 9000 --duration $DUR --timeout 20 >"$T/udp6_2000" &
p3=$!
h "$PROBE" flood tcp 10.77.0.2 9000 --duration $DUR --timeout 200 >"$T/tcp0" &
p4=$!

applies=0 apply_fail=0
end=$((SECONDS + DUR / 1000))
while [ $SECONDS -lt $end ]; do
	if hg apply >/dev/null; then applies=$((applies + 1)); else apply_fail=$((apply_fail + 1)); fi
done
wait $p1 $p2 $p3 $p4

[ "$apply_fail" = 0 ] && [ "$applies" -ge 20 ] && pass "$applies applies ran during the flood" ||
	fail "applies: $applies ok, $apply_fail failed"
for f in udp2000 tcp2000 udp6_2000; do
	read -r line <"$T/$f"
	case "$line" in
	attempts=0*) fail "$f: no attempts ($line)" ;;
	*" ok=0") pass "uid 2000, $f: nothing got through ($line)" ;;
	*) fail "uid 2000, $f: packets got through during apply ($line)" ;;
	esac
done
read -r line <"$T/tcp0"
case "$line" in
*" ok=0") fail "root could not connect during the loop ($line)" ;;
*) pass "root kept connecting during the loop ($line)" ;;
esac

finish
