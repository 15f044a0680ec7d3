#!/bin/bash
# Container to host: only allowed ports, on every host address, even when the
# host service runs as a uid that is not allowed; everything else is dropped.
. "$(dirname "$0")/lib.sh"

topo_basic
for port in 5300 5301; do
	serve "$H" 2000 tcp "$port"
	serve "$H" 2000 udp "$port"
done

write_conf <<'CONF'
allowed_uids = 0
container_ifaces = br-*
allow_from_containers_tcp = 5300, 5302
allow_from_containers_udp = 5300
CONF

expect ok "no table: the container reaches host tcp 5301" probe "$C" tcp 10.77.0.1 5301
expect_rc 0 "apply" hg apply

for addr in 10.77.0.1 198.18.0.1 fd77::1 2001:db8:77::1; do
	cold_neighbours
	expect ok "container reaches allowed tcp 5300 at $addr (listener uid 2000)" probe "$C" tcp "$addr" 5300
	expect ok "container reaches allowed udp 5300 at $addr (listener uid 2000)" probe "$C" udp "$addr" 5300
	expect timeout "container is refused tcp 5301 at $addr" probe "$C" tcp "$addr" 5301
	expect timeout "container is refused udp 5301 at $addr" probe "$C" udp "$addr" 5301
done
expect refused "allowed port with no listener answers with a RST" probe "$C" tcp 10.77.0.1 5302

OUT=$(hg status --json)
pk=$(printf '%s' "$OUT" | jq '.counters.ingress_local.dropped_packets')
if [ "${pk:-0}" -ge 8 ]; then pass "ingress drop counter counted the refusals ($pk)"; else fail "ingress drop counter is $pk"; fi

finish
