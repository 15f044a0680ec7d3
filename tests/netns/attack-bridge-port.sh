#!/bin/bash
# Issue 11, hole 3: a non-allowed uid sends straight out of a covered bridge's
# PORT (the host-side veth, named like Docker's vethXXXXXXX) with
# SO_BINDTODEVICE, IP_PKTINFO/IPV6_PKTINFO or IP(V6)_MULTICAST_IF:
# broadcast, limited broadcast and multicast, IPv4 and IPv6.  With the
# built-in default container_ifaces the container must receive nothing,
# also through a port that appears after apply; root (allowed) still does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attack-lib.sh"

netns_new "$H"
add_bridge br-test 10.77.0 fd77
P1=$(docker_veth)
add_container "$C" br-test "$P1" 10.77.0 fd77
listen "$C" c1 9999 --join 224.0.0.1%eth0 --join ff02::1%eth0
sleep 1	# IPv6 link-local addresses, for ff02::1 from the port

# The default interface list: no container_ifaces line.
write_conf <<'CONF'
allowed_uids = 0
CONF

# VECTORS: program|destination|description.  (Unicast out of a port does
# not work even for root: the port has no address, the neighbour reply goes
# to the bridge, and an unprivileged user cannot add a neighbour entry.)
VECTORS=(
	"send-bindtodevice|10.77.0.255|SO_BINDTODEVICE, subnet broadcast"
	"send-bindtodevice|255.255.255.255|SO_BINDTODEVICE, limited broadcast"
	"send-bindtodevice|224.0.0.1|SO_BINDTODEVICE, IPv4 multicast"
	"send-bindtodevice|ff02::1|SO_BINDTODEVICE, IPv6 multicast"
	"send-pktinfo|255.255.255.255|IP_PKTINFO ifindex, limited broadcast"
	"send-pktinfo|10.77.0.255|IP_PKTINFO ifindex, subnet broadcast"
	"send-pktinfo|224.0.0.1|IP_PKTINFO ifindex, IPv4 multicast"
	"send-pktinfo|ff02::1|IPV6_PKTINFO ifindex, IPv6 multicast"
	"send-mcastif|224.0.0.1|IP_MULTICAST_IF, IPv4 multicast"
	"send-mcastif|ff02::1|IPV6_MULTICAST_IF, IPv6 multicast"
)

# run_vectors PHASE UID PORT LISTENER ASSERT
run_vectors() {
	local phase=$1 uid=$2 port=$3 lst=$4 check=$5 v prog dst desc tok
	for v in "${VECTORS[@]}"; do
		IFS='|' read -r prog dst desc <<<"$v"
		tok="$phase-$prog-$dst"
		attack "$H" "$uid" "$prog" --iface "$port" --token "$tok" "$dst" 9999
		"$check" "$phase: uid $uid, $desc out of bridge port $port" "$lst" "$tok"
	done
}

# Control: without the table every vector reaches the container.
run_vectors control "$NOBODY" "$P1" c1 delivered

expect_rc 0 "apply (default container_ifaces)" hg apply
run_vectors closed "$NOBODY" "$P1" c1 not_delivered
run_vectors allowed 0 "$P1" c1 delivered

# A container started after apply: its port is covered at once.
P2=$(docker_veth)
add_container "$C-2" br-test "$P2" 10.77.0 fd77
ip -n "$C-2" addr flush dev eth0
ip -n "$C-2" addr add 10.77.0.3/24 dev eth0
ip -n "$C-2" addr add fd77::3/64 dev eth0 nodad
listen "$C-2" c2 9999 --join 224.0.0.1%eth0 --join ff02::1%eth0
sleep 1
run_vectors late "$NOBODY" "$P2" c2 not_delivered
run_vectors late-allowed 0 "$P2" c2 delivered
expect_rc 0 "check: in sync with the late port" hg check

# A port that no pattern names, enslaved to a covered bridge: check reports it.
h ip link add hgport0 type veth peer name hgport0p
h ip link set hgport0 master br-test up
expect_rc 1 "check: a bridge port no pattern covers -> 1" hg check
expect_match "hgport0" "check names the uncovered port"

finish
