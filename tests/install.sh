#!/bin/bash
# meson install into a DESTDIR: the file list, the library's soname and
# exports, the example C program built against the installed pkg-config
# file, the bash completion, the systemd units (systemd-analyze verify),
# and the example YAML files.
set -u
: "${MESON_BUILD_ROOT:?}" "${MESON_SOURCE_ROOT:?}"
B=$MESON_BUILD_ROOT
S=$MESON_SOURCE_ROOT
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

opt() { meson introspect --buildoptions "$B" | python3 -c "import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']=='$1'][0])"; }
prefix=$(opt prefix)
libdir=$(opt libdir)
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
sbindir=$prefix/$(opt sbindir)
R=$T/root

if meson install -C "$B" --destdir "$R" --no-rebuild --quiet >"$T/install.log" 2>&1; then
	pass "meson install --destdir"
else
	fail "meson install: $(cat "$T/install.log")"
fi

expected=(
	"$sbindir/hostguard"
	"$libdir/libhostguard.so.1.0.0"
	"$libdir/libhostguard.so.1"
	"$libdir/libhostguard.so"
	"$libdir/pkgconfig/hostguard.pc"
	"$prefix/include/hostguard.h"
	"$prefix/share/man/man8/hostguard.8"
	"$prefix/share/man/man5/hostguard.conf.5"
	"$prefix/share/bash-completion/completions/hostguard"
	"$prefix/share/doc/hostguard/examples/hostguard.conf"
)
unitdir=${SYSTEMD_UNITDIR:-}
case $unitdir in '' | no) unitdir= ;; /*) ;; *) unitdir=$prefix/$unitdir ;; esac
UNITS=(hostguard.service hostguard-repair.service hostguard-repair.timer hostguard-guard.service hostguard-watch.service hostguard-follow.service)
if [ -n "$unitdir" ]; then
	for u in "${UNITS[@]}"; do expected+=("$unitdir/$u"); done
fi
(cd "$R" && find . -type f -o -type l | sed 's|^\.||' | sort) >"$T/got"
printf '%s\n' "${expected[@]}" | sort >"$T/want"
if diff -u "$T/want" "$T/got" >"$T/diff"; then
	pass "installed files are exactly the expected ${#expected[@]}"
else
	fail "installed file list differs: $(cat "$T/diff")"
fi

lib=$R$libdir/libhostguard.so.1.0.0
readelf -d "$lib" | grep -q 'SONAME.*\[libhostguard.so.1\]' && pass "soname libhostguard.so.1" || fail "soname: $(readelf -d "$lib" | grep SONAME)"
bad=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | grep -v '^hg_' | grep -v '^HOSTGUARD_[0-9]*$')
[ -z "$bad" ] && pass "only hg_* symbols are exported (version script)" || fail "also exported: $bad"
nm -D --defined-only "$lib" | grep -q ' hg_apply@@HOSTGUARD_1$' && pass "symbols are versioned HOSTGUARD_1" || fail "no symbol versions"
file=$(readlink -f "$R$sbindir/hostguard")
ldd "$file" | grep -q libhostguard && fail "the CLI loads libhostguard.so (it must not: file capabilities)" ||
	pass "the CLI carries the library (safe with file capabilities)"

# the example program, against the installed pkg-config file (built with
# the sanitizers the library was built with, if any)
export PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$R$libdir/pkgconfig
san=$(opt b_sanitize)
sanflags=()
[ "$san" != none ] && sanflags=("-fsanitize=$san")
# shellcheck disable=SC2046  # pkg-config's flags are meant to split into words
if cc -Wall -Wextra -Werror "${sanflags[@]}" -o "$T/example" "$S/examples/c/hg-show-policy.c" \
	$(pkg-config --cflags --libs hostguard) 2>"$T/cc.log"; then
	pass "examples/c builds with pkg-config --cflags --libs hostguard"
else
	fail "examples/c: $(cat "$T/cc.log")"
fi
out=$(LD_LIBRARY_PATH=$R$libdir "$T/example" "$T/nonexistent.conf" 2>&1)
if printf '%s' "$out" | grep -q '^libhostguard 0.1.0: 1 uids, 6 interface patterns$' &&
	printf '%s' "$out" | grep -q '^table inet hostguard {$' &&
	printf '%s' "$out" | grep -q "^0 is refused: port '0' is out of range"; then
	pass "the example runs against the installed library"
else
	fail "example output: $out"
fi

# bash completion
comp() { bash -c "source '$R$prefix/share/bash-completion/completions/hostguard'; COMP_WORDS=($1); COMP_CWORD=$2; _hostguard; printf '%s ' \"\${COMPREPLY[@]}\""; }
[ "$(comp 'hostguard allow-p' 1)" = "allow-port " ] && pass "completion: commands" || fail "completion: '$(comp 'hostguard allow-p' 1)'"
[ "$(comp 'hostguard fol' 1)" = "follow " ] && pass "completion: follow" || fail "completion: '$(comp 'hostguard fol' 1)'"
[ "$(comp 'hostguard allow-port ""' 2)" = "tcp udp --runtime " ] && pass "completion: protocols" || fail "completion: '$(comp 'hostguard allow-port ""' 2)'"
[ "$(comp 'hostguard gu' 1)" = "guard " ] && [ "$(comp 'hostguard watch --j' 2)" = "--json --journal " ] && pass "completion: guard, watch --journal" || fail "completion: '$(comp 'hostguard gu' 1)' '$(comp 'hostguard watch --j' 2)'"
[ "$(comp 'hostguard sa' 1)" = "save " ] && [ "$(comp 'hostguard save --d' 2)" = "--dry-run " ] && pass "completion: save, save --dry-run" || fail "completion: '$(comp 'hostguard sa' 1)'"
comp 'hostguard allow-uid ro' 2 | grep -qw root && pass "completion: user names" || fail "completion of users"
comp 'hostguard --config x revoke-gid ro' 4 | grep -qw root && pass "completion: group names after --config" || fail "completion of groups"

# systemd units
if [ -n "$unitdir" ] && command -v systemd-analyze >/dev/null; then
	for u in "${UNITS[@]}"; do
		# verify needs ExecStart= to exist: point it at the installed binary
		sed "s|$sbindir/hostguard|$R$sbindir/hostguard|g" "$R$unitdir/$u" >"$T/$u"
	done
	if (cd "$T" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "${UNITS[@]}") >"$T/verify" 2>&1 &&
		! grep -v -e 'nftables.service' -e '^$' "$T/verify" | grep -q .; then
		pass "systemd-analyze verify of ${#UNITS[@]} units: no complaints"
	else
		fail "systemd-analyze verify: $(cat "$T/verify")"
	fi
	grep -q '^ExecStart=.*/hostguard apply$' "$R$unitdir/hostguard.service" && grep -q '^Before=.*docker.service' "$R$unitdir/hostguard.service" &&
		grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$R$unitdir/hostguard.service" && pass "unit: apply, before docker, CAP_NET_ADMIN only" ||
		fail "unit contents"
	for u in hostguard-guard.service hostguard-watch.service hostguard-repair.service; do
		grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$R$unitdir/$u" && grep -q '^NoNewPrivileges=yes$' "$R$unitdir/$u" &&
			grep -q '^SystemCallFilter=@system-service$' "$R$unitdir/$u" && grep -q '^ProtectSystem=strict$' "$R$unitdir/$u" &&
			pass "$u is hardened like hostguard.service" || fail "$u is not hardened"
	done
	# "systemctl stop hostguard" is not undone: what repairs is bound to it
	grep -q '^ExecStart=.*/hostguard apply --quiet$' "$R$unitdir/hostguard-repair.service" &&
		grep -q '^ExecStart=.*/hostguard guard$' "$R$unitdir/hostguard-guard.service" &&
		grep -q '^ExecStart=.*/hostguard watch --journal$' "$R$unitdir/hostguard-watch.service" &&
		pass "repair runs apply --quiet (an in-sync run says nothing), guard runs guard, watch runs watch --journal" ||
		fail "ExecStart= of the helper units"
	grep -q '^Requisite=hostguard.service$' "$R$unitdir/hostguard-repair.service" &&
		grep -q '^BindsTo=hostguard.service$' "$R$unitdir/hostguard-repair.timer" &&
		grep -q '^BindsTo=hostguard.service$' "$R$unitdir/hostguard-guard.service" &&
		pass "repair is Requisite=, timer and guard BindsTo= hostguard.service" || fail "repair units not bound to hostguard.service"

	# the enablement links, in a scratch root
	E=$T/enable
	mkdir -p "$E/lib/systemd/system" "$E/etc/systemd/system"
	for u in "${UNITS[@]}"; do cp "$T/$u" "$E/lib/systemd/system/"; done
	links() { (cd "$E/etc/systemd/system" && find . -type l | sed 's|^\./||' | sort | tr '\n' ' '); }
	if systemctl --root="$E" enable hostguard.service hostguard-repair.timer >"$T/enable.log" 2>&1; then
		want="hostguard.service.wants/hostguard-guard.service hostguard.service.wants/hostguard-repair.timer hostguard.service.wants/hostguard-watch.service multi-user.target.wants/hostguard.service nftables.service.wants/hostguard-repair.service "
		[ "$(links)" = "$want" ] && pass "systemctl enable hostguard.service hostguard-repair.timer: hooks nftables.service, guard, watch, timer" ||
			fail "enable links: got '$(links)', want '$want'"
	else
		fail "systemctl --root enable: $(cat "$T/enable.log")"
	fi
	systemctl --root="$E" disable hostguard.service hostguard-repair.timer >/dev/null 2>&1
	[ -z "$(links)" ] && pass "systemctl disable removes every link" || fail "left after disable: $(links)"
	systemctl --root="$E" enable hostguard.service >/dev/null 2>&1
	case $(links) in *repair.timer*) fail "enabling hostguard.service enabled the timer too" ;;
	*nftables.service.wants/hostguard-repair.service*) pass "hostguard.service alone also hooks nftables.service (timer stays off)" ;;
	*) fail "hostguard.service alone: $(links)" ;; esac
	grep -q '^ExecStart=.*/hostguard follow$' "$R$unitdir/hostguard-follow.service" &&
		grep -q '^After=.*docker.service' "$R$unitdir/hostguard-follow.service" &&
		grep -q '^Restart=on-failure$' "$R$unitdir/hostguard-follow.service" &&
		grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$R$unitdir/hostguard-follow.service" &&
		pass "follow unit: after docker, restarted on failure, CAP_NET_ADMIN only" || fail "follow unit contents"
else
	fail "no systemd unit directory or systemd-analyze: install systemd"
fi

# units under the prefix: a --prefix=/tmp/p build installs nothing outside it
P=$T/prefix-p
if meson setup --prefix="$P" "$T/bp" "$S" >"$T/setup.log" 2>&1 &&
	meson introspect --installed "$T/bp" >"$T/installed.json"; then
	outside=$(python3 -c 'import json,sys; p=sys.argv[2]; print(" ".join(v for v in json.load(open(sys.argv[1])).values() if not v.startswith(p + "/")))' "$T/installed.json" "$P")
	[ -z "$outside" ] && grep -q "\"$P/lib/systemd/system/hostguard.service\"" "$T/installed.json" &&
		pass "--prefix=$P: units in $P/lib/systemd/system, nothing outside the prefix" || fail "--prefix: outside the prefix: $outside"
else
	fail "meson setup --prefix: $(tail -5 "$T/setup.log")"
fi

# YAML examples parse, and are what they claim to be
python3 - "$S/examples" <<'PY' && pass "ansible playbook and cloud-init parse" || fail "example YAML"
import sys, yaml
d = sys.argv[1]
play = yaml.safe_load(open(d + "/ansible/hostguard.yml"))
assert isinstance(play, list) and play[0]["tasks"], "no tasks"
for t in play[0]["tasks"]:
    assert "name" in t
    if "ansible.builtin.command" in t:
        assert "changed_when" in t, t["name"]
text = open(d + "/cloud-init.yaml").read()
assert text.startswith("#cloud-config\n")
ci = yaml.safe_load(text)
assert ci["write_files"][0]["path"] == "/etc/hostguard/hostguard.conf"
PY

echo "install: $passed passed, $failed failed"
[ $failed = 0 ]
