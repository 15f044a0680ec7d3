#!/bin/bash
# security.md #28: a config grant swapped for an expiring copy (found by a
# hostile review of 5b177d7).  A tamperer with CAP_NET_ADMIN replaces
# alice's config grant by the same element with a kernel timeout and no
# runtime mark ("timeout 3s"), which reads as the permanent config grant
# (security.md #22): apply found the table in sync and recorded it as its
# policy at that generation.  The kernel then expires the element without a
# commit: the generation stays, and every later apply (the repair timer,
# guard's) took the short way: alice was cut off for good, and check called
# it "runtime entries only".  An apply records no policy for a table that
# holds an element the kernel expires: the next apply reads the table, and
# the one after the expiry puts the grants back.  Since the review of
# 2f21af9, such a copy is a difference of its own: check names it, apply
# makes the element permanent again, and an edit after the swap does not
# take the table for hostguard's.
. "$(dirname "$0")/lib.sh"

ALICE=2001
topo_basic
serve "$C" 0 tcp 9000

write_conf <<CONF
allowed_uids = 0
grant_uids = $ALICE@10.77.0.2 $ALICE@[fd77::2]
CONF
expect_rc 0 "apply" hg apply
expect ok "alice reaches 10.77.0.2 (config grant)" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect ok "alice reaches fd77::2 (config grant)" probe "$H" tcp fd77::2 9000 $ALICE
got=$(asked apply | sort -u | tr '\n' ' ')
[ "$got" = "NFT_MSG_GETGEN " ] && pass "control: in sync as recorded, apply asks for the generation only" ||
	fail "control: apply asked $got"

swap() {
	h nft -f - <<NFT || fail "nft -f (the expiring copies)"
delete element inet hostguard grant_uids4_addr { $ALICE . 10.77.0.2 }
add element inet hostguard grant_uids4_addr { $ALICE . 10.77.0.2 timeout 3s }
delete element inet hostguard grant_uids6_addr { $ALICE . fd77::2 }
add element inet hostguard grant_uids6_addr { $ALICE . fd77::2 timeout 3s }
NFT
}
swap
# (the review of 2f21af9) the copies no longer read as the config's grants:
# a timeout hostguard did not set is a difference, which check names and
# apply repairs, making the elements permanent again
expect_rc 1 "check names the expiring copies -> 1" hg check
expect_match "grant_uids: $ALICE@10.77.0.2 is in the config but the table holds it with a timeout" \
	"check: the v4 grant is held with a timeout"
expect_rc 0 "apply" hg apply
h nft list set inet hostguard grant_uids4_addr | grep -q "expires" && fail "apply left the v4 copy expiring" ||
	pass "apply made the v4 grant permanent"
h nft list set inet hostguard grant_uids6_addr | grep -q "expires" && fail "apply left the v6 copy expiring" ||
	pass "apply made the v6 grant permanent"
expect_rc 0 "check: in sync" hg check
sleep 4
expect ok "after the copies' timeout: alice still reaches 10.77.0.2, no apply needed" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect ok "after the copies' timeout: alice still reaches fd77::2" probe "$H" tcp fd77::2 9000 $ALICE

# an edit right after the swap must not take the table for hostguard's own:
# once the kernel expired the copies (no commit), check said "runtime
# entries only" (exit 3) and save wrote alice's grant out of the config
swap
expect_rc 0 "allow-uid --runtime 3000 after the swap" hg allow-uid --runtime 3000
sleep 4
expect timeout "control: the copies expired, alice is cut off" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect_rc 1 "check: not runtime only -> 1" hg check
expect_match "changed outside hostguard" "check says the table was changed outside hostguard"
cp "$CONF" "$T/conf.before"
expect_rc 1 "save refuses" hg save
cmp -s "$CONF" "$T/conf.before" && pass "the config keeps alice's grant" || fail "save changed the config: $(cat "$CONF")"
expect_rc 0 "apply puts the grants back" hg apply
expect ok "alice reaches 10.77.0.2 again" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect_rc 0 "check: in sync" hg check
finish
