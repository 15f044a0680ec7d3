#!/bin/bash
# Issue #12 item 5 and issue #11 hole 3 (reporting): check exits 1 naming a
# bridge, macvlan or ipvlan that no container_ifaces pattern covers (a
# custom-named Docker network), and a port of a covered bridge that no
# pattern covers, unless ignore_ifaces lists it; ifaces shows ports under
# their bridge; status warns.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
add_bridge br-test 10.77.0 fd77
add_container "$C" br-test vh0 10.77.0 fd77
h ip link add mynet0 type bridge
h ip link set mynet0 up

write_conf <<'CONF'
allowed_uids = 0
container_ifaces = docker0, br-*
CONF
expect_rc 0 "apply" hg apply
expect_rc 1 "check exits 1: the table is in sync but interfaces are uncovered" hg check
expect_match "in sync" "it says the table is in sync"
expect_match "uncovered: bridge mynet0 is not covered by container_ifaces" "it names the custom-named bridge mynet0"
expect_match "uncovered: vh0 is a port of covered bridge br-test" "it names the bridge port vh0"
expect_rc 0 "status exits 0" hg status
expect_match "warning: bridge mynet0 is not covered" "status warns about mynet0"
expect_match "warning: vh0 is a port of covered bridge br-test" "and about vh0"

OUT=$(hg ifaces --json)
printf '%s' "$OUT" | jq -e '(.interfaces[] | select(.name == "vh0") | .master == "br-test" and .covered == false) and
	(.interfaces[] | select(.name == "br-test") | .ports == ["vh0"] and .covered) and
	(.interfaces[] | select(.name == "mynet0") | .ports == [] and (.covered | not)) and
	(.warnings | length == 2)' >/dev/null && pass "ifaces --json: vh0 under br-test (master/ports), two warnings" ||
	fail "ifaces --json: $OUT"
OUT=$(hg ifaces)
printf '%s\n' "$OUT" | grep -A1 '^br-test ' | grep -Eq '^  vh0 +veth +up +no$' && pass "ifaces: vh0 indented under br-test" ||
	fail "ifaces: $OUT"

# ---- cover the port; ignore the custom bridge
write_conf <<'CONF'
allowed_uids = 0
container_ifaces = docker0, br-*, vh*
CONF
expect_rc 0 "apply with vh*" hg apply
expect_rc 1 "check still exits 1 for mynet0" hg check
expect_match "mynet0" "naming it"
if printf '%s\n' "$OUT" | grep -q "uncovered: vh0"; then fail "vh0 still reported"; else pass "vh0 no longer reported"; fi
write_conf <<'CONF'
allowed_uids = 0
container_ifaces = docker0, br-*, vh*
ignore_ifaces = mynet*   # a test bridge without containers
CONF
expect_rc 0 "apply with ignore_ifaces" hg apply
expect_rc 0 "check exits 0 with mynet0 ignored" hg check
OUT=$(hg status)
expect_match "ignore_ifaces \(config\) +mynet\*" "status shows ignore_ifaces"
if printf '%s\n' "$OUT" | grep -q "warning:"; then fail "status still warns: $OUT"; else pass "status has no warning left"; fi
OUT=$(hg status --json)
printf '%s' "$OUT" | jq -e '.ignore_ifaces == ["mynet*"] and .warnings == []' >/dev/null &&
	pass "status --json: ignore_ifaces, no warnings" || fail "status --json: $OUT"
OUT=$(hg ifaces)
expect_match "^mynet0 +bridge +up +no \(ignored\)" "ifaces marks mynet0 ignored"

# ---- macvlan and ipvlan too, and a port that appears after apply
h ip link add mv0 link br-test type macvlan mode bridge
expect_rc 1 "a macvlan named mv0 (not macvlan*) -> check 1" hg check
expect_match "uncovered: macvlan mv0" "naming it"
h ip link del mv0
h ip link add br-new type bridge
h ip link add hgx0 type veth peer name hgx1
h ip link set hgx0 master br-new
expect_rc 1 "a new covered bridge's port hgx0 -> check 1" hg check
expect_match "uncovered: hgx0 is a port of covered bridge br-new" "naming the port and its bridge"
if printf '%s\n' "$OUT" | grep -q "hgx1"; then fail "hgx1 (no bridge) reported: $OUT"; else pass "its peer outside any bridge is not reported"; fi
h ip link del hgx0
expect_rc 0 "gone again -> 0" hg check

# ---- bad ignore_ifaces values are config errors
printf 'ignore_ifaces = *\n' >"$T/bad.conf"
expect_rc 2 "ignore_ifaces = * -> 2" ip netns exec "$H" "$HG" --config "$T/bad.conf" check
expect_match "bad.conf:1: ignore_ifaces: interface pattern '\*' would match every interface" "naming FILE:LINE"

finish
