#!/bin/bash
# The edit/apply lock (issue #11 hole 2): no unprivileged user can take it,
# a lock on the config's directory (the old lock) no longer blocks anything,
# and no wait is unbounded: a holder makes apply and edits fail after
# HOSTGUARD_LOCK_TIMEOUT seconds, naming its pid.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
allowed_uids = 0
CONF
LOCK="$T/.hostguard.lock"
as2000() { setpriv --reuid=2000 --regid=2000 --clear-groups "$@"; }
# timed_rc RC DESCRIPTION COMMAND...: expect_rc, and the seconds it took in $SECS
timed_rc() { local t0=$SECONDS; expect_rc "$@"; SECS=$((SECONDS - t0)); }

expect_rc 0 "apply" hg apply
[ "$(stat -c '%F %u %a' "$LOCK")" = "regular empty file 0 600" ] &&
	pass "the lock file is root's, mode 0600" || fail "lock file: $(stat -c '%F %u %a' "$LOCK")"

# ---- a non-allowed user cannot open the lock
expect_rc 66 "uid 2000 cannot open the lock (flock -x: cannot open)" as2000 flock -x -n "$LOCK" true
expect_match "Permission denied" "because of EACCES"
expect_rc 66 "nor open it for a shared lock" as2000 flock -s -n "$LOCK" true

# ---- the old lock: uid 2000 flock()s the config's directory
# (each holder is one process that holds the lock itself: killing it frees
# the lock, and no orphan keeps the test's output open)
# shellcheck disable=SC2016  # $0 is the inner shell's
as2000 sh -c 'exec 9<"$0"; flock -x 9; exec sleep 30' "$T" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
# control: the directory lock is real (it is what apply and edits used to wait for forever)
expect_rc 1 "control: uid 2000 holds an exclusive lock on the config's directory" flock -n "$T" true
h nft flush ruleset
timed_rc 0 "apply completes while uid 2000 holds the directory lock" \
	ip netns exec "$H" env HOSTGUARD_LOCK_TIMEOUT=5 timeout 20 "$HG" --config "$CONF" apply
[ "$SECS" -le 2 ] && pass "without waiting (${SECS}s)" || fail "apply took ${SECS}s"
expect_rc 0 "and the table is back" hg check
expect_rc 0 "an edit completes too" timeout 20 ip netns exec "$H" "$HG" --config "$CONF" allow-uid 5
kill "${PIDS[-1]}" 2>/dev/null
# shellcheck disable=SC2016  # $0 is the inner shell's
as2000 sh -c 'exec 9<"$0"; flock -s 9; exec sleep 30' "$T" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
expect_rc 0 "a shared directory lock of uid 2000 blocks no edit" \
	timeout 20 ip netns exec "$H" "$HG" --config "$CONF" revoke-uid 5
kill "${PIDS[-1]}" 2>/dev/null

# ---- a root process holding the lock: bounded wait, holder named
flock -o -x "$LOCK" sleep 30 >/dev/null 2>&1 &
holder=$!
PIDS+=("$holder")
sleep 0.3
cp "$CONF" "$T/conf.before"
timed_rc 1 "apply gives up with exit 1 while root holds the lock" \
	env HOSTGUARD_LOCK_TIMEOUT=1 timeout 20 ip netns exec "$H" "$HG" --config "$CONF" apply
expect_match "held by pid $holder \(flock\); gave up after 1 s" "the message names the holder's pid and command"
[ "$SECS" -le 3 ] && pass "after the bound (${SECS}s)" || fail "apply took ${SECS}s"
expect_rc 1 "an edit gives up too" \
	env HOSTGUARD_LOCK_TIMEOUT=1 timeout 20 ip netns exec "$H" "$HG" --config "$CONF" allow-uid 6
expect_match "held by pid $holder" "naming the holder"
cmp -s "$CONF" "$T/conf.before" && pass "the config is unchanged" || fail "config changed: $(cat "$CONF")"
# a --runtime edit neither reads nor writes the config: it does not wait
# for the config's lock (the generation guard orders its transaction)
timed_rc 0 "a --runtime edit goes through while root holds the lock" \
	env HOSTGUARD_LOCK_TIMEOUT=5 timeout 20 ip netns exec "$H" "$HG" --config "$CONF" allow-uid --runtime 4242
[ "$SECS" -le 2 ] && pass "without waiting (${SECS}s)" || fail "the --runtime edit took ${SECS}s"
expect_rc 0 "uid 4242 is in the table" h nft get element inet hostguard allowed_uids '{ 4242 }'
expect_rc 0 "and out again, the same way" \
	env HOSTGUARD_LOCK_TIMEOUT=5 timeout 20 ip netns exec "$H" "$HG" --config "$CONF" revoke-uid --runtime 4242
expect_rc 1 "uid 4242 is gone" h nft get element inet hostguard allowed_uids '{ 4242 }'
cmp -s "$CONF" "$T/conf.before" && pass "the config is still unchanged" || fail "config changed: $(cat "$CONF")"
timed_rc 1 "default bound: apply does not hang" env -u HOSTGUARD_LOCK_TIMEOUT timeout 30 ip netns exec "$H" "$HG" --config "$CONF" apply
[ "$SECS" -ge 9 ] && [ "$SECS" -le 12 ] && pass "it gives up after the default 10 s (${SECS}s)" || fail "default bound: ${SECS}s"
pkill -P "$holder" sleep 2>/dev/null
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
expect_rc 0 "once the holder is gone, edits work" hg allow-uid 6
# the process that took the lock may be gone while one that inherited the
# open file holds it (flock 9; exec ...): still a bounded wait, still named
sh -c 'exec 9<>"$0"; flock -x 9; exec sleep 30' "$LOCK" >/dev/null 2>&1 &
holder=$!
PIDS+=("$holder")
sleep 0.3
expect_rc 1 "a lock held through an inherited file: apply exits 1 after the bound" \
	env HOSTGUARD_LOCK_TIMEOUT=1 ip netns exec "$H" "$HG" --config "$CONF" apply
expect_match "held by pid [0-9]+, which has exited: a process that inherited its open lock file holds it" \
	"the message says so"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# ---- a lock file that others could open is refused
chmod 644 "$LOCK"
expect_rc 1 "a 0644 lock file is refused" hg apply
expect_match "refusing the lock .*mode 0644.*fix: rm" "naming the mode and the fix"
rm -f "$LOCK"
ln -s "$T/elsewhere" "$LOCK"
expect_rc 1 "a symlinked lock file is refused" hg allow-uid 7
expect_match "symbolic link" "saying it is a symlink"
[ ! -e "$T/elsewhere" ] && pass "nothing was created through it" || fail "the symlink was followed"
rm -f "$LOCK"
expect_rc 2 "an invalid HOSTGUARD_LOCK_TIMEOUT -> 2" env HOSTGUARD_LOCK_TIMEOUT=abc ip netns exec "$H" "$HG" --config "$CONF" apply
expect_match "invalid HOSTGUARD_LOCK_TIMEOUT 'abc'" "named"

# ---- a directory we may not write, no lock file: apply proceeds without it
R="$T/rootdir"
mkdir -m 755 "$R"
printf 'allowed_uids = 0, 2000\n' >"$R/hostguard.conf"
cp "$HG" "$T/hg-capped"
chmod 755 "$T/hg-capped"
setcap cap_net_admin+ep "$T/hg-capped"
expect_rc 0 "uid 2000 (cap_net_admin copy) applies root's config in a root directory" \
	ip netns exec "$H" setpriv --reuid=2000 --regid=2000 --clear-groups "$T/hg-capped" --config "$R/hostguard.conf" apply
[ ! -e "$R/.hostguard.lock" ] && pass "without creating a lock file there" || fail "a lock file appeared"
expect_rc 1 "but cannot edit it (no lock)" \
	ip netns exec "$H" setpriv --reuid=2000 --regid=2000 --clear-groups "$T/hg-capped" --config "$R/hostguard.conf" allow-uid 9
expect_match "cannot open the lock" "saying why"

finish
