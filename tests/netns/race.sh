#!/bin/bash
# Issue 11, the race suite: a non-allowed uid hammers a container (TCP
# connects, UDP echo, ICMP echo through an unprivileged ping socket; IPv4 and
# IPv6) while, in a loop, hostguard
#   - applies two alternating policies (elements and rules change),
#   - edits (allow-uid/revoke-uid of another uid, add-iface/remove-iface),
#   - repairs a tampered table (one chain flushed, then apply),
#   - wakes a dormant table (flags dormant, then apply).
# The tamperings themselves (flush, dormant) open the table until apply has
# repaired it: those windows are the tamperer's doing, timed, and reported
# apart.  Outside them, zero packets get through.  Root keeps connecting.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attack-lib.sh"

DUR=${RACE_SECONDS:-30}
topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
h sysctl -qw net.ipv4.ping_group_range="0 2147483647"
cat >"$T/a.conf" <<'CONF'
allowed_uids = 0
container_ifaces = docker0, br-*, veth*
allow_from_containers_tcp = 53
CONF
cat >"$T/b.conf" <<'CONF'
allowed_uids = 0, 1001, 1002
container_ifaces = br-*, docker0, podman*, veth*
allow_from_containers_tcp = 53-60, 8000-8100
allow_from_containers_udp = 5353
log_denied = yes
CONF

# FLOODS: name|command (run as uid $NOBODY in the host namespace)
FLOODS=(
	"tcp4|$PROBE flood tcp 10.77.0.2 9000 --timeout 50"
	"tcp6|$PROBE flood tcp fd77::2 9000 --timeout 50"
	"udp4|$PROBE flood udp 10.77.0.2 9000 --timeout 20"
	"udp6|$PROBE flood udp fd77::2 9000 --timeout 20"
	"icmp4|$PY $T/attack/ping-flood.py 10.77.0.2 --timeout 20"
	"icmp6|$PY $T/attack/ping-flood.py fd77::2 --timeout 20"
)
# flood NAME CMD MS: runs one flood in the background, result in $T/NAME.out,
# the successes' times in $T/fl/NAME.log
mkdir -m 1777 "$T/fl"
flood() {
	rm -f "$T/fl/$1.log"
	# shellcheck disable=SC2086  # $2 is a command with its arguments
	h setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
		$2 --duration "$3" --log "$T/fl/$1.log" >"$T/$1.out" 2>&1 &
	FLOOD_PIDS+=($!)
}

# Control: without the table every flood gets through.
FLOOD_PIDS=()
for f in "${FLOODS[@]}"; do flood "${f%%|*}" "${f#*|}" 1000; done
wait "${FLOOD_PIDS[@]}"
for f in "${FLOODS[@]}"; do
	n=${f%%|*}
	read -r line <"$T/$n.out"
	case "$line" in
	attempts=*" ok=0"*|attempts=0*) fail "control: $n flood from uid $NOBODY got nothing through without the table ($line)" ;;
	attempts=*) pass "control: $n flood from uid $NOBODY gets through without the table ($line)" ;;
	*) fail "control: $n flood failed: $line" ;;
	esac
done

cp "$T/a.conf" "$CONF"
expect_rc 0 "first apply" hg apply

FLOOD_PIDS=()
for f in "${FLOODS[@]}"; do flood "${f%%|*}" "${f#*|}" $((DUR * 1000)); done
h "$PROBE" flood tcp 10.77.0.2 9000 --duration $((DUR * 1000)) --timeout 200 >"$T/root.out" &
FLOOD_PIDS+=($!)

now() { echo "${EPOCHREALTIME/./}"; }
: >"$T/windows"
declare -A done_ops=() failed_ops=()
op() { # op NAME COMMAND...: counts successes and failures of each loop step
	if "$@" >"$T/op.out" 2>&1; then
		done_ops[$OPNAME]=$((${done_ops[$OPNAME]:-0} + 1))
	else
		failed_ops[$OPNAME]=$((${failed_ops[$OPNAME]:-0} + 1))
		echo "# $OPNAME failed: $(head -n 2 "$T/op.out")"
	fi
}
i=0
end=$((SECONDS + DUR))
while [ $SECONDS -lt $end ]; do
	# 0 3: apply; 1 4: edits; 2: repair; 5: dormant
	case $((i % 6)) in
	0|3)
		OPNAME=apply
		if [ $((i / 3 % 2)) = 0 ]; then cp "$T/b.conf" "$CONF"; else cp "$T/a.conf" "$CONF"; fi
		op hg apply
		;;
	1|4)
		OPNAME=edit
		op hg allow-uid 3001
		op hg add-iface 'cni*'
		op hg revoke-uid 3001
		op hg remove-iface 'cni*'
		;;
	2)
		OPNAME=repair
		if [ $((i / 6 % 2)) = 0 ]; then chain=from_unallowed; else chain=from_containers; fi
		t0=$(now)
		h nft flush chain inet hostguard "$chain"
		op hg apply
		echo "$t0 $(now) flush $chain" >>"$T/windows"
		;;
	5)
		OPNAME=dormant
		t0=$(now)
		h nft add table inet hostguard '{ flags dormant; }'
		op hg apply
		echo "$t0 $(now) dormant" >>"$T/windows"
		;;
	esac
	i=$((i + 1))
done
wait "${FLOOD_PIDS[@]}"

for k in apply edit repair dormant; do
	if [ "${failed_ops[$k]:-0}" = 0 ] && [ "${done_ops[$k]:-0}" -ge 1 ]; then
		pass "$k ran ${done_ops[$k]} times during the flood"
	else
		fail "$k: ${done_ops[$k]:-0} ok, ${failed_ops[$k]:-0} failed"
	fi
done
expect_rc 0 "check: in sync after the loop" hg check

# Each success whose attempt started inside a tampering window (with 0.3 s of
# slack for a send queued just before) is the tamperer's; any other is a leak.
total_leak=0
for f in "${FLOODS[@]}"; do
	n=${f%%|*}
	read -r line <"$T/$n.out"
	counts=$(awk -v slack=300000 '
		NR == FNR { ws[NR] = $1 - slack; we[NR] = $2 + slack; nw = NR; next }
		{ inw = 0; for (k = 1; k <= nw; k++) if ($1 >= ws[k] && $1 <= we[k]) { inw = 1; break }
		  if (inw) w++; else o++ }
		END { printf "%d %d", w, o }' "$T/windows" "$T/fl/$n.log")
	read -r in_window outside <<<"$counts"
	total_leak=$((total_leak + outside))
	case "$line" in
	attempts=0*|[!a]*|"") fail "$n: the flood made no attempts ($line)" ;;
	*)
		[ "$outside" = 0 ] &&
			pass "$n flood from uid $NOBODY: nothing got through outside the tamperings' windows ($line; $in_window inside windows)" ||
			fail "$n flood from uid $NOBODY: $outside got through outside the tamperings' windows ($line; $in_window inside)"
		;;
	esac
done
read -r line <"$T/root.out"
case "$line" in
*" ok=0") fail "root could not connect during the loop ($line)" ;;
*) pass "root kept connecting during the loop ($line)" ;;
esac
echo "# $i loop steps in ${DUR}s; $(wc -l <"$T/windows") tampering windows, open $(awk '{ t += $2 - $1 } END { printf "%d", t / 1000 }' "$T/windows") ms in all; $total_leak leaks"

finish
