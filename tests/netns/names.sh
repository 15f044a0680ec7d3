#!/bin/bash
# Issue #11 hole 6: a user or group named in the config that is renamed or
# deleted fails CLOSED: the rest of the config loads, the name is skipped
# with "FILE:LINE: unknown user 'NAME' (skipped)", check exits 1 naming it,
# and every edit still works.  Real users, created and removed here.
. "$(dirname "$0")/lib.sh"

command -v useradd >/dev/null || { echo "SKIP: useradd is missing"; exit 77; }
A="hgt${RANDOM}a"
B="hgt${RANDOM}b"
M="hgt${RANDOM}m"
G="hgt${RANDOM}g"
# free uids/gids in a range nobody else uses
pick_id() { for _ in $(seq 1 200); do local v=$((42000 + RANDOM % 8000)); getent passwd $v >/dev/null || getent group $v >/dev/null || { echo $v; return; }; done; }
UA=$(pick_id)
UB=$(pick_id)
GG=$(pick_id)
UM=$(pick_id)
[ "$UA" != "$UB" ] || UB=$((UA + 1))
cleanup_users() {
	userdel "$A" 2>/dev/null; userdel "${A}r" 2>/dev/null; userdel "$B" 2>/dev/null; userdel "$M" 2>/dev/null
	groupdel "$G" 2>/dev/null
	cleanup
}
trap cleanup_users EXIT
useradd -M -N -s /usr/sbin/nologin -u "$UA" "$A" || { echo "FAIL: useradd $A"; exit 1; }
useradd -M -N -s /usr/sbin/nologin -u "$UB" "$B" || { echo "FAIL: useradd $B"; exit 1; }
groupadd -g "$GG" "$G" || { echo "FAIL: groupadd $G"; exit 1; }
useradd -M -N -s /usr/sbin/nologin -u "$UM" "$M" || { echo "FAIL: useradd $M"; exit 1; }
gpasswd -a "$M" "$G" >/dev/null || { echo "FAIL: gpasswd -a $M $G"; exit 1; }

topo_basic
serve "$C" 0 tcp 9000
serve "$C" 0 udp 9000

expect ok "control: no table, uid $UA reaches the container" probe "$H" tcp 10.77.0.2 9000 "$UA"
write_conf <<CONF
allowed_uids = 0, $A, $B
allowed_gids = $G
CONF
expect_rc 0 "apply with users $A, $B and group $G" hg apply
for addr in 10.77.0.2 fd77::2; do
	expect ok "$A (uid $UA) gets through, tcp $addr" probe "$H" tcp "$addr" 9000 "$UA" 2000
	expect ok "$B (uid $UB) gets through, tcp $addr" probe "$H" tcp "$addr" 9000 "$UB" 2000
	expect ok "gid $GG ($G) gets through, tcp $addr" probe "$H" tcp "$addr" 9000 2000 "$GG"
	expect timeout "control: uid 2000 does not, tcp $addr" probe "$H" tcp "$addr" 9000 2000
done

# what allowed_gids grants (doc/limits.md): the primary group counts, a
# supplementary one does not, but a member can make it primary with sg
# (newgrp, setuid root) and then gets through
member() { ip netns exec "$H" setpriv --reuid="$UM" --regid="$UM" --groups="$GG" "$@"; }
expect timeout "$M (member of $G, supplementary only) is refused" \
	member "$PROBE" connect tcp 10.77.0.2 9000 --timeout 800
expect ok "but 'sg $G -c CMD' makes it primary and $M gets through" \
	member sg "$G" -c "$PROBE connect tcp 10.77.0.2 9000 --timeout 800"

# ---- rename A: its name no longer resolves
usermod -l "${A}r" "$A" || fail "usermod -l"
expect_rc 0 "apply after renaming $A: exit 0, the rest loads" hg apply
expect_match "warning: .*hostguard.conf:1: unknown user '$A' \(skipped\)" "it warns FILE:LINE: unknown user '$A' (skipped)"
for addr in 10.77.0.2 fd77::2; do
	expect ok "$B (uid $UB) still gets through, tcp $addr" probe "$H" tcp "$addr" 9000 "$UB" 2000
	expect timeout "the renamed user's uid $UA does not, tcp $addr" probe "$H" tcp "$addr" 9000 "$UA" 2000
	expect ok "$B gets through, udp $addr" probe "$H" udp "$addr" 9000 "$UB" 2000
	expect blocked "uid $UA does not, udp $addr" probe "$H" udp "$addr" 9000 "$UA" 2000
done
expect_rc 1 "check exits 1" hg check
expect_match "unknown user '$A' \(skipped\)" "naming the user"
expect_rc 0 "status exits 0" hg status
expect_match "warning: .*unknown user '$A'" "and warns"
OUT=$(hg status --json)
printf '%s' "$OUT" | jq -e --arg a "$A" '.warnings | any(test("unknown user .\($a)."))' >/dev/null &&
	pass "status --json carries the warning" || fail "status --json: $OUT"

# ---- every edit still works
expect_rc 0 "revoke-uid $UB by number" hg revoke-uid "$UB"
expect timeout "uid $UB refused after revoke" probe "$H" tcp 10.77.0.2 9000 "$UB" 2000
grep -q "^allowed_uids = 0, $A\$" "$CONF" && pass "config: $B removed, the dead name kept" || fail "config: $(cat "$CONF")"
expect_rc 0 "allow-uid $B again" hg allow-uid "$B"
expect_rc 0 "revoke-uid $A removes the literal token though $A no longer resolves" hg revoke-uid "$A"
grep -q "^allowed_uids = 0, $B\$" "$CONF" && pass "config: $A is gone" || fail "config: $(cat "$CONF")"
expect_rc 0 "check: in sync, no warnings left" hg check
expect_rc 2 "allow-uid of an unknown name is still an error" hg allow-uid "$A"
expect_match "unknown user '$A'" "naming it"
expect_rc 2 "revoke-uid --runtime of an unknown name -> 2 (the table holds ids)" hg revoke-uid --runtime "$A"

# ---- delete B and the group, then the repair apply after a flush
userdel "$B"
groupdel "$G"
h nft flush ruleset
expect_rc 0 "after userdel/groupdel and nft flush ruleset, apply loads the rest" hg apply
expect_match "unknown user '$B' \(skipped\)" "warning for the user"
expect_match "unknown group '$G' \(skipped\)" "warning for the group"
h nft list table inet hostguard >/dev/null && pass "table inet hostguard is loaded" || fail "no table"
expect ok "root gets through" probe "$H" tcp 10.77.0.2 9000 0
expect timeout "the deleted user's uid $UB does not" probe "$H" tcp 10.77.0.2 9000 "$UB" 2000
expect timeout "the deleted group's gid $GG does not" probe "$H" tcp fd77::2 9000 2000 "$GG"
expect_rc 1 "check exits 1" hg check
expect_match "unknown (user '$B'|group '$G')" "naming them"
expect_rc 0 "revoke-gid $G (deleted) removes its token" hg revoke-gid "$G"
! grep -q "$G" "$CONF" && pass "config: the group is gone" || fail "config: $(cat "$CONF")"

# ---- names are bounded before any NSS lookup
long=$(head -c 100000 /dev/zero | tr '\0' a)
expect_rc 2 "allow-uid with a 100 kB name -> 2, no abort" hg allow-uid "$long"
expect_match "user name 'a{32}\.\.\.' is too long" "a clean one-line error"
head -c $((10 << 20)) /dev/zero | tr '\0' a | sed 's/^/allowed_uids = 0, /' >"$T/big.conf"
echo >>"$T/big.conf"
expect_rc 2 "a config with a 10 MB user name -> 2, no abort" ip netns exec "$H" "$HG" --config "$T/big.conf" apply --dry-run
expect_match "big.conf:1: allowed_uids: user name .* is too long" "naming FILE:LINE"

finish
