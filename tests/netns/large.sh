#!/bin/bash
# 100,000 uids and 50,000 port entries load in one transaction, and read
# back in sync.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
{
	printf 'allowed_uids = 0'
	seq 100000 199999 | awk '{ printf ", %s", $1 }'
	# 50,000 single ports, none adjacent to the next, so none merge:
	# 32,768 odd tcp ports and 17,232 even udp ports
	printf '\nallow_from_containers_tcp ='
	seq 1 2 99999 | awk '$1 <= 65535 { printf " %s", $1 }'
	printf '\nallow_from_containers_udp ='
	seq 2 2 34464 | awk '{ printf " %s", $1 }'
	printf '\n'
} >"$CONF"
nt=$(grep '^allow_from_containers_tcp' "$CONF" | wc -w)
nu=$(grep '^allow_from_containers_udp' "$CONF" | wc -w)
echo "# config: 100001 uids, $((nt - 2)) tcp + $((nu - 2)) udp port entries"

expect_rc 0 "apply of the large policy" hg apply
expect_rc 0 "large policy reads back in sync" hg check
n=$(h nft list set inet hostguard allowed_uids | tr ',' '\n' | grep -cE '[0-9]+')
[ "$n" -ge 100001 ] && pass "kernel holds all uids ($n)" || fail "kernel holds $n uids"
OUT=$(hg status --json)
if printf '%s' "$OUT" | jq -e '(.sets.allowed_uids | length) == 100001 and (.sets.allow_from_containers_tcp | length) + (.sets.allow_from_containers_udp | length) == 50000' >/dev/null; then
	pass "status --json: 100001 uids, 50000 port entries"
else
	fail "status --json counts: $(printf '%s' "$OUT" | jq -c '[(.sets.allowed_uids|length), (.sets.allow_from_containers_tcp|length), (.sets.allow_from_containers_udp|length)]')"
fi
expect_rc 0 "re-apply of the large policy" hg apply
expect_rc 0 "still in sync" hg check

finish
