#!/bin/bash
# Issue 11, hole 1: tampering that the old compare missed.  Root (or anyone
# with CAP_NET_ADMIN) changes a property of table inet hostguard that is not
# an element or a whole rule: the table made dormant, a set given a
# timeout or a size, a chain's hook, priority or policy, one expression of a
# rule.  Where the change opens a path, the attack first shows it open (the
# tampering is real); then check exits 1, status --json says in_sync false,
# apply repairs it (exit 0, "applied"), check exits 0, and packets prove the
# path closed again.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
serve "$H" 2000 tcp 5301
write_conf <<'CONF'
allowed_uids = 0
container_ifaces = br-*, veth*
allow_from_containers_tcp = 5300
CONF
expect_rc 0 "apply" hg apply

# attacks: host uid 2000 -> container (tcp and udp, v4 and v6) and
# container -> host tcp 5301 (not allowed), v4 and v6
out_open() { # prints how many of the six paths are open
	local n=0 r
	for r in "$(probe "$H" tcp 10.77.0.2 9000 2000)" "$(probe "$H" tcp fd77::2 9000 2000)" \
		"$(probe "$H" udp 10.77.0.2 9000 2000)" "$(probe "$H" udp fd77::2 9000 2000)" \
		"$(probe "$C" tcp 10.77.0.1 5301)" "$(probe "$C" tcp fd77::1 5301)"; do
		[ "$r" = ok ] && n=$((n + 1))
	done
	echo "$n"
}
PROBE_TIMEOUT=400
n=$(out_open)
[ "$n" = 0 ] && pass "after apply the six attack paths are closed" || fail "after apply $n of six attack paths are open"

# retable SED: replace the live table with an edited copy of itself, in one
# nft transaction (as a root tamperer would)
retable() {
	h nft -s list table inet hostguard | sed "$1" >"$T/tampered.nft"
	if cmp -s <(h nft -s list table inet hostguard) "$T/tampered.nft"; then
		echo "FAIL: the edit '$1' changed nothing"
		exit 1
	fi
	{ echo "delete table inet hostguard"; cat "$T/tampered.nft"; } >"$T/retable.nft"
	h nft -f "$T/retable.nft" || { echo "FAIL: nft refused the tampered table ($1)"; exit 1; }
}

# tampered NAME OPENS MATCH: the assertions after one tampering
tampered() {
	local name=$1 opens=$2 match=$3 n
	if [ "$opens" = yes ]; then
		n=$(out_open)
		[ "$n" -gt 0 ] && pass "$name: the tampering opens $n of six attack paths (control)" ||
			fail "$name: the tampering opened nothing: the control does not show the attack"
	fi
	expect_rc 1 "$name: check -> 1" hg check
	[ -n "$match" ] && expect_match "$match" "$name: check names it"
	OUT=$(hg status --json 2>&1)
	[ "$(printf '%s' "$OUT" | jq -r .in_sync 2>/dev/null)" = false ] &&
		pass "$name: status --json in_sync false" || fail "$name: status --json: $OUT"
	expect_rc 0 "$name: apply repairs" hg apply
	expect_match "applied" "$name: apply says applied"
	expect_rc 0 "$name: check -> 0 after the repair" hg check
	n=$(out_open)
	[ "$n" = 0 ] && pass "$name: after the repair the six attack paths are closed" ||
		fail "$name: after the repair $n of six attack paths are open"
	expect ok "$name: root still reaches the container" probe "$H" tcp 10.77.0.2 9000 0
}

h nft add table inet hostguard '{ flags dormant; }'
tampered "dormant table" yes "dormant|flags"

retable 's/^\tset container_ifaces {$/&\n\t\ttimeout 1s/'
expect_rc 1 "set timeout: check -> 1 before the elements expire" hg check
expect_match "container_ifaces" "set timeout: check names the set"
sleep 1.5
tampered "set container_ifaces with a timeout (elements expired)" yes ""

retable 's/^\tset allowed_uids {$/&\n\t\tsize 1/'
tampered "set allowed_uids with size 1" no "allowed_uids"

retable '/^\tchain egress {$/,/^\t}$/s/hook postrouting priority filter;/hook postrouting priority 50;/'
tampered "chain egress at priority 50" no "egress"

retable '/^\tchain egress {$/,/^\t}$/s/hook postrouting priority/hook input priority/'
tampered "chain egress moved to hook input" yes "egress"

retable '/^\tchain ingress_local {$/,/^\t}$/s/hook input priority filter;/hook input priority -300;/'
tampered "chain ingress_local at priority -300" no "ingress_local"

retable '/^\tchain from_unallowed {$/,/^\t}$/s/^\t\toifname @container_ifaces counter/\t\tiifname @container_ifaces counter/'
tampered "from_unallowed: oifname changed to iifname" yes "from_unallowed"

retable '/^\tchain egress {$/,/^\t}$/s/meta skuid != @allowed_uids/meta skuid @allowed_uids/'
tampered "egress: skuid lookup no longer inverted" yes "egress"

retable '/^\tchain from_containers {$/,/^\t}$/s/^\t\tcounter packets [0-9]* bytes [0-9]* drop$/\t\tcounter accept/;/^\tchain from_containers {$/,/^\t}$/s/^\t\tcounter drop$/\t\tcounter accept/'
tampered "from_containers: final drop became accept" yes "from_containers"

retable '/^\tchain from_containers {$/,/^\t}$/s/fib saddr \. iif oif missing/fib saddr oif missing/'
tampered "from_containers: strict reverse path made loose" no "from_containers"

retable '/^\tchain egress {$/,/^\t}$/s/policy accept;/policy drop;/'
expect_rc 1 "egress policy drop: check -> 1" hg check
expect_rc 0 "egress policy drop: apply repairs" hg apply
expect_rc 0 "egress policy drop: check -> 0" hg check

finish
