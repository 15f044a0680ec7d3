#!/bin/bash
# A published port DNAT'd to a container (Docker with userland-proxy off) is
# still a container port: uid 2000 is refused through it, uid 1001 not.
# The egress chain hooks postrouting, where the real output device is known.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
# like Docker's DOCKER chain in nat OUTPUT: host address:8080 -> container:9000
h nft -f - <<'NFT'
table ip dockerlike {
	chain output {
		type nat hook output priority -100; policy accept;
		ip daddr 198.18.0.1 tcp dport 8080 dnat to 10.77.0.2:9000
		ip daddr 198.18.0.1 udp dport 8080 dnat to 10.77.0.2:9000
	}
}
table ip6 dockerlike6 {
	chain output {
		type nat hook output priority -100; policy accept;
		ip6 daddr 2001:db8:77::1 tcp dport 8080 dnat to [fd77::2]:9000
	}
}
NFT

expect ok "no table: uid 2000 reaches the published port" probe "$H" tcp 198.18.0.1 8080 2000

write_conf <<'CONF'
allowed_uids = 0, 1001
CONF
expect_rc 0 "apply (defaults but uids)" hg apply

for addr in 198.18.0.1 2001:db8:77::1; do
	cold_neighbours
	# from a cold neighbour cache on a loaded machine the first SYN can
	# wait for discovery: give the allowed connect time (a drop stays a drop)
	PROBE_TIMEOUT=3000 expect ok "uid 1001 reaches the published port $addr:8080" probe "$H" tcp "$addr" 8080 1001
	expect timeout "uid 2000 is refused at the published port $addr:8080" probe "$H" tcp "$addr" 8080 2000
done
expect ok "uid 1001 reaches the published udp port" probe "$H" udp 198.18.0.1 8080 1001
expect blocked "uid 2000 is refused at the published udp port" probe "$H" udp 198.18.0.1 8080 2000

finish
