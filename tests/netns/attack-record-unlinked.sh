#!/bin/bash
# The record is the namespace's lock (a170245): every holder must lock the
# inode that is the record.  Removed (or replaced) while an apply waits for
# its lock (root's rm, the release before's remove, which unlinked it), the
# apply got the lock of an inode that was no longer the record, wrote its
# record there, and it was lost: the path stayed empty (or held the copy
# that replaced it), and the next
# --runtime edit found no record, so check could not tell (exit 1 for a
# table that differs by runtime entries only).  A lock taken on an inode
# that is no longer the record is let go and taken again on the record.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
allowed_uids = 0
container_ifaces = docker0, br-*
CONF
expect_rc 0 "apply" hg apply
RECORD=$(hg status --json | jq -r .record)
[ -s "$RECORD" ] && pass "apply wrote the record" || fail "no record: $RECORD"
cleanup_record() { rm -f "$RECORD"; cleanup; }
trap cleanup_record EXIT

# a root process holds the record's lock; an apply waits for it, and the
# record is removed, or replaced by a copy (a rename over it), meanwhile
for how in replaced removed; do
	hold "$RECORD" 2
	# something for the apply to repair: it commits, and records that
	h nft add element inet hostguard allowed_uids '{ 4299 }'
	before=$(sed -n 's/^generation //p' "$RECORD")
	HOSTGUARD_LOCK_TIMEOUT=20 hg apply >"$T/apply.out" 2>&1 &
	applier=$!
	sleep 0.5
	# (the holder keeps the old inode)
	if [ $how = removed ]; then
		rm -f "$RECORD"
	else
		cp -p "$RECORD" "$RECORD.copy" && mv "$RECORD.copy" "$RECORD"
	fi
	wait "$applier" && pass "$how: the waiting apply succeeded" || fail "$how: apply: $(cat "$T/apply.out")"
	wait "$holder" 2>/dev/null
	[ "$(sed -n 's/^by //p' "$RECORD")" = apply ] && [ "$(stat -c %s "$RECORD")" = 1024 ] &&
		[ "$(sed -n 's/^generation //p' "$RECORD")" != "$before" ] &&
		pass "$how: the waiting apply wrote its record where the record is" ||
		fail "$how: the waiting apply's record is lost (it locked and wrote the old inode)"
	expect_rc 0 "$how: check: in sync" hg check
done
expect_rc 0 "allow-uid --runtime 4300" hg allow-uid --runtime 4300
expect_rc 3 "check: runtime entries only -> 3" hg check
expect_match "runtime entries only: allowed_uids: 4300" "check names the runtime entry"
finish
