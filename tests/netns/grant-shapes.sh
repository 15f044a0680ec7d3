#!/bin/bash
# Grants by shape: one address and one port (hash set grant_*_port), one
# address and every port (hash set grant_*_addr), a port range and a prefix
# (the interval set grant_*), for a uid and a gid, IPv4 and IPv6: each lets
# its principal through where granted and not one port or address beside
# it; --for in a hash set expires; revoking each shape closes it.  The
# previous release's layout (every grant in the interval set) is brought to
# the new one by one apply while the granted uid keeps connecting; an
# element someone adds to the wrong set is named by check and moved by
# apply, and revoked wherever it is.
#
#   uid 2001, and gid 3100 (as the stranger, uid 2003), each granted:
#     .3 / ::3 every port (addr)   .5 / ::5 port 9000 (port)
#     .7 / ::7 ports 9000-9001     .16/30 / ::10/126 every port (prefix)
. "$(dirname "$0")/lib.sh"

U=2001 G=3100 STRANGER=2003
topo_basic
for i in 3 4 5 6 7 17 20 8 9; do
	c ip addr add 10.77.0.$i/24 dev eth0
	c ip addr add fd77::$i/64 dev eth0 nodad
done
c ip addr add fd77::11/64 dev eth0 nodad
c ip addr add fd77::14/64 dev eth0 nodad
for port in 9000 9001 9002; do
	serve "$C" 0 tcp $port
done
wait_v6 "$H" fd77::14

# pu/pg ADDR PORT: a connection as the granted uid / as the stranger in the granted group
pu() { probe "$H" tcp "$1" "$2" "$U"; }
pg() { probe "$H" tcp "$1" "$2" "$STRANGER" "$G"; }

# Control: without the table every probe below gets through.
for a in 10.77.0.4 10.77.0.20 fd77::4 fd77::14; do
	expect ok "no table: the stranger reaches $a" pg $a 9002
done

write_conf <<CONF
allowed_uids = 0
grant_uids = $U@10.77.0.3, $U@10.77.0.5:9000, $U@10.77.0.7:9000-9001, $U@10.77.0.16/30, $U@[fd77::3], $U@[fd77::5]:9000, $U@[fd77::7]:9000-9001, $U@fd77::10/126
grant_gids = $G@10.77.0.3, $G@10.77.0.5:9000, $G@10.77.0.7:9000-9001, $G@10.77.0.16/30, $G@[fd77::3], $G@[fd77::5]:9000, $G@[fd77::7]:9000-9001, $G@fd77::10/126
CONF
expect_rc 0 "apply with grants of every shape" hg apply
expect_rc 0 "check: in sync" hg check
# each element in the set of its shape
in_set() { h nft list set inet hostguard "$1" | grep -qF -- "$2" && echo yes || echo no; }
expect yes "grant_uids4_addr holds $U . 10.77.0.3" in_set grant_uids4_addr "$U . 10.77.0.3 "
expect yes "grant_uids4_port holds $U . 10.77.0.5 . 9000" in_set grant_uids4_port "$U . 10.77.0.5 . 9000"
expect yes "grant_uids4 holds the port range" in_set grant_uids4 "$U . 10.77.0.7 . 9000-9001"
expect yes "grant_uids4 holds the prefix" in_set grant_uids4 "$U . 10.77.0.16/30 . 0-65535"
expect no "grant_uids4 holds no one-address grant" in_set grant_uids4 "10.77.0.5 . 9000"
expect yes "grant_gids6_addr holds $G . fd77::3" in_set grant_gids6_addr "$G . fd77::3 "
expect yes "grant_gids6_port holds $G . fd77::5 . 9000" in_set grant_gids6_port "$G . fd77::5 . 9000"
OUT=$(hg status --json)
n=$(printf '%s' "$OUT" | jq '.grants | length')
[ "$n" = 16 ] && pass "status --json lists the 16 grants as one list" || fail "status --json lists $n grants"

shapes() { # shapes WHO P4 P6: every shape, granted and beside it
	local who=$1 p=$2 n
	for n in 10.77.0 fd77:; do
		local s=.
		[ "$n" = fd77: ] && s=:
		local a3=$n$s"3" a4=$n$s"4" a5=$n$s"5" a6=$n$s"6" a7=$n$s"7" in=$n$s"17" out=$n$s"20"
		[ "$n" = fd77: ] && in=fd77::11 out=fd77::14
		expect ok "$who: address grant, $a3 port 9000" "$p" "$a3" 9000
		expect ok "$who: address grant, $a3 port 9002 (every port)" "$p" "$a3" 9002
		expect timeout "$who: the address beside it, $a4, refused" "$p" "$a4" 9000
		expect ok "$who: address:port grant, $a5 port 9000" "$p" "$a5" 9000
		expect timeout "$who: the port beside it, $a5 port 9001, refused" "$p" "$a5" 9001
		expect timeout "$who: the address beside it, $a6 port 9000, refused" "$p" "$a6" 9000
		expect ok "$who: port range grant, $a7 port 9001" "$p" "$a7" 9001
		expect timeout "$who: the port beside the range, $a7 port 9002, refused" "$p" "$a7" 9002
		expect ok "$who: prefix grant, $in port 9002" "$p" "$in" 9002
		expect timeout "$who: the address beside the prefix, $out, refused" "$p" "$out" 9000
	done
}
shapes "uid $U" pu
shapes "gid $G" pg
expect timeout "the stranger in his own group reaches nothing" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect timeout "uid $U in its own group: no gid grant to ::5 port 9001 either" pu fd77::5 9001

# --for in the hash sets: in force, then expired by the kernel
expect_rc 0 "allow-uid --to 10.77.0.8:9000 --for 2s (hash set _port)" hg allow-uid $STRANGER --to 10.77.0.8:9000 --for 2s
expect_rc 0 "allow-uid --to [fd77::9] --for 2s (hash set _addr)" hg allow-uid $STRANGER --to '[fd77::9]' --for 2s
expect yes "the --for element is in grant_uids4_port" in_set grant_uids4_port "$STRANGER . 10.77.0.8 . 9000 timeout"
expect yes "the --for element is in grant_uids6_addr" in_set grant_uids6_addr "$STRANGER . fd77::9 timeout"
expect ok "--for: the stranger reaches 10.77.0.8:9000" probe "$H" tcp 10.77.0.8 9000 $STRANGER
expect ok "--for: the stranger reaches [fd77::9]:9001" probe "$H" tcp fd77::9 9001 $STRANGER
expect_rc 0 "check: runtime grants are no difference" hg check
for _ in $(seq 40); do
	[ "$(in_set grant_uids4_port "$STRANGER . ")$(in_set grant_uids6_addr "$STRANGER . ")" = nono ] && break
	sleep 0.25
done
expect no "the kernel removed the expired _port element" in_set grant_uids4_port "$STRANGER . "
expect no "the kernel removed the expired _addr element" in_set grant_uids6_addr "$STRANGER . "
expect timeout "expired: the stranger is refused at 10.77.0.8:9000" probe "$H" tcp 10.77.0.8 9000 $STRANGER
expect timeout "expired: the stranger is refused at [fd77::9]:9001" probe "$H" tcp fd77::9 9001 $STRANGER

# an element in the wrong set: a copy of the _port grant in the interval set
h nft add element inet hostguard grant_uids4 "{ $U . 10.77.0.5 . 9000 }"
expect_rc 1 "check: a copy in the interval set" hg check
expect_match "grant_uids: $U@10\\.77\\.0\\.5:9000 is in set grant_uids4 too" "check names the copy and its set"
expect_rc 0 "apply repairs" hg apply
expect no "apply removed the copy from grant_uids4" in_set grant_uids4 "10.77.0.5 . 9000"
expect yes "and kept the one in grant_uids4_port" in_set grant_uids4_port "$U . 10.77.0.5 . 9000"
expect ok "uid $U still reaches 10.77.0.5:9000" pu 10.77.0.5 9000
# moved: only in the interval set
h nft delete element inet hostguard grant_gids6_addr "{ $G . fd77::3 }"
h nft add element inet hostguard grant_gids6 "{ $G . fd77::3 . 0-65535 }"
expect ok "misplaced (control): the interval set still grants gid $G [fd77::3]" pg fd77::3 9000
expect_rc 1 "check: a grant in another set than its shape's" hg check
expect_match "grant_gids: $G@fd77::3 is in set grant_gids6, hostguard keeps it in set grant_gids6_addr" \
	"check names where it is and where it belongs"
expect_rc 0 "apply moves it" hg apply
expect yes "now in grant_gids6_addr" in_set grant_gids6_addr "$G . fd77::3 "
expect no "no longer in grant_gids6" in_set grant_gids6 "fd77::3 . 0-65535"
expect_rc 0 "check: in sync" hg check
# revoked where it is, whichever set that is
h nft delete element inet hostguard grant_uids4_addr "{ $U . 10.77.0.3 }"
h nft add element inet hostguard grant_uids4 "{ $U . 10.77.0.3 . 0-65535 }"
expect_rc 0 "revoke-uid --to 10.77.0.3 (held in the interval set)" hg revoke-uid $U --to 10.77.0.3
expect timeout "revoked: uid $U refused at 10.77.0.3" pu 10.77.0.3 9000
expect no "the element is gone from grant_uids4" in_set grant_uids4 "10.77.0.3 . 0-65535"

# revoking each shape, uid and gid, v4 and v6
expect_rc 0 "revoke-uid every remaining shape" hg revoke-uid $U --to 10.77.0.5:9000 --to 10.77.0.7:9000-9001 \
	--to 10.77.0.16/30 --to '[fd77::3]' --to '[fd77::5]:9000' --to '[fd77::7]:9000-9001' --to fd77::10/126
expect_rc 0 "revoke-gid every shape" hg revoke-gid $G --to 10.77.0.3 --to 10.77.0.5:9000 --to 10.77.0.7:9000-9001 \
	--to 10.77.0.16/30 --to '[fd77::3]' --to '[fd77::5]:9000' --to '[fd77::7]:9000-9001' --to fd77::10/126
for a in 10.77.0.3 10.77.0.5 10.77.0.7 10.77.0.17 fd77::3 fd77::5 fd77::7 fd77::11; do
	expect timeout "revoked: uid $U refused at $a" pu $a 9000
	expect timeout "revoked: gid $G refused at $a" pg $a 9000
done
n=$(hg status --json | jq '.grants | length')
[ "$n" = 0 ] && pass "no grant left" || fail "$n grants left"
expect_rc 0 "check: in sync after the revokes" hg check

# ---- the previous release's layout, brought to the new one by apply ----
# Its table as that release loaded it (doc/ruleset.md then): four interval
# sets, to_protected looking up only those; every grant in them.
old_table() {
	cat <<'NFT'
delete table inet hostguard
table inet hostguard {
	set allowed_uids { type uid; elements = { 0 }; }
	set allowed_gids { type gid; }
	set container_ifaces { type ifname; flags interval; elements = { "br-*", "docker0", "docker_gwbridge", "ipvlan*", "macvlan*", "veth*" }; }
	set allow_from_containers_tcp { type inet_service; flags interval; }
	set allow_from_containers_udp { type inet_service; flags interval; }
	set published_tcp { type inet_service; flags interval; }
	set published_udp { type inet_service; flags interval; }
	set grant_uids4 { type uid . ipv4_addr . inet_service; flags interval,timeout;
		elements = { 2001 . 10.77.0.5 . 9000, 2001 . 10.77.0.3 . 0-65535, 2001 . 10.77.0.16/30 . 0-65535 }; }
	set grant_uids6 { type uid . ipv6_addr . inet_service; flags interval,timeout;
		elements = { 2001 . fd77::5 . 9000, 2001 . fd77::3 . 0-65535 }; }
	set grant_gids4 { type gid . ipv4_addr . inet_service; flags interval,timeout;
		elements = { 3100 . 10.77.0.5 . 9000 }; }
	set grant_gids6 { type gid . ipv6_addr . inet_service; flags interval,timeout; }
	chain egress {
		type filter hook postrouting priority 0; policy accept;
		meta skuid != @allowed_uids meta skgid != @allowed_gids jump from_unallowed
	}
	chain ingress_local {
		type filter hook input priority 0; policy accept;
		iifname @container_ifaces jump from_containers
	}
	chain from_unallowed {
		oifname @container_ifaces ct direction reply fib saddr type local accept
		oifname @container_ifaces jump to_protected
		oif "lo" tcp dport @published_tcp jump to_protected
		oif "lo" udp dport @published_udp jump to_protected
	}
	chain from_containers {
		icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept
		fib saddr . iif oif missing counter drop
		ct state established,related accept
		tcp dport @allow_from_containers_tcp accept
		udp dport @allow_from_containers_udp accept
		tcp dport @published_tcp accept
		udp dport @published_udp accept
		counter drop
	}
	chain to_protected {
		meta skuid . ip daddr . th dport @grant_uids4 accept
		meta skuid . ip6 daddr . th dport @grant_uids6 accept
		meta skgid . ip daddr . th dport @grant_gids4 accept
		meta skgid . ip6 daddr . th dport @grant_gids6 accept
		counter drop
	}
}
NFT
}
write_conf <<CONF
allowed_uids = 0
grant_uids = $U@10.77.0.5:9000, $U@10.77.0.3, $U@10.77.0.16/30, $U@[fd77::5]:9000, $U@[fd77::3]
grant_gids = $G@10.77.0.5:9000
CONF
old_table | h nft -f - || fail "nft -f of the previous release's table"
expect ok "old layout (control): uid $U reaches 10.77.0.5:9000" pu 10.77.0.5 9000
expect timeout "old layout (control): the stranger is refused" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect_rc 1 "check: the old layout differs" hg check
expect_match "set grant_uids4_port: missing" "check names the missing hash set"
OUT=$(hg status --json | jq -r '.differences[]')
expect_match "grant_uids: $U@10\\.77\\.0\\.5:9000 is in set grant_uids4, hostguard keeps it in set grant_uids4_port" \
	"check names the grant to move"
# the granted uid connects throughout: old -> new by apply, new -> old by
# nft -f (one transaction too), five times
: >"$T/during"
: >"$T/stranger"
(
	while [ ! -e "$T/stop" ]; do
		for a in 10.77.0.5 fd77::3 10.77.0.17; do
			echo "$a $(probe "$H" tcp $a 9000 $U)" >>"$T/during"
		done
		echo "gid $(probe "$H" tcp 10.77.0.5 9000 $STRANGER $G)" >>"$T/during"
	done
) &
LOOP=$!
PIDS+=("$LOOP")
# and the stranger never, neither through a _port, an _addr nor a prefix
# grant of another uid, in either layout or between (a leak is an echo
# within a millisecond: 300 ms is long enough to call a drop)
(
	while [ ! -e "$T/stop" ]; do
		for a in 10.77.0.5 fd77::3 10.77.0.17; do
			echo "stranger $(PROBE_TIMEOUT=300 probe "$H" tcp $a 9000 $STRANGER)" >>"$T/stranger"
		done
	done
) &
SLOOP=$!
PIDS+=("$SLOOP")
# settle: both loops a round further (packets in each layout)
settle() {
	local before sbefore
	before=$(wc -l <"$T/during") sbefore=$(wc -l <"$T/stranger")
	for _ in $(seq 100); do
		[ "$(wc -l <"$T/during")" -gt $((before + 4)) ] && [ "$(wc -l <"$T/stranger")" -gt $((sbefore + 3)) ] &&
			break
		sleep 0.05
	done
}
upgrades=0
for i in 1 2 3 4 5; do
	settle
	hg apply >"$T/apply.out" 2>&1 && upgrades=$((upgrades + 1))
	settle
	[ $i -lt 5 ] && { old_table | h nft -f - || fail "nft -f of the old table (round $i)"; }
done
touch "$T/stop"
wait $LOOP $SLOOP
[ $upgrades = 5 ] && pass "five applies from the old layout" || fail "$upgrades of 5 applies succeeded: $(cat "$T/apply.out")"
n=$(wc -l <"$T/during")
bad=$(grep -vc ' ok$' "$T/during")
[ "$n" -ge 40 ] && [ "$bad" = 0 ] && pass "uid $U and gid $G got through all $n connections during the upgrades" ||
	fail "$bad of $n connections during the upgrades failed: $(grep -v ' ok$' "$T/during" | head -5 | tr '\n' ';')"
n=$(wc -l <"$T/stranger")
bad=$(grep -vc ' timeout$' "$T/stranger")
[ "$n" -ge 30 ] && [ "$bad" = 0 ] && pass "the stranger was refused all $n times during the upgrades" ||
	fail "$bad of $n stranger probes during the upgrades were not refused: $(grep -v ' timeout$' "$T/stranger" | head -5 | tr '\n' ';')"
expect_rc 0 "check: in sync after the upgrade" hg check
expect yes "upgraded: grant_uids4_port holds the one-port grant" in_set grant_uids4_port "$U . 10.77.0.5 . 9000"
expect yes "upgraded: grant_uids6_addr holds the address grant" in_set grant_uids6_addr "$U . fd77::3 "
expect yes "upgraded: grant_uids4 keeps the prefix" in_set grant_uids4 "$U . 10.77.0.16/30"
expect no "upgraded: grant_uids4 no longer holds the moved grant" in_set grant_uids4 "10.77.0.5 . 9000"
expect timeout "upgraded: the stranger is still refused" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect timeout "upgraded: uid $U refused beside its grant" pu 10.77.0.5 9001
finish
