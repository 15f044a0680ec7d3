#!/bin/bash
# Issue 11, hole 4: everything a container sends that the host delivers
# locally is subject to the allow-list: unicast, broadcast (subnet and
# 255.255.255.255), multicast (224.0.0.1 / ff02::1 to a host socket joined
# to the group) and IPv6 anycast (the subnet-router anycast address of the
# bridge's prefix, which exists with forwarding on, as Docker sets it).
# Allowed ports still get all of them; neighbour discovery and replies work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attack-lib.sh"

topo_basic
h sysctl -qw net.ipv6.conf.all.forwarding=1
h sysctl -qw net.ipv4.ip_forward=1
listen "$H" denied 9999 --join 224.0.0.1%br-test --join ff02::1%br-test
listen "$H" allowed 5300 --join 224.0.0.1%br-test --join ff02::1%br-test
serve "$H" 2000 tcp 5300
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
for _ in $(seq 50); do	# the anycast address comes with forwarding
	h ip -6 addr show dev br-test >/dev/null
	c "$PY" "$T/attack/send-plain.py" fd77:: 9 --count 1 >/dev/null 2>&1 && break
	sleep 0.1
done

write_conf <<'CONF'
allowed_uids = 0
container_ifaces = br-*
allow_from_containers_tcp = 5300
allow_from_containers_udp = 5300
CONF

# VECTORS: destination|scope interface (or -)|description
VECTORS=(
	"10.77.0.1|-|IPv4 unicast"
	"fd77::1|-|IPv6 unicast"
	"10.77.0.255|-|IPv4 subnet broadcast"
	"255.255.255.255|-|IPv4 limited broadcast"
	"224.0.0.1|eth0|IPv4 multicast (all-hosts)"
	"ff02::1|eth0|IPv6 multicast (all-nodes)"
	"fd77::|-|IPv6 subnet-router anycast"
)

# run_vectors PHASE PORT LISTENER ASSERT
run_vectors() {
	local phase=$1 port=$2 lst=$3 check=$4 v dst scope desc tok
	for v in "${VECTORS[@]}"; do
		IFS='|' read -r dst scope desc <<<"$v"
		tok="$phase-$port-$dst"
		if [ "$scope" = - ]; then
			attack "$C" 0 send-plain --token "$tok" "$dst" "$port"
		else
			attack "$C" 0 send-plain --scope "$scope" --token "$tok" "$dst" "$port"
		fi
		"$check" "$phase: container -> host udp $port, $desc $dst" "$lst" "$tok"
	done
}

# Control: without the table the host's service on 9999 gets every one.
run_vectors control 9999 denied delivered

expect_rc 0 "apply" hg apply
run_vectors closed 9999 denied not_delivered
run_vectors allowed 5300 allowed delivered

# The contract's own traffic, from cold neighbour caches.
for addr in 10.77.0.1 fd77::1; do
	cold_neighbours
	expect ok "container reaches allowed tcp 5300 at $addr (listener uid 2000, cold cache)" probe "$C" tcp "$addr" 5300
done
for addr in 10.77.0.2 fd77::2; do
	cold_neighbours
	expect ok "root reaches the container, tcp $addr (replies come back, cold cache)" probe "$H" tcp "$addr" 9000 0
	expect ok "root reaches the container, udp $addr" probe "$H" udp "$addr" 9000 0
done

finish
