#!/bin/bash
# Never touch what is not ours: another table survives apply and remove
# byte for byte, and a drop in it still drops what hostguard accepts.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$H" 0 tcp 5300
serve "$H" 0 tcp 5302
h nft -f - <<'NFT'
table inet other {
	set keep { type ipv4_addr; elements = { 192.0.2.7 } }
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 5302 counter drop
	}
}
table ip legacy {
	chain output { type filter hook output priority 0; policy accept; }
}
NFT
before=$(h nft list table inet other; h nft list table ip legacy)

write_conf <<'CONF'
allowed_uids = 0
allow_from_containers_tcp = 5300, 5302
CONF
expect_rc 0 "apply" hg apply
expect ok "container reaches allowed tcp 5300" probe "$C" tcp 10.77.0.1 5300
expect timeout "other table's drop of tcp 5302 still drops (hostguard allows it)" probe "$C" tcp 10.77.0.1 5302

expect_rc 0 "apply again" hg apply
after=$(h nft list table inet other; h nft list table ip legacy)
# counters in the other table move with packets; compare without them
strip() { sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }
[ "$(strip <<<"$before")" = "$(strip <<<"$after")" ] && pass "other tables unchanged by apply" ||
	fail "other tables changed by apply"

expect_rc 0 "remove" hg remove
after=$(h nft list table inet other; h nft list table ip legacy)
[ "$(strip <<<"$before")" = "$(strip <<<"$after")" ] && pass "other tables unchanged by remove" ||
	fail "other tables changed by remove"
OUT=$(h nft list tables)
expect_match '^table inet other$' "inet other still listed"
if h nft list table inet hostguard >/dev/null 2>&1; then fail "hostguard table still there"; else pass "hostguard table gone"; fi

expect_rc 0 "remove when absent is fine" hg remove
expect_match "not loaded" "remove says the table was not loaded"

# a table of the same name in another family is not ours either
h nft add table ip hostguard
expect_rc 0 "apply next to 'table ip hostguard'" hg apply
expect_rc 0 "remove next to 'table ip hostguard'" hg remove
h nft list table ip hostguard >/dev/null 2>&1 && pass "table ip hostguard untouched" || fail "table ip hostguard was removed"

finish
