#!/bin/bash
# The record's lock (the record itself, /run/hostguard/applied-<netns
# cookie>, flock; one per network namespace) is held by an edit from its
# begin to its end (a1d15c0), and by apply around its transaction.  Nobody
# stuck holding it may hold up a repair: apply waits a few seconds at most,
# then repairs (unrecorded); and an edit that fails lets go of it before it
# says why (its terminal may be stopped, ^S, like its output in runtime.sh).
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
allowed_uids = 0
CONF
expect_rc 0 "apply" hg apply
RECORD=$(hg status --json | jq -r .record)
[ -f "$RECORD" ] && pass "apply wrote the record" || fail "no record: $RECORD"
RECORD_LOCK=$RECORD
export RECORD_LOCK
cleanup_record() { rm -f "$RECORD"; cleanup; }
trap cleanup_record EXIT

# ---- another namespace's lock, or the directory (the lock before it was
# one per namespace), or the lock file of the release before (one beside
# the record), held for good: nothing here waits for them
for other in "/run/hostguard" "${RECORD%/*}/applied-0" "${RECORD%/*}/lock-${RECORD##*/applied-}"; do
	[ -e "$other" ] || : >"$other"
	hold "$other"
	h nft add element inet hostguard allowed_uids '{ 4241 }'
	before=$(sed -n 's/^generation //p' "$RECORD")
	expect_rc 0 "apply while $other is held" \
		h env HOSTGUARD_LOCK_TIMEOUT=5 timeout 30 "$HG" --config "$CONF" apply -q
	[ "$(sed -n 's/^by //p' "$RECORD")" = apply ] && [ "$(sed -n 's/^generation //p' "$RECORD")" != "$before" ] &&
		pass "and recorded its commit" || fail "not recorded: $(head -c 200 "$RECORD")"
	expect_rc 0 "an edit goes through too" timeout 10 ip netns exec "$H" "$HG" --config "$CONF" allow-uid --runtime 4240
	expect_rc 0 "and back" hg revoke-uid --runtime 4240
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
done
rm -f "${RECORD%/*}/applied-0" "${RECORD%/*}/lock-${RECORD##*/applied-}"
expect_rc 0 "check: in sync" hg check

# ---- the namespace's own lock held for good by a root process
hold "$RECORD_LOCK"
h nft add element inet hostguard allowed_uids '{ 4242 }'
start=$(date +%s)
expect_rc 0 "apply while the record's lock is held: it repairs" \
	h env HOSTGUARD_LOCK_TIMEOUT=1 timeout 30 "$HG" --config "$CONF" apply -q
took=$(($(date +%s) - start))
[ "$took" -lt 5 ] && pass "in ${took} s" || fail "apply took ${took} s"
h nft list set inet hostguard allowed_uids | grep -q 4242 && fail "4242 still in the table" ||
	pass "the tampered element is gone"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
expect_rc 0 "apply once the lock is free" hg apply -q
expect_rc 0 "check: in sync" hg check

# ---- edits that fail, their terminal stopped: the lock is free meanwhile
stopped() { # stopped DESC WANT ARGS...
	local desc=$1 want=$2 got
	shift 2
	got=$(python3 "$(dirname "$0")/tty-stopped.py" "$H" "$HG" "$CONF" "$@")
	[ "$got" = "$want" ] && pass "$desc: blocked on its message, the record's lock free, exit ${want##* }" ||
		fail "$desc: blocked/lock free/exit = $got, expected $want"
}
# another tool re-created allowed_uids with room for two elements
hg apply --dry-run --full | sed 's/^\t\ttype uid$/\t\ttype uid; size 2/' >"$T/small.nft"
h nft delete table inet hostguard
h nft -f "$T/small.nft"
cp "$CONF" "$T/before"
stopped "allow-uid into a full set" "1 1 1" allow-uid 5 6 7
stopped "allow-uid --runtime into a full set" "1 1 1" allow-uid --runtime 5 6 7
cmp -s "$T/before" "$CONF" && pass "config unchanged" || fail "config changed: $(cat "$CONF")"
h nft delete table inet hostguard
stopped "allow-uid --runtime without the table" "1 1 1" allow-uid --runtime 5
expect_rc 0 "apply" hg apply -q
expect_rc 0 "check: in sync" hg check
finish
