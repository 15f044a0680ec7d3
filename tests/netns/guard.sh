#!/bin/bash
# hostguard guard: the table comes back within 1 s (measured: milliseconds)
# of "nft flush ruleset" and of other programs' changes, proven with
# packets (IPv4 and IPv6, controls first); the CLI's own edits are left
# alone; no loop, no CPU while idle; exit 0 on SIGTERM and SIGINT.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
write_conf <<'CONF'
allowed_uids = 0
CONF

# control: without hostguard uid 2000 reaches the container
expect ok "control: no table, uid 2000 reaches the container (v4)" probe "$H" tcp 10.77.0.2 9000 2000
expect ok "control: no table, uid 2000 reaches the container (v6)" probe "$H" tcp fd77::2 9000 2000

start_guard() {
	ip netns exec "$H" "$HG" --config "$CONF" guard >"$T/guard.log" 2>&1 &
	gp=$!
	PIDS+=("$gp")
	for _ in $(seq 100); do
		grep -q 'guard: start' "$T/guard.log" && return 0
		sleep 0.02
	done
	fail "guard did not start: $(cat "$T/guard.log")"
}
start_guard
expect_rc 0 "guard applied the config at start (check -> 0)" hg check
expect timeout "guard running: uid 2000 denied (v4)" probe "$H" tcp 10.77.0.2 9000 2000
expect timeout "guard running: uid 2000 denied (v6)" probe "$H" tcp fd77::2 9000 2000

# the gap: from the kernel's "delete table inet hostguard" notification to
# its "add table", as a listener on the nf_tables monitor group sees them
ip netns exec "$H" python3 "$(dirname "$0")/nft-gap.py" "$T/gap.ready" 5 60 >"$T/gaps" &
gapp=$!
PIDS+=("$gapp")
for _ in $(seq 100); do [ -e "$T/gap.ready" ] && break; sleep 0.05; done
for _ in 1 2 3 4 5; do
	h nft flush ruleset
	for _ in $(seq 200); do h nft list table inet hostguard >/dev/null 2>&1 && break; sleep 0.01; done
done
wait "$gapp"
worst=$(sort -n "$T/gaps" | tail -1)
own=$(grep -o '[0-9]* ms after the change' "$T/guard.log" | sort -n | tail -1)
if [ "$(grep -c '^[0-9.]*$' "$T/gaps")" = 5 ] && awk -v w="$worst" 'BEGIN { exit !(w < 1000) }'; then
	pass "table back after 'nft flush ruleset' within $worst ms, worst of 5 (gaps: $(tr '\n' ' ' <"$T/gaps")ms; guard's own worst: $own)"
else
	fail "table gone after flush: gaps $(tr '\n' ' ' <"$T/gaps")"
fi
grep -q 'changed by nft (pid [0-9]*): re-applied table inet hostguard .* ms after the change' "$T/guard.log" &&
	pass "guard logs who changed the table and how fast it repaired" || fail "guard log: $(cat "$T/guard.log")"
expect timeout "after flush + guard: uid 2000 denied (v4)" probe "$H" tcp 10.77.0.2 9000 2000
expect timeout "after flush + guard: uid 2000 denied (v6)" probe "$H" tcp fd77::2 9000 2000

# a foreign change inside the table: reverted
h nft add element inet hostguard allowed_uids '{ 2000 }'
sleep 0.3
expect timeout "nft add element allowed_uids 2000 is reverted: uid 2000 denied (v4)" probe "$H" tcp 10.77.0.2 9000 2000
expect_rc 0 "check -> 0 after the foreign edit" hg check
h nft delete rule inet hostguard egress handle \
	"$(h nft -a list chain inet hostguard egress | awk '/handle/ && !/chain/ { print $NF; exit }')" 2>/dev/null
sleep 0.3
expect_rc 0 "a deleted rule is put back (check -> 0)" hg check

# the table left alone by others, the CLI's own edits kept
n0=$(grep -c 're-applied' "$T/guard.log")
expect_rc 0 "allow-uid --runtime 2000" hg allow-uid --runtime 2000
sleep 0.5
expect ok "a --runtime edit is not reverted by guard: uid 2000 reaches (v4)" probe "$H" tcp 10.77.0.2 9000 2000
expect ok "... and over IPv6" probe "$H" tcp fd77::2 9000 2000
expect_rc 0 "hg apply (what the repair timer does) reverts it" hg apply
expect timeout "uid 2000 denied again" probe "$H" tcp 10.77.0.2 9000 2000
sleep 0.5
n1=$(grep -c 're-applied' "$T/guard.log")
[ "$n1" = "$n0" ] && pass "no re-apply for the CLI's own transactions" || fail "guard re-applied $((n1 - n0)) times for the CLI's own edits"

# other tables: no re-apply
h nft add table inet hgt_other
h nft add chain inet hgt_other c
h nft delete table inet hgt_other
sleep 0.3
[ "$(grep -c 'guard:' "$T/guard.log")" = "$(grep -c 'guard:' <<<"$(cat "$T/guard.log")")" ] &&
	[ "$(grep -c 're-applied' "$T/guard.log")" = "$n1" ] && pass "changes to other tables do not wake it" || fail "re-applied for another table"

# idle: no loop, no CPU
cpu() { awk '{ print $14 + $15 }' "/proc/$gp/stat"; }
c0=$(cpu)
l0=$(wc -l <"$T/guard.log")
sleep 2
c1=$(cpu)
l1=$(wc -l <"$T/guard.log")
[ "$c1" = "$c0" ] && [ "$l1" = "$l0" ] && pass "idle for 2 s: no CPU tick, no log line (no loop)" ||
	fail "idle guard used $((c1 - c0)) ticks, logged $((l1 - l0)) lines"

# a burst of flushes is debounced and ends in sync
for _ in $(seq 20); do h nft flush ruleset; done
sleep 0.5
expect_rc 0 "after 20 flushes in a row: in sync" hg check

# invalid config: the repair fails loudly, guard keeps running
cp "$CONF" "$T/good.conf"
printf 'allowed_uids 0 # hgt_invalid\n' >"$CONF"
h nft flush ruleset
sleep 0.5
grep -q "expected 'key = values'" "$T/guard.log" && grep -q 'apply failed (exit 2); trying again in 5 s' "$T/guard.log" && [ -e "/proc/$gp" ] &&
	pass "invalid config: the error is logged, guard keeps running" ||
	fail "invalid config: $(tail -3 "$T/guard.log")"
cp "$T/good.conf" "$CONF"
for _ in $(seq 80); do h nft list table inet hostguard >/dev/null 2>&1 && break; sleep 0.1; done
expect_rc 0 "config fixed: the retry (every 5 s) repairs it" hg check

kill -TERM "$gp"
wait "$gp"
rc=$?
[ $rc = 0 ] && pass "guard ends with 0 on SIGTERM" || fail "guard exit $rc on SIGTERM"
h nft list table inet hostguard >/dev/null 2>&1 && pass "stopping guard leaves the table in place" || fail "table gone after guard stopped"
start_guard
kill -INT "$gp"
wait "$gp"
rc=$?
[ $rc = 0 ] && pass "guard ends with 0 on SIGINT" || fail "guard exit $rc on SIGINT"

expect_rc 2 "guard with an argument -> 2" hg guard extra
expect_rc 0 "guard --help" hg guard --help
expect_match "re-applies it within milliseconds" "guard --help describes it"

finish
