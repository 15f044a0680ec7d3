#!/bin/bash
# Attacks on the grant hash sets (grant_*_port: uid . addr . port,
# grant_*_addr: uid . addr) beside the interval set grant_*.
#
#  1. Byte order: the interval set holds the principal byte-swapped, the
#     hash sets as the kernel has it.  The uid (gid) whose number is the
#     other byte order of a granted one must reach nothing, through any
#     shape, TCP, UDP or ICMP; the granted one reaches what it was granted.
#  2. A forged hash element whose key has other bytes than zero in the
#     padding after the port (a program with CAP_NET_ADMIN can write that;
#     nft cannot) matches no packet but decoded as the grant beside it: apply
#     could not delete it by that key and failed, so a revocation in the
#     config never reached the kernel; and a padded copy of a config grant
#     left check "in sync" with the grant not working.  Now it is an element
#     that is no grant hostguard makes: check names it, apply recreates the
#     set.
#  3. A timed element in a hash set without hostguard's mark is no runtime
#     grant: check names it, apply removes it.
. "$(dirname "$0")/lib.sh"

RAW="$(dirname "$0")/nft-raw-elem.py"
U=2001 G=3100 STRANGER=2003
# the other byte order of U and G
SU=$(python3 -c "import socket; print(socket.htonl($U))")
SG=$(python3 -c "import socket; print(socket.htonl($G))")
topo_basic
for i in 3 5 7; do
	c ip addr add 10.77.0.$i/24 dev eth0
	c ip addr add fd77::$i/64 dev eth0 nodad
done
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000
wait_v6 "$H" fd77::7
# ICMP echo sockets for every uid in the host namespace
h sysctl -qw net.ipv4.ping_group_range="0 2147483647"
# ping ADDR UID [GID]: ok / timeout
ping_as() {
	h setpriv --reuid="$2" --regid="${3:-$2}" --clear-groups ping -c1 -W1 "$1" >/dev/null 2>&1 &&
		echo ok || echo timeout
}

# ---- 1. byte order -------------------------------------------------------
# Control: without the table the swapped uid reaches every address.
for a in 10.77.0.3 10.77.0.5 10.77.0.7 fd77::3 fd77::5 fd77::7; do
	expect ok "no table: uid $SU reaches $a:9000" probe "$H" tcp $a 9000 "$SU"
done
expect ok "no table: uid $SU pings 10.77.0.3" ping_as 10.77.0.3 "$SU"

write_conf <<CONF
allowed_uids = 0
grant_uids = $U@10.77.0.3, $U@10.77.0.5:9000, $U@10.77.0.7:9000-9001, $U@[fd77::3], $U@[fd77::5]:9000, $U@[fd77::7]:9000-9001
grant_gids = $G@10.77.0.3, $G@10.77.0.5:9000, $G@10.77.0.7:9000-9001, $G@[fd77::3], $G@[fd77::5]:9000, $G@[fd77::7]:9000-9001
CONF
expect_rc 0 "apply: grants of every shape, uid and gid" hg apply
for a in 10.77.0.3 10.77.0.5 10.77.0.7 fd77::3 fd77::5 fd77::7; do
	for proto in tcp udp; do
		expect ok "uid $U: $proto to $a:9000" probe "$H" $proto $a 9000 $U
		expect ok "gid $G: $proto to $a:9000" probe "$H" $proto $a 9000 $STRANGER $G
		# (a datagram dropped on the way out: "blocked", EPERM)
		no=timeout
		[ $proto = udp ] && no=blocked
		expect $no "uid $SU (uid $U byte-swapped): $proto to $a:9000 refused" \
			probe "$H" $proto $a 9000 "$SU"
		expect $no "gid $SG (gid $G byte-swapped): $proto to $a:9000 refused" \
			probe "$H" $proto $a 9000 "$STRANGER" "$SG"
	done
done
for a in 10.77.0.3 fd77::3; do
	expect ok "uid $U pings $a (address grant: every protocol)" ping_as $a $U
	expect ok "gid $G pings $a" ping_as $a $STRANGER $G
	expect timeout "uid $SU does not ping $a" ping_as $a "$SU"
	expect timeout "gid $SG does not ping $a" ping_as $a $STRANGER "$SG"
	expect timeout "uid $STRANGER does not ping $a" ping_as $a $STRANGER
done
# the same through runtime edits of each shape
expect_rc 0 "allow-uid --for, every shape" hg allow-uid $STRANGER --for 1h --to 10.77.0.3 \
	--to 10.77.0.5:9000 --to 10.77.0.7:9000-9001 --to '[fd77::3]'
SS=$(python3 -c "import socket; print(socket.htonl($STRANGER))")
for a in 10.77.0.3:9000 10.77.0.5:9000 10.77.0.7:9000 fd77::3:9000; do
	expect ok "uid $STRANGER (--for) reaches $a" probe "$H" tcp "${a%:*}" "${a##*:}" $STRANGER
	expect timeout "uid $SS ($STRANGER byte-swapped) refused at $a" probe "$H" tcp "${a%:*}" "${a##*:}" "$SS"
done
# control: a grant of the swapped uid itself lets it through (the probe
# as that uid works)
h nft add element inet hostguard grant_uids4_addr "{ $SU . 10.77.0.5 }"
expect ok "control: uid $SU granted 10.77.0.5 in grant_uids4_addr reaches it" probe "$H" tcp 10.77.0.5 9000 "$SU"
expect_rc 0 "revoke-uid $STRANGER, every shape" hg revoke-uid $STRANGER --to 10.77.0.3 \
	--to 10.77.0.5:9000 --to 10.77.0.7:9000-9001 --to '[fd77::3]'
expect_rc 0 "apply removes the control grant" hg apply
expect timeout "uid $SU refused again at 10.77.0.5" probe "$H" tcp 10.77.0.5 9000 "$SU"

# ---- 2. forged padding ---------------------------------------------------
# key of uid . 10.77.0.5 . 9000 in grant_uids4_port, padding PAD (2 bytes hex)
key4() { python3 -c "import struct,socket,sys; sys.stdout.write((struct.pack('=I', $1) + socket.inet_aton('10.77.0.5') + struct.pack('>H', 9000)).hex() + '$2')"; }
key6() { python3 -c "import struct,socket,sys; sys.stdout.write((struct.pack('=I', $1) + socket.inet_pton(socket.AF_INET6, 'fd77::5') + struct.pack('>H', 9000)).hex() + '$2')"; }
in_set() { h nft list set inet hostguard "$1" | grep -qF -- "$2" && echo yes || echo no; }

expect_rc 0 "check: in sync" hg check
h python3 "$RAW" grant_uids4_port "$(key4 $STRANGER 0000)" || fail "raw element, zero padding"
expect ok "control: a raw element with zero padding grants uid $STRANGER" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect_rc 0 "apply removes it" hg apply
expect timeout "removed: uid $STRANGER refused" probe "$H" tcp 10.77.0.5 9000 $STRANGER

h python3 "$RAW" grant_uids4_port "$(key4 $STRANGER ffff)" || fail "raw element, padding ffff"
h python3 "$RAW" grant_uids6_port "$(key6 $STRANGER 0101)" || fail "raw element v6, padding 0101"
expect timeout "padded: uid $STRANGER refused at 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect timeout "padded: uid $STRANGER refused at [fd77::5]:9000" probe "$H" tcp fd77::5 9000 $STRANGER
expect_rc 1 "check: the padded elements differ" hg check
expect_match "set grant_uids4_port: an element that is no grant hostguard makes" "check names the v4 set"
OUT=$(hg status --json | jq -r '.differences[]')
expect_match "set grant_uids6_port: an element that is no grant hostguard makes" "status names the v6 set"
# the config revokes uid U's grants: apply must get that to the kernel
write_conf <<CONF
allowed_uids = 0
grant_gids = $G@10.77.0.5:9000
CONF
expect_rc 0 "apply (revoking uid $U) with padded elements in the sets" hg apply
expect timeout "revoked by apply: uid $U refused at 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $U
expect timeout "revoked by apply: uid $U refused at [fd77::3]:9000" probe "$H" tcp fd77::3 9000 $U
expect no "the padded element is gone" in_set grant_uids4_port "$STRANGER . "
expect yes "the gid grant is back in grant_gids4_port" in_set grant_gids4_port "$G . 10.77.0.5 . 9000"
expect ok "gid $G still reaches 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $STRANGER $G
expect_rc 0 "check: in sync" hg check

# a padded copy in place of a config grant: the grant does not work, and
# check must say so
write_conf <<CONF
allowed_uids = 0
grant_uids = $U@10.77.0.5:9000
CONF
expect_rc 0 "apply: uid $U granted 10.77.0.5:9000" hg apply
h nft delete element inet hostguard grant_uids4_port "{ $U . 10.77.0.5 . 9000 }"
h python3 "$RAW" grant_uids4_port "$(key4 $U 8000)" || fail "raw padded copy"
expect timeout "the padded copy grants nothing (uid $U refused)" probe "$H" tcp 10.77.0.5 9000 $U
expect_rc 1 "check: not in sync with the padded copy" hg check
expect_rc 0 "apply repairs" hg apply
expect ok "repaired: uid $U reaches 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $U
expect_rc 0 "check: in sync" hg check

# the interval set: pipapo compares the port's two bytes only, so a padded
# element there matches (control) and is deleted by the zero-padded key
K=$(python3 -c "import struct,socket,sys; sys.stdout.write((struct.pack('>I', $STRANGER) + socket.inet_aton('10.77.0.5') + struct.pack('>H', 9000)).hex() + 'ffff')")
h python3 "$RAW" grant_uids4 "$K-$K" || fail "raw interval element, padding ffff"
expect ok "interval set (control): the padded element grants uid $STRANGER" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect_rc 1 "check: the padded interval element differs" hg check
expect_match "grant_uids: $STRANGER@10\\.77\\.0\\.5:9000 is in the table but not in the config" "check names it"
expect_rc 0 "apply removes it" hg apply
expect timeout "removed: uid $STRANGER refused" probe "$H" tcp 10.77.0.5 9000 $STRANGER

# ---- 3. an unmarked timed element in a hash set -------------------------
h nft add element inet hostguard grant_uids4_port "{ $STRANGER . 10.77.0.5 . 9000 timeout 1h comment \"runtime:0123456789abcdef\" }"
h nft add element inet hostguard grant_uids6_addr "{ $STRANGER . fd77::5 timeout 1h }"
expect ok "forged timed elements (control): uid $STRANGER reaches 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect_rc 1 "check: the forged timed elements are no runtime grants" hg check
OUT=$(hg status --json | jq -r '.differences[]')
expect_match "$STRANGER@10\\.77\\.0\\.5:9000 is in the table but not in the config" "status names the v4 one"
expect_match "$STRANGER@fd77::5 is in the table but not in the config" "status names the v6 one"
expect_rc 0 "apply removes them" hg apply
expect timeout "removed: uid $STRANGER refused at 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $STRANGER
expect timeout "removed: uid $STRANGER refused at [fd77::5]:9000" probe "$H" tcp fd77::5 9000 $STRANGER

# ---- 4. --for over a config grant held in the previous release's set -----
# A permanent grant found in another set than its shape's was replaced by
# the --for one in its own set: once that expired the config's grant was
# gone.  It stays now (apply moves it).
write_conf <<CONF
allowed_uids = 0
grant_uids = $U@10.77.0.5:9000, $U@[fd77::3]
CONF
expect_rc 0 "apply: uid $U granted 10.77.0.5:9000 and [fd77::3]" hg apply
h nft delete element inet hostguard grant_uids4_port "{ $U . 10.77.0.5 . 9000 }"
h nft add element inet hostguard grant_uids4 "{ $U . 10.77.0.5 . 9000 }"
h nft delete element inet hostguard grant_uids6_addr "{ $U . fd77::3 }"
h nft add element inet hostguard grant_uids6 "{ $U . fd77::3 . 0-65535 }"
expect ok "old layout: uid $U reaches 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $U
expect_rc 0 "allow-uid $U --for 1s over both" hg allow-uid $U --to 10.77.0.5:9000 --to '[fd77::3]' --for 1s
expect yes "the permanent v4 element is still in grant_uids4" in_set grant_uids4 "$U . 10.77.0.5 . 9000"
expect yes "the permanent v6 element is still in grant_uids6" in_set grant_uids6 "$U . fd77::3 . 0-65535"
# (past the --for: had it replaced them, the kernel has removed it by now)
sleep 2
expect ok "after the --for: uid $U still reaches 10.77.0.5:9000" probe "$H" tcp 10.77.0.5 9000 $U
expect ok "after the --for: uid $U still reaches [fd77::3]:9000" probe "$H" tcp fd77::3 9000 $U
expect_rc 1 "check: the grants are in the previous release's sets" hg check
expect_match "is in set grant_uids4, hostguard keeps it in set grant_uids4_port" "check names the one to move"
expect_rc 0 "apply moves them" hg apply
expect_rc 0 "check: in sync" hg check
expect ok "moved: uid $U reaches [fd77::3]:9000" probe "$H" tcp fd77::3 9000 $U
finish
