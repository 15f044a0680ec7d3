#!/bin/bash
# revoke-port of a port inside a live range splits that range and leaves
# every other range alone: the range after it kept being reachable was the
# bug (the split's tail was written over the next range, which apply's
# delta then deleted from the live set).  Real packets, IPv4 and IPv6,
# for the config-and-table edit and for --runtime.
. "$(dirname "$0")/lib.sh"

topo_basic
for port in 9003 9005 9008 9020 9030; do
	serve "$H" 0 tcp $port
done

# Control: without the table the container reaches every port.
for addr in 10.77.0.1 fd77::1; do
	expect ok "no table: container reaches $addr:9020" probe "$C" tcp $addr 9020
done

write_conf <<'CONF'
allowed_uids = 0
allow_from_containers_tcp = 9000-9010, 9020, 9030
CONF
expect_rc 0 "apply with 9000-9010, 9020, 9030" hg apply
expect timeout "container refused at an unlisted port 9011" probe "$C" tcp 10.77.0.1 9011

expect_rc 0 "revoke-port tcp 9005 (inside 9000-9010)" hg revoke-port tcp 9005
for addr in 10.77.0.1 fd77::1; do
	expect timeout "container refused at $addr:9005 after revoke-port" probe "$C" tcp $addr 9005
	expect ok "container still reaches $addr:9003 (the range's head)" probe "$C" tcp $addr 9003
	expect ok "container still reaches $addr:9008 (the range's tail)" probe "$C" tcp $addr 9008
	expect ok "container still reaches $addr:9020 (the range after it)" probe "$C" tcp $addr 9020
	expect ok "container still reaches $addr:9030" probe "$C" tcp $addr 9030
done
expect_rc 0 "check: config and table agree after the split" hg check
grep -q '^allow_from_containers_tcp = 9000-9004, 9006-9010, 9020, 9030$' "$CONF" &&
	pass "the config line is split the same way" || fail "config: $(cat "$CONF")"

expect_rc 0 "revoke-port --runtime tcp 9008 (inside 9006-9010)" hg revoke-port --runtime tcp 9008
expect timeout "container refused at 9008 after the runtime revoke" probe "$C" tcp 10.77.0.1 9008
expect ok "container still reaches 9020 after the runtime revoke" probe "$C" tcp 10.77.0.1 9020
expect ok "container still reaches [fd77::1]:9030 after the runtime revoke" probe "$C" tcp fd77::1 9030
finish
