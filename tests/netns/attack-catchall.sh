#!/bin/bash
# A catch-all element: "nft add element inet hostguard allowed_uids { * }"
# (a tamperer with CAP_NET_ADMIN, security.md #25).  The kernel's lookup
# matches every key the set does not hold: in allowed_uids or allowed_gids
# every uid is let past, in a grant set every uid is granted every
# container, in allow_from_containers_tcp or published_tcp every container
# reaches every host port.  The element has no key: it was read back as key
# zero (uid 0, already allowed), so check said in sync and apply "already in
# sync"; in the grant hash sets as grant 0@0.0.0.0:0, which apply could not
# delete (it failed, the table stayed open).  Now a catch-all, or an element
# with expressions of its own (a limit or quota turns matches off), is an
# element hostguard never writes: check names its set, apply recreates it.
. "$(dirname "$0")/lib.sh"

RAW="$(dirname "$0")/nft-raw-elem.py"
U=2001 G=3100 STRANGER=2003
topo_basic
serve "$C" 0 tcp 9000
serve "$H" 0 tcp 9100
wait_v6 "$H" fd77::2

# Control: without the table the stranger reaches the container, and the
# container reaches the host's port 9100.
expect ok "no table: uid $STRANGER reaches 10.77.0.2:9000" probe "$H" tcp 10.77.0.2 9000 $STRANGER
expect ok "no table: uid $STRANGER reaches [fd77::2]:9000" probe "$H" tcp fd77::2 9000 $STRANGER
expect ok "no table: the container reaches the host's 10.77.0.1:9100" probe "$C" tcp 10.77.0.1 9100

write_conf <<CONF
allowed_uids = 0
grant_uids = $U@10.77.0.2:9000, $U@[fd77::2]
grant_gids = $G@10.77.0.2:8000-8100
CONF
expect_rc 0 "apply" hg apply
expect ok "uid $U reaches 10.77.0.2:9000 (granted)" probe "$H" tcp 10.77.0.2 9000 $U
expect timeout "uid $STRANGER refused at 10.77.0.2:9000" probe "$H" tcp 10.77.0.2 9000 $STRANGER
expect timeout "the container refused at the host's 10.77.0.1:9100" probe "$C" tcp 10.77.0.1 9100

# catchall SET WHO ADDR: '*' in SET lets WHO's probe to ADDR through; check
# names it, apply removes it, the probe is refused again
catchall() {
	local set=$1 who=$2 addr=$3 port=9000 p
	if [ "$who" = container ]; then
		p=(probe "$C" tcp "$addr" 9100)
		port=9100
	else
		p=(probe "$H" tcp "$addr" 9000 "$STRANGER")
	fi
	# (nft 1.0.6 crashes adding '*' to an interval set of ports)
	h python3 "$RAW" "$set" '*' || fail "a catch-all element in $set"
	expect ok "'*' in $set (control): the $who reaches $addr:$port" "${p[@]}"
	expect_rc 1 "check: '*' in $set" hg check
	OUT=$(hg status --json | jq -r '.differences[]')
	expect_match "^set $set: a catch-all element" "status names $set"
	expect_rc 0 "apply repairs $set" hg apply
	expect timeout "repaired $set: the $who refused at $addr:$port" "${p[@]}"
	h nft list set inet hostguard "$set" | grep -qF '*' && fail "$set still holds '*'" ||
		pass "$set holds no '*'"
}
catchall allowed_uids stranger 10.77.0.2
catchall allowed_gids stranger fd77::2
catchall grant_uids4_port stranger 10.77.0.2
catchall grant_uids4_addr stranger 10.77.0.2
catchall grant_uids4 stranger 10.77.0.2
catchall grant_uids6_port stranger fd77::2
catchall grant_uids6_addr stranger fd77::2
catchall grant_gids4 stranger 10.77.0.2
catchall grant_gids6_port stranger fd77::2
catchall allow_from_containers_tcp container 10.77.0.1
catchall published_tcp container 10.77.0.1
expect ok "uid $U still reaches 10.77.0.2:9000" probe "$H" tcp 10.77.0.2 9000 $U
expect ok "uid $U still reaches [fd77::2]:9000" probe "$H" tcp fd77::2 9000 $U
expect_rc 0 "check: in sync" hg check

# a runtime edit does not bless it either
h nft add element inet hostguard allowed_uids '{ * }'
expect_rc 0 "allow-uid 2005 --runtime with '*' in allowed_uids" hg allow-uid 2005 --runtime
expect_rc 1 "check after the edit: still not in sync" hg check
expect_rc 0 "apply" hg apply
expect timeout "uid $STRANGER refused" probe "$H" tcp 10.77.0.2 9000 $STRANGER

# an element with a counter of its own (raw netlink: nft writes one only
# for a set declared with it)
h python3 "$RAW" allowed_uids "$(python3 -c "import struct; print(struct.pack('=I', 2006).hex())")" --counter ||
	fail "raw element with a counter"
h python3 "$RAW" grant_uids4_port "$(python3 -c "import struct,socket; print((struct.pack('=I', 2007) + socket.inet_aton('10.77.0.2') + struct.pack('>H', 9000) + b'\0\0').hex())")" --counter ||
	fail "raw grant element with a counter"
expect_rc 1 "check: elements with expressions" hg check
OUT=$(hg status --json | jq -r '.differences[]')
expect_match "^set allowed_uids: a catch-all element or one with expressions" "status names allowed_uids"
expect_match "^set grant_uids4_port: a catch-all element or one with expressions" "status names grant_uids4_port"
expect_rc 0 "apply recreates them" hg apply
expect_rc 0 "check: in sync" hg check
expect ok "uid $U reaches 10.77.0.2:9000" probe "$H" tcp 10.77.0.2 9000 $U
finish
