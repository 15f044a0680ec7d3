#!/bin/bash
# Issue #11 hole 7 and parts of 9: trust covers the directory chain (sshd
# StrictModes); a config that disappears never silently replaces the
# protection in force; a FIFO never hangs; edits refuse a symlinked config
# and clean up what killed edits left.
. "$(dirname "$0")/lib.sh"

topo_basic
# a second bridge, only covered by this config
h ip link add podman0 type bridge
h ip addr add 10.79.0.1/24 dev podman0
h ip addr add fd79::1/64 dev podman0 nodad
h ip link set podman0 up
P="hgt-p-$ID"
add_container "$P" podman0 vethhgp0 10.79.0 fd79
serve "$P" 0 tcp 9000
wait_v6 "$P" fd79::1

write_conf <<'CONF'
allowed_uids = 0
container_ifaces = docker0, br-*, macvlan*, ipvlan*, veth*, podman0
CONF

# ---- the directory chain
mkdir -m 1777 "$T/pub"
cp "$CONF" "$T/pub/hostguard.conf"
expect_rc 2 "root-owned config in a 1777 directory is refused" ip netns exec "$H" "$HG" --config "$T/pub/hostguard.conf" apply
expect_match "$T/pub: directory writable by group or others; refusing $T/pub/hostguard.conf" "naming the directory"
: >"$T/pub/.hostguard.conf.AbC123"
expect_rc 2 "edits refuse it too" ip netns exec "$H" "$HG" --config "$T/pub/hostguard.conf" allow-uid 5
expect_match "$T/pub: directory writable by group or others" "naming the directory"
[ -e "$T/pub/.hostguard.conf.AbC123" ] && pass "and clean up nothing in that untrusted directory" || fail "removed a file in an untrusted directory"
mkdir -m 775 "$T/gw"
mkdir -m 755 "$T/gw/sub"
cp "$CONF" "$T/gw/sub/hostguard.conf"
expect_rc 2 "a group-writable directory further up is refused" ip netns exec "$H" "$HG" --config "$T/gw/sub/hostguard.conf" check
expect_match "$T/gw: directory writable by group or others" "naming that directory"
mkdir -m 755 "$T/other"
cp "$CONF" "$T/other/hostguard.conf"
chown 2001 "$T/other"
expect_rc 2 "a directory owned by another user is refused" ip netns exec "$H" "$HG" --config "$T/other/hostguard.conf" apply
expect_match "$T/other: directory owned by uid 2001" "naming it and its owner"
ln -s "$T/pub/hostguard.conf" "$T/link-pub.conf"
expect_rc 2 "a symlink to a config in a 1777 directory is refused" ip netns exec "$H" "$HG" --config "$T/link-pub.conf" apply
expect_match "$T/pub: directory writable" "naming the target's directory"
# /tmp itself is 1777: fine above the config's own directory (sticky, root's)
[ "$(stat -c %a%U /tmp)" = 1777root ] && pass "control: /tmp above $T is 1777 and root's" || fail "/tmp is $(stat -c %a%U /tmp)"
expect_rc 0 "a config in a 755 directory under /tmp applies" hg apply

# ---- symlinked config: apply follows it (checking both chains), edits refuse it
ln -s "$CONF" "$T/link.conf"
expect_rc 0 "apply through a symlink in a trusted directory" ip netns exec "$H" "$HG" --config "$T/link.conf" apply
cp "$CONF" "$T/conf.before"
expect_rc 2 "edits refuse a symlinked config" ip netns exec "$H" "$HG" --config "$T/link.conf" allow-uid 5
expect_match "is a symbolic link; edits refuse it" "saying so"
cmp -s "$CONF" "$T/conf.before" && [ -L "$T/link.conf" ] && pass "the target and the link are unchanged" || fail "changed"

# ---- a FIFO as config never hangs
mkfifo -m 644 "$T/fifo.conf"
expect_rc 2 "apply with a FIFO as config: exit 2 at once" timeout 10 ip netns exec "$H" "$HG" --config "$T/fifo.conf" apply
expect_match "fifo.conf: not a regular file" "naming it"
expect_rc 2 "check too" timeout 10 ip netns exec "$H" "$HG" --config "$T/fifo.conf" check
expect_rc 2 "and edits" timeout 10 ip netns exec "$H" "$HG" --config "$T/fifo.conf" allow-uid 5
expect_rc 0 "and the table is as it was" hg check

# ---- edits clean up what SIGKILLed edits left
(umask 022; : >"$T/.hostguard.conf.AbC123"; : >"$T/.hostguard.conf.XyZ789.old"; : >"$T/.hostguard.conf.keep"; : >"$T/.other.conf.AbC123")
touch "$T/.hostguard.conf.Qq1234"
chown 2001 "$T/.hostguard.conf.Qq1234"
expect_rc 0 "an edit" hg allow-uid 5
[ ! -e "$T/.hostguard.conf.AbC123" ] && [ ! -e "$T/.hostguard.conf.XyZ789.old" ] &&
	pass "removed stale .hostguard.conf.XXXXXX and .XXXXXX.old" || fail "stale files left: $(ls -a "$T")"
[ -e "$T/.hostguard.conf.keep" ] && [ -e "$T/.other.conf.AbC123" ] && [ -e "$T/.hostguard.conf.Qq1234" ] &&
	pass "left files of other names and of other owners alone" || fail "removed too much: $(ls -a "$T")"
rm -f "$T/.hostguard.conf.Qq1234"
# a real one: SIGKILL edits until one leaves a temporary file
left=0
for i in $(seq 1 200); do
	ip netns exec "$H" "$HG" --config "$CONF" allow-uid $((7000 + i)) >/dev/null 2>&1 &
	p=$!
	sleep "0.00$((RANDOM % 10))"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	# shellcheck disable=SC2010  # the names are the config's own temporary files
	if ls -a "$T" | grep -Eq '^\.hostguard\.conf\.[A-Za-z0-9]{6}(\.old)?$'; then left=1; break; fi
done
if [ $left = 1 ]; then
	# shellcheck disable=SC2010,SC2012  # the names are the config's own temporary files
	expect_rc 0 "after a SIGKILL left $(ls -a "$T" | grep -Ec '^\.hostguard\.conf\.[A-Za-z0-9]{6}(\.old)?$') temp file(s), an edit" hg allow-uid 6
	# shellcheck disable=SC2010,SC2012  # the names are the config's own temporary files
	ls -a "$T" | grep -Eq '^\.hostguard\.conf\.[A-Za-z0-9]{6}(\.old)?$' && fail "still there: $(ls -a "$T" | tr '\n' ' ')" || pass "cleans them up"
else
	pass "(no SIGKILL left a temp file in 200 tries; the fabricated ones above cover it)"
fi
expect_rc 0 "apply" hg apply

# ---- a config that disappears does not weaken the live table
expect timeout "control: with podman0 covered, uid 2000 is refused on podman0 (v4)" probe "$H" tcp 10.79.0.2 9000 2000
rm -f "$CONF"
expect_rc 1 "apply with the config deleted: exit 1" hg apply
expect_match "does not exist, and the live table holds more than the built-in defaults: keeping its sets" "saying it keeps the live table"
expect_match "apply --defaults" "and how to load the defaults on purpose"
for addr in 10.79.0.2 fd79::2; do
	expect timeout "podman0 stays covered: uid 2000 refused, tcp $addr" probe "$H" tcp "$addr" 9000 2000
	expect ok "root still gets through, tcp $addr" probe "$H" tcp "$addr" 9000 0
done
h nft flush chain inet hostguard egress
expect_rc 1 "a tampered table is repaired, still keeping the live sets (exit 1)" hg apply
expect timeout "uid 2000 refused on podman0 after the repair" probe "$H" tcp 10.79.0.2 9000 2000
expect_rc 1 "edits refuse to write a config from the defaults" hg allow-uid 7
expect_match "does not exist, and the live table holds more.*nothing changed" "saying why"
[ ! -e "$CONF" ] && pass "and no config was created" || fail "a config appeared: $(cat "$CONF")"
expect_rc 0 "--runtime edits still work" hg allow-uid --runtime 7
expect_rc 0 "apply --defaults loads the defaults on purpose" hg apply --defaults
expect ok "then podman0 is uncovered: uid 2000 gets through (so the kept table was what protected it)" \
	probe "$H" tcp 10.79.0.2 9000 2000
expect timeout "br-test stays covered by the defaults" probe "$H" tcp 10.77.0.2 9000 2000
expect_rc 0 "with the table at the defaults, apply without a config is fine" hg apply
expect_rc 0 "and so is an edit (it creates the config)" hg allow-uid 8
grep -q '^allowed_uids = 0, 8$' "$CONF" && pass "config created: defaults plus the edit" || fail "config: $(cat "$CONF")"

# ---- first run: no table, no config
h nft delete table inet hostguard
rm -f "$CONF"
expect_rc 0 "first run: no table and no config load the defaults" ip netns exec "$H" "$HG" --config "$CONF" apply
expect_match "note: .* does not exist" "with a note"

finish
