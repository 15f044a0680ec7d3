#!/bin/bash
# The Debian package: built with dpkg-buildpackage -us -uc -b from a copy of
# the source tree (nothing is written into the repository), checked with
# lintian (no error or warning; the remaining info tags are overridden with
# reasons in debian/), its contents and maintainer scripts inspected, then
# unpacked into a scratch root (dpkg -x) whose hostguard runs --version,
# apply --dry-run and a real apply in a network namespace of its own.
set -u
: "${MESON_SOURCE_ROOT:?}"
S=$MESON_SOURCE_ROOT
for tool in dpkg-buildpackage dh fakeroot; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (scripts/install-deps --test)"; exit 77; }
done
T=$(mktemp -d /tmp/hgt-pkg.XXXXXX)
NS=hgt-pkg-$$-$RANDOM
cleanup() { ip netns del "$NS" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
finish() { echo "package: $passed passed, $failed failed"; [ $failed = 0 ]; exit $?; }

version=$(sed -n '1s/^hostguard (\([^)]*\)).*/\1/p' "$S/debian/changelog")
src=$T/hostguard-$version
mkdir -p "$src"
# the tracked and new files, not build trees or ignored output
if git -C "$S" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$S" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$src"
else
	tar -C "$S" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$src"
fi
[ -f "$src/debian/rules" ] || { fail "no debian/ in the copy"; finish; }

start=$(date +%s)
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b in $(($(date +%s) - start)) s"
else
	fail "dpkg-buildpackage: $(tail -30 "$T/build.log")"
	finish
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for p in hostguard libhostguard1 libhostguard-dev; do
	[ -f "$T/${p}_${version}_$arch.deb" ] && pass "built ${p}_${version}_$arch.deb" || fail "no $p package"
done
deb() { echo "$T/${1}_${version}_$arch.deb"; }

# lintian: no error or warning left (info tags are overridden with reasons)
if command -v lintian >/dev/null; then
	lintian --pedantic -I "$T/hostguard_${version}_$arch.changes" >"$T/lintian.log" 2>&1
	tags=$(grep -E '^[EWIPX]: ' "$T/lintian.log" | grep -v '^N: ')
	[ -z "$tags" ] && pass "lintian --pedantic -I: clean (overrides in debian/*.lintian-overrides)" ||
		fail "lintian: $tags"
else
	echo "# lintian is missing: not checked"
fi

# contents
has() { # has PACKAGE PATH...
	local p=$1 f
	shift
	dpkg-deb -c "$(deb "$p")" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/$p.list"
	for f in "$@"; do
		grep -qx -- "$f" "$T/$p.list" || { fail "$p lacks $f"; return; }
	done
	pass "$p has $*"
}
has hostguard /usr/sbin/hostguard /etc/hostguard/hostguard.conf /usr/share/man/man8/hostguard.8.gz \
	/usr/share/man/man5/hostguard.conf.5.gz /usr/share/bash-completion/completions/hostguard \
	/lib/systemd/system/hostguard.service /lib/systemd/system/hostguard-guard.service \
	/lib/systemd/system/hostguard-watch.service /lib/systemd/system/hostguard-repair.service /lib/systemd/system/hostguard-follow.service \
	/lib/systemd/system/hostguard-repair.timer
has libhostguard1 "/usr/lib/$ma/libhostguard.so.1.0.0"
has libhostguard-dev /usr/include/hostguard.h "/usr/lib/$ma/pkgconfig/hostguard.pc"
dpkg-deb -c "$(deb libhostguard1)" | grep -q "libhostguard.so.1 -> libhostguard.so.1.0.0" && pass "libhostguard1 has the soname link" || fail "no soname link"
dpkg-deb -c "$(deb libhostguard-dev)" | grep -q "libhostguard.so -> libhostguard.so.1" && pass "libhostguard-dev has the .so link" || fail "no dev link"
! grep -q '/usr/lib/' "$T/hostguard.list" && pass "the CLI package carries no library (the CLI links it statically)" || fail "hostguard ships a library"
dpkg-deb -I "$(deb libhostguard-dev)" | grep -q "Depends: libhostguard1 (= $version)" && pass "libhostguard-dev depends on libhostguard1 (= $version)" || fail "dev dependency"
dpkg-deb -e "$(deb hostguard)" "$T/ctl"
grep -qx /etc/hostguard/hostguard.conf "$T/ctl/conffiles" && pass "/etc/hostguard/hostguard.conf is a conffile" || fail "conffiles: $(cat "$T/ctl/conffiles" 2>&1)"
dpkg-deb -e "$(deb libhostguard1)" "$T/ctl0"
grep -q '^libhostguard 1 libhostguard1 ' "$T/ctl0/shlibs" && grep -q 'hg_apply@HOSTGUARD_1' "$T/ctl0/symbols" && pass "libhostguard1 has shlibs and a symbols file" || fail "shlibs/symbols"
# enabled the Debian way, not started on installation, not stopped on upgrade
grep -q 'deb-systemd-helper .*enable.*hostguard.service' "$T/ctl/postinst" && pass "postinst enables hostguard.service (deb-systemd-helper)" || fail "postinst does not enable"
# shellcheck disable=SC2016  # a literal $_dh_action in the regex
! grep -qE 'deb-systemd-invoke (\$_dh_action|start|restart)' "$T/ctl/postinst" &&
	pass "postinst starts nothing on installation" || fail "postinst starts a unit: $(grep deb-systemd-invoke "$T/ctl/postinst")"
! grep -q 'deb-systemd-invoke stop' "$T/ctl/prerm" 2>/dev/null && pass "prerm does not stop hostguard on upgrade" || fail "prerm stops: $(cat "$T/ctl/prerm")"

# unpacked into a scratch root: the binary, the packaged config, the units
# (never asking the machine's Docker, as in the netns tests)
export HOSTGUARD_DOCKER_SOCKET=none
R=$T/root
for p in hostguard libhostguard1 libhostguard-dev; do dpkg -x "$(deb "$p")" "$R"; done
HG=$R/usr/sbin/hostguard
out=$("$HG" --version 2>&1)
[ "$out" = "hostguard $version" ] && pass "hostguard --version: $out" || fail "--version: $out"
grep -q '^allowed_uids = 0$' "$R/etc/hostguard/hostguard.conf" && pass "the packaged config allows root only (no 'traefik' user needed)" || fail "config: $(grep allowed_uids "$R/etc/hostguard/hostguard.conf")"
out=$("$HG" --config "$R/etc/hostguard/hostguard.conf" apply --dry-run 2>&1)
rc=$?
[ $rc = 0 ] && printf '%s\n' "$out" | grep -q '^table inet hostguard {$' && pass "apply --dry-run with the packaged config" || fail "apply --dry-run ($rc): $out"
if ip netns add "$NS" 2>/dev/null; then
	out=$(ip netns exec "$NS" "$HG" --config "$R/etc/hostguard/hostguard.conf" apply 2>&1) &&
		ip netns exec "$NS" "$HG" --config "$R/etc/hostguard/hostguard.conf" check >/dev/null 2>&1 &&
		pass "the packaged hostguard applies its config in a netns: $out" || fail "apply from the package: $out"
fi
# the example program against the packaged library and pkg-config file
# shellcheck disable=SC2046 # pkg-config output is split into words on purpose
if PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$R/usr/lib/$ma/pkgconfig \
	cc -o "$T/example" "$R/usr/share/doc/libhostguard-dev/examples/hg-show-policy.c" \
	$(PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$R/usr/lib/$ma/pkgconfig pkg-config --cflags --libs hostguard) 2>"$T/cc.log" &&
	LD_LIBRARY_PATH=$R/usr/lib/$ma "$T/example" "$T/none.conf" | grep -q "^libhostguard $version:"; then
	pass "the packaged example builds against libhostguard-dev and runs on libhostguard1"
else
	fail "example against the package: $(cat "$T/cc.log")"
fi
# what dh_installsystemd's enable does, in the scratch root
if command -v systemctl >/dev/null; then
	systemctl --root="$R" enable hostguard.service >/dev/null 2>&1
	links=$(cd "$R/etc/systemd/system" 2>/dev/null && find . -type l | sed 's|^\./||' | sort | tr '\n' ' ')
	[ "$links" = "hostguard.service.wants/hostguard-guard.service hostguard.service.wants/hostguard-watch.service multi-user.target.wants/hostguard.service nftables.service.wants/hostguard-repair.service " ] &&
		pass "enabling the packaged hostguard.service hooks guard, watch and nftables.service" || fail "links: $links"
fi
[ -z "$(cd "$S" && git status --porcelain --ignored debian 2>/dev/null | grep '^!!')" ] && pass "no build output in the source tree's debian/" ||
	fail "build output in debian/: $(cd "$S" && git status --porcelain --ignored debian | grep '^!!')"
finish
