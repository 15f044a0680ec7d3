#!/bin/bash
# A bridge created after apply (a new Docker network) is covered at once:
# interface names are matched on every packet, not bound at load time.
. "$(dirname "$0")/lib.sh"

topo_basic
write_conf <<'CONF'
allowed_uids = 0
CONF
expect_rc 0 "apply" hg apply

C2="hgt-c2-$ID"
add_bridge br-late 10.78.0 fd78
add_container "$C2" br-late vh1 10.78.0 fd78
serve "$C2" 0 tcp 9000
wait_v6 "$C2" fd78::1
cold_neighbours

for addr in 10.78.0.2 fd78::2; do
	expect ok "root reaches a container on br-late, $addr" probe "$H" tcp "$addr" 9000 0
	expect timeout "uid 2000 is refused on br-late, $addr" probe "$H" tcp "$addr" 9000 2000
done

# docker0 and a macvlan-style name are covered by the defaults too
h ip link set br-late down
h ip link set br-late name docker0
h ip link set docker0 up
for _ in $(seq 50); do ip netns exec "$C2" ping -c1 -W1 10.78.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
expect ok "root reaches the container after the bridge is renamed docker0" probe "$H" tcp 10.78.0.2 9000 0
expect timeout "uid 2000 is refused on docker0" probe "$H" tcp 10.78.0.2 9000 2000

# a name outside container_ifaces is not ours
h ip link set docker0 down
h ip link set docker0 name lan0
h ip link set lan0 up
for _ in $(seq 50); do ip netns exec "$C2" ping -c1 -W1 10.78.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
expect ok "uid 2000 reaches a host on lan0, which is not a container interface" probe "$H" tcp 10.78.0.2 9000 2000

finish
