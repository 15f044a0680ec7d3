#!/bin/bash
# watch names the grant set (issue #14): a denied packet whose uid or gid
# has grants in the live table, but none to this destination, says so in
# the text and --json output; the other family's set, a principal without
# grants and a container's packet say nothing; a runtime grant is counted
# while it lives and not after the kernel expired it.
. "$(dirname "$0")/lib.sh"

ALICE=2001 STRANGER=2003 GRP=2100
topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 tcp 9001

# Control: without the table every uid reaches both ports, so each refusal
# below is hostguard's.
for addr in 10.77.0.2 fd77::2; do
	expect ok "no table: alice reaches $addr:9000" probe "$H" tcp $addr 9000 $ALICE
	expect ok "no table: a stranger reaches $addr:9000" probe "$H" tcp $addr 9000 $STRANGER
done

write_conf <<CONF
allowed_uids = 0
grant_uids = $ALICE@10.77.0.2:9001
grant_gids = $GRP@[fd77::2]:9001
log_denied = yes
log_rate = 100/second
CONF
expect_rc 0 "apply with grants and log_denied = yes" hg apply
expect ok "alice's grant opens 10.77.0.2:9001" probe "$H" tcp 10.77.0.2 9001 $ALICE
expect ok "group $GRP's grant opens [fd77::2]:9001" probe "$H" tcp fd77::2 9001 $STRANGER $GRP

# start_watch FILE [--json]: a watch in the background, returned once the
# kernel lists its NFLOG group as bound
start_watch() {
	local out=$1
	shift
	ip netns exec "$H" "$HG" --config "$CONF" watch "$@" >"$out" 2>"$out.err" &
	wp=$!
	PIDS+=("$wp")
	for _ in $(seq 100); do
		# shellcheck disable=SC2016  # an awk program
		ip netns exec "$H" awk '$1 == 77 { found = 1 } END { exit !found }' \
			/proc/net/netfilter/nfnetlink_log 2>/dev/null && return 0
		sleep 0.05
	done
	fail "watch did not bind NFLOG group 77: $(cat "$out.err")"
}
stop_watch() {
	kill -TERM "$wp"
	wait "$wp"
	local rc=$?
	[ $rc = 0 ] && pass "watch ends cleanly" || fail "watch exit $rc: $(cat "$1.err")"
}

start_watch "$T/w.json" --json
expect timeout "alice to 10.77.0.2:9000 (denied: her grant is port 9001)" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect timeout "alice to [fd77::2]:9000 (denied: her grant is IPv4)" probe "$H" tcp fd77::2 9000 $ALICE
expect timeout "a stranger in group $GRP to [fd77::2]:9000 (denied)" probe "$H" tcp fd77::2 9000 $STRANGER $GRP
expect timeout "a stranger to 10.77.0.2:9000 (denied, no grants)" probe "$H" tcp 10.77.0.2 9000 $STRANGER
expect_rc 0 "a runtime grant: alice --to 10.77.0.2:9002 --for 1h" hg allow-uid $ALICE --to 10.77.0.2:9002 --for 1h
expect timeout "alice to 10.77.0.2:9000 again (denied)" probe "$H" tcp 10.77.0.2 9000 $ALICE
# a grant that expires: the kernel removes it without a new generation, so
# watch must not count it from what it read while the grant lived
expect_rc 0 "a runtime grant: alice --to 10.77.0.3 --for 3s" hg allow-uid $ALICE --to 10.77.0.3 --for 3s
expect timeout "alice to 10.77.0.2:9000 while it lives (denied)" probe "$H" tcp 10.77.0.2 9000 $ALICE
sleep 3.5
expect timeout "alice to 10.77.0.2:9000 after it expired (denied)" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect timeout "container to host port 5555 (denied, no uid)" probe "$C" tcp 10.77.0.1 5555
stop_watch "$T/w.json"

has() { # has DESCRIPTION JQ-FILTER
	if jq -e -s "$2" "$T/w.json" >/dev/null; then pass "watch --json: $1"; else fail "watch --json: $1; got: $(cat "$T/w.json")"; fi
}
A4="select(.uid == $ALICE and .family == \"ipv4\" and .dport == 9000)"
has "alice's first IPv4 packet names grant_uids4 (1 grant, not covering)" \
	"[.[] | $A4][0].grants == {uid: {set: \"grant_uids4\", count: 1, covers: false}, gid: null}"
has "alice's IPv6 packet: no grant in grant_uids6" \
	"any(.uid == $ALICE and .family == \"ipv6\" and .grants == {uid: null, gid: null})"
has "the stranger in group $GRP over IPv6 names grant_gids6" \
	"any(.uid == $STRANGER and .gid == $GRP and .grants == {uid: null, gid: {set: \"grant_gids6\", count: 1, covers: false}})"
has "the stranger without a group grant: no grants" \
	"any(.uid == $STRANGER and .gid == $STRANGER and .grants == {uid: null, gid: null})"
has "after the runtime grant alice has 2 grants" \
	"[.[] | $A4][1].grants.uid.count == 2"
has "while the 3 s grant lives she has 3" \
	"([.[] | $A4] | length) == 4 and [.[] | $A4][2].grants.uid.count == 3"
has "after it expired she has 2 again" \
	"[.[] | $A4][3].grants.uid.count == 2"
has "a container's packet carries no grants" \
	"any(.direction == \"container_to_host\" and .dport == 5555 and .grants == null)"

start_watch "$T/w.txt"
expect timeout "alice to 10.77.0.2:9000 (text)" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect timeout "alice to [fd77::2]:9001 (text; her IPv6 has no grant)" probe "$H" tcp fd77::2 9001 $ALICE
stop_watch "$T/w.txt"
grep -Eq "uid=$ALICE\(.*10\.77\.0\.2:9000; uid $ALICE \(.*\) has 2 grants \(grant_uids4\) but none to 10\.77\.0\.2:9000$" "$T/w.txt" &&
	pass "text: uid $ALICE has 2 grants (grant_uids4) but none to 10.77.0.2:9000" || fail "text: $(cat "$T/w.txt")"
grep "fd77::2\]:9001" "$T/w.txt" | grep -q 'grant' && fail "text: the IPv6 line names a grant: $(cat "$T/w.txt")" ||
	pass "text: the IPv6 line names no grant"
finish
