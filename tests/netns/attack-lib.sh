# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced by the attack-*.sh tests after lib.sh: runs the attack programs of
# tests/attack (Python 3, stdlib only) as any uid, and the UDP listener that
# counts what each attack delivered.

# A python3 every uid can run (a pyenv shim under /root is not one).
PY=
for p in /usr/bin/python3 /usr/local/bin/python3 $(command -v python3); do
	if [ -x "$p" ] && setpriv --reuid=2000 --regid=2000 --clear-groups "$p" -c '' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || { echo "FAIL: no python3 that uid 2000 can run"; exit 1; }
mkdir -m 755 "$T/attack"
install -m 644 "$(dirname "$0")"/../attack/*.py "$T/attack/"
# shellcheck disable=SC2034  # used by the attacks that source this file
NOBODY=2000	# the non-allowed uid of every attack

# attack NS UID PROGRAM ARGS...: runs tests/attack/PROGRAM.py; its result line in $OUT
attack() {
	local ns=$1 uid=$2 prog=$3
	shift 3
	OUT=$(ip netns exec "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		"$PY" "$T/attack/$prog.py" "$@" 2>&1 | tail -n 1)
}

# listen NS NAME PORT [--join GROUP%IFACE]...: a UDP listener (as root) in NS
# logging every datagram to $T/NAME.log, ready when this returns
listen() {
	local ns=$1 name=$2 port=$3
	shift 3
	ip netns exec "$ns" "$PY" "$T/attack/udp-listen.py" "$port" \
		--ready "$T/ready/listen.$name" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -e "$T/ready/listen.$name" ] && return 0
		sleep 0.05
	done
	echo "FAIL: listener $name in $ns did not start: $(cat "$T/$name.log")"
	exit 1
}

# received NAME TOKEN: how many datagrams carrying TOKEN listener NAME got
received() {
	sleep "${SETTLE:-0.3}"
	grep -c -- "^recv $2 " "$T/$1.log"
}

# delivered DESC NAME TOKEN / not_delivered DESC NAME TOKEN: assertions on a listener
delivered() {
	local n
	n=$(received "$2" "$3")
	if [ "$n" -gt 0 ]; then pass "$1 ($n delivered; sender: $OUT)"; else fail "$1: nothing delivered (sender: $OUT)"; fi
}
not_delivered() {
	local n
	n=$(received "$2" "$3")
	if [ "$n" = 0 ]; then pass "$1 (0 delivered; sender: $OUT)"; else fail "$1: $n delivered (sender: $OUT)"; fi
}

# a Docker-like host-side veth name: veth + 7 hex digits
docker_veth() { printf 'veth%07x' $(((RANDOM << 12 ^ RANDOM) & 0xfffffff)); }
