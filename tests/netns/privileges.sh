#!/bin/bash
# Least privilege and config trust: capabilities are dropped at start; a
# non-root user with a cap_net_admin+ep copy can apply and edit its own
# config, and does not load a libcurl planted with LD_LIBRARY_PATH; configs
# others could change are refused.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
allowed_uids = 0
CONF

# ---- capabilities of a running hostguard, caught while it waits for the lock
caps_of() { # caps_of PID -> "CapInh CapPrm CapEff CapAmb"
	awk '/^Cap(Inh|Prm|Eff|Amb):/ { printf "%s ", $2 }' "/proc/$1/status"
}
dir=$(dirname "$CONF")
(umask 077; : >>"$dir/.hostguard.lock")
flock -o "$dir/.hostguard.lock" sleep 3 &
holder=$!
PIDS+=("$holder")
sleep 0.3
ip netns exec "$H" "$HG" --config "$CONF" apply >/dev/null &
p_apply=$!
ip netns exec "$H" "$HG" --config "$CONF" allow-uid 5 >/dev/null &
p_edit=$!
# started with an ambient capability, which would survive its execs
ip netns exec "$H" setpriv --inh-caps +net_admin --ambient-caps +net_admin "$HG" --config "$CONF" allow-uid 6 >/dev/null &
p_amb=$!
sleep 0.5
# ip netns exec and setpriv exec hostguard in place: the pid is hostguard's
a=$(caps_of $p_apply)
e=$(caps_of $p_edit)
m=$(caps_of $p_amb)
# CAP_NET_ADMIN is bit 12 (0x1000), CAP_CHOWN bit 0
[ "$a" = "0000000000000000 0000000000001000 0000000000001000 0000000000000000 " ] &&
	pass "apply runs with CAP_NET_ADMIN only (inh prm eff amb: $a)" || fail "apply capabilities: $a"
[ "$e" = "0000000000000000 0000000000001001 0000000000001001 0000000000000000 " ] &&
	pass "edits run with CAP_NET_ADMIN and CAP_CHOWN only ($e)" || fail "edit capabilities: $e"
[ "$m" = "$e" ] && pass "an ambient capability it was started with is gone ($m)" || fail "capabilities after ambient: $m"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$p_apply/status" && pass "no_new_privs is set" || fail "no_new_privs not set"
wait $p_apply $p_edit $p_amb
expect_rc 0 "both finish once the lock is free" hg check

# ---- a non-root user with a cap_net_admin+ep copy of the binary
U="$T/u2000"
mkdir -m 755 "$U"
printf 'allowed_uids = 0, 2000\n' >"$U/hostguard.conf"
chown -R 2000:2000 "$U"
cp "$HG" "$T/hg-capped"
cp "$HG" "$T/hg-plain"
chmod 755 "$T/hg-capped" "$T/hg-plain"
setcap cap_net_admin+ep "$T/hg-capped"
as2000() { ip netns exec "$H" setpriv --reuid=2000 --regid=2000 --clear-groups "$@"; }
expect_rc 4 "uid 2000 with a plain copy -> 4" as2000 "$T/hg-plain" --config "$U/hostguard.conf" apply
expect_rc 0 "uid 2000 with cap_net_admin+ep can apply" as2000 "$T/hg-capped" --config "$U/hostguard.conf" apply
expect_rc 0 "uid 2000 can edit its own config" as2000 "$T/hg-capped" --config "$U/hostguard.conf" allow-uid 2001
grep -q '^allowed_uids = 0, 2000, 2001$' "$U/hostguard.conf" && pass "its config was updated" || fail "config: $(cat "$U/hostguard.conf")"
[ "$(stat -c %u "$U/hostguard.conf")" = 2000 ] && pass "and still belongs to uid 2000" || fail "owner now $(stat -c %u "$U/hostguard.conf")"
expect_rc 0 "and the table matches it" as2000 "$T/hg-capped" --config "$U/hostguard.conf" check

# ---- libcurl is loaded at run time (dlopen, by the commands that talk to
# Docker): a copy with file capabilities must not load a libcurl.so.4 that
# its caller planted with LD_LIBRARY_PATH (secure execution: the loader
# ignores it for dlopen too).  The planted library leaves a mark when loaded.
mkdir -m 755 "$U/lib"
cat >"$T/fakecurl.c" <<'C'
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void)
{
	int fd = open(MARK, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
}
C
# the mark goes where anyone may write: hostguard runs without
# CAP_DAC_OVERRIDE, root's copy too
mkdir -m 1777 "$T/mark"
cc -shared -fPIC -DMARK="\"$T/mark/loaded\"" -o "$U/lib/libcurl.so.4" "$T/fakecurl.c" ||
	fail "cannot build the planted library"
chown -R 2000:2000 "$U/lib"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$U/docker.sock"
chown 2000:2000 "$U/docker.sock"
planted() { # planted WHO BINARY CONFIG: status with the planted library on the path
	local who=$1
	shift
	rm -f "$T/mark/loaded"
	OUT=$($who env LD_LIBRARY_PATH="$U/lib" HOSTGUARD_DOCKER_SOCKET="$U/docker.sock" \
		"$1" --config "$2" status 2>&1)
}
asroot() { ip netns exec "$H" "$@"; }
# the control: without secure execution the loader follows LD_LIBRARY_PATH
planted asroot "$T/hg-plain" "$CONF"
[ -e "$T/mark/loaded" ] && pass "control: a plain copy run by root loads the planted libcurl.so.4" ||
	fail "control: the planted library was not loaded by a plain copy: $OUT"
expect_match "libcurl\.so\.4 has no curl_" "control: and says it is not libcurl"
planted as2000 "$T/hg-capped" "$U/hostguard.conf"
[ ! -e "$T/mark/loaded" ] && pass "the cap_net_admin+ep copy does not load it" ||
	fail "the cap_net_admin+ep copy loaded the planted library"
if printf '%s\n' "$OUT" | grep -q 'docker: ' && ! printf '%s\n' "$OUT" | grep -q 'has no curl_'; then
	pass "it asked Docker with the system's libcurl"
else
	fail "the capped copy did not reach Docker with the real libcurl: $OUT"
fi

# ---- configs that others could change are refused (sshd StrictModes)
cp "$CONF" "$T/gw.conf"
chmod 664 "$T/gw.conf"
expect_rc 2 "group-writable config -> 2" ip netns exec "$H" "$HG" --config "$T/gw.conf" apply
expect_match "writable by group or others.*chmod go-w" "the message says how to fix it"
chmod 646 "$T/gw.conf"
expect_rc 2 "world-writable config -> 2" ip netns exec "$H" "$HG" --config "$T/gw.conf" check
cp "$CONF" "$T/other.conf"
cp "$CONF" "$T/other.orig"
chown 2001 "$T/other.conf"
expect_rc 2 "config owned by another user -> 2" ip netns exec "$H" "$HG" --config "$T/other.conf" apply
expect_match "owned by uid 2001.*chown root" "the message names the owner and the fix"
expect_rc 2 "edits refuse it too" ip netns exec "$H" "$HG" --config "$T/other.conf" allow-uid 7
cmp -s "$T/other.conf" "$T/other.orig" && pass "and leave it alone" || fail "it changed"
expect_rc 0 "root's own 644 config is fine" hg apply

finish
