#!/bin/bash
# While apply re-runs in a loop, not one packet from a non-allowed uid gets
# through: every apply is one transaction, never a moment without the table.
# The loop alternates two policies (different uids, ports, interface
# patterns, and logging on/off, which refills both chains), so that every
# apply really changes elements and rules; uid 2000 is allowed by neither.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
cat >"$T/a.conf" <<'CONF'
allowed_uids = 0
container_ifaces = docker0, br-*, macvlan*, ipvlan*
allow_from_containers_tcp = 53
CONF
cat >"$T/b.conf" <<'CONF'
allowed_uids = 0, 1001, 1002
container_ifaces = br-*, docker0, podman*, cni*
allow_from_containers_tcp = 53-60, 8000-8100
log_denied = yes
CONF
cp "$T/a.conf" "$CONF"
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

applies=0 apply_fail=0 unchanged=0
end=$((SECONDS + DUR / 1000))
while [ $SECONDS -lt $end ]; do
	if [ $((applies % 2)) = 0 ]; then cp "$T/b.conf" "$CONF"; else cp "$T/a.conf" "$CONF"; fi
	if out=$(hg apply); then
		applies=$((applies + 1))
		case $out in *"already in sync"*) unchanged=$((unchanged + 1)) ;; esac
	else
		apply_fail=$((apply_fail + 1))
	fi
done
wait $p1 $p2 $p3 $p4

[ "$apply_fail" = 0 ] && [ "$applies" -ge 5 ] && pass "$applies applies ran during the flood" ||
	fail "applies: $applies ok, $apply_fail failed"
[ "$unchanged" = 0 ] && pass "every apply changed the table (elements and rules)" ||
	fail "$unchanged applies found nothing to change"
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
