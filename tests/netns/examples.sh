#!/bin/bash
# examples/provision-traefik.sh is idempotent and does what it says: run it
# twice on a fresh host (no config, no table) and check with packets.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
serve "$H" 0 udp 53
script="$(dirname "$0")/../../examples/provision-traefik.sh"
run() { ip netns exec "$H" env HOSTGUARD="$HG" HOSTGUARD_CONFIG="$CONF" PROXY_USER=nobody sh "$script"; }

expect_rc 0 "first run on a fresh host" run
expect_match "config: \\+ allowed_uids nobody$" "it allowed the proxy user"
expect_match "applied table inet hostguard" "it loaded the table"
expect_match "in sync" "it checked"
first=$(cat "$CONF")
expect_rc 0 "second run" run
[ "$(printf '%s\n' "$OUT" | grep -c 'unchanged')" = 6 ] && pass "second run changed nothing (6 'unchanged')" ||
	fail "second run: $OUT"
expect_match "already in sync" "apply had nothing to do"
[ "$(cat "$CONF")" = "$first" ] && pass "config identical after the second run" || fail "config changed"
expect ok "the proxy user (nobody) reaches the container" probe "$H" tcp 10.77.0.2 9000 65534
expect timeout "another user does not" probe "$H" tcp 10.77.0.2 9000 2000
expect ok "containers reach the host's DNS port (udp 53)" probe "$C" udp 10.77.0.1 53
finish
