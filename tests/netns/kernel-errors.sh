#!/bin/bash
# When the kernel refuses a transaction, the message names the set and the
# element, and neither the kernel nor the config changes.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
allowed_uids = 0
CONF
# another tool re-created allowed_uids with room for two elements only
hg apply --dry-run --full | sed 's/^\t\ttype uid$/\t\ttype uid; size 2/' >"$T/small.nft"
grep -q 'size 2' "$T/small.nft" || fail "could not prepare the small set"
h nft -f "$T/small.nft"
before=$(h nft list ruleset)
cp "$CONF" "$T/before"
ino=$(stat -c %i "$CONF")

expect_rc 1 "allow-uid into a full set -> 1" hg allow-uid 5 6 7
expect_match "set allowed_uids: element [67]: the set is full" "the message names the set and the element"
expect_match "nothing was applied" "the message says nothing was applied"
[ "$(h nft list ruleset)" = "$before" ] && pass "kernel unchanged" || fail "kernel changed"
cmp -s "$T/before" "$CONF" && pass "config unchanged" || fail "config changed: $(cat "$CONF")"
# shellcheck disable=SC2010  # the names are the config's own temporary files
ls -A "$T" | grep -q '^\.hostguard\.conf\.' && fail "temporary or old-version file left behind" ||
	pass "no temporary or old-version file left"
[ "$(stat -c %i "$CONF")" = "$ino" ] && pass "the very same file is back (inode kept)" || fail "config inode changed"

expect_rc 1 "check reports the foreign set size" hg check
expect_match "allowed_uids: type, flags or size differ" "check names the set"
expect_rc 0 "apply re-creates the set as hostguard's" hg apply
expect_rc 0 "check: in sync" hg check
expect_rc 0 "now allow-uid 5 6 7 works" hg allow-uid 5 6 7
finish
