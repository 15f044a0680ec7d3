#!/bin/bash
# security.md #30: the anonymous set of from_containers' first rule (found
# by the hostile review of f6b3708).  "icmpv6 type { nd-router-solicit,
# nd-neighbor-solicit, nd-neighbor-advert } accept" looks its type up in a
# set the kernel names (__setN), which check compared by key type, length
# and the first byte of each element that decoded.  A catch-all element
# ("*") or one with an expression of its own (a counter) decodes to none,
# so a tamperer with CAP_NET_ADMIN could replace the rule in place
# (nft replace rule ... handle N) with one that accepts every ICMPv6 type,
# or router advertisements, from the containers, ahead of the anti-spoofing
# rule: check said in sync, apply kept it, an edit blessed it, and a
# container made itself the host's IPv6 default router.  The set is now
# compared whole: definition, elements with their flags, anything foreign.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$H" 0 tcp 8080
write_conf <<CONF
allowed_uids = 0
allow_from_containers_tcp = 8080
CONF
h sysctl -qw net.ipv6.conf.br-test.accept_ra=1 net.ipv6.conf.br-test.forwarding=0 ||
	fail "control: accept_ra on br-test"
ping6_host() { c ping -6 -c1 -W1 fd77::1 >/dev/null 2>&1 && echo ok || echo refused; }
# did the container's advertisement make it the host's default router?
# (the route goes again: with it, apply's safety rail would warn)
ra_taken() {
	local r
	r=$(ra_route "$C" eth0 br-test)
	h ip -6 route flush proto ra 2>/dev/null
	h ip -6 route del default dev br-test 2>/dev/null
	echo "$r"
}
icmp_rule() { h nft -a list chain inet hostguard from_containers | grep 'icmpv6 type'; }

expect_rc 0 "apply" hg apply
expect refused "control: the container's ping6 to the host is dropped" ping6_host
expect ignored "control: the container's router advertisement is dropped" ra_taken
for extra in '*' 'nd-router-advert counter'; do
	name="an extra element '$extra'"
	hd=$(icmp_rule | awk '{print $NF}')
	h nft replace rule inet hostguard from_containers handle "$hd" \
		"icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, $extra } accept" ||
		{ fail "control: nft refused the replacement with $name"; continue; }
	expect taken "control: with $name, the container's advertisement makes it the host's router" ra_taken
	[ "$extra" = '*' ] && expect ok "control: with $name, the container pings the host" ping6_host
	expect_rc 1 "$name: check -> 1" hg check
	expect_match "from_containers" "$name: check names from_containers"
	expect_rc 0 "$name: allow-uid --runtime 4242 after it" hg allow-uid --runtime 4242
	expect_rc 1 "$name: check after the edit is still 1 (the edit blesses nothing)" hg check
	expect_rc 0 "$name: apply" hg apply
	icmp_rule | grep -q -e '\*' -e counter && fail "$name: apply kept the rule: $(icmp_rule)" ||
		pass "$name: apply put hostguard's rule back"
	expect_rc 0 "$name: check after apply -> 0" hg check
	expect ignored "$name: after apply, the advertisement is dropped" ra_taken
	expect refused "$name: after apply, the ping is dropped" ping6_host
	expect ok "$name: after apply, the container reaches the allowed port over IPv6 (neighbour discovery passes)" \
		probe "$C" tcp fd77::1 8080
done
finish
