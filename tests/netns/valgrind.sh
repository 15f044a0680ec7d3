#!/bin/bash
# A few CLI paths under valgrind: zero errors, zero leaks.
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || { echo "FAIL: valgrind is missing"; exit 1; }
netns_new "$H"
write_conf <<'CONF'
allowed_uids = 0, root
container_ifaces = docker0, br-*
allow_from_containers_tcp = 53, 8000-8100
CONF
printf 'allowed_uids = 0\nbogus = 1\n' >"$T/bad.conf"

vg() { # vg EXPECTED-RC DESCRIPTION ARGS...
	local want=$1 desc=$2 rc
	shift 2
	ip netns exec "$H" valgrind --quiet --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=all --track-fds=no \
		--suppressions="$(dirname "$0")/valgrind.supp" \
		"$HG" "$@" >"$T/vg.out" 2>&1
	rc=$?
	if [ $rc = "$want" ]; then
		pass "valgrind: $desc (exit $rc, no errors, no leaks)"
	else
		fail "valgrind: $desc: exit $rc: $(tail -20 "$T/vg.out")"
	fi
}
vg 0 "apply --dry-run" --config "$CONF" apply --dry-run
vg 0 "apply (create)" --config "$CONF" apply
vg 0 "apply (in sync)" --config "$CONF" apply
vg 0 "status --json" --config "$CONF" status --json
vg 0 "check" --config "$CONF" check
vg 0 "allow-uid" --config "$CONF" allow-uid 5 nobody
vg 0 "allow-port (merge)" --config "$CONF" allow-port tcp 8050-8200
vg 0 "revoke-port (split)" --config "$CONF" revoke-port tcp 8060
vg 0 "add-iface" --config "$CONF" add-iface 'podman*'
vg 2 "invalid config" --config "$T/bad.conf" apply
vg 2 "bad value" --config "$CONF" allow-uid 12abc
h nft add element inet hostguard allowed_uids '{ 77 }'
vg 1 "check on drift" --config "$CONF" check
vg 1 "check --json on drift" --config "$CONF" check --json
vg 1 "save refusing another program's element" --config "$CONF" save
vg 0 "apply repairing drift" --config "$CONF" apply
vg 0 "allow-uid --runtime" --config "$CONF" allow-uid --runtime 2000
vg 0 "revoke-port --runtime" --config "$CONF" revoke-port --runtime tcp 8070
vg 3 "check: runtime entries only" --config "$CONF" check
vg 0 "status with runtime entries" --config "$CONF" status
vg 0 "status --json with runtime entries" --config "$CONF" status --json
vg 0 "save --dry-run" --config "$CONF" save --dry-run
vg 0 "save" --config "$CONF" save
vg 0 "save: nothing to save" --config "$CONF" save
rm -f "$(hg status --json | jq -r .record)"
vg 0 "remove" --config "$CONF" remove
vg 1 "check with no table" --config "$CONF" check
finish
