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
# the one after the expiry puts the grants back.
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

h nft -f - <<NFT || fail "nft -f (the expiring copies)"
delete element inet hostguard grant_uids4_addr { $ALICE . 10.77.0.2 }
add element inet hostguard grant_uids4_addr { $ALICE . 10.77.0.2 timeout 3s }
delete element inet hostguard grant_uids6_addr { $ALICE . fd77::2 }
add element inet hostguard grant_uids6_addr { $ALICE . fd77::2 timeout 3s }
NFT
expect_rc 0 "apply (the copies read as the config's grants, #22)" hg apply
got=$(asked apply | tr '\n' ' ')
case $got in
*NFT_MSG_GETSETELEM*) pass "with an expiring element in the table, apply reads it every time" ;;
*) fail "with expiring elements apply asked: $got" ;;
esac
sleep 4
# the repair timer's apply, after the kernel's expiry (no commit)
expect_rc 0 "apply after the expiry" hg apply
expect_match "\+ grant_uids $ALICE@10.77.0.2" "it puts alice's grant back"
expect ok "after the expiry: alice reaches 10.77.0.2 again" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect ok "after the expiry: alice reaches fd77::2 again" probe "$H" tcp fd77::2 9000 $ALICE
expect_rc 0 "check: in sync" hg check
finish
