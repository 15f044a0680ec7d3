#!/bin/bash
# Every path from the host to a real Docker engine's containers, with real
# TCP connects, IPv4 and IPv6:
#   tests/docker/paths.sh dnat    userland-proxy=false, IPv6 with ip6tables:
#                                 published ports are DNAT'd
#   tests/docker/paths.sh proxy   Docker's defaults (userland-proxy on):
#                                 published ports on loopback and on IPv6 are
#                                 served by docker-proxy, a root process
# CONTROL first (no table): uid 2000 reaches every target, so each later
# refusal is hostguard's.  Then with "allowed_uids = 0, 1001": uid 2000 is
# refused, uid 1001 and root reach; hairpin, container -> host (an allowed
# port reached, another refused) and an outside client through the uplink
# keep working as without hostguard; "remove" leaves Docker's own rules
# byte-identical.
#
# Topology:  netns $O (outside) 192.0.2.2 2001:db8:1::2 --eth0==up0-- netns $H
#   $H: dockerd; docker0 172.17.0.1 (dnat: fd00:d0c::1); br-<id> of network
#   hgnet 172.30.77.1 fd00:77:1::1; up0 192.0.2.1 2001:db8:1::1
#   containers: c0 on docker0 (-p 8080:80, -p 127.0.0.1:8888:80),
#               c1 on hgnet (-p 8081:80), cli (docker0) and cli1 (hgnet) clients
MODE=${1:-}
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # finish prints it
TEST="docker-paths-$MODE"

case $MODE in
dnat)
	DOCKERD_OPTS=(--userland-proxy=false --ipv6 --fixed-cidr-v6 fd00:d0c::/64
		--experimental --ip6tables)
	;;
proxy)
	DOCKERD_OPTS=(--userland-proxy=true)
	;;
*)
	echo "usage: $0 dnat|proxy"
	exit 2
	;;
esac
# Known failures of issue #12, as glob patterns over check keys (see lib.sh
# "check"): none since hostguard learns Docker's published ports from the
# Engine API (lib.sh points HOSTGUARD_DOCKER_SOCKET at this dockerd).
# Before that, docker-proxy (a root process) served 127.0.0.1, ::1 and every
# host IPv6 address to uid 2000, and hairpin to docker-proxy was dropped.
XFAIL=${XFAIL-}

O="hgt-o-$ID"
netns_new "$H"
uplink_new "$O"
phase "dockerd starting"
docker_start "${DOCKERD_OPTS[@]}"
phase "dockerd up"
docker_image
dk network create --ipv6 --subnet 172.30.77.0/24 --subnet fd00:77:1::/64 hgnet >/dev/null ||
	{ echo "FAIL: docker network create"; exit 1; }
dk_serve_bg c0 -p 8080:80 -p 127.0.0.1:8888:80 &
dk_serve_bg c1 --network hgnet -p 8081:80 &
dk_serve_bg cli &
dk_serve_bg cli1 --network hgnet &
wait_jobs
dk_ready c0 c1 cli cli1
BR="br-$(dk network inspect -f '{{.Id}}' hgnet | cut -c1-12)"
h ip link show "$BR" >/dev/null 2>&1 || { echo "FAIL: no bridge $BR for hgnet"; exit 1; }
phase "containers up"
# host services for container -> host: 9101 allowed below, 9100 not
serve "$H" 0 tcp 9100
serve "$H" 0 tcp 9101

C0_4=$(dk_ip c0) C0_6=$(dk_ip6 c0)
C1_4=$(dk_ip c1 hgnet) C1_6=$(dk_ip6 c1 hgnet)
echo "# $MODE: c0 $C0_4 ${C0_6:-(no IPv6)}, c1 on $BR $C1_4 $C1_6"
for a in $C0_4 $C0_6 $C1_4 $C1_6; do
	wait_reach "$a" 80
done

# TARGETS: "key addr port" reached from the host
TARGETS=("c0-v4 $C0_4 80" "c1-v4 $C1_4 80" "c1-v6 $C1_6 80")
[ -n "$C0_6" ] && TARGETS+=("c0-v6 $C0_6 80")
# published 8080 and 8081 on every host address (link-local aside), and the
# loopback-only 127.0.0.1:8888
for a in $(h ip -o addr show | awk '{ split($4, a, "/"); print a[1] }' | grep -v '^fe80:'); do
	TARGETS+=("pub-$a-8080 $a 8080" "pub-$a-8081 $a 8081")
done
TARGETS+=("pub-127.0.0.1-8888 127.0.0.1 8888")

# host_probe UID ADDR PORT
host_probe() { probe "$H" tcp "$2" "$3" "$1"; }

# CONTROL: without hostguard, uid 2000 reaches every target.  A target that
# Docker does not serve at all in this mode is left out (and said so).
i=0
ctl=()
for t in "${TARGETS[@]}"; do
	read -r key addr port <<<"$t"
	host_probe 2000 "$addr" "$port" >"$T/control.$i" 2>&1 &
	ctl+=($!)
	i=$((i + 1))
done
for p in "${ctl[@]}"; do
	wait "$p"
done
LIVE=()
i=0
for t in "${TARGETS[@]}"; do
	read -r key addr port <<<"$t"
	got=$(head -n 1 "$T/control.$i")
	i=$((i + 1))
	if [ "$got" = ok ]; then
		pass "control: uid 2000 reaches $addr:$port without hostguard [$key]"
		LIVE+=("$t")
	else
		echo "# $MODE: Docker does not serve $addr:$port here even without hostguard ($got) [$key]"
	fi
done
# what Docker must serve in both modes, so that the list above cannot
# quietly shrink
for must in c0-v4 c1-v4 c1-v6 pub-127.0.0.1-8080 pub-192.0.2.1-8080 pub-2001:db8:1::1-8080 \
	pub-127.0.0.1-8888 pub-192.0.2.1-8081 pub-2001:db8:1::1-8081 pub-172.17.0.1-8080; do
	printf '%s\n' "${LIVE[@]}" | grep -q "^$must " || fail "control: Docker serves $must"
done
[ "$MODE" = proxy ] && for must in pub-::1-8080 pub-::1-8081; do
	printf '%s\n' "${LIVE[@]}" | grep -q "^$must " || fail "control: docker-proxy serves $must"
done

# Container and outside paths: "key client addr port"; client is a
# container name or "outside".  (Docker isolates its networks from each
# other: cli1 on hgnet reaches c0's 8080 through docker-proxy only.)
PATHS=(
	"hairpin-docker0-v4 cli 192.0.2.1 8080"
	"hairpin-docker0-gw cli 172.17.0.1 8080"
	"hairpin-self-v4 c0 192.0.2.1 8080"
	"hairpin-hgnet-v4 cli1 192.0.2.1 8081"
	"hairpin-hgnet-v6 cli1 2001:db8:1::1 8081"
	"to-host-allowed-v4 cli 172.17.0.1 9101"
	"to-host-allowed-hgnet-v6 cli1 fd00:77:1::1 9101"
	"outside-v4 outside 192.0.2.1 8080"
	"outside-v6 outside 2001:db8:1::1 8080"
	"outside-v4-8081 outside 192.0.2.1 8081"
	"outside-v6-8081 outside 2001:db8:1::1 8081"
)
[ -n "$C0_6" ] && PATHS+=("hairpin-docker0-v6 cli 2001:db8:1::1 8080")
[ "$MODE" = proxy ] && PATHS+=(
	"hairpin-proxy-cross-v4 cli1 192.0.2.1 8080"
	"hairpin-proxy-cross-v6 cli1 2001:db8:1::1 8080"
)
# container -> host on a port that is not allowed: refused with hostguard
DENIED=(
	"to-host-denied-v4 cli 172.17.0.1 9100"
	"to-host-denied-up0 cli 192.0.2.1 9100"
	"to-host-denied-hgnet-v6 cli1 fd00:77:1::1 9100"
)
path_probe() { # path_probe CLIENT ADDR PORT
	if [ "$1" = outside ]; then
		probe "$O" tcp "$2" "$3"
	else
		dk_probe "$1" tcp "$2" "$3"
	fi
}
for t in "${PATHS[@]}" "${DENIED[@]}"; do
	read -r key client addr port <<<"$t"
	later "control-$key" ok "control: $client reaches $addr:$port without hostguard" path_probe "$client" "$addr" "$port"
done
judge

phase "controls done"
before=$(ruleset_without_ours)

write_conf <<'CONF'
allowed_uids = 0, 1001
allow_from_containers_tcp = 9101
CONF
expect_rc 0 "apply (allowed_uids = 0, 1001)" hg apply

for t in "${LIVE[@]}"; do
	read -r key addr port <<<"$t"
	later "$key:2000" no "uid 2000 is refused at $addr:$port" host_probe 2000 "$addr" "$port"
	later "$key:1001" ok "uid 1001 reaches $addr:$port" host_probe 1001 "$addr" "$port"
	later "$key:0" ok "root reaches $addr:$port" host_probe 0 "$addr" "$port"
done
for t in "${PATHS[@]}"; do
	read -r key client addr port <<<"$t"
	later "$key" ok "$client still reaches $addr:$port" path_probe "$client" "$addr" "$port"
done
for t in "${DENIED[@]}"; do
	read -r key client addr port <<<"$t"
	later "$key" no "$client is refused at the host's $addr:$port" path_probe "$client" "$addr" "$port"
done
judge

phase "checks done"
expect_rc 0 "remove" hg remove
after=$(ruleset_without_ours)
if [ "$before" = "$after" ]; then
	pass "remove leaves Docker's rules byte-identical (nft -s -a, $(printf '%s\n' "$before" | wc -l) lines)"
else
	fail "remove changed Docker's rules:"
	diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 20
fi
expect ok "after remove uid 2000 reaches $C0_4:80 again" host_probe 2000 "$C0_4" 80

docker_finish
