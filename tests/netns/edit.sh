#!/bin/bash
# Set edits: each takes effect on the next connection, in the kernel and the
# config (other lines byte for byte); bad input changes nothing; repeats are
# harmless; an unloaded table gets the config only; --runtime the table only.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
serve "$H" 2000 tcp 5301
serve "$H" 2000 udp 5301
write_conf <<'CONF'
# hostguard test config
allowed_uids = 0          # root
allowed_gids =
container_ifaces = docker0, br-*, macvlan*, ipvlan*   # the usual
ignore_ifaces = vethhg0   # the bridge port: add-iface veth* below must not be a no-op
allow_from_containers_tcp = 53
allow_from_containers_udp = 53
# trailing comment
CONF
expect_rc 0 "apply" hg apply

# everything but the key's line stays byte for byte
others_same() { # others_same KEY DESCRIPTION
	if diff <(grep -v "^$1 =" "$T/before") <(grep -v "^$1 =" "$CONF") >/dev/null; then
		pass "$2: other lines and comments unchanged"
	else
		fail "$2: other lines changed: $(diff "$T/before" "$CONF")"
	fi
}
snap() { cp "$CONF" "$T/before"; h nft list table inet hostguard >"$T/before.nft"; }
unchanged() { # unchanged DESCRIPTION: neither the config nor the table moved
	if cmp -s "$T/before" "$CONF" && h nft list table inet hostguard | cmp -s - "$T/before.nft"; then
		pass "$1: config and table unchanged"
	else
		fail "$1: something changed"
	fi
}

# ---- uids
expect timeout "uid 2000 refused before allow-uid" probe "$H" tcp 10.77.0.2 9000 2000
snap
expect_rc 0 "allow-uid 2000" hg allow-uid 2000
for addr in 10.77.0.2 fd77::2; do
	expect ok "uid 2000 reaches the container after allow-uid ($addr)" probe "$H" tcp "$addr" 9000 2000
done
expect ok "uid 2000 reaches the container over udp" probe "$H" udp 10.77.0.2 9000 2000
grep -q '^allowed_uids = 0, 2000          # root$' "$CONF" && pass "config line: allowed_uids = 0, 2000, comment kept" ||
	fail "config line: $(grep '^allowed_uids' "$CONF")"
others_same allowed_uids "allow-uid"
expect_rc 0 "check: in sync after allow-uid" hg check

snap
expect_rc 0 "allow-uid 2000 again" hg allow-uid 2000
expect_match "unchanged" "a repeated allow says nothing changed"
expect_match "config: allowed_uids already has 2000, unchanged" "and names the key and the value"
unchanged "repeated allow-uid"

expect_rc 0 "revoke-uid 2000" hg revoke-uid 2000
for addr in 10.77.0.2 fd77::2; do
	expect timeout "uid 2000 refused again after revoke-uid ($addr)" probe "$H" tcp "$addr" 9000 2000
done
grep -q '^allowed_uids = 0          # root$' "$CONF" && pass "config line back to uid 0" || fail "config: $(grep '^allowed_uids' "$CONF")"
snap
expect_rc 0 "revoke-uid of an absent uid" hg revoke-uid 2000
unchanged "revoke of an absent uid"

expect_rc 0 "allow-uid by name (nobody)" hg allow-uid nobody
grep -q '^allowed_uids = 0, nobody' "$CONF" && pass "config keeps the name as typed" || fail "config: $(grep '^allowed_uids' "$CONF")"
expect ok "uid 65534 (nobody) gets through" probe "$H" tcp 10.77.0.2 9000 65534
OUT=$(hg status)
expect_match "65534 \\(nobody\\)" "status shows name and number"
expect_rc 0 "revoke-uid 65534 removes the token 'nobody'" hg revoke-uid 65534
grep -q 'nobody' "$CONF" && fail "nobody still in the config" || pass "revoke by number removed the name"

# ---- gids
expect timeout "uid 2000 gid 3000 refused before allow-gid" probe "$H" tcp 10.77.0.2 9000 2000 3000
expect_rc 0 "allow-gid 3000" hg allow-gid 3000
expect ok "gid 3000 gets through after allow-gid" probe "$H" tcp 10.77.0.2 9000 2000 3000
expect_rc 0 "revoke-gid 3000" hg revoke-gid 3000
expect timeout "gid 3000 refused after revoke-gid" probe "$H" tcp 10.77.0.2 9000 2000 3000

# ---- ports
for proto in tcp udp; do
	expect timeout "container refused $proto 5301 before allow-port" probe "$C" "$proto" 10.77.0.1 5301
	expect_rc 0 "allow-port $proto 5301" hg allow-port "$proto" 5301
	for addr in 10.77.0.1 198.18.0.1 fd77::1; do
		expect ok "container reaches $proto 5301 at $addr after allow-port" probe "$C" "$proto" "$addr" 5301
	done
	expect_rc 0 "revoke-port $proto 5301" hg revoke-port "$proto" 5301
	expect timeout "container refused $proto 5301 after revoke-port" probe "$C" "$proto" 10.77.0.1 5301
done
expect_rc 0 "allow-port tcp 5000-5400" hg allow-port tcp 5000-5400
expect ok "a range lets 5301 through" probe "$C" tcp 10.77.0.1 5301
expect_rc 0 "revoke-port tcp 5301 out of the range" hg revoke-port tcp 5301
expect timeout "5301 refused after revoking it out of the range" probe "$C" tcp 10.77.0.1 5301
grep -q '^allow_from_containers_tcp = 53, 5000-5300, 5302-5400$' "$CONF" && pass "config splits the range" ||
	fail "config: $(grep '^allow_from_containers_tcp' "$CONF")"
expect_rc 0 "allow-port tcp 5250-5350 overlapping both pieces" hg allow-port tcp 5250-5350
grep -q '^allow_from_containers_tcp = 53, 5000-5400$' "$CONF" && pass "overlapping ranges are merged in the config" ||
	fail "config: $(grep '^allow_from_containers_tcp' "$CONF")"
OUT=$(h nft list set inet hostguard allow_from_containers_tcp)
expect_match "elements = \\{ 53, 5000-5400 \\}" "and in the kernel"
expect ok "5301 allowed again" probe "$C" tcp 10.77.0.1 5301
expect_rc 0 "check: in sync after the port edits" hg check

# a long config line is never echoed: the output names key and values only
cp "$CONF" "$T/saved.conf"
{ printf 'allowed_uids = 0'; seq -f ', %g' 100000 150000 | tr -d '\n'; printf '\n'; } >"$T/long.conf"
chmod 600 "$T/long.conf"
expect_rc 0 "allow-uid 4244 into a config with a 450 kB line" ip netns exec "$H" "$HG" --config "$T/long.conf" allow-uid 4244
[ "${#OUT}" -lt 1000 ] && pass "it printed ${#OUT} bytes, not the line" || fail "edit printed ${#OUT} bytes"
expect_match "config: \\+ allowed_uids 4244$" "it says what it added"
expect_rc 0 "allow-uid 4244 again" ip netns exec "$H" "$HG" --config "$T/long.conf" allow-uid 4244
[ "${#OUT}" -lt 1000 ] && pass "the repeat printed ${#OUT} bytes" || fail "the repeat printed ${#OUT} bytes"
ip netns exec "$H" "$HG" --config "$T/saved.conf" apply >/dev/null

# ufw's form: PORT/PROTO, one protocol per command (one set, one transaction)
serve "$H" 2000 udp 5310
expect_rc 0 "allow-port 5310/udp 5311/udp" hg allow-port 5310/udp 5311/udp
expect ok "container reaches udp 5310 after allow-port 5310/udp" probe "$C" udp 10.77.0.1 5310
grep -q '^allow_from_containers_udp = .*5310-5311' "$CONF" && pass "config has 5310-5311 for udp" ||
	fail "config: $(grep '^allow_from_containers_udp' "$CONF")"
before=$(cat "$CONF"; h nft list table inet hostguard)
expect_rc 2 "allow-port 5320/udp 5321/tcp (two protocols) -> 2" hg allow-port 5320/udp 5321/tcp
expect_match "one protocol per command" "it says why"
expect_rc 2 "allow-port 5320/sctp -> 2" hg allow-port 5320/sctp
[ "$before" = "$(cat "$CONF"; h nft list table inet hostguard)" ] && pass "refused forms change nothing" ||
	fail "a refused form changed the config or the table"
expect_rc 0 "revoke-port 5310/udp 5311/udp" hg revoke-port 5310/udp 5311/udp
expect timeout "udp 5310 refused after revoke-port 5310/udp" probe "$C" udp 10.77.0.1 5310

# ---- interfaces (nft 1.0.6 cannot add to this set; hostguard can)
h ip link set br-test down
h ip link set br-test name lan0
h ip link set lan0 up
for _ in $(seq 50); do c ping -c1 -W1 10.77.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
expect ok "uid 2000 reaches a host behind lan0 (not a container interface)" probe "$H" tcp 10.77.0.2 9000 2000
expect_rc 0 "add-iface lan0" hg add-iface lan0
expect timeout "uid 2000 refused on lan0 after add-iface" probe "$H" tcp 10.77.0.2 9000 2000
expect_rc 0 "add-iface veth* (next to docker0: nft 1.0.6's failing case)" hg add-iface 'veth*'
expect_rc 0 "remove-iface lan0 veth*" hg remove-iface lan0 'veth*'
expect ok "uid 2000 reaches lan0 again after remove-iface" probe "$H" tcp 10.77.0.2 9000 2000
h ip link set lan0 down
h ip link set lan0 name br-test
h ip link set br-test up

# ---- overlaps are refused naming both, nothing changes
snap
expect_rc 2 "add-iface br-x while br-* is there" hg add-iface br-x
expect_match "'br-x' overlaps 'br-\\*'" "the message names both patterns"
unchanged "overlapping interface"

# ---- bad input: one line naming the value, exit 2, nothing changes
bad() { # bad DESCRIPTION NAME-IN-MESSAGE ARGS...
	local desc=$1 name=$2
	shift 2
	snap
	expect_rc 2 "$desc -> exit 2" hg "$@"
	[ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] && printf '%s' "$OUT" | grep -qF -- "$name" &&
		pass "$desc: one line naming '$name'" || fail "$desc: message: $OUT"
	unchanged "$desc"
}
bad "unknown user among good ones" "no_such_user" allow-uid 3001 no_such_user
bad "negative uid" "'-5'" allow-uid -5
bad "uid too large" "4294967296" allow-uid 4294967296
bad "trailing garbage" "12abc" allow-uid 12abc
bad "unknown group" "no_such_group_hg" allow-gid no_such_group_hg
bad "port 0" "'0'" allow-port tcp 0
bad "port 65536" "65536" allow-port udp 65536
bad "reversed range" "9000-8000" allow-port tcp 9000-8000
bad "unknown protocol" "sctp" allow-port sctp 80
bad "interface name of 16 characters" "abcdefghijklmnop" add-iface abcdefghijklmnop
bad "empty interface name" "empty interface name" add-iface ""
bad "no value" "missing value" allow-uid

# ---- privilege: nothing changes without CAP_NET_ADMIN
snap
expect_rc 4 "allow-uid without CAP_NET_ADMIN -> 4" ip netns exec "$H" setpriv --reuid=2000 --regid=2000 --clear-groups "$HG" --config "$CONF" allow-uid 2000
unchanged "unprivileged allow-uid"

# ---- --runtime: the table only
snap
expect_rc 0 "allow-uid --runtime 2000" hg allow-uid --runtime 2000
expect ok "runtime edit takes effect" probe "$H" tcp 10.77.0.2 9000 2000
# ids go in without a lookup (NLM_F_EXCL); one that is there already, or
# not there to go, makes the kernel refuse the batch, and the edit looks
# each one up and tries again: the outcome is the same either way
expect_rc 0 "allow-uid --runtime of a uid the set holds" hg allow-uid --runtime 2000
expect_match "table: allowed_uids already has 2000, unchanged" "says it was there, changes nothing"
expect_rc 0 "allow-uid --runtime of one held uid and one new one" hg allow-uid --runtime 2000 2001
expect_match "table: \+ allowed_uids 2000, 2001 \(1 element changed\)" "the new one goes in, and only it"
expect ok "uid 2001 allowed" probe "$H" tcp 10.77.0.2 9000 2001
expect_rc 0 "revoke-uid --runtime of a held uid and one the set lacks" hg revoke-uid --runtime 2001 2002
expect_match "table: - allowed_uids 2001, 2002 \(1 element changed\)" "the held one goes, and only it"
expect timeout "uid 2001 refused again" probe "$H" tcp 10.77.0.2 9000 2001
expect ok "uid 2000 still allowed" probe "$H" tcp 10.77.0.2 9000 2000
expect_rc 0 "revoke-uid --runtime of a uid the set lacks" hg revoke-uid --runtime 2002
expect_match "table: allowed_uids already lacks 2002, unchanged" "says it was not there"
expect_rc 0 "allow-gid --runtime 2001" hg allow-gid --runtime 2001
expect_rc 0 "allow-gid --runtime 2001 again" hg allow-gid --runtime 2001
expect_match "table: allowed_gids already has 2001, unchanged" "gids too"
expect ok "gid 2001 allowed (uid 3001)" probe "$H" tcp 10.77.0.2 9000 3001 2001
expect_rc 0 "revoke-gid --runtime 2001" hg revoke-gid --runtime 2001
expect timeout "gid 2001 refused again" probe "$H" tcp 10.77.0.2 9000 3001 2001
cmp -s "$T/before" "$CONF" && pass "--runtime left the config alone" || fail "--runtime changed the config"
expect_rc 3 "check reports the runtime-only uid: exit 3 (runtime entries only)" hg check
expect_match "runtime entries only: allowed_uids: 2000" "check names it"
expect_rc 0 "apply restores the config's policy" hg apply
expect timeout "uid 2000 refused again" probe "$H" tcp 10.77.0.2 9000 2000

# ---- sets that are not as hostguard makes them: an edit reads the set's
# definition along with the generation (one round trip) and refuses, the
# set unchanged
h nft delete table inet hostguard
h nft -f - <<'NFT'
table inet hostguard {
	set allowed_uids { type uid; flags interval; }
	set allow_from_containers_tcp { type inet_service; }
}
NFT
expect_rc 1 "allow-uid --runtime into an interval set allowed_uids -> 1" hg allow-uid --runtime 2100
expect_match "set allowed_uids of table inet hostguard was changed by someone else; run 'hostguard apply'" \
	"names the set"
h nft list set inet hostguard allowed_uids | grep -q 2100 && fail "2100 went into the interval set" ||
	pass "nothing went into it"
expect_rc 1 "allow-port --runtime into a hash set allow_from_containers_tcp -> 1" hg allow-port --runtime tcp 8080
expect_match "set allow_from_containers_tcp of table inet hostguard was changed by someone else" "names that set"
expect_rc 1 "allow-gid --runtime with no set allowed_gids -> 1" hg allow-gid --runtime 2100
expect_match "set allowed_gids is missing from table inet hostguard; run 'hostguard apply'" "says it is missing"
expect_rc 0 "apply puts the table right" hg apply
expect timeout "and its policy holds: uid 2000 refused" probe "$H" tcp 10.77.0.2 9000 2000

# ---- table not loaded: the config changes, a note says apply will load it
expect_rc 0 "remove" hg remove
expect_rc 0 "allow-uid with no table" hg allow-uid 2000
expect_match "'hostguard apply' will load" "a note says apply will load it"
grep -q '^allowed_uids = 0, 2000' "$CONF" && pass "config updated with no table" || fail "config: $(grep '^allowed_uids' "$CONF")"
expect_rc 1 "--runtime with no table -> 1" hg allow-uid --runtime 2001
expect_rc 0 "apply" hg apply
expect ok "uid 2000 allowed after apply" probe "$H" tcp 10.77.0.2 9000 2000

# ---- no config file yet: created with the defaults plus the edit
rm -f "$T/new.conf"
# (the live table holds more than the defaults: an edit would write a
# config without it, so it is refused; config-trust.sh tests that)
expect_rc 1 "allow-uid with no config file while the table holds more -> 1" ip netns exec "$H" "$HG" --config "$T/new.conf" allow-uid 2002
expect_rc 0 "apply --defaults" ip netns exec "$H" "$HG" --config "$T/new.conf" apply --defaults
expect_rc 0 "allow-uid with no config file" ip netns exec "$H" "$HG" --config "$T/new.conf" allow-uid 2002
[ "$(cat "$T/new.conf")" = "allowed_uids = 0, 2002" ] && pass "new config: defaults plus the edit" ||
	fail "new config: $(cat "$T/new.conf")"
[ "$(stat -c %a "$T/new.conf")" = 644 ] && pass "new config is mode 644" || fail "mode $(stat -c %a "$T/new.conf")"

# ---- mode and owner survive an edit
chmod 640 "$CONF"
chown 0:2000 "$CONF"
expect_rc 0 "edit a 640 file of group 2000" hg allow-uid 2003
[ "$(stat -c %a:%u:%g "$CONF")" = 640:0:2000 ] && pass "mode and owner kept" || fail "now $(stat -c %a:%u:%g "$CONF")"
# shellcheck disable=SC2010  # the names are the config's own temporary files
ls -A "$T" | grep -q '^\.hostguard\.conf\.' && fail "temporary file left behind" || pass "no temporary file left"

finish
