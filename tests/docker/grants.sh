#!/bin/bash
# Grants by container name and by io.hostguard.* labels, against a real
# dockerd, real TCP and UDP, IPv4 and IPv6 (a user network with both):
#
#   alice (2001): grant_uids alice@web1 (every port, every address of web1)
#   bob   (2002): grant_uids bob@web2:80
#   traefik (1001): allowed uid, reaches both; stranger (2003): neither
#   web3: --label io.hostguard.allow-uids=2001,<unknown user>
#         --label io.hostguard.allow-ports=80   (alice by label, port 80)
#
# CONTROL: without the table everyone reaches every container.  Then:
# status/--json/nft show each element's source (name:web1, label:web3),
# audit who reaches each container through a grant;
# revoke-uid --to web1 removes exactly that grant and allow-uid --to web1
# brings it back; bad targets and an unknown container exit 2 and change
# neither the table nor the config (byte for byte); --runtime with a name
# exits 2; Docker unreachable (a dead socket, or HOSTGUARD_DOCKER_SOCKET=keep)
# drops the elements of names and labels (fails closed: their addresses may
# be anyone's by then, security.md #19) and keeps the rest; the next apply
# that reads Docker brings them back.  Under follow (asserted with
# generous poll deadlines, never timed): web1 restarted with new addresses
# (a filler container holds its old ones) is reached at the new ones and
# alice does NOT reach the filler at the old ones; web3 recreated with a
# different label changes who reaches it; web2 renamed loses bob's grant,
# and a new container that takes the name web2 gets it (the grant belongs to
# the name); a stopped container has no element and status says so.
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # finish prints it
TEST="docker-grants"

ALICE=2001 BOB=2002 TRAEFIK=1001 STRANGER=2003
NOUSER="hgt-nosuch-$ID"
netns_new "$H"
phase "dockerd starting"
docker_start --ipv6 --fixed-cidr-v6 fd00:d0c::/64 --experimental --ip6tables
docker_image
phase "dockerd up"
dk network create --ipv6 --subnet 172.30.78.0/24 --subnet fd00:78:1::/64 hgnet >/dev/null ||
	{ echo "FAIL: docker network create hgnet"; exit 1; }

dk_serve_bg web1 --network hgnet
dk_serve_bg web2 --network hgnet
dk_serve_bg web3 --network hgnet --label "io.hostguard.allow-uids=$ALICE,$NOUSER" \
	--label io.hostguard.allow-ports=80
dk_ready web1 web2 web3
W1_4=$(dk_ip web1 hgnet) W1_6=$(dk_ip6 web1 hgnet)
W2_4=$(dk_ip web2 hgnet) W2_6=$(dk_ip6 web2 hgnet)
W3_4=$(dk_ip web3 hgnet) W3_6=$(dk_ip6 web3 hgnet)
for a in "$W1_4" "$W1_6" "$W2_4" "$W2_6" "$W3_4" "$W3_6"; do
	[ -n "$a" ] || { echo "FAIL: a container without an IPv4 or IPv6 address on hgnet"; exit 1; }
	wait_reach "$a" 80
done

hp() { probe "$H" "$2" "$3" 80 "$1"; } # hp UID PROTO ADDR

# ---- CONTROL: no table, everyone everywhere -----------------------------------
for a in "$W1_4" "$W1_6" "$W2_4" "$W2_6"; do
	later c ok "control (no table): stranger reaches $a tcp" hp $STRANGER tcp "$a"
	later c ok "control (no table): alice reaches $a udp" hp $ALICE udp "$a"
done
judge
phase "controls done"

write_conf <<CONF
allowed_uids = 0, $TRAEFIK
grant_uids = $ALICE@web1, $BOB@web2:80
docker_socket = $DK_SOCK
CONF
expect_rc 0 "apply with name grants and a label" hg apply
expect_match "container web3: label io.hostguard.allow-uids=$ALICE,$NOUSER: unknown user '$NOUSER' \\(skipped\\)" \
	"apply logs the unknown user of web3's label, one line naming container, label and value"
expect_rc 0 "check: in sync with config + Docker" hg check

# ---- who reaches what ------------------------------------------------------------
matrix() { # matrix TAG: the full matrix for web1..web3 as they are now
	local fam a1 a2 a3
	for fam in 4 6; do
		if [ $fam = 4 ]; then a1=$W1_4 a2=$W2_4 a3=$W3_4; else a1=$W1_6 a2=$W2_6 a3=$W3_6; fi
		later m ok "$1: alice reaches web1 (by name) tcp $a1" hp $ALICE tcp "$a1"
		later m ok "$1: alice reaches web1 (by name) udp $a1" hp $ALICE udp "$a1"
		later m no "$1: alice is refused at web2 tcp $a2" hp $ALICE tcp "$a2"
		later m no "$1: alice is refused at web2 udp $a2" hp $ALICE udp "$a2"
		later m ok "$1: bob reaches web2 (by name, port 80) tcp $a2" hp $BOB tcp "$a2"
		later m ok "$1: bob reaches web2 udp $a2" hp $BOB udp "$a2"
		later m no "$1: bob is refused at web1 tcp $a1" hp $BOB tcp "$a1"
		later m ok "$1: traefik (allowed uid) reaches web1 $a1" hp $TRAEFIK tcp "$a1"
		later m ok "$1: traefik (allowed uid) reaches web2 $a2" hp $TRAEFIK tcp "$a2"
		later m no "$1: a stranger is refused at web1 $a1" hp $STRANGER tcp "$a1"
		later m no "$1: a stranger is refused at web2 $a2" hp $STRANGER tcp "$a2"
		later m ok "$1: alice reaches web3 by its label tcp $a3" hp $ALICE tcp "$a3"
		later m no "$1: bob is refused at web3 (not in its label) $a3" hp $BOB tcp "$a3"
		later m no "$1: a stranger is refused at web3 $a3" hp $STRANGER tcp "$a3"
	done
	judge
}
matrix "apply"
expect no "web1's grant is every port, web2's only 80: bob refused at web2:81 (nothing listens, the drop is a timeout)" \
	sh -c "r=\$(ip netns exec $H setpriv --reuid=$BOB --regid=$BOB --clear-groups $PROBE connect tcp $W2_4 81 --timeout 800); [ \"\$r\" = refused ] && echo ok || echo no"
expect ok "alice at web1:81 gets the container's refusal (the grant is every port)" \
	sh -c "r=\$(ip netns exec $H setpriv --reuid=$ALICE --regid=$ALICE --clear-groups $PROBE connect tcp $W1_4 81 --timeout 800); [ \"\$r\" = refused ] && echo ok || echo \$r"

# ---- visibility ---------------------------------------------------------------------
OUT=$(hg status)
expect_match "uid $ALICE +$W1_4 +config \\(container name web1\\)" "status: alice's web1 element, by name"
expect_match "uid $ALICE +\\[?$W1_6\\]? +config \\(container name web1\\)" "status: web1's IPv6 address too"
expect_match "uid $ALICE +$W3_4:80 +label \\(container web3\\)" "status: the label grant names web3"
OUT=$(hg status --json)
expect ok "status --json: sources and containers" sh -c "printf '%s' '$OUT' | jq -e '
	[.grants[] | select(.container == \"web1\" and .source == \"config\" and .by_name)] | length == 2' >/dev/null && echo ok"
expect ok "status --json: the label grant" sh -c "printf '%s' '$OUT' | jq -e '
	[.grants[] | select(.container == \"web3\" and .source == \"label\" and .by_name == false)] | length == 2' >/dev/null && echo ok"
OUT=$(h nft list set inet hostguard grant_uids4_addr; h nft list set inet hostguard grant_uids4_port)
expect_match "$ALICE \\. $W1_4 comment \"name:web1\"" "nft shows the element's comment name:web1"
expect_match "$ALICE \\. $W3_4 \\. 80 comment \"label:web3\"" "nft shows label:web3"

# audit: who reaches each container through a grant
hg audit --json >"$T/audit.json" 2>"$T/audit.err"
granted() { jq -r --arg c "$1" --arg a "$2" '[.exposure[] | select(.container == $c and .path == "bridge" and .address == $a) | .granted[]] | unique | join(",")' "$T/audit.json"; }
for t in "web1 $W1_4" "web1 $W1_6"; do
	read -r c a <<<"$t"
	expect "$(getent passwd $ALICE | cut -d: -f1 | grep . || echo "uid $ALICE")" "audit: $c at $a is granted to alice" granted "$c" "$a"
done
expect "$(getent passwd $BOB | cut -d: -f1 | grep . || echo "uid $BOB")" "audit: web2 is granted to bob" granted web2 "$W2_4"
expect "$(getent passwd $ALICE | cut -d: -f1 | grep . || echo "uid $ALICE")" "audit: web3 is granted to alice (label)" granted web3 "$W3_6"

# ---- edits ------------------------------------------------------------------------------
snap() { h nft list table inet hostguard >"$T/nft.$1"; cp "$CONF" "$T/conf.$1"; }
same_as() { cmp -s "$T/nft.$1" <(h nft list table inet hostguard) && cmp -s "$T/conf.$1" "$CONF" && echo same || echo changed; }
snap before
for bad in "web1:0" "[::1" "300.1.1.1" "nosuch-$ID" "web1:70000" "we/b1"; do
	expect_rc 2 "allow-uid --to '$bad' exits 2" hg allow-uid $ALICE --to "$bad"
	expect same "after --to '$bad': table and config unchanged, byte for byte" same_as before
done
expect_rc 2 "allow-uid --to web1 --runtime exits 2 (names live in the config)" hg allow-uid $BOB --to web1 --runtime
expect_rc 2 "allow-uid --to web1 --for 1h exits 2" hg allow-uid $BOB --to web1 --for 1h
expect same "after --runtime/--for with a name: unchanged" same_as before
OUT=$(hg allow-uid $ALICE --to "nosuch-$ID" 2>&1)
expect_match "no running container named nosuch-$ID" "an unknown container is named"

expect_rc 0 "revoke-uid alice --to web1" hg revoke-uid $ALICE --to web1
expect ok "the config lost exactly alice@web1" sh -c "grep -qx 'grant_uids = $BOB@web2:80' '$CONF' && echo ok || cat '$CONF'"
OUT=$(h nft list table inet hostguard)
expect_match "comment \"name:web2\"" "web2's element is still there"
expect_match "comment \"label:web3\"" "web3's label element is still there"
if printf '%s' "$OUT" | grep -q 'name:web1'; then fail "web1's elements are gone"; else pass "web1's elements are gone"; fi
later r no "after revoke: alice is refused at web1 $W1_4" hp $ALICE tcp "$W1_4"
later r no "after revoke: alice is refused at web1 $W1_6" hp $ALICE tcp "$W1_6"
later r ok "after revoke: bob still reaches web2" hp $BOB tcp "$W2_4"
later r ok "after revoke: alice still reaches web3 by label" hp $ALICE tcp "$W3_4"
judge
expect_rc 0 "allow-uid alice --to web1 (resolved at edit time)" hg allow-uid $ALICE --to web1
expect_rc 0 "check: in sync after the edits" hg check
matrix "after the edits"

# ---- Docker unreachable: the elements of names and labels go, the rest stays ------------
snap docker
# the table without its grant sets: what must remain as it was
# the table without counters, one element a line, sorted
stateless() { h nft -s list table inet hostguard | sed 's/^\s*//; s/^elements = { //; s/,$//; s/ }$//' | sort; }
stateless >"$T/nft.docker.s"
no_grants() { awk '/^\tset grant_/ { skip = 1 } !skip { print } skip && /^\t}/ { skip = 0 }'; }
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/dead.sock"
OUT=$(HOSTGUARD_DOCKER_SOCKET="$T/dead.sock" hg apply 2>&1)
expect_match "(no grant of a container name or label until Docker answers|without Docker's ports, bridges and container grants)" \
	"a dead Docker socket: apply warns and drops the grants of names and labels"
no_grants <"$T/nft.docker" >"$T/nft.want"
h nft list table inet hostguard | no_grants >"$T/nft.now"
expect same "a dead Docker socket: ports, bridges and the rest unchanged" \
	sh -c "cmp -s '$T/nft.want' '$T/nft.now' && echo same || diff '$T/nft.want' '$T/nft.now' | tr '\n' '|'"
OUT=$(h nft list table inet hostguard)
if printf '%s' "$OUT" | grep -q 'comment "\(name\|label\):'; then
	fail "a dead Docker socket: no element of a name or label is left"
else
	pass "a dead Docker socket: no element of a name or label is left"
fi
later u no "Docker unreachable: alice is refused at web1 (fails closed)" hp $ALICE tcp "$W1_4"
later u ok "Docker unreachable: traefik still reaches web1" hp $TRAEFIK tcp "$W1_4"
judge
# (the probes above moved the counters: compare without them)
expect_rc 0 "apply with Docker again" hg apply
stateless >"$T/nft.again"
expect same "Docker again: the elements of names and labels are back" \
	sh -c "cmp -s '$T/nft.again' '$T/nft.docker.s' && echo same || diff '$T/nft.docker.s' '$T/nft.again' | tr '\n' '|'"
expect_rc 0 "HOSTGUARD_DOCKER_SOCKET=keep apply" env HOSTGUARD_DOCKER_SOCKET=keep ip netns exec "$H" "$HG" --config "$CONF" apply
OUT=$(h nft list table inet hostguard)
if printf '%s' "$OUT" | grep -q 'comment "\(name\|label\):'; then
	fail "keep: no element of a name or label is left"
else
	pass "keep: no element of a name or label is left"
fi
expect_rc 0 "apply with Docker again" hg apply
stateless >"$T/nft.again"
expect same "Docker again: table as before" \
	sh -c "cmp -s '$T/nft.again' '$T/nft.docker.s' && echo same || diff '$T/nft.docker.s' '$T/nft.again' | tr '\n' '|'"
phase "apply and edits done"

# ---- follow ------------------------------------------------------------------------------
follow_start "$DK_SOCK" "follow starts"

# poll WANT DESCRIPTION UID PROTO ADDR: until the probe's outcome is WANT
# (ok / no), 30 s at most; behaviour, not a measurement
poll() {
	local want=$1 desc=$2 got _
	for _ in $(seq 30); do
		got=$(hp "$3" "$4" "$5" 2>&1 | head -n 1)
		[ "$got" = ok ] || got=no
		[ "$got" = "$want" ] && { pass "$desc"; return; }
		sleep 0.5
	done
	fail "$desc (still $got after 30 s)"
}
# has_comment TEXT: does the table hold an element with that comment
has_comment() { h nft list table inet hostguard | grep -q "comment \"$1\"" && echo yes || echo no; }

# web1 restarts with new addresses: a filler takes the old ones
dk stop web1 >/dev/null
dk_serve filler --network hgnet --ip "$W1_4" --ip6 "$W1_6"
dk start web1 >/dev/null
dk_ready web1
N1_4=$(dk_ip web1 hgnet) N1_6=$(dk_ip6 web1 hgnet)
[ "$N1_4" != "$W1_4" ] && [ "$N1_6" != "$W1_6" ] || fail "web1 did not get new addresses ($N1_4 $N1_6)"
wait_reach "$N1_4" 80
poll ok "follow: alice reaches web1 at its new IPv4 address $N1_4" $ALICE tcp "$N1_4"
poll ok "follow: alice reaches web1 at its new IPv6 address $N1_6" $ALICE tcp "$N1_6"
later f no "follow: alice does not reach the filler at web1's old address $W1_4" hp $ALICE tcp "$W1_4"
later f no "follow: alice does not reach the filler at web1's old address $W1_6" hp $ALICE udp "$W1_6"
later f ok "follow: traefik reaches the filler (control: it listens)" hp $TRAEFIK tcp "$W1_4"
judge
OUT=$(cat "$T/follow.out")
expect_match "^- grant_uids $ALICE@$W1_4 \\(container name web1\\)" "follow printed web1's old element going"
expect_match "^\\+ grant_uids $ALICE@$N1_4 \\(container name web1\\)" "follow printed web1's new element"

# the label changes: recreate web3 (labels cannot change in place)
dk rm -f web3 >/dev/null
dk_serve web3 --network hgnet --ip "$W3_4" --ip6 "$W3_6" --label "io.hostguard.allow-uids=$BOB"
poll ok "follow: bob reaches web3 by its new label" $BOB tcp "$W3_4"
poll ok "follow: bob reaches web3 by its new label (IPv6, every port)" $BOB udp "$W3_6"
poll no "follow: alice no longer reaches web3 (not in the new label)" $ALICE tcp "$W3_4"

# rename: the grant belongs to the name
dk rename web2 web2b
poll no "follow: web2 renamed web2b: bob's grant to web2 no longer reaches it" $BOB tcp "$W2_4"
OUT=$(hg status 2>&1)
expect_match "grant_uids $BOB@web2:80: container web2 is not running; no element" "status says the name web2 has no container"
OUT=$(hg check 2>&1)
expect_match "container web2 is not running" "check says so too"
dk_serve web2 --network hgnet
N2_4=$(dk_ip web2 hgnet)
wait_reach "$N2_4" 80
poll ok "follow: a new container named web2 gets bob's grant" $BOB tcp "$N2_4"

# stop: no element
dk stop web1 >/dev/null
for _ in $(seq 60); do
	[ "$(has_comment name:web1)" = no ] && break
	sleep 0.5
done
expect no "follow: web1 stopped, no element names it" has_comment name:web1
expect yes "web3's label element is there" has_comment label:web3
expect ok "follow printed no error" sh -c "grep -q 'apply failed' '$T/follow.out' && cat '$T/follow.out' || echo ok"

kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null

# ---- runtime entries beside grants of names and labels: those follow
# Docker, they are no runtime entries, and save never writes their addresses
hg apply >/dev/null 2>&1
expect in_sync "check --json: in sync with name and label grants" bash -c "ip netns exec '$H' '$HG' --config '$CONF' check --json 2>/dev/null | jq -r .state"
expect_rc 0 "allow-uid --runtime 4321" hg allow-uid --runtime 4321
expect runtime_only "check --json: runtime entries only, beside name and label grants" bash -c "ip netns exec '$H' '$HG' --config '$CONF' check --json 2>/dev/null | jq -r .state"
expect '[{"key":"allowed_uids","value":"4321"}]' "check --json: the one runtime entry" bash -c "ip netns exec '$H' '$HG' --config '$CONF' check --json 2>/dev/null | jq -c .runtime.added"
grep '^grant_' "$CONF" >"$T/grants.before"
expect_rc 0 "save" hg save
expect_match "^\+ allowed_uids 4321$" "save writes the runtime uid"
grep '^grant_' "$CONF" | cmp -s - "$T/grants.before" && pass "save left the grant lines alone" ||
	fail "save changed the grant lines: $(grep '^grant_' "$CONF")"
expect in_sync "check --json after save: in sync" bash -c "ip netns exec '$H' '$HG' --config '$CONF' check --json 2>/dev/null | jq -r .state"
docker_finish
