#!/bin/bash
# Every shell script of the tree passes shellcheck: the files git tracks
# (or, outside a checkout, every file) named *.sh or starting with a shell
# shebang.  Settings, and the findings kept on purpose, are in .shellcheckrc
# and in "# shellcheck disable=SCxxxx  # reason" lines.  Skips (exit 77)
# only when shellcheck is missing.
set -u
cd "${MESON_SOURCE_ROOT:-$(dirname "$0")/..}" || exit 1
if ! command -v shellcheck >/dev/null; then
	echo "SKIP: shellcheck is missing (scripts/install-deps --test)"
	exit 77
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files)
else
	mapfile -t files < <(find . -type f -not -path './build*' -not -path './.git/*' | sed 's|^\./||')
fi
scripts=()
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	case $f in
	*.sh) scripts+=("$f") ;;
	*) head -n1 "$f" | grep -q '^#!.*sh\b' && scripts+=("$f") ;;
	esac
done
echo "shellcheck: ${#scripts[@]} scripts"
[ ${#scripts[@]} -gt 0 ] || { echo "FAIL: no shell scripts found"; exit 1; }
shellcheck -x "${scripts[@]}" && echo "shellcheck: all clean"
