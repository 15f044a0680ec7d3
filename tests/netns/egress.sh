#!/bin/bash
# Host to container: only allowed uids/gids reach container interfaces, over
# IPv4 and IPv6 (from a cold neighbour cache), TCP and UDP.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000

# Control: without the table every uid gets through, so the refusals
# below are hostguard's doing.
expect ok "no table: uid 2000 reaches the container (tcp v4)" probe "$H" tcp 10.77.0.2 9000 2000

write_conf <<'CONF'
allowed_uids = 0, 1001
allowed_gids = 3000
container_ifaces = docker0, br-*, macvlan*, ipvlan*
allow_from_containers_tcp = 5300, 5302
allow_from_containers_udp = 5300
CONF
expect_rc 0 "apply" hg apply

for addr in 10.77.0.2 fd77::2; do
	cold_neighbours
	expect ok "root reaches the container, tcp $addr (cold neighbour cache)" probe "$H" tcp "$addr" 9000 0
	cold_neighbours
	expect ok "uid 1001 reaches the container, tcp $addr (cold neighbour cache)" probe "$H" tcp "$addr" 9000 1001
	expect ok "root reaches the container, udp $addr" probe "$H" udp "$addr" 9000 0
	expect ok "uid 1001 reaches the container, udp $addr" probe "$H" udp "$addr" 9000 1001
	expect timeout "uid 2000 is refused, tcp $addr" probe "$H" tcp "$addr" 9000 2000
	expect blocked "uid 2000 is refused, udp $addr" probe "$H" udp "$addr" 9000 2000
	expect ok "uid 2000 with allowed gid 3000 gets through, tcp $addr" probe "$H" tcp "$addr" 9000 2000 3000
	expect timeout "uid 2000 with gid 2001 is refused, tcp $addr" probe "$H" tcp "$addr" 9000 2000 2001
done

OUT=$(hg status --json)
pk=$(printf '%s' "$OUT" | jq '.counters.egress.dropped_packets')
if [ "${pk:-0}" -ge 4 ]; then pass "egress drop counter counted the refusals ($pk)"; else fail "egress drop counter is $pk"; fi

# Traffic that does not leave through a container interface is not ours.
serve "$H" 0 tcp 9100
expect ok "uid 2000 still reaches a host service on another interface" probe "$H" tcp 198.18.0.1 9100 2000
expect ok "uid 2000 still reaches a host service on lo" probe "$H" tcp 127.0.0.1 9100 2000

finish
