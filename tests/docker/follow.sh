#!/bin/bash
# hostguard follow against a real dockerd (Docker's defaults: userland-proxy
# on, so published ports on loopback and IPv6 are served by docker-proxy, a
# root process):
#   - CONTROL: with the config's table alone (no Docker awareness) uid 2000
#     reaches a published port on 127.0.0.1, ::1 and the host's IPv6
#     address, and a container on a custom-named bridge;
#   - follow running: a container started later with -p 127.0.0.1:8888:80
#     and -p 8889:80 is covered within 2 s (measured): uid 2000 refused on
#     every local address, uid 1001 and root reach, an outside client too;
#     a custom-named bridge network gets covered; check agrees; stopping the
#     container takes its ports out;
#   - dockerd restarted: follow reconnects and keeps syncing;
#   - idle: no CPU; memory flat over FOLLOW_CYCLES start/stop cycles;
#   - a fake Docker socket answering garbage, closing mid-stream or hanging:
#     a clear warning or a reconnect, no crash, the config's table intact;
#   - SIGTERM and SIGINT exit 0.
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # finish prints it
TEST="docker-follow"
CYCLES=${FOLLOW_CYCLES:-2}
# this test names its sockets in its configs (the fake ones too)
unset HOSTGUARD_DOCKER_SOCKET

O="hgt-o-$ID"
F="hgt-f-$ID"
netns_new "$H"
uplink_new "$O"
phase "dockerd starting"
docker_start --userland-proxy=true
docker_image
phase "dockerd up"

# a custom-named bridge: no default pattern (br-*, docker0, veth*...) covers it
CB="hgtcb$((RANDOM % 10000))"
write_conf <<CONF
allowed_uids = 0, 1001
docker_socket = $DK_SOCK
CONF

host_probe() { probe "$H" tcp "$2" "$3" "$1"; } # host_probe UID ADDR PORT
# the published ports, as "addr port", on the local addresses docker-proxy
# serves them on (a host IPv4 address like 192.0.2.1 is DNAT'd to the
# container by Docker's OUTPUT rule, a path the config's table closes
# already: tests/docker/paths.sh)
PUB=("127.0.0.1 8888" "127.0.0.1 8889" "::1 8889" "2001:db8:1::1 8889")

# set_has SET VALUE: is VALUE (a port, inside a range too, or an interface
# name) an element of the live set (nft and jq only inspect)
set_has() {
	h nft -j list set inet hostguard "$1" 2>/dev/null | jq -e --arg v "$2" '
		[.nftables[] | .set? | select(.) | .elem[]?] |
		any(. == $v or (($v | tonumber? // null) as $n | $n != null and
			(. == $n or (type == "object" and .range != null and
				.range[0] <= $n and $n <= .range[1]))))' >/dev/null
}
# wait_set SET VALUE present|absent: milliseconds until it holds, or "timeout" (10 s)
wait_set() {
	local t0 _ ok
	t0=$(date +%s%N)
	for _ in $(seq 500); do
		ok=no
		set_has "$1" "$2" && ok=yes
		if { [ "$3" = present ] && [ $ok = yes ]; } || { [ "$3" = absent ] && [ $ok = no ]; }; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.02
	done
	echo timeout
}
# within_2s DESCRIPTION MS
within_2s() {
	if [ "$2" != timeout ] && [ "$2" -le 2000 ]; then
		pass "$1 within 2 s ($2 ms)"
	else
		fail "$1 within 2 s (took ${2} ms)"
	fi
}

# ---- CONTROL: the config alone (Docker awareness off) leaves these open --
dk network create -o "com.docker.network.bridge.name=$CB" cbnet >/dev/null ||
	{ echo "FAIL: docker network create cbnet"; exit 1; }
dk_serve web1 -p 127.0.0.1:8888:80 -p 8889:80
dk_serve cb1 --network cbnet
CB_IP=$(dk_ip cb1 cbnet)
wait_reach "$CB_IP" 80
expect_rc 0 "apply without Docker awareness (HOSTGUARD_DOCKER_SOCKET=none)" \
	env HOSTGUARD_DOCKER_SOCKET=none ip netns exec "$H" "$HG" --config "$CONF" apply
for t in "${PUB[@]}"; do
	read -r addr port <<<"$t"
	later f ok "control: uid 2000 reaches $addr:$port (docker-proxy) with the config's table alone" host_probe 2000 "$addr" "$port"
done
later f ok "control: uid 2000 reaches $CB_IP:80 on custom bridge $CB with the config's table alone" host_probe 2000 "$CB_IP" 80
judge
dk rm -f web1 cb1 >/dev/null
dk network rm cbnet >/dev/null
phase "controls done"

# ---- follow ----------------------------------------------------------------
follow_start "$DK_SOCK" "follow starts and applies"

dk_serve_bg web1 -p 127.0.0.1:8888:80 -p 8889:80
ms=$(wait_set published_tcp 8888 present)
ms2=$(wait_set published_tcp 8889 present)
within_2s "follow: published_tcp gets 8888 after docker run returned" "$ms"
within_2s "follow: published_tcp has 8889 too" "$ms2"
echo "# follow delay (docker run returned -> port in the set): $ms ms"
dk_ready web1
for t in "${PUB[@]}"; do
	read -r addr port <<<"$t"
	later f no "uid 2000 is refused at $addr:$port" host_probe 2000 "$addr" "$port"
	later f ok "uid 1001 reaches $addr:$port" host_probe 1001 "$addr" "$port"
	later f ok "root reaches $addr:$port" host_probe 0 "$addr" "$port"
done
later f ok "outside client reaches 192.0.2.1:8889" probe "$O" tcp 192.0.2.1 8889
later f ok "outside client reaches [2001:db8:1::1]:8889" probe "$O" tcp 2001:db8:1::1 8889
judge
expect ok "follow printed '+ published_tcp 8889 (container web1)'" \
	sh -c "grep -qx '+ published_tcp 8889 (container web1)' '$T/follow.out' && echo ok"

# a custom-named bridge created while follow runs
dk network create -o "com.docker.network.bridge.name=$CB" cbnet >/dev/null
ms=$(wait_set container_ifaces "$CB" present)
within_2s "follow: container_ifaces gets custom bridge $CB" "$ms"
dk_serve cb1 --network cbnet
CB_IP=$(dk_ip cb1 cbnet)
later f no "uid 2000 is refused at $CB_IP:80 on $CB" host_probe 2000 "$CB_IP" 80
later f ok "uid 1001 reaches $CB_IP:80 on $CB" host_probe 1001 "$CB_IP" 80
judge
expect_rc 0 "check: the table matches config + Docker" hg check
# follow's applies are recorded as hostguard's own: a runtime edit on top is
# told apart (exit 3), and follow's next apply drops it
expect_rc 0 "allow-uid --runtime 4321 while follow runs" hg allow-uid --runtime 4321
expect_rc 3 "check: runtime entries only on top of follow's table -> 3" hg check

# stop: the ports leave the set
dk stop web1 >/dev/null
ms=$(wait_set published_tcp 8889 absent)
within_2s "follow: 8889 leaves published_tcp after docker stop" "$ms"
expect ok "follow printed '- published_tcp 8888 (container web1)'" \
	sh -c "grep -qx -- '- published_tcp 8888 (container web1)' '$T/follow.out' && echo ok"
expect ok "follow's apply dropped the runtime uid ('- allowed_uids 4321' is gone from the table)" \
	sh -c "ip netns exec '$H' nft list set inet hostguard allowed_uids | grep -qw 4321 && echo still || echo ok"
expect_rc 0 "check after follow's apply: in sync" hg check
phase "follow basic done"

# ---- idle CPU and memory over start/stop cycles ---------------------------
cpu() { awk '{ print $14 + $15 }' "/proc/$FOLLOW/stat"; }
c0=$(cpu)
sleep 5
c1=$(cpu)
if [ $((c1 - c0)) -le 1 ]; then
	pass "idle: follow used $((c1 - c0)) clock ticks in 5 s"
else
	fail "idle: follow used $((c1 - c0)) clock ticks in 5 s"
fi
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$FOLLOW/status"; }
[ "$(readlink "/proc/$FOLLOW/exe")" = "$(readlink -f "$HG")" ] ||
	fail "measuring $(readlink "/proc/$FOLLOW/exe"), not hostguard"
# NPAR containers started and killed in parallel per cycle (one at a time,
# 1,000 events would take many minutes)
NPAR=10
for i in $(seq "$NPAR"); do
	dk create --name "cyc$i" --init -p "$((7000 + i)):80" "$DK_IMAGE" /bin/sleep 1000 >/dev/null &
done
wait_jobs
cycle() {
	local i
	for i in $(seq "$NPAR"); do dk start "cyc$i" >/dev/null & done
	wait_jobs
	for i in $(seq "$NPAR"); do dk kill "cyc$i" >/dev/null & done
	wait_jobs
}
# two to warm up: the first answers with many containers grow curl's and
# malloc's buffers once (up to a few hundred kB, not per event)
cycle
cycle
sleep 0.5
r0=$(rss)
# count the events as Docker streams them (its --since replay keeps only
# the last 256)
DOCKER_HOST="unix://$DK_SOCK" "$DOCKER_CLI" events --filter type=container --format '{{.Action}}' >"$T/events" 2>&1 &
evpid=$!
PIDS+=("$evpid")
sleep 0.3
t0=$(date +%s%N)
for _ in $(seq "$CYCLES"); do
	cycle
done
sleep 0.5
r1=$(rss)
t1=$(date +%s%N)
kill "$evpid"
nev=$(wc -l <"$T/events")
echo "# $CYCLES cycles of $NPAR containers started and killed: $nev container events in $(((t1 - t0) / 1000000)) ms; follow RSS $r0 kB -> $r1 kB"
if [ "$nev" -ge $((CYCLES * NPAR * 2)) ]; then
	pass "$nev container events sent to follow"
else
	fail "only $nev container events in $CYCLES cycles"
fi
# (valgrind finds no leak; over 1,000 events, FOLLOW_CYCLES=34, RSS grew
# 68 kB, the same as over 900: a leak of even 1 kB per event would show)
if [ $((r1 - r0)) -le 1024 ]; then
	pass "memory flat over $nev events (RSS $r0 -> $r1 kB)"
else
	fail "memory grew over $nev events (RSS $r0 -> $r1 kB)"
fi
ms=$(wait_set published_tcp 7001 absent)
[ "$ms" != timeout ] && pass "after the cycles no cycle port is left in published_tcp" ||
	fail "port 7001 still in published_tcp after the cycles"
for i in $(seq "$NPAR"); do dk rm -f "cyc$i" >/dev/null & done
wait_jobs
phase "cycles done"

# ---- dockerd restart --------------------------------------------------------
docker_stop
sleep 0.5
kill -0 "$FOLLOW" 2>/dev/null && pass "follow survives dockerd stopping" || fail "follow died with dockerd"
docker_start --userland-proxy=true
dk_serve_bg web2 -p 127.0.0.1:9999:80
ms=$(wait_set published_tcp 9999 present)
within_2s "after the dockerd restart a new container's port is in published_tcp" "$ms"
dk_ready web2
later f no "uid 2000 is refused at 127.0.0.1:9999 after the restart" host_probe 2000 127.0.0.1 9999
later f ok "root reaches 127.0.0.1:9999 after the restart" host_probe 0 127.0.0.1 9999
judge
expect ok "follow said it reconnected" sh -c "for i in \$(seq 50); do grep -q 'connected to Docker at' '$T/follow.out' && echo ok && exit; sleep 0.1; done"
phase "restart done"

# ---- SIGTERM --------------------------------------------------------------
kill -TERM "$FOLLOW"
wait "$FOLLOW"
rc=$?
[ "$rc" = 0 ] && pass "SIGTERM: follow exits 0" || fail "SIGTERM: follow exited $rc"
expect_rc 0 "the table stays after follow exits" hg check
echo "# follow's output:"
sed 's/^/#   /' "$T/follow.out"

# ---- fake Docker sockets, in a namespace of their own ------------------------
netns_new "$F"
FCONF="$T/fake.conf"
cat >"$T/fake.py" <<'PY'
import os, socket, sys, time
path, mode, log = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
EV = b'{"Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{"name":"fake1"}}}\n'
while True:
    c, _ = s.accept()
    req = c.recv(65536)
    with open(log, 'a') as f:
        f.write(req.split(b'\r\n')[0].decode(errors='replace') + '\n')
    try:
        if mode == 'garbage':
            c.sendall(b'\x00\x01GARBAGE\r\n\r\nthis is no HTTP\n')
        elif mode == 'badjson':
            body = b'{"Ports": [ nope'
            c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
        elif mode == 'hang':
            time.sleep(30)
        elif mode == 'midstream':
            if b'/events' in req:
                c.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
                c.sendall(b'%x\r\n' % len(EV) + EV + b'\r\n')
                time.sleep(0.2)
                c.sendall(b'40\r\n{"Type":"conta')      # cut in the middle
            else:
                c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]')
    except OSError:
        pass
    c.close()
PY
# fake MODE: a fake socket $T/fake-MODE.sock; its request log $T/fake-MODE.log
fake() {
	python3 "$T/fake.py" "$T/fake-$1.sock" "$1" "$T/fake-$1.log" &
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -S "$T/fake-$1.sock" ] && return 0
		sleep 0.05
	done
	echo "FAIL: fake docker socket $1"
	exit 1
}
fhg() { ip netns exec "$F" "$HG" --config "$FCONF" "$@"; }
fconf() { printf 'allowed_uids = 0, 1001\nallow_from_containers_tcp = 53\ndocker_socket = %s\n' "$T/fake-$1.sock" >"$FCONF"; }

for mode in garbage badjson midstream; do
	fake "$mode"
	fconf "$mode"
	ip netns exec "$F" "$HG" --config "$FCONF" follow >"$T/ffollow.$mode" 2>&1 &
	fpid=$!
	sleep 2.5
	if kill -0 "$fpid" 2>/dev/null; then
		pass "fake $mode socket: follow keeps running"
	else
		wait "$fpid"
		fail "fake $mode socket: follow exited $?: $(head -n 3 "$T/ffollow.$mode")"
	fi
	n=$(grep -c '/events' "$T/fake-$mode.log")
	[ "$n" -ge 2 ] && pass "fake $mode socket: follow reconnects ($n /events requests in 2.5 s)" ||
		fail "fake $mode socket: $n /events requests in 2.5 s"
	nw=$(grep -c 'warning' "$T/ffollow.$mode")
	if [ "$nw" -ge 1 ] && [ "$nw" -le 3 ]; then
		pass "fake $mode socket: $nw clear warning line(s): $(grep -m1 warning "$T/ffollow.$mode")"
	else
		fail "fake $mode socket: $nw warning lines: $(head -n 5 "$T/ffollow.$mode")"
	fi
	expect_rc 0 "fake $mode socket: the table is the config's, whole" \
		env HOSTGUARD_DOCKER_SOCKET=none ip netns exec "$F" "$HG" --config "$FCONF" check
	kill -INT "$fpid"
	wait "$fpid"
	rc=$?
	[ "$rc" = 0 ] && pass "fake $mode socket: SIGINT exits 0" || fail "fake $mode socket: SIGINT exit $rc"
done
grep -q "not HTTP" "$T/ffollow.garbage" && pass "garbage: the warning says the answer is not HTTP" ||
	fail "garbage: $(head -n 2 "$T/ffollow.garbage")"
grep -q "not JSON" "$T/ffollow.badjson" && pass "bad JSON: the warning says the answer is not JSON" ||
	fail "bad JSON: $(head -n 2 "$T/ffollow.badjson")"

# apply (the repair timer's, say) while Docker answers garbage: the live
# table keeps what it learned from Docker (web2's 9999 in $H), no hole
expect_rc 0 "apply with a broken Docker socket exits 0" \
	env HOSTGUARD_DOCKER_SOCKET="$T/fake-garbage.sock" ip netns exec "$H" "$HG" --config "$CONF" apply
case $OUT in
*warning*"not HTTP"*keeping*) pass "apply with a broken socket warns and keeps the live entries: $(echo "$OUT" | grep warning)" ;;
*) fail "apply with a broken socket: $OUT" ;;
esac
if set_has published_tcp 9999; then
	pass "published_tcp still holds 9999 after that apply"
else
	fail "apply with a broken Docker socket dropped 9999 from published_tcp"
fi
if set_has container_ifaces "$CB"; then
	pass "container_ifaces still holds $CB after that apply"
else
	fail "apply with a broken Docker socket dropped $CB from container_ifaces"
fi
later f no "uid 2000 is still refused at 127.0.0.1:9999" host_probe 2000 127.0.0.1 9999
later f ok "root still reaches 127.0.0.1:9999" host_probe 0 127.0.0.1 9999
judge

# one-shot apply against a hanging daemon: a warning after the timeout, the
# config applied
fake hang
fconf hang
t0=$(date +%s%N)
expect_rc 0 "apply with a hanging Docker socket exits 0 (config applied)" fhg apply
echo "# apply against a hanging socket took $((($(date +%s%N) - t0) / 1000000)) ms"
case $OUT in
*warning*"no answer in time"*) pass "apply with a hanging socket warns: $(echo "$OUT" | grep warning)" ;;
*) fail "apply with a hanging socket: $OUT" ;;
esac
expect_rc 0 "hanging socket: the table is the config's" \
	env HOSTGUARD_DOCKER_SOCKET=none ip netns exec "$F" "$HG" --config "$FCONF" check

# no Docker at all: silent, the config alone
printf 'allowed_uids = 0\ndocker_socket = %s\n' "$T/no-such.sock" >"$FCONF"
expect_rc 0 "apply with no Docker socket" fhg apply
case $OUT in
*warning*) fail "no Docker socket: apply warned: $OUT" ;;
*) pass "no Docker socket: apply says nothing about Docker" ;;
esac

docker_finish
