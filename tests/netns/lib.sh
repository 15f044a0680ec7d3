# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced by every netns test.  Each test builds its own uniquely named
# namespaces and always deletes them (trap on EXIT).
#
# Topology of topo_basic:
#
#   netns $H ("host")                          netns $C ("container")
#   br-test 10.77.0.1/24 fd77::1/64 --- vethhg0 ==== eth0 10.77.0.2/24 fd77::2/64
#   lo      198.18.0.1/32 2001:db8:77::1/128  (a second host address)
#
# Environment: HOSTGUARD (the CLI), HG_PROBE (tests/netns/hg-probe).

set -u

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: netns tests need root"
	exit 77
fi
for tool in ip nft setpriv; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing"; exit 1; }
done
: "${HOSTGUARD:?HOSTGUARD must point at the hostguard binary}"
: "${HG_PROBE:?HG_PROBE must point at the hg-probe binary}"

TEST=$(basename "$0" .sh)
ID="$$-$RANDOM"
H="hgt-h-$ID"
C="hgt-c-$ID"
NAMESPACES=()
PIDS=()

# Binaries are copied where unprivileged uids can run them: the build tree
# may sit in a 0700 directory (a fresh clone under mktemp -d).
T=$(mktemp -d /tmp/hg-test.XXXXXX)
chmod 755 "$T"
install -m 755 "$HG_PROBE" "$T/probe"
install -m 755 "$HOSTGUARD" "$T/hostguard"
mkdir -m 1777 "$T/ready"
PROBE="$T/probe"
HG="$T/hostguard"
CONF="$T/hostguard.conf"
# A Docker running on the machine (/run/docker.sock, the default
# docker_socket) must not add its ports and bridges to these tests' policies.
export HOSTGUARD_DOCKER_SOCKET=none

passed=0
failed=0

cleanup() {
	local p ns cookie
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${NAMESPACES[@]}"; do
		# hostguard's record of its last change in that namespace, which
		# is its lock too (/run/hostguard/applied-<netns cookie>), and the
		# lock file of the release before
		cookie=$(ip netns exec "$ns" python3 -c 'import socket
s = socket.socket(socket.AF_UNIX)
print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little"))' 2>/dev/null)
		[ -n "$cookie" ] && rm -f "/run/hostguard/applied-$cookie" "/run/hostguard/lock-$cookie"
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

netns_new() {
	ip netns add "$1" || { echo "FAIL: cannot create netns $1"; exit 1; }
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

h() { ip netns exec "$H" "$@"; }
c() { ip netns exec "$C" "$@"; }
# hostguard in the host namespace, with this test's config
hg() { ip netns exec "$H" "$HG" --config "$CONF" "$@"; }

pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

# expect WANT DESCRIPTION COMMAND...: the command's first output line must be WANT
expect() {
	local want=$1 desc=$2 got
	shift 2
	got=$("$@" 2>&1 | head -n 1)
	if [ "$got" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc: expected '$want', got '$got'"
	fi
}

# expect_rc RC DESCRIPTION COMMAND...: exit code must be RC; output in $OUT
expect_rc() {
	local want=$1 desc=$2 rc
	shift 2
	OUT=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc: expected exit $want, got $rc: $OUT"
	fi
}

# expect_match PATTERN DESCRIPTION: $OUT must match the extended regex
expect_match() {
	if printf '%s\n' "$OUT" | grep -Eq -- "$1"; then
		pass "$2"
	else
		fail "$2: output does not match /$1/: $OUT"
	fi
}

add_container() { # add_container NS BRIDGE HOSTVETH NET4 NET6 (container gets .2 / ::2)
	local ns=$1 br=$2 veth=$3 n4=$4 n6=$5
	netns_new "$ns"
	ip link add "$veth" netns "$H" type veth peer name eth0 netns "$ns"
	h ip link set "$veth" master "$br" up
	ip -n "$ns" addr add "$n4.2/24" dev eth0
	ip -n "$ns" addr add "$n6::2/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$n4.1"
	ip -n "$ns" -6 route add default via "$n6::1"
}

add_bridge() { # add_bridge NAME NET4 NET6 (host gets .1 / ::1)
	h ip link add "$1" type bridge
	h ip addr add "$2.1/24" dev "$1"
	h ip addr add "$3::1/64" dev "$1" nodad
	h ip link set "$1" up
}

topo_basic() {
	netns_new "$H"
	add_bridge br-test 10.77.0 fd77
	add_container "$C" br-test vethhg0 10.77.0 fd77
	# (on lo: the test kernel may have no dummy driver, and any local
	# address will do)
	h ip addr add 198.18.0.1/32 dev lo
	h ip addr add 2001:db8:77::1/128 dev lo nodad
	# IPv6 addresses take a moment even with nodad while links come up
	wait_v6 "$C" fd77::1
	cold_neighbours
}

# wait_v6 NS ADDR: until NS pings ADDR (its IPv6 link is up), at most ~5 s.
wait_v6() {
	for _ in $(seq 50); do
		ip netns exec "$1" ping -6 -c1 -W1 "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
}

# send_ra NS IFACE: NS sends an IPv6 router advertisement (router lifetime
# 1800 s, prefix 2001:db8:bad::/64) to all nodes through IFACE, as a
# container's root can (CAP_NET_RAW).
send_ra() {
	ip netns exec "$1" python3 - "$2" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
pi = struct.pack("!BBBBIII", 3, 4, 64, 0xc0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, "2001:db8:bad::")
s.sendto(ra + pi, ("ff02::1", 0, 0, socket.if_nametoindex(sys.argv[1])))
PY
}

# ra_route NS IFACE HOSTIFACE: does a router advertisement NS sends
# through IFACE make HOSTIFACE the host's default route?  Sends one up to
# four times (a link-local address may still be tentative); prints "taken"
# or "ignored".
ra_route() {
	local _
	# an advertisement comes from a link-local address: both ends' first
	for _ in $(seq 50); do
		[ -z "$(ip -n "$1" -6 addr show tentative)$(h ip -6 addr show dev "$3" tentative)" ] && break
		sleep 0.1
	done
	for _ in 1 2 3 4; do
		send_ra "$1" "$2"
		sleep 0.5
		h ip -6 route show default | grep -q "dev $3" && { echo taken; return; }
	done
	echo ignored
}

# Forget every neighbour, so the next IPv6 packet starts with discovery.
cold_neighbours() {
	local ns
	for ns in "${NAMESPACES[@]}"; do
		ip -n "$ns" neigh flush all 2>/dev/null
	done
}

# serve NS UID PROTO PORT: an echo server as that uid, ready when this returns
serve() {
	local ns=$1 uid=$2 proto=$3 port=$4 ready
	ready="$T/ready/$ns.$proto.$port"
	ip netns exec "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		"$PROBE" serve "$proto" "$port" --ready "$ready" &
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -e "$ready" ] && return 0
		sleep 0.05
	done
	echo "FAIL: server $proto/$port in $ns did not start"
	exit 1
}

# probe NS PROTO ADDR PORT [UID [GID]]: prints ok / timeout / refused
probe() {
	local ns=$1 proto=$2 addr=$3 port=$4 uid=${5:-0} gid=${6:-${5:-0}}
	ip netns exec "$ns" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		"$PROBE" connect "$proto" "$addr" "$port" --timeout "${PROBE_TIMEOUT:-800}"
}

write_conf() { cat >"$CONF"; }

# hold FILE [SECONDS]: a root process takes FILE's flock and lets go after
# SECONDS (60; the sleep itself holds it: killing it lets go); its pid in
# $holder
hold() {
	(
		exec 9<"$1"
		flock -x 9
		exec sleep "${2:-60}"
	) &
	holder=$!
	PIDS+=("$holder")
	sleep 0.3
}

# asked ARGS...: the nf_tables requests "hostguard ARGS" sends in $H, one
# per line (strace)
asked() {
	ip netns exec "$H" strace -f -e trace=sendto,sendmsg -e signal=none -s 0 -v -o "$T/strace" \
		"$HG" --config "$CONF" "$@" >/dev/null 2>&1
	grep -o 'NFT_MSG_[A-Z]*\|NFNL_MSG_BATCH_BEGIN' "$T/strace"
}

finish() {
	echo "$TEST: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}
