#!/bin/bash
# check and status see changes made behind hostguard's back; apply repairs.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
allowed_uids = 0, 1001
allow_from_containers_tcp = 53, 8000-8100
CONF

expect_rc 1 "check: table not loaded -> 1" hg check
expect_match "not loaded" "check says it is not loaded"
expect_rc 0 "apply" hg apply
expect_rc 0 "check: in sync -> 0" hg check
expect_rc 0 "apply is idempotent" hg apply
expect_rc 0 "still in sync" hg check
a=$(h nft list table inet hostguard)
hg apply >/dev/null
b=$(h nft list table inet hostguard)
[ "$a" = "$b" ] && pass "re-apply leaves the same ruleset" || fail "re-apply changed the ruleset"

h nft flush ruleset
expect_rc 1 "check after 'nft flush ruleset' -> 1" hg check
expect_match "not loaded" "check reports the table missing"
expect_rc 0 "apply repairs" hg apply

h nft add element inet hostguard allowed_uids '{ 4242 }'
expect_rc 1 "check: extra uid -> 1" hg check
expect_match "allowed_uids: 4242" "check names the extra uid"
hg apply >/dev/null

h nft delete element inet hostguard allow_from_containers_tcp '{ 8000-8100 }'
expect_rc 1 "check: missing port range -> 1" hg check
expect_match "8000-8100" "check names the missing range"
hg apply >/dev/null

# nft 1.0.6 cannot add to this interval set (a userspace overlap bug), so
# the tamperer replaces the table with an edited copy of hostguard's own
hg apply --dry-run --full | sed 's/"br-\*",/"br-*", "eth9",/' >"$T/tampered.nft"
grep -q eth9 "$T/tampered.nft" || fail "could not prepare the tampered ruleset"
h nft -f "$T/tampered.nft"
expect_rc 1 "check: extra interface -> 1" hg check
expect_match "eth9" "check names the extra interface"
hg apply >/dev/null

h nft add rule inet hostguard egress accept
expect_rc 1 "check: extra rule -> 1" hg check
expect_match "egress" "check names the chain with the extra rule"
hg apply >/dev/null

h nft flush chain inet hostguard ingress_local
expect_rc 1 "check: flushed chain -> 1" hg check
expect_match "ingress_local" "check names the flushed chain"
hg apply >/dev/null

h nft add chain inet hostguard ingress_local '{ policy drop; }'
expect_rc 1 "check: base chain policy drop -> 1" hg check
expect_match "policy drop" "check shows the changed policy"
hg apply >/dev/null

h nft delete chain inet hostguard egress
h nft add chain inet hostguard egress '{ type filter hook output priority 0; policy accept; }'
h nft add rule inet hostguard egress ct direction reply accept
h nft add rule inet hostguard egress meta skuid != @allowed_uids meta skgid != @allowed_gids oifname @container_ifaces counter drop
expect_rc 1 "check: egress moved to hook output -> 1" hg check
expect_match "egress: expected 'type filter hook postrouting priority 0; policy accept', found 'type filter hook output" "check shows the changed hook"
expect_rc 0 "apply moves it back" hg apply
expect_rc 0 "in sync" hg check
h nft delete chain inet hostguard ingress_local
h nft add chain inet hostguard ingress_local '{ type filter hook input priority 10; policy accept; }'
expect_rc 1 "check: ingress_local priority 10 -> 1" hg check
expect_match "priority 10" "check shows the changed priority"
hg apply >/dev/null

# a dormant table is loaded but filters nothing
h nft add table inet hostguard '{ flags dormant; }'
expect_rc 1 "check: dormant table -> 1" hg check
expect_match "dormant" "check says the table is dormant"
expect_rc 0 "apply wakes it" hg apply
h nft list table inet hostguard | grep -q dormant && fail "still dormant after apply" || pass "no longer dormant"
expect_rc 0 "in sync after waking" hg check

# the regular chains the base chains jump to are ours as much
h nft flush chain inet hostguard from_containers
expect_rc 1 "check: from_containers flushed -> 1" hg check
expect_match "from_containers" "check names from_containers"
hg apply >/dev/null
h nft insert rule inet hostguard from_unallowed accept
expect_rc 1 "check: accept at the top of from_unallowed -> 1" hg check
expect_match "from_unallowed: rule 1 differs" "check names the changed rule"
hg apply >/dev/null
expect_rc 0 "in sync after repairing the regular chains" hg check

# stateful objects in our table are not hostguard's
h nft add counter inet hostguard sneakycounter
h nft add quota inet hostguard sneakyquota '{ over 1 mbytes; }'
expect_rc 1 "check: foreign objects -> 1" hg check
expect_match "sneakycounter" "check names the foreign object"
hg apply >/dev/null
h nft list table inet hostguard | grep -q sneaky && fail "apply left a foreign object" || pass "apply deleted the foreign objects"

h nft add chain inet hostguard sneaky
expect_rc 1 "check: extra chain -> 1" hg check
expect_match "sneaky" "check names the extra chain"
hg apply >/dev/null

h nft add set inet hostguard sneakyset '{ type ipv4_addr; }'
expect_rc 1 "check: extra set -> 1" hg check
expect_match "sneakyset" "check names the extra set"
expect_rc 0 "apply repairs everything" hg apply
expect_rc 0 "in sync again" hg check

OUT=$(hg status --json)
if printf '%s' "$OUT" | jq -e '.loaded and .in_sync and (.differences | length == 0)' >/dev/null; then
	pass "status --json: loaded, in sync"
else
	fail "status --json: $OUT"
fi
h nft add element inet hostguard allowed_uids '{ 4242 }'
OUT=$(hg status --json)
if printf '%s' "$OUT" | jq -e '(.in_sync == false) and (.differences | length == 1) and ([.sets.allowed_uids[].id] == [0,1001,4242])' >/dev/null; then
	pass "status --json shows the drift and the live uids"
else
	fail "status --json after drift: $OUT"
fi
expect_rc 0 "status (text) exits 0 on drift" hg status
expect_match "DRIFTED" "status says drifted"

# the config changes: the live table is then out of date
write_conf <<'CONF'
allowed_uids = 0
CONF
expect_rc 1 "check after a config edit -> 1" hg check
write_conf <<'CONF'
allowed_uids = 0 12abc
CONF
expect_rc 2 "check with an invalid config -> 2" hg check

finish
