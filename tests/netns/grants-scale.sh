#!/bin/bash
# 10,000 grants apply in one transaction and read back in sync, and one
# "allow-uid USER --to TARGET" costs the same with 10 grants as with 10,000
# (medians of several runs; the kernel edit looks each grant up on its own).
. "$(dirname "$0")/lib.sh"

netns_new "$H"

# grants_conf N: N grants, half IPv4 (one per uid and /32), half IPv6
grants_conf() {
	awk -v n="$1" 'BEGIN {
		printf "allowed_uids = 0\ngrant_uids ="
		for (i = 0; i < n; i++) {
			if (i % 2)
				printf " %d@[fd00:%x::%x]:8000-8100", 100000 + i, int(i / 65536), i % 65536
			else
				printf " %d@10.%d.%d.%d:%d", 100000 + i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1 + i % 60000
		}
		printf "\n"
	}'
}

# median_ms N CMD...: the median wall time of N runs, in milliseconds
median_ms() {
	local n=$1 t0 t1 i
	shift
	for ((i = 0; i < n; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 ))
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}

# one_edit: add then revoke one grant (the table and config end as they were)
one_edit() {
	hg allow-uid 4242 "$@" --to 192.0.2.77:8080 && hg revoke-uid 4242 "$@" --to 192.0.2.77:8080
}

measure() { # measure N: applies N grants, prints "runtime_ms config_ms"
	grants_conf "$1" >"$CONF"
	hg apply >/dev/null || { fail "apply of $1 grants"; return; }
	echo "$(median_ms 9 one_edit --runtime) $(median_ms 9 one_edit)"
}

grants_conf 10000 >"$CONF"
t0=$(date +%s%N)
expect_rc 0 "apply of 10,000 grants" hg apply
echo "# apply of 10,000 grants (one transaction): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
expect_rc 0 "10,000 grants read back in sync" hg check
n=$(hg status --json | jq '.grants | length')
[ "$n" = 10000 ] && pass "status --json lists 10,000 grants" || fail "status --json lists $n grants"
n4=$(h nft list set inet hostguard grant_uids4 | grep -c ' \. 10\.')
n6=$(h nft list set inet hostguard grant_uids6 | grep -c ' \. fd00:')
[ "$n4" = 5000 ] && [ "$n6" = 5000 ] && pass "the kernel holds 5,000 + 5,000 grants" || fail "the kernel holds $n4 + $n6"
expect_rc 0 "re-apply: nothing to do" hg apply
expect_match "already in sync" "re-apply changes nothing"

read -r small_rt small_cfg <<<"$(measure 10)"
read -r large_rt large_cfg <<<"$(measure 10000)"
echo "# one allow-uid --to + revoke-uid --to (median of 9): --runtime ${small_rt} ms (10 grants) vs ${large_rt} ms (10,000 grants); with the config ${small_cfg} ms vs ${large_cfg} ms"
# within 20%, or 3 ms (process start and netlink round trips dominate)
if awk -v a="$small_rt" -v b="$large_rt" 'BEGIN { exit !(b <= a * 1.2 || b <= a + 3) }'; then
	pass "a runtime grant edit is flat in the number of grants (${small_rt} vs ${large_rt} ms)"
else
	fail "a runtime grant edit grows with the number of grants (${small_rt} vs ${large_rt} ms)"
fi
expect_rc 0 "still in sync after the edits" hg check

finish
