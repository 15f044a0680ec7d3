#!/bin/bash
# Forged replies, both ways, IPv4 and IPv6.
#
# Issue 11, hole 5: a container has a UDP flow [container]:40000 -> R:4053 to
# a remote R routed through the host.  A non-allowed host uid binds R with
# IPV6_FREEBIND (no capability needed) and sends from R:4053 to
# [container]:40000: conntrack calls it the flow's reply.  It must not be
# delivered, and the sender must not learn which flows exist (the result of
# the forged send is the same whether the flow exists or not).  IPv6 only:
# an unprivileged IPv4 socket cannot send from a freebind address (the
# route lookup fails with ENETUNREACH unless the socket is IP_TRANSPARENT,
# which needs CAP_NET_RAW), and no uid can bind a port below 1024: the
# test shows both in its output.
#
# The lead's new hole: the host (any uid) has a UDP flow to R:53 through the
# uplink; a container sends a datagram with the spoofed source R:53 to the
# host's socket: conntrack calls it "established".  Root in a container
# sends from any source with IP_TRANSPARENT / IPV6_TRANSPARENT (CAP_NET_RAW,
# which Docker keeps by default).  It must be dropped (a
# reverse-path check on container interfaces), with the kernel's own
# reverse-path filter in loose mode as distributions set it (systemd's
# 50-default.conf: rp_filter = 2), which does not stop it.
#
# And the contract's legit replies keep working: a container reaching an
# allowed host port served by a non-allowed uid (TCP and UDP), the host's
# own flows to R, and the container's forwarded flows to R.
#
#   netns $C  eth0 10.77.0.2 fd77::2 --- br-test [netns $H] up0 10.99.0.1 fd99::1 --- eth0 10.99.0.2 fd99::2  netns $U (R)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attack-lib.sh"

topo_basic
U="hgt-u-$ID"
netns_new "$U"
ip link add up0 netns "$H" type veth peer name eth0 netns "$U"
h ip addr add 10.99.0.1/24 dev up0
h ip addr add fd99::1/64 dev up0 nodad
h ip link set up0 up
ip -n "$U" addr add 10.99.0.2/24 dev eth0
ip -n "$U" addr add fd99::2/64 dev eth0 nodad
ip -n "$U" link set eth0 up
ip -n "$U" route add default via 10.99.0.1
ip -n "$U" -6 route add default via fd99::1
h sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for k in all default br-test up0; do
	h sysctl -qw "net.ipv4.conf.$k.rp_filter=2"
done
# R's ports 53 and 4053 swallow queries silently (the flows stay unreplied); port
# 7000 is R's echo service for the legit checks.
listen "$U" sink 53
listen "$U" sink2 4053
serve "$U" 0 tcp 7000
serve "$U" 0 udp 7000
serve "$H" 2000 tcp 5300
serve "$H" 2000 udp 5300
for _ in $(seq 50); do
	[ "$(probe "$C" udp fd99::2 7000)" = ok ] && break
	sleep 0.1
done

write_conf <<'CONF'
allowed_uids = 0
container_ifaces = br-*
allow_from_containers_tcp = 5300
allow_from_containers_udp = 5300
CONF

# flow NS NAME UID SRC SPORT PEER PORT: a UDP flow SRC:SPORT -> PEER:PORT, logged to $T/NAME.log
flow() {
	local ns=$1 name=$2 uid=$3
	ip netns exec "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		"$PY" "$T/attack/udp-flow.py" --src "$4" --sport "$5" "$6" "$7" \
		--ready "$T/ready/flow.$name" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -e "$T/ready/flow.$name" ] && return 0
		sleep 0.05
	done
	echo "FAIL: flow $name did not start: $(cat "$T/$name.log")"
	exit 1
}

flow "$C" cflow4 0 10.77.0.2 40000 10.99.0.2 4053
flow "$C" cflow6 0 fd77::2 40000 fd99::2 4053
flow "$H" hflow4 2000 10.99.0.1 45000 10.99.0.2 53
flow "$H" hflow6 2000 fd99::1 45000 fd99::2 53
sleep 0.3
n=$(cat "$T/sink.log" "$T/sink2.log" | grep -c '^recv query')
[ "$n" -ge 4 ] && pass "the four flows reached R ($n queries)" || fail "the flows did not reach R: $(cat "$T/sink.log")"

# run PHASE ASSERT [ORACLE]
run() {
	local phase=$1 check=$2 fam r c h res_flow res_none
	for fam in 4 6; do
		if [ $fam = 4 ]; then r=10.99.0.2 c=10.77.0.2 h=10.99.0.1; else r=fd99::2 c=fd77::2 h=fd99::1; fi
		# hole 5: a non-allowed host uid forges R's reply to the container's flow
		attack "$H" "$NOBODY" forge-source --src "$r" --sport 4053 --token "$phase-h5-$fam" "$c" 40000
		res_flow=$OUT
		if [ $fam = 4 ]; then
			echo "# $phase, IPv4: uid $NOBODY forging from $r:4053 (IP_FREEBIND): $OUT, $(received cflow4 "$phase-h5-$fam") delivered"
			attack "$H" "$NOBODY" forge-source --src "$r" --sport 53 --token "$phase-h5-$fam" "$c" 40000
			echo "# $phase, IPv4: uid $NOBODY binding $r:53: $OUT"
		else
			"$check" "$phase: uid $NOBODY forges $r:4053's reply to the container's flow [$c]:40000" "cflow$fam" "$phase-h5-$fam"
		fi
		attack "$H" "$NOBODY" forge-source --src "$r" --sport 4053 --token "$phase-h5none-$fam" "$c" 40001
		res_none=$OUT
		if [ "$phase" = closed ]; then
			[ "$res_flow" = "$res_none" ] &&
				pass "$phase: the forger cannot tell a flow from none, IPv$fam (both: $res_flow)" ||
				fail "$phase: the forger learns which flows exist, IPv$fam (flow: $res_flow; none: $res_none)"
		else
			echo "# $phase, IPv$fam: forged send with a flow: $res_flow; without: $res_none"
		fi
		# new hole: the container forges R's reply to the host's flow
		attack "$C" 0 forge-source --transparent --src "$r" --sport 53 --token "$phase-cf-$fam" "$h" 45000
		"$check" "$phase: container forges $r:53's reply to the host's flow [$h]:45000" "hflow$fam" "$phase-cf-$fam"
	done
}

# Control: without the table every forgery is delivered.
run control delivered

expect_rc 0 "apply" hg apply
run closed not_delivered

for addr in 10.77.0.1 fd77::1; do
	cold_neighbours
	expect ok "container reaches allowed tcp 5300 at $addr (listener uid 2000)" probe "$C" tcp "$addr" 5300
	expect ok "container reaches allowed udp 5300 at $addr (listener uid 2000)" probe "$C" udp "$addr" 5300
	expect timeout "container is refused udp 5301 at $addr" probe "$C" udp "$addr" 5301
done
for addr in 10.99.0.2 fd99::2; do
	expect ok "uid $NOBODY on the host talks to R, tcp $addr" probe "$H" tcp "$addr" 7000 "$NOBODY"
	expect ok "uid $NOBODY on the host talks to R, udp $addr" probe "$H" udp "$addr" 7000 "$NOBODY"
	expect ok "the container talks to R through the host, tcp $addr" probe "$C" tcp "$addr" 7000
	expect ok "the container talks to R through the host, udp $addr" probe "$C" udp "$addr" 7000
done

finish
