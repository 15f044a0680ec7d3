#!/bin/bash
# Safety rails: a container_ifaces pattern that covers the interface of the
# default route, or of the current SSH session, would make ingress_local
# drop every new connection to the host through it.  apply and add-iface
# refuse that (exit 2, nothing changed) without --force.
. "$(dirname "$0")/lib.sh"

topo_basic
O="hgt-o-$ID"
netns_new "$O"
ip link add up0 netns "$H" type veth peer name eth0 netns "$O"
h ip addr add 192.0.2.1/24 dev up0
h ip link set up0 up
ip -n "$O" addr add 192.0.2.254/24 dev eth0
ip -n "$O" link set eth0 up
h ip route add default via 192.0.2.254 dev up0

write_conf <<'CONF'
allowed_uids = 0
container_ifaces = br-*, veth*, up*
CONF
cp "$CONF" "$T/over-uplink.conf"
expect_rc 2 "apply with a pattern over the default route's interface -> 2" hg apply
expect_match "pattern 'up\*' covers up0, the interface of the default route" "it names the pattern and the interface"
h nft list table inet hostguard >/dev/null 2>&1 && fail "a table was loaded anyway" || pass "nothing was loaded"
expect_rc 0 "apply --force does it anyway" hg apply --force
expect_match "--force: going ahead" "and says so"

write_conf <<'CONF'
allowed_uids = 0
container_ifaces = br-*, veth*
CONF
cp "$CONF" "$T/clear.conf"
expect_rc 0 "apply (uplink not covered)" hg apply
printf '%s\n' "$OUT" | grep -q "cannot read the default routes" &&
	fail "a warning though the routes were read: $OUT" || pass "no warning when the routes are read"
before=$(cat "$CONF"; h nft list table inet hostguard)
expect_rc 2 "add-iface 'up*' -> 2" hg add-iface 'up*'
expect_match "covers up0, the interface of the default route" "add-iface names it"
[ "$before" = "$(cat "$CONF"; h nft list table inet hostguard)" ] && pass "nothing changed" || fail "the refused add-iface changed something"
expect_rc 0 "add-iface --force 'up*'" hg add-iface --force 'up*'
expect_rc 0 "remove-iface 'up*'" hg remove-iface 'up*'

# routes that cannot be read (a NETLINK_ROUTE socket refused, as a sandbox
# may): the rail is not checked, and apply says so rather than pass in
# silence; it still applies (refusing would leave the host unprotected)
cat >"$T/noroute.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
int socket(int domain, int type, int protocol)
{
	int (*real)(int, int, int) = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	if (domain == AF_NETLINK && protocol == NETLINK_ROUTE) {
		errno = EACCES;
		return -1;
	}
	return real(domain, type, protocol);
}
C
cc -shared -fPIC -o "$T/noroute.so" "$T/noroute.c" -ldl || fail "cannot build the preload shim"
cp "$T/over-uplink.conf" "$CONF"
# (a sanitizer build wants its runtime first among the preloads: let it be)
expect_rc 0 "apply when the routes cannot be read -> 0" ip netns exec "$H" env LD_PRELOAD="$T/noroute.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$HG" --config "$CONF" apply
expect_match "warning: cannot read the default routes \\(Permission denied\\): not checked" "it says the default-route rail was not checked"
cp "$T/clear.conf" "$CONF"

# an SSH session that came in on a covered interface (br-test holds 10.77.0.1)
expect_rc 2 "apply over the SSH session's interface -> 2" ip netns exec "$H" env SSH_CONNECTION="10.77.0.9 51000 10.77.0.1 22" "$HG" --config "$CONF" apply
expect_match "covers br-test, the interface of this SSH session" "it names the SSH session's interface"
expect_rc 0 "without SSH_CONNECTION it applies" hg apply

# a repair is never refused: with no table, a container's router
# advertisement makes its bridge the host's IPv6 default route (accept_ra in
# effect), and every apply after it refused (container_ifaces covers the
# default route's interface): the host stayed unprotected for good (found by
# the hostile review of f6b3708).  The config hostguard applied last is
# applied with a warning; a changed config is still refused, and so is a
# pattern over an uplink whose route came from its router (SLAAC).
h sysctl -qw net.ipv6.conf.br-test.accept_ra=1 net.ipv6.conf.br-test.forwarding=0 ||
	fail "control: accept_ra on br-test"
h nft delete table inet hostguard
expect taken "control: with no table, the container's advertisement makes br-test the default route" \
	ra_route "$C" eth0 br-test
expect_rc 0 "apply of the config applied last, over a default route from an advertisement -> 0" hg apply
expect_match "covers br-test, the interface of the default route \\(learnt from a router advertisement" \
	"apply names the route and where it came from"
expect_match "not refused: the config is the one hostguard applied last" "and why it goes ahead"
h nft list table inet hostguard >/dev/null 2>&1 && pass "the table is loaded" || fail "no table loaded"
# the route stays (it is not hostguard's): status says what it is
expect_rc 0 "status" hg status
expect_match "^warning: the IPv6 default route goes through br-test, learnt from a router advertisement" \
	"status warns of the route"
OUT=$(hg status --json)
printf '%s' "$OUT" | jq -e '[.warnings[] | select(test("router advertisement"))] | length == 1' >/dev/null &&
	pass "status --json: the warning" || fail "status --json: $OUT"
# with no table loaded after hostguard had loaded one, an edited config is
# a repair too: a refusal would leave the host open (the guard's repair of
# a config with an edit not yet applied)
h nft delete table inet hostguard
printf '# edited\n' >>"$CONF"
expect_rc 0 "apply of an edited config over that route, no table loaded -> 0" hg apply
expect_match "not refused: hostguard had loaded a table here and none is loaded now" "and says why"
h nft list table inet hostguard >/dev/null 2>&1 && pass "the table is loaded" || fail "no table loaded"
# with a table loaded, a change is refused as ever, naming the route
printf '# edited again\n' >>"$CONF"
expect_rc 2 "apply of an edited config over that route, a table loaded -> 2" hg apply
expect_match "learnt from a router advertisement: a container on it may have sent it\\): .*; nothing changed" \
	"the refusal says where the route came from"
cp "$T/clear.conf" "$CONF"
h ip -6 route flush proto ra
h ip -6 route del default dev br-test 2>/dev/null
expect_rc 0 "apply (no such route)" hg apply
expect_rc 0 "status without the route" hg status
printf '%s\n' "$OUT" | grep -q "router advertisement" && fail "a warning without the route: $OUT" ||
	pass "no warning once the route is gone"
expect ignored "with the table, the container's advertisement is dropped" ra_route "$C" eth0 br-test
# an uplink whose IPv6 default route its router advertised (SLAAC): a
# pattern over it is the mistake the rail is for
h ip -6 route add default via fe80::1 dev up0 proto ra
cp "$T/over-uplink.conf" "$CONF"
expect_rc 2 "a pattern over an uplink with a route from its router -> 2" hg apply
expect_match "pattern 'up\\*' covers up0, the interface of the default route \\(learnt from a router advertisement" \
	"it names the uplink"
# follow loads no more than apply does, and never as applied (a refused
# config it loaded would have passed every apply after it)
expect_rc 2 "control: apply refuses the pattern over the uplink" hg apply
ip netns exec "$H" env HOSTGUARD_DOCKER_SOCKET="$T/no-docker.sock" timeout -s TERM 3 "$HG" --config "$CONF" follow \
	>"$T/follow.out" 2>&1
grep -q "follow: container_ifaces pattern 'up\*' covers up0" "$T/follow.out" && pass "follow says the rail refuses" ||
	fail "follow: $(cat "$T/follow.out")"
h nft list set inet hostguard container_ifaces | grep -q '"up' && fail "follow loaded 'up*'" ||
	pass "follow did not load 'up*'"
expect_rc 2 "apply still refuses after follow" hg apply
h ip -6 route del default via fe80::1 dev up0
cp "$T/clear.conf" "$CONF"

finish
