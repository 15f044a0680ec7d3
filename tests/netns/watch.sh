#!/bin/bash
# Denied attempts show up in 'watch' with the right uid, addresses and ports;
# drop counters go up by exactly what was dropped; 'ifaces' finds bridges
# that container_ifaces misses.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
write_conf <<'CONF'
allowed_uids = 0
log_denied = yes
log_rate = 100/second
CONF
expect_rc 0 "apply with log_denied = yes" hg apply

ip netns exec "$H" "$HG" --config "$CONF" watch --json >"$T/w.json" 2>"$T/w.err" &
wp=$!
PIDS+=("$wp")
for _ in $(seq 50); do grep -q . /proc/$wp/net/netlink 2>/dev/null; sleep 0.05; [ -e "/proc/$wp" ] || break; done
sleep 0.3
# the capabilities of the running watch: CAP_NET_ADMIN (bit 12) only
caps=$(awk '/^Cap(Inh|Prm|Eff|Amb):/ { printf "%s ", $2 }' "/proc/$wp/status")
[ "$caps" = "0000000000000000 0000000000001000 0000000000001000 0000000000000000 " ] &&
	pass "a running watch holds CAP_NET_ADMIN only ($caps)" || fail "watch capabilities: $caps"

expect_rc 1 "a second watch -> 1" hg watch
expect_match "NFLOG group 77 is already bound by another listener" "the second watch says why"

expect timeout "uid 2000 tcp v4 to the container (denied)" probe "$H" tcp 10.77.0.2 9000 2000
expect timeout "uid 2000 tcp v6 to the container (denied)" probe "$H" tcp fd77::2 9000 2000
expect timeout "container tcp v4 to host port 5555 (denied)" probe "$C" tcp 10.77.0.1 5555
expect timeout "container udp v6 to host port 5556 (denied)" probe "$C" udp fd77::1 5556
sleep 0.5
kill -TERM $wp
wait $wp
rc=$?
[ $rc = 0 ] && pass "watch ends cleanly on SIGTERM" || fail "watch exit $rc: $(cat "$T/w.err")"

has() { # has DESCRIPTION JQ-FILTER
	if jq -e -s "$2" "$T/w.json" >/dev/null; then pass "watch: $1"; else fail "watch: $1; got: $(cat "$T/w.json")"; fi
}
has "every line is a JSON object" 'length >= 4 and all(type == "object")'
has "uid 2000 -> [10.77.0.2]:9000 over IPv4, out br-test" \
	'any(.direction == "host_to_container" and .uid == 2000 and .gid == 2000 and .family == "ipv4" and .protocol == "tcp" and .src == "10.77.0.1" and .dst == "10.77.0.2" and .dport == 9000 and .out == "br-test")'
has "uid 2000 -> [fd77::2]:9000 over IPv6" \
	'any(.direction == "host_to_container" and .uid == 2000 and .family == "ipv6" and .dst == "fd77::2" and .dport == 9000)'
has "container 10.77.0.2 -> host 10.77.0.1:5555, in br-test, no uid" \
	'any(.direction == "container_to_host" and .uid == null and .in == "br-test" and .protocol == "tcp" and .src == "10.77.0.2" and .dst == "10.77.0.1" and .dport == 5555)'
has "container fd77::2 -> host [fd77::1]:5556 over udp" \
	'any(.direction == "container_to_host" and .family == "ipv6" and .protocol == "udp" and .src == "fd77::2" and .dport == 5556)'

# SIGINT too, and the text format
ip netns exec "$H" "$HG" --config "$CONF" watch >"$T/w.txt" 2>/dev/null &
wp=$!
PIDS+=("$wp")
sleep 0.5
probe "$H" tcp 10.77.0.2 9000 2000 >/dev/null
sleep 0.3
kill -INT $wp
wait $wp && pass "watch ends cleanly on SIGINT" || fail "watch did not end cleanly on SIGINT"
grep -q 'host->container uid=2000(.*) .*out=br-test tcp 10.77.0.1:[0-9]* -> 10.77.0.2:9000' "$T/w.txt" &&
	pass "text line: direction, uid, interface, addresses and ports" || fail "text: $(cat "$T/w.txt")"

# ---- counters go up by exactly what was dropped (one UDP datagram each)
drops() { hg status --json | jq -r ".counters.$1.dropped_packets, .counters.$1.dropped_bytes" | tr '\n' ' '; }
read -r p0 b0 <<<"$(drops egress)"
expect blocked "uid 2000 udp v4 to the container" probe "$H" udp 10.77.0.2 9000 2000
expect blocked "uid 2000 udp v6 to the container" probe "$H" udp fd77::2 9000 2000
read -r p1 b1 <<<"$(drops egress)"
# 16 bytes of payload: 20+8+16 over IPv4, 40+8+16 over IPv6
[ $((p1 - p0)) = 2 ] && [ $((b1 - b0)) = $((44 + 64)) ] && pass "egress counter: +2 packets, +108 bytes" ||
	fail "egress counter moved by $((p1 - p0)) packets, $((b1 - b0)) bytes"
read -r p0 b0 <<<"$(drops ingress_local)"
expect timeout "container udp v4 to host 5557" probe "$C" udp 10.77.0.1 5557
read -r p1 b1 <<<"$(drops ingress_local)"
[ $((p1 - p0)) = 1 ] && [ $((b1 - b0)) = 44 ] && pass "ingress counter: +1 packet, +44 bytes" ||
	fail "ingress counter moved by $((p1 - p0)) packets, $((b1 - b0)) bytes"

# ---- counters are cumulative: an in-sync apply sends nothing and keeps
# them; reset-counters zeroes them and says since when they count
since0=$(hg status --json | jq -r .counters.egress.since)
[ "$since0" != null ] && [ "$since0" -le "$(date +%s)" ] && pass "status --json: counting since $since0" ||
	fail "status --json: since is $since0"
read -r p1 b1 <<<"$(drops egress)"
expect_rc 0 "apply (in sync)" hg apply --quiet
[ -z "$OUT" ] && pass "apply --quiet says nothing when in sync" || fail "apply --quiet said: $OUT"
read -r p2 b2 <<<"$(drops egress)"
[ "$p2" = "$p1" ] && [ "$b2" = "$b1" ] && pass "an in-sync apply keeps the drop counters" || fail "after apply: $p2 packets, $b2 bytes"
sleep 1
expect_rc 0 "reset-counters" hg reset-counters
read -r p3 b3 <<<"$(drops egress)"
[ "$p3" = 0 ] && [ "$b3" = 0 ] && pass "reset-counters zeroes them" || fail "after reset-counters: $p3 packets, $b3 bytes"
since1=$(hg status --json | jq -r .counters.egress.since)
[ "$since1" -gt "$since0" ] && pass "since moved ($since0 -> $since1)" || fail "since: $since0 -> $since1"
OUT=$(hg status)
expect_match "packets, [0-9]+ bytes since 20[0-9-]+ [0-9:]+ UTC" "status says since when"
expect_rc 0 "check: in sync after the reset" hg check

# ---- logging off: watch says so
printf 'allowed_uids = 0\n' >"$CONF"
hg apply >/dev/null
expect_rc 1 "watch with logging off -> 1" hg watch
expect_match "logging is off in the loaded table" "watch says logging is off"

# ---- ifaces
h ip link add podman0 type bridge
OUT=$(hg ifaces --json)
if printf '%s' "$OUT" | jq -e '(.interfaces[] | select(.name == "podman0") | .kind == "bridge" and .covered == false) and (.interfaces[] | select(.name == "br-test") | .covered) and (.warnings | any(test("podman0")))' >/dev/null; then
	pass "ifaces --json: podman0 is an uncovered bridge, br-test is covered"
else
	fail "ifaces --json: $OUT"
fi
OUT=$(hg status)
expect_match "warning: bridge podman0 is not covered" "status repeats the warning"
OUT=$(hg status --json)
printf '%s' "$OUT" | jq -e '.warnings | any(test("podman0"))' >/dev/null && pass "status --json carries it" || fail "status --json: $OUT"
expect_rc 0 "add-iface podman*" hg add-iface 'podman*'
OUT=$(hg ifaces --json)
printf '%s' "$OUT" | jq -e '(.interfaces[] | select(.name == "podman0") | .covered) and (.warnings == [])' >/dev/null &&
	pass "podman0 covered after add-iface, no warning" || fail "ifaces after add-iface: $OUT"
OUT=$(hg ifaces)
expect_match "^podman0 +bridge +down +yes" "text table shows it covered"

finish
