#!/bin/bash
# Found while testing issue 11 (a new hole): Docker swarm attaches every
# overlay-network container to the bridge docker_gwbridge, whose name no
# default pattern covers.  Its ports (vethXXXXXXX) are covered, but packets
# from the host leave through the bridge: a non-allowed uid reaches those
# containers, and check says "in sync".  What this test asserts: with the
# built-in defaults that container is isolated (docker_gwbridge covered).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attack-lib.sh"

netns_new "$H"
add_bridge docker_gwbridge 10.77.0 fd77
add_container "$C" docker_gwbridge "$(docker_veth)" 10.77.0 fd77
serve "$C" 0 tcp 9000
for _ in $(seq 50); do
	[ "$(probe "$H" tcp fd77::2 9000)" = ok ] && break
	sleep 0.1
done
write_conf <<'CONF'
allowed_uids = 0
CONF

for addr in 10.77.0.2 fd77::2; do
	expect ok "control: no table, uid $NOBODY reaches a container on docker_gwbridge ($addr)" probe "$H" tcp "$addr" 9000 "$NOBODY"
done
expect_rc 0 "apply (default container_ifaces)" hg apply
for addr in 10.77.0.2 fd77::2; do
	expect timeout "uid $NOBODY is refused a container on docker_gwbridge ($addr)" probe "$H" tcp "$addr" 9000 "$NOBODY"
	expect ok "root reaches the container on docker_gwbridge ($addr)" probe "$H" tcp "$addr" 9000 0
done
expect_rc 0 "check: in sync (docker_gwbridge covered by default)" hg check

finish
