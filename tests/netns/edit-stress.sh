#!/bin/bash
# Many edits at once lose nothing; SIGKILL at any moment of an edit never
# leaves a truncated or unparsable config, nor a table check cannot explain.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
# stress
allowed_uids = 0   # root
allow_from_containers_tcp = 53
CONF
expect_rc 0 "apply" hg apply

# wait_all WHAT OUTPUT...: every command in pids exited 0, else their output
wait_all() {
	local bad=0 p
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	[ $bad = 0 ] && pass "$1" || { fail "$bad of ${#pids[@]} failed: $1"; cat "${@:2}"; }
}
# spawn OUT ARGS...: hg ARGS in the background, its output in OUT, its pid in pids
spawn() {
	local out=$1
	shift
	hg "$@" >"$out" 2>&1 &
	pids+=($!)
}
# in_config KEY FIRST LAST: how many of the ids FIRST..LAST the config's KEY line lacks
in_config() {
	local line miss=0 i
	line=$(grep "^$1" "$CONF")
	for i in $(seq "$2" "$3"); do [[ " $line," == *" $i,"* || " $line " == *" $i "* ]] || miss=$((miss + 1)); done
	echo "$miss"
}

# ---- 16 parallel allow-uid, plus parallel port edits and applies
pids=()
for i in $(seq 1 16); do spawn "$T/par.$i" allow-uid $((5000 + i)); done
for i in $(seq 1 4); do
	spawn "$T/parp.$i" allow-port udp $((6000 + i))
	spawn "$T/para.$i" apply
done
wait_all "24 concurrent commands all exited 0" "$T"/par*
OUT=$(hg status --json)
n=$(printf '%s' "$OUT" | jq '[.sets.allowed_uids[].id | select(. > 5000 and . <= 5016)] | length')
[ "$n" = 16 ] && pass "all 16 uids are in the kernel" || fail "kernel has $n of 16 uids"
n=$(printf '%s' "$OUT" | jq '[.sets.allow_from_containers_udp[] | select(.first > 6000)] | length')
# 6001-6004 are adjacent: the kernel holds them as one range
printf '%s' "$OUT" | jq -e '[.sets.allow_from_containers_udp[] | {first, last}] == [{"first":6001,"last":6004}]' >/dev/null &&
	pass "all 4 udp ports are in the kernel" || fail "udp set: $(printf '%s' "$OUT" | jq -c .sets.allow_from_containers_udp)"
miss=$(in_config allowed_uids 5001 5016)
[ "$miss" = 0 ] && pass "all 16 uids are in the config" || fail "$miss uids missing from the config"
expect_rc 0 "check: kernel and config agree" hg check

# ---- --runtime edits take no config lock: 16 of them at once, among 8
# persisted edits, lose nothing either (the generation guard orders them)
pids=()
for i in $(seq 1 16); do spawn "$T/rt.$i" allow-uid --runtime $((9000 + i)); done
for i in $(seq 1 8); do spawn "$T/rtp.$i" allow-gid $((9100 + i)); done
wait_all "24 concurrent edits, 16 of them --runtime, all exited 0" "$T"/rt*
OUT=$(hg status --json)
n=$(printf '%s' "$OUT" | jq '[.sets.allowed_uids[] | select(.id > 9000 and .id <= 9016)] | length')
[ "$n" = 16 ] && pass "all 16 runtime uids are in the kernel" || fail "kernel has $n of 16 runtime uids"
n=$(printf '%s' "$OUT" | jq '[.sets.allowed_uids[] | select(.id > 9000 and .id <= 9016 and .runtime)] | length')
[ "$n" = 16 ] && pass "and status marks them runtime" || fail "$n of 16 marked runtime"
n=$(printf '%s' "$OUT" | jq '[.sets.allowed_gids[] | select(.id > 9100 and .id <= 9108)] | length')
[ "$n" = 8 ] && pass "all 8 gids are in the kernel" || fail "kernel has $n of 8 gids"
grep -q '^allowed_uids = .*9001' "$CONF" && fail "a runtime uid reached the config" ||
	pass "no runtime uid in the config"
miss=$(in_config allowed_gids 9101 9108)
[ "$miss" = 0 ] && pass "all 8 gids are in the config" || fail "$miss gids missing from the config"
expect_rc 0 "apply: back to the config" hg apply
expect_rc 0 "check: kernel and config agree" hg check

# ---- SIGKILL at random moments, 200 times
kills=${HG_KILLS:-200}
broken=0
for i in $(seq 1 "$kills"); do
	case $((i % 3)) in
	0) args=(allow-uid $((7000 + i)) $((8000 + i))) ;;
	1) args=(revoke-uid $((7000 + i - 1))) ;;
	2) args=(allow-port tcp $((10000 + i))-$((10000 + i + 5))) ;;
	esac
	ip netns exec "$H" "$HG" --config "$CONF" "${args[@]}" >/dev/null 2>&1 &
	p=$!
	sleep "0.00$((RANDOM % 10))"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	# the config parses, and is the old or the new version, never a part
	if ! ip netns exec "$H" "$HG" --config "$CONF" apply --dry-run >/dev/null 2>"$T/err"; then
		broken=$((broken + 1))
		echo "# after kill $i: $(cat "$T/err")"
	fi
	[ -s "$CONF" ] && tail -c1 "$CONF" | od -An -c | grep -q '\\n' || { broken=$((broken + 1)); echo "# kill $i: truncated"; }
done
[ $broken = 0 ] && pass "$kills kills: the config always parsed whole" || fail "$broken broken configs after $kills kills"
grep -q '^# stress$' "$CONF" && grep -q '^allowed_uids = .*   # root$' "$CONF" && pass "comments survived" ||
	fail "comments lost: $(cat "$CONF")"
# the kernel may be ahead of the config (killed between commit and rename)
# or equal; check names any difference, and apply makes them agree
hg check >/dev/null
rc=$?
[ $rc = 0 ] || [ $rc = 1 ] && pass "check explains the table after the kills (exit $rc)" || fail "check exit $rc"
expect_rc 0 "apply after the kills" hg apply
expect_rc 0 "in sync after apply" hg check

finish
