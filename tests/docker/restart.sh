#!/bin/bash
# dockerd restarted (stopped and started again, containers with it) while a
# uid that is not allowed hammers a container on every path (its IPv4 and
# IPv6 address, the published port on a host address and on loopback):
# not one connection gets through, while Docker tears down and re-creates
# its own rules.  Controls: the same flood gets through without hostguard,
# and an allowed uid's flood gets through during the run.
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # finish prints it
TEST=docker-restart

DOCKERD_OPTS=(--userland-proxy=false --ipv6 --fixed-cidr-v6 fd00:d0c::/64 --experimental --ip6tables)
O="hgt-o-$ID"
netns_new "$H"
uplink_new "$O"
phase "dockerd starting"
docker_start "${DOCKERD_OPTS[@]}"
docker_image
dk_serve c0 --restart always -p 8080:80
C0_4=$(dk_ip c0) C0_6=$(dk_ip6 c0)
wait_reach "$C0_4" 80
wait_reach "$C0_6" 80
phase "container up: $C0_4 $C0_6"

TARGETS=("$C0_4 80" "$C0_6 80" "192.0.2.1 8080" "2001:db8:1::1 8080" "127.0.0.1 8080")

# flood UID ADDR PORT MS: "attempts=N ok=K" of a TCP connect flood, at
# most 500 attempts a second (unpaced, refused attempts spin and starve
# dockerd of CPU)
flood() {
	ip netns exec "$H" setpriv --reuid="$1" --regid="$1" --clear-groups \
		"$PROBE" flood tcp "$2" "$3" --duration "$4" --timeout 1000 --interval 2
}
oks() { sed -n 's/.*ok=\([0-9]*\).*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }
attempts() { sed -n 's/.*attempts=\([0-9]*\).*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }

for t in "${TARGETS[@]}"; do
	read -r addr port <<<"$t"
	flood 2000 "$addr" "$port" 500 >"$T/control"
	n=$(oks "$T/control")
	if [ "$n" -gt 0 ]; then
		pass "control: without hostguard uid 2000's flood gets through to $addr:$port ($n connections)"
	else
		fail "control: without hostguard uid 2000's flood gets through to $addr:$port: $(cat "$T/control")"
	fi
done

write_conf <<'CONF'
allowed_uids = 0, 1001
CONF
expect_rc 0 "apply (allowed_uids = 0, 1001)" hg apply

# hammer UID ADDR PORT FILE: floods of 1 s until $T/stop exists
hammer() {
	while [ ! -e "$T/stop" ]; do
		flood "$1" "$2" "$3" 1000
	done >"$4"
}
i=0
hammers=()
# four hammers per target: a dropped SYN holds one for the whole timeout
# (1 s, so that a connection let through on a loaded machine still counts)
for t in "${TARGETS[@]}"; do
	read -r addr port <<<"$t"
	for k in 1 2 3 4; do
		hammer 2000 "$addr" "$port" "$T/h2000.$i.$k" &
		hammers+=($!)
	done
	i=$((i + 1))
done
hammer 1001 "$C0_4" 80 "$T/h1001.0" &
hammers+=($!)
hammer 1001 192.0.2.1 8080 "$T/h1001.1" &
hammers+=($!)

sleep 1
phase "stopping dockerd under the hammer"
docker_stop
phase "dockerd stopped; starting it again"
docker_start "${DOCKERD_OPTS[@]}"
phase "dockerd up again"
dk_ready c0
phase "c0 serves again"
sleep 3 # Docker's rules are back: keep hammering a while
touch "$T/stop"
for p in "${hammers[@]}"; do
	wait "$p"
done
phase "hammers done"

i=0
for t in "${TARGETS[@]}"; do
	read -r addr port <<<"$t"
	n=$(cat "$T/h2000.$i".* | oks /dev/stdin) a=$(cat "$T/h2000.$i".* | attempts /dev/stdin)
	if [ "$a" -gt 0 ] && [ "$n" = 0 ]; then
		pass "dockerd restart: uid 2000 hammered $addr:$port $a times, 0 connections through"
	else
		fail "dockerd restart: uid 2000 hammered $addr:$port $a times, $n connections through"
	fi
	i=$((i + 1))
done
for j in 0 1; do
	n=$(oks "$T/h1001.$j") a=$(attempts "$T/h1001.$j")
	if [ "$n" -gt 0 ]; then
		pass "control: uid 1001's hammer got through during the run ($n of $a)"
	else
		fail "control: uid 1001's hammer got through during the run ($n of $a)"
	fi
done

[ "$(dk_ip c0)" = "$C0_4" ] || echo "# c0 came back as $(dk_ip c0), not $C0_4"
for t in "$(dk_ip c0) 80" "$(dk_ip6 c0) 80" "192.0.2.1 8080" "2001:db8:1::1 8080" "127.0.0.1 8080"; do
	read -r addr port <<<"$t"
	later "after:$addr:$port:2000" no "after the restart uid 2000 is refused at $addr:$port" probe "$H" tcp "$addr" "$port" 2000
	later "after:$addr:$port:1001" ok "after the restart uid 1001 reaches $addr:$port" probe "$H" tcp "$addr" "$port" 1001
done
judge
expect_rc 0 "check: the table is intact after dockerd's restart" hg check

docker_finish
