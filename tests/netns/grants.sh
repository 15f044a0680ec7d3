#!/bin/bash
# Grants: a uid reaches one container (address, prefix, port range) and not
# the others; IPv4 and IPv6, TCP and UDP; revoking removes exactly that
# grant; bad targets change nothing; --for expires in the kernel with no
# process left; apply keeps runtime grants and repairs config ones; a
# container name without Docker: edits exit 2, the config's loads with no
# element (tests/docker/grants.sh has names and labels with a real dockerd).
#
#   alice (2001): 10.77.0.2 every port, [fd77::2]:9000
#   bob   (2002): 10.78.0.0/24:9000-9001, fd78::/64
#   traefik (1001): allowed everywhere; stranger (2003): nothing
. "$(dirname "$0")/lib.sh"

ALICE=2001 BOB=2002 TRAEFIK=1001 STRANGER=2003
C2="hgt-c2-$ID"
topo_basic
add_bridge br-two 10.78.0 fd78
add_container "$C2" br-two vethhg1 10.78.0 fd78
wait_v6 "$C2" fd78::1
for ns in "$C" "$C2"; do
	serve "$ns" 0 tcp 9000
	serve "$ns" 0 tcp 9001
	serve "$ns" 0 udp 9000
done

# Control: without the table everyone reaches both containers, so every
# refusal below is hostguard's doing.
for addr in 10.77.0.2 fd77::2 10.78.0.2 fd78::2; do
	expect ok "no table: stranger reaches $addr" probe "$H" tcp "$addr" 9000 $STRANGER
done

write_conf <<CONF
allowed_uids = 0, $TRAEFIK
grant_uids = $ALICE@10.77.0.2, $ALICE@[fd77::2]:9000, $BOB@10.78.0.0/24:9000-9001, $BOB@fd78::/64
CONF
expect_rc 0 "apply with grants" hg apply
expect_rc 0 "check: in sync" hg check

for fam in 4 6; do
	if [ $fam = 4 ]; then a=10.77.0.2 b=10.78.0.2; else a=fd77::2 b=fd78::2; fi
	expect ok "alice reaches her container, tcp $a" probe "$H" tcp $a 9000 $ALICE
	expect ok "alice reaches her container, udp $a" probe "$H" udp $a 9000 $ALICE
	expect timeout "alice is refused at bob's, tcp $b" probe "$H" tcp $b 9000 $ALICE
	expect blocked "alice is refused at bob's, udp $b" probe "$H" udp $b 9000 $ALICE
	expect ok "bob reaches his container, tcp $b" probe "$H" tcp $b 9000 $BOB
	expect ok "bob reaches his container, udp $b" probe "$H" udp $b 9000 $BOB
	expect timeout "bob is refused at alice's, tcp $a" probe "$H" tcp $a 9000 $BOB
	expect ok "traefik (allowed uid) reaches alice's, tcp $a" probe "$H" tcp $a 9000 $TRAEFIK
	expect ok "traefik (allowed uid) reaches bob's, tcp $b" probe "$H" tcp $b 9000 $TRAEFIK
	expect timeout "a stranger reaches neither, tcp $a" probe "$H" tcp $a 9000 $STRANGER
	expect timeout "a stranger reaches neither, tcp $b" probe "$H" tcp $b 9000 $STRANGER
done
# ports: alice's IPv6 grant is port 9000 only; bob's v4 one is 9000-9001
expect timeout "alice's [fd77::2]:9000 grant does not open port 9001" probe "$H" tcp fd77::2 9001 $ALICE
expect ok "alice's 10.77.0.2 grant (every port) opens 9001" probe "$H" tcp 10.77.0.2 9001 $ALICE
expect ok "bob's 9000-9001 grant opens 9001" probe "$H" tcp 10.78.0.2 9001 $BOB

OUT=$(hg status)
expect_match "uid $ALICE +10\\.77\\.0\\.2 +config" "status lists alice's grant, source config"
OUT=$(hg status --json)
n=$(printf '%s' "$OUT" | jq '.grants | length')
[ "$n" = 4 ] && pass "status --json lists 4 grants" || fail "status --json lists $n grants"

# bad targets: exit 2, nothing changed (config byte for byte, table)
before_conf=$(cat "$CONF")
before_table=$(h nft list table inet hostguard)
for t in 10.78.0.2:0 '[::1' 300.1.1.1 web1 10.0.0.0/33 '[fd78::2]x' 10.78.0.2:9-8; do
	expect_rc 2 "allow-uid --to '$t' -> 2" hg allow-uid $ALICE --to 10.78.0.9 --to "$t"
done
expect_match "invalid grant '$ALICE@10\\.78\\.0\\.2:9-8': reversed port range" "the bad target is named"
expect_rc 2 "a grant that overlaps one of the same user -> 2" hg allow-uid $BOB --to 10.78.0.5:9000
expect_match "overlaps '$BOB@10\\.78\\.0\\.0/24:9000-9001'" "naming the grant it overlaps"
expect_rc 2 "--for with a bad duration -> 2" hg allow-uid $ALICE --to 10.78.0.2 --for 3x
[ "$(cat "$CONF")" = "$before_conf" ] && pass "the config is unchanged" || fail "the config changed"
[ "$(h nft list table inet hostguard)" = "$before_table" ] && pass "the table is unchanged" || fail "the table changed"
expect timeout "alice still cannot reach bob's" probe "$H" tcp 10.78.0.2 9000 $ALICE
# a container name parses, but without Docker (HOSTGUARD_DOCKER_SOCKET=none
# here) it cannot be resolved: exit 2, nothing changed; a name that is no
# Docker name, or digits and dots that are no address, are bad targets
before_table=$(h nft -s list table inet hostguard)
expect_rc 2 "allow-uid --to web1 without Docker -> 2" hg allow-uid $ALICE --to web1:9000
expect_match "'$ALICE@web1:9000': container names need Docker" "the name is named"
for t in we/b1 -web1 1.2.3 web1:0 'web1:9-8'; do
	expect_rc 2 "allow-uid --to '$t' -> 2" hg allow-uid $ALICE --to "$t"
done
[ "$(cat "$CONF")" = "$before_conf" ] && pass "the config is unchanged" || fail "the config changed"
[ "$(h nft -s list table inet hostguard)" = "$before_table" ] && pass "the table is unchanged" || fail "the table changed"

# several --to: one transaction, written to the config
expect_rc 0 "allow-uid stranger --to bob's v4 --to bob's v6" hg allow-uid $STRANGER --to 10.78.0.2:9000 --to '[fd78::2]:9000'
grep -q "$STRANGER@10.78.0.2:9000, $STRANGER@\\[fd78::2\\]:9000" "$CONF" && pass "both grants are in the config" || fail "config: $(grep grant "$CONF")"
expect ok "the stranger reaches bob's, v4" probe "$H" tcp 10.78.0.2 9000 $STRANGER
expect ok "the stranger reaches bob's, v6" probe "$H" tcp fd78::2 9000 $STRANGER
expect timeout "but not another port" probe "$H" tcp 10.78.0.2 9001 $STRANGER

# revoking removes exactly that grant
expect_rc 0 "revoke-uid bob --to 10.78.0.0/24:9000-9001" hg revoke-uid $BOB --to 10.78.0.0/24:9000-9001
expect timeout "bob lost v4" probe "$H" tcp 10.78.0.2 9000 $BOB
expect ok "bob keeps v6" probe "$H" tcp fd78::2 9000 $BOB
expect ok "the stranger keeps his grant to bob's v4" probe "$H" tcp 10.78.0.2 9000 $STRANGER
grep -q "$BOB@10.78.0.0/24" "$CONF" && fail "the revoked grant is still in the config" || pass "the revoked grant left the config"
grep -q "$BOB@fd78::/64" "$CONF" && pass "bob's other grant stays in the config" || fail "bob's other grant left the config"
expect_rc 0 "check: in sync after the edits" hg check

# apply repairs a flushed grant set
h nft flush set inet hostguard grant_uids4_addr
expect_rc 1 "check reports the flushed grant set" hg check
expect_rc 0 "apply repairs it" hg apply
expect ok "alice reaches her container again" probe "$H" tcp 10.77.0.2 9000 $ALICE

# --for: a runtime grant the kernel expires; not in the config; apply keeps it
before_conf=$(cat "$CONF")
expect_rc 0 "allow-uid alice --to bob's --for 3s" hg allow-uid $ALICE --to 10.78.0.2:9001 --for 3s
expect ok "alice reaches bob's 9001 for now" probe "$H" tcp 10.78.0.2 9001 $ALICE
[ "$(cat "$CONF")" = "$before_conf" ] && pass "--for does not touch the config" || fail "--for changed the config"
OUT=$(hg status)
expect_match "uid $ALICE +10\\.78\\.0\\.2:9001 +runtime, expires in [1-3]s" "status shows the time left"
expect_rc 0 "allow-uid stranger --for 3s (no --to: every address)" hg allow-uid $STRANGER --for 3s
t1=$(date +%s%N)
expect ok "the stranger reaches alice's, v4" probe "$H" tcp 10.77.0.2 9000 $STRANGER
expect ok "the stranger reaches alice's, v6" probe "$H" tcp fd77::2 9000 $STRANGER
if pgrep -f "$T/hostguard" >/dev/null; then fail "a hostguard process is left running"; else pass "no hostguard process left running"; fi
while [ $(( ($(date +%s%N) - t1) / 1000000 )) -lt 4200 ]; do sleep 0.2; done
expect timeout "after 3s alice no longer reaches bob's 9001" probe "$H" tcp 10.78.0.2 9001 $ALICE
expect timeout "after 3s the stranger no longer reaches alice's" probe "$H" tcp 10.77.0.2 9000 $STRANGER
expect ok "alice's config grant is untouched" probe "$H" tcp 10.77.0.2 9000 $ALICE
OUT=$(hg status --json)
n=$(printf '%s' "$OUT" | jq '[.grants[] | select(.source == "runtime")] | length')
[ "$n" = 0 ] && pass "no runtime grant left in status --json" || fail "$n runtime grants left"

# apply and check leave runtime grants alone; revoking one works
expect_rc 0 "allow-uid alice --to bob's 9001 --for 1h" hg allow-uid $ALICE --to 10.78.0.2:9001 --for 1h
expect_rc 0 "apply keeps the runtime grant" hg apply
expect_rc 0 "check: a runtime grant is no drift" hg check
expect ok "alice still reaches bob's 9001 after apply" probe "$H" tcp 10.78.0.2 9001 $ALICE
expect_rc 0 "revoke-uid alice --to bob's 9001 --runtime" hg revoke-uid $ALICE --runtime --to 10.78.0.2:9001
expect timeout "the runtime grant is gone" probe "$H" tcp 10.78.0.2 9001 $ALICE

# a config grant that the table holds with a timeout is made permanent
expect_rc 0 "bob --to alice's 9001 --for 1h" hg allow-uid $BOB --to 10.77.0.2:9001 --for 1h
sed -i "s/^grant_uids = /grant_uids = $BOB@10.77.0.2:9001, /" "$CONF"
expect_rc 1 "check: the config's grant is only held with a timeout" hg check
expect_match "$BOB@10\\.77\\.0\\.2:9001 is in the config but the table holds it with a timeout" "check says so"
expect_rc 0 "apply makes it permanent" hg apply
OUT=$(hg status)
expect_match "uid $BOB +10\\.77\\.0\\.2:9001 +config" "status: source config, no expiry"
expect_rc 0 "check: in sync" hg check
# and a --for never shortens it, and says so
expect_rc 0 "bob --to alice's 9001 --for 5s over his config grant" hg allow-uid $BOB --to 10.77.0.2:9001 --for 5s
expect_match "holds it without a timeout: it does not expire" "--for says the grant does not expire"
echo "$OUT" | grep -q "expires in" && fail "--for claims an expiry: $OUT" || pass "--for claims no expiry"
expect_rc 0 "check: still in sync" hg check

# gid grants
expect_rc 0 "allow-gid 3000 --to alice's v6" hg allow-gid 3000 --to '[fd77::2]:9001'
expect ok "a process with gid 3000 reaches it" probe "$H" tcp fd77::2 9001 $STRANGER 3000
expect timeout "with another gid it does not" probe "$H" tcp fd77::2 9001 $STRANGER 3001
grep -q "^grant_gids = 3000@\\[fd77::2\\]:9001" "$CONF" && pass "grant_gids line in the config" || fail "config: $(grep grant_gids "$CONF")"

# a name in the config without Docker: it loads, no element (fails
# closed), the rest applies; revoking it needs no Docker
before_table=$(h nft -s list table inet hostguard)
sed -i "s/^grant_uids = /grant_uids = $STRANGER@web1:9000, /" "$CONF"
expect_rc 0 "apply with a container name and no Docker" hg apply
expect_match "note: grant_uids $STRANGER@web1:9000: no Docker to find container web1; no element" "apply says the name has no element"
expect_rc 0 "check: in sync (the name has no element)" hg check
[ "$(h nft -s list table inet hostguard)" = "$before_table" ] && pass "the name added no element" || fail "the table changed"
expect_rc 0 "revoke-uid --to web1:9000 without Docker" hg revoke-uid $STRANGER --to web1:9000
grep -q "web1" "$CONF" && fail "config still names web1: $(grep grant "$CONF")" || pass "revoked from the config"

# what apply --dry-run --full prints loads with nft and gives the same table
N2="hgt-n2-$ID"
netns_new "$N2"
hg apply --dry-run --full >"$T/dry.nft"
if ip netns exec "$N2" nft -f "$T/dry.nft"; then pass "nft -f loads the dry run with grants"; else fail "nft -f refused the dry run"; fi
# (-s: without the counters' values, which the probes above moved; a
# concatenated set lists its elements in insertion order, which the edits
# above changed: compare the lines as a multiset)
norm() { sed 's/elements = { //; s/[,}]//g; s/^[[:space:]]*//; s/[[:space:]]*$//' | sort; }
if diff <(ip netns exec "$N2" nft -s list ruleset | norm) <(h nft -s list ruleset | sed 's/ comment "hostguard: counting since [0-9]*"//' | norm); then
	pass "nft's table equals apply's (grant sets and elements included)"
else
	fail "nft -f of the dry run differs from apply's table"
fi

finish
