#!/bin/bash
# Issue #11 hole 8: at boot (no table) an unusable config does not leave the
# host open: apply loads the built-in defaults (uid 0 only, no ports) and
# still fails loudly, exit 2 naming FILE:LINE.  With a table loaded, an
# unusable config changes nothing (exit 2).
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
serve "$H" 0 tcp 9100

boot() { # boot DESCRIPTION: no table, then apply with $CONF must give exit 2 and the defaults
	h nft delete table inet hostguard 2>/dev/null
	expect_rc 2 "$1: apply exits 2" hg apply
}
defaults_hold() { # defaults_hold WHAT
	for addr in 10.77.0.2 fd77::2; do
		expect timeout "$1: uid 2000 refused, tcp $addr" probe "$H" tcp "$addr" 9000 2000
		expect blocked "$1: uid 2000 refused, udp $addr" probe "$H" udp "$addr" 9000 2000
		expect ok "$1: root gets through, tcp $addr" probe "$H" tcp "$addr" 9000 0
	done
	expect timeout "$1: no port open from containers (host tcp 9100 dropped)" probe "$C" tcp 10.77.0.1 9100
}

# control: without a table uid 2000 and containers get everywhere
expect ok "control: no table, uid 2000 reaches the container" probe "$H" tcp 10.77.0.2 9000 2000
expect ok "control: no table, the container reaches host tcp 9100" probe "$C" tcp 10.77.0.1 9100

write_conf <<'CONF'
allowed_uids = 0, 2000
allow_from_containers_tcp = 9100
this is not a line
CONF
boot "invalid line 3"
expect_match "hostguard.conf:3: expected 'key = values'" "naming FILE:LINE"
expect_match "loaded the built-in defaults" "saying the defaults were loaded"
defaults_hold "invalid config at boot"
expect_rc 2 "check says the config is invalid (exit 2)" hg check

write_conf <<'CONF'
allowed_uids = 0, 2000
CONF
chmod 666 "$CONF"
boot "world-writable config"
expect_match "writable by group or others" "saying why"
defaults_hold "untrusted config at boot"
chmod 644 "$CONF"

rm -f "$CONF"
mkfifo -m 644 "$CONF"
h nft delete table inet hostguard 2>/dev/null
expect_rc 2 "a FIFO as config at boot: exit 2, no hang" timeout 10 ip netns exec "$H" "$HG" --config "$CONF" apply
defaults_hold "FIFO at boot"
rm -f "$CONF"

# ---- with a table loaded, an invalid config changes nothing
write_conf <<'CONF'
allowed_uids = 0, 2000
allow_from_containers_tcp = 9100
CONF
expect_rc 0 "apply a valid config (uid 2000 allowed, tcp 9100 open)" hg apply
before=$(h nft list table inet hostguard)
printf 'allowed_uids = 0\nallow_from_containers_tcp = 0\n' >"$CONF"
expect_rc 2 "invalid config with a table loaded: exit 2" hg apply
expect_match "hostguard.conf:2: .*port '0' is out of range" "naming FILE:LINE"
expect_match "left as it is \(nothing changed\)" "saying nothing changed"
[ "$(h nft list table inet hostguard)" = "$before" ] && pass "the table is byte-identical" || fail "the table changed"
expect ok "uid 2000 still gets through (the loaded policy stands)" probe "$H" tcp 10.77.0.2 9000 2000
expect ok "the container still reaches tcp 9100" probe "$C" tcp 10.77.0.1 9100

finish
