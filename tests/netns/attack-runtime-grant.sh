#!/bin/bash
# security.md #22: a forged runtime grant.  Any grant element with a kernel
# timeout used to pass for an "allow-uid --for" grant: a program with
# CAP_NET_ADMIN adding "2003 . 0.0.0.0/0 . 0-65535 timeout 300d" (and its
# IPv6 twin) gave uid 2003 every container for 300 days while check said in
# sync and apply kept it.  hostguard now marks its own (comment "runtime:"
# + SipHash under the root-only record's key); a timed element without a
# valid mark -- none, another element's, its own with a longer timeout --
# is named by check (exit 1) and removed by apply, while alice's real
# --for grant stays.  Packets IPv4 and IPv6, TCP and UDP; the control is the
# forgery getting through before the repair.
. "$(dirname "$0")/lib.sh"

ALICE=2001 STRANGER=2003
topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000

write_conf <<CONF
allowed_uids = 0
CONF
expect_rc 0 "apply" hg apply
expect_rc 0 "allow-uid alice --to 10.77.0.2 --for 1h (a real runtime grant)" hg allow-uid $ALICE --to 10.77.0.2 --for 1h
expect_rc 0 "allow-uid alice --to [fd77::2] --for 1h" hg allow-uid $ALICE --to '[fd77::2]' --for 1h
OUT=$(h nft list set inet hostguard grant_uids4_addr)
expect_match "$ALICE \\. 10\\.77\\.0\\.2 timeout 1h .*comment \"runtime:[0-9a-f]{16}\"" \
	"hostguard's runtime element carries its mark"
MARK=$(printf '%s\n' "$OUT" | grep -o 'runtime:[0-9a-f]*' | head -n 1)
expect_rc 0 "check: in sync with alice's runtime grants" hg check

forge() { # forge: the stranger's year of everything, three ways
	h nft add element inet hostguard grant_uids4 "{ $STRANGER . 0.0.0.0/0 . 0-65535 timeout 300d }" &&
		h nft add element inet hostguard grant_uids6 "{ $STRANGER . ::/0 . 0-65535 timeout 300d comment \"$MARK\" }"
}
forge || fail "nft add element (forged runtime grants)"
for a in 10.77.0.2 fd77::2; do
	expect ok "forged (control): the stranger reaches $a tcp" probe "$H" tcp $a 9000 $STRANGER
	expect ok "forged (control): the stranger reaches $a udp" probe "$H" udp $a 9000 $STRANGER
done
OUT=$(hg check 2>&1)
expect_rc 1 "check exits 1 with forged runtime grants" hg check
expect_match "$STRANGER@0\\.0\\.0\\.0/0 is in the table but not in the config" "check names the unmarked one"
expect_match "\\(and 1 more" "check counts the one with another element's mark too"
expect_rc 1 "save refuses to write them to the config (changed outside hostguard)" hg save
expect_rc 0 "apply repairs" hg apply
for a in 10.77.0.2 fd77::2; do
	expect timeout "after apply: the stranger is refused at $a tcp" probe "$H" tcp $a 9000 $STRANGER
	expect blocked "after apply: the stranger is refused at $a udp" probe "$H" udp $a 9000 $STRANGER
	expect ok "after apply: alice's real --for grant still reaches $a" probe "$H" tcp $a 9000 $ALICE
done
OUT=$(h nft list table inet hostguard)
if printf '%s\n' "$OUT" | grep -q "$STRANGER \\."; then
	fail "apply left a forged element: $(printf '%s\n' "$OUT" | grep "$STRANGER")"
else
	pass "apply removed every forged element"
fi
expect_rc 0 "check: in sync again" hg check

# alice's own element, re-added with her mark but a year instead of an hour
h nft delete element inet hostguard grant_uids4_addr "{ $ALICE . 10.77.0.2 }"
h nft add element inet hostguard grant_uids4_addr "{ $ALICE . 10.77.0.2 timeout 365d comment \"$MARK\" }" ||
	fail "nft add element (replayed mark)"
expect_rc 1 "check: a replayed mark with a longer timeout is named" hg check
expect_rc 0 "apply" hg apply
expect timeout "after apply: the stretched grant is gone (alice refused at 10.77.0.2)" probe "$H" tcp 10.77.0.2 9000 $ALICE
finish
