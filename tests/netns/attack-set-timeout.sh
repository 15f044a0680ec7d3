#!/bin/bash
# A set's definition beyond its type and flags (found by the hostile review
# of 2f21af9).  A tamperer with CAP_NET_ADMIN gives grant_uids4_addr a
# default timeout: "nft add set ... { ...; flags timeout; timeout 6s; }"
# updates the existing set in place (Linux 6.18), and every grant added
# after it expires, the config's too, without a commit.  hostguard compared
# only key type, length and flags: check said in sync, apply never repaired
# it, and once alice's grant had expired check called it "runtime entries
# only" and save wrote it out of the config.  A default timeout, a garbage
# collection interval or element expressions make the set's definition
# wrong now: check names it, apply re-creates the set, an edit refuses it.
. "$(dirname "$0")/lib.sh"

ALICE=2001
topo_basic
serve "$C" 0 tcp 9000
write_conf <<CONF
allowed_uids = 0
CONF
expect_rc 0 "apply" hg apply
h nft add set inet hostguard grant_uids4_addr '{ type uid . ipv4_addr; flags timeout; timeout 6s; }' ||
	fail "nft: the set update"
h nft list set inet hostguard grant_uids4_addr | grep -q "timeout 6s" && pass "control: the kernel took the default timeout" ||
	fail "control: no default timeout: $(h nft list set inet hostguard grant_uids4_addr)"
expect_rc 1 "check names the changed set -> 1" hg check
expect_match "grant_uids4_addr" "check names grant_uids4_addr"
expect_rc 1 "allow-uid --runtime $ALICE --to 10.77.0.2 refuses the changed set" hg allow-uid --runtime $ALICE --to 10.77.0.2
expect_match "changed by someone else" "the edit says the set was changed"
write_conf <<CONF
allowed_uids = 0
grant_uids = $ALICE@10.77.0.2
CONF
expect_rc 0 "apply the config with alice's grant" hg apply
h nft list set inet hostguard grant_uids4_addr | grep -q "timeout 6s" && fail "apply left the default timeout" ||
	pass "apply re-created the set without it"
expect_rc 0 "check: in sync" hg check
sleep 7
expect ok "after 7 s alice still reaches 10.77.0.2 (config grant)" probe "$H" tcp 10.77.0.2 9000 $ALICE
expect_rc 0 "check: in sync" hg check

# the other attributes, on a set of each kind
for spec in "grant_gids4_addr { type gid . ipv4_addr; flags timeout; gc-interval 5s; }" \
	"allow_from_containers_tcp { type inet_service; flags interval; counter; }"; do
	set=${spec%% *}
	h nft add set inet hostguard "$spec" 2>"$T/nft.err" || {
		# a kernel that refuses the update has nothing to find
		pass "the kernel refuses '$spec': $(head -1 "$T/nft.err")"
		continue
	}
	if h nft list set inet hostguard "$set" | grep -Eq "gc-interval|counter"; then
		expect_rc 1 "check names $set with its new attribute -> 1" hg check
		expect_match "$set" "check names $set"
		expect_rc 0 "apply" hg apply
		h nft list set inet hostguard "$set" | grep -Eq "gc-interval|counter" && fail "apply left $set as it was" ||
			pass "apply re-created $set"
	else
		pass "the kernel kept $set as it was"
	fi
	expect_rc 0 "check: in sync" hg check
done
finish
