#!/bin/bash
# --runtime edits take no config lock (4ea38eb): they can now run while
# apply is between its commit and the record it writes after it.  Every
# change here is hostguard's own, so afterwards check must still explain
# the table (runtime entries only, exit 3), and save must accept it; a
# record left behind, or marked "changed outside", is a false alarm that
# also makes save refuse the operator's runtime edit.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
# a large set: apply's read-back and digest after its commit take a while
{
	printf 'allowed_uids = 0'
	seq -f ', %g' 100000 119999 | tr -d '\n'
	printf '\n'
} >"$CONF"
expect_rc 0 "apply" hg apply -q

rounds=${HG_RACE_ROUNDS:-8}
bad=0
for r in $(seq "$rounds"); do
	# something apply must take away: it commits
	hg allow-uid --runtime 5555 >/dev/null 2>&1 || fail "round $r: allow-uid --runtime 5555"
	hg apply -q >"$T/apply.$r" 2>&1 &
	ap=$!
	# runtime edits all through the apply
	while kill -0 "$ap" 2>/dev/null; do
		hg allow-uid --runtime 4444 >/dev/null 2>&1
		hg revoke-uid --runtime 4444 >/dev/null 2>&1
	done
	wait "$ap" || fail "round $r: apply: $(cat "$T/apply.$r")"
	# the last word: one runtime entry beside the config
	hg allow-uid --runtime 4444 >/dev/null 2>&1 || fail "round $r: the last allow-uid --runtime"
	OUT=$(hg check --json 2>&1)
	state=$(printf '%s' "$OUT" | jq -r .state 2>/dev/null)
	if [ "$state" != runtime_only ]; then
		bad=$((bad + 1))
		echo "# round $r: check says '$state' after hostguard's own changes only"
	fi
	hg revoke-uid --runtime 4444 >/dev/null 2>&1
done
[ "$bad" = 0 ] && pass "$rounds rounds of --runtime edits during apply: check says runtime only every time" ||
	fail "$bad of $rounds rounds left a table check cannot explain (its own changes only)"
hg allow-uid --runtime 4444 >/dev/null 2>&1
expect_rc 0 "save accepts the runtime entry" hg save
grep -q ', 4444\b' "$CONF" && pass "save wrote 4444" || fail "4444 not in the config"
expect_rc 0 "check: in sync" hg check
finish
