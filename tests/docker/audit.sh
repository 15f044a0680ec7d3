#!/bin/bash
# hostguard audit against a real Docker engine: each finding appears on the
# container that earns it and on no other, the JSON fields carry what Docker
# says, exposure follows the live table, and the daemon findings flip when
# dockerd runs with --icc=false --userland-proxy=false --no-new-privileges
# --live-restore.
#
# Containers (the test image running sleep):
#   priv     --privileged (through the runtime wrapper below)
#   capsys   --cap-add SYS_ADMIN
#   hostnet  --network host (a sleeper)
#   sock     the Docker socket mounted
#   etc      /etc mounted read-write
#   hard     --user 1000 --cap-drop ALL --security-opt no-new-privileges
#            --read-only --memory 64m --pids-limit 64, -p 8080:80
. "$(dirname "$0")/lib.sh"

# --privileged asks runc for every capability; a machine whose own bounding
# set lacks some (a CI container without CAP_SYS_RESOURCE) cannot grant them
# and runc fails.  This runtime wrapper removes from the bundle's config only
# the capabilities this machine does not have, then runs runc: dockerd still
# records and reports the container as privileged.
runc_wrapper() {
	local have
	have=$(capsh --decode="$(awk '/^CapBnd/ { print $2 }' /proc/self/status)" 2>/dev/null |
		sed 's/.*=//' | tr ',' ' ' | tr '[:lower:]' '[:upper:]')
	cat >"$T/runc-wrap" <<WRAP
#!/bin/bash
have="$have"
bundle=
prev=
for a in "\$@"; do
	[ "\$prev" = --bundle ] && bundle=\$a
	case \$a in --bundle=*) bundle=\${a#--bundle=} ;; esac
	prev=\$a
done
if [ -n "\$bundle" ] && [ -f "\$bundle/config.json" ]; then
	jq --arg have "\$have" '(\$have | split(" ") | map(select(. != ""))) as \$h |
		if .process.capabilities then
			.process.capabilities |= with_entries(.value |= map(select(. as \$c | \$h | index(\$c))))
		else . end' "\$bundle/config.json" >"\$bundle/config.json.hg" &&
		mv "\$bundle/config.json.hg" "\$bundle/config.json"
fi
exec runc "\$@"
WRAP
	chmod 755 "$T/runc-wrap"
}

command -v jq >/dev/null || { echo "FAIL: jq is missing (scripts/install-deps --test)"; exit 1; }
command -v capsh >/dev/null || { echo "FAIL: capsh is missing (scripts/install-deps --test)"; exit 1; }

AUDIT="$T/audit.json"
# audit_json: hostguard audit --json in $H into $AUDIT; its exit code in $AUDIT_RC
audit_json() {
	hg audit --json >"$AUDIT" 2>"$T/audit.err"
	AUDIT_RC=$?
	jq -e . "$AUDIT" >/dev/null 2>&1 || { echo "FAIL: audit --json is not JSON: $(cat "$T/audit.err")"; exit 1; }
}
# ids NAME: the finding ids of a container, one per line
ids() { jq -r --arg n "$1" '.containers[] | select(.name == $n) | .findings[].id' "$AUDIT" | sort -u; }
daemon_ids() { jq -r '.daemon.findings[].id' "$AUDIT" | sort -u; }
# has ID NAME...: the finding is on each named container; lacks: on none
has() {
	local id=$1 n
	shift
	for n in "$@"; do
		if ids "$n" | grep -qx -- "$id"; then pass "finding $id on $n"; else fail "finding $id missing on $n: $(ids "$n" | tr '\n' ' ')"; fi
	done
}
lacks() {
	local id=$1 n
	shift
	for n in "$@"; do
		if ids "$n" | grep -qx -- "$id"; then fail "finding $id on $n, where it does not belong"; else pass "no finding $id on $n"; fi
	done
}
jexpect() { # jexpect WANT DESCRIPTION JQ-FILTER
	expect "$1" "$2" jq -r "$3" "$AUDIT"
}

write_conf <<CONF
allowed_uids = 0
CONF

netns_new "$H"
runc_wrapper
phase "dockerd starting"
docker_start --add-runtime hgt-runc="$T/runc-wrap"
docker_image
phase "containers starting"
# sleepers: audit reads settings, it sends no packet
sleeper() { # sleeper NAME [DOCKER RUN OPTION...]
	local name=$1
	shift
	dk run -d --name "$name" --init "$@" "$DK_IMAGE" sleep 100000 >"$DK/run.$name" 2>&1 ||
		{ echo "FAIL: container $name did not start:"; cat "$DK/run.$name"; exit 1; }
}
sleeper priv --privileged --runtime hgt-runc &
sleeper capsys --cap-add SYS_ADMIN &
sleeper sock -v "$DK_SOCK:/var/run/docker.sock" &
sleeper etc -v /etc:/hostetc &
sleeper hostnet --network host &
sleeper hard --user 1000 --cap-drop ALL --security-opt no-new-privileges --read-only \
	--memory 64m --pids-limit 64 -p 8080:80 &
wait_jobs
phase "containers up"

# ---- Docker unreachable, usage ----
expect_rc 1 "audit: Docker unreachable is exit 1" \
	env HOSTGUARD_DOCKER_SOCKET="$T/nothing.sock" ip netns exec "$H" "$HG" --config "$CONF" audit
expect_match '^hostguard: audit: cannot read Docker: .*nothing.sock' "audit: unreachable Docker is one line naming the socket"
if [ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ]; then pass "audit: that is one line"; else fail "audit: more than one line: $OUT"; fi
expect_rc 2 "audit: --fail-on bogus is exit 2" hg audit --fail-on bogus
expect_match "invalid --fail-on 'bogus'" "audit: the error names the bad value"
expect_rc 2 "audit: an unknown argument is exit 2" hg audit --frobnicate

# ---- containers ----
audit_json
if [ "$AUDIT_RC" = 1 ]; then pass "audit: high findings make exit 1 (default --fail-on high)"
else fail "audit: exit $AUDIT_RC with high findings"; fi
jexpect 6 "audit: every running container is listed" '.containers | length'
has 5.5 priv
lacks 5.5 capsys hostnet sock etc hard
has 5.4 capsys
lacks 5.4 priv hostnet sock etc hard
jexpect high "5.4 with SYS_ADMIN is high" '.containers[] | select(.name == "capsys") | .findings[] | select(.id == "5.4") | .severity'
has 5.10 hostnet
lacks 5.10 priv capsys sock etc hard
has 5.32 sock
lacks 5.32 priv capsys hostnet etc hard
has 5.6 etc
lacks 5.6 priv capsys hostnet sock hard
jexpect high "5.6 for /etc read-write is high" '.containers[] | select(.name == "etc") | .findings[] | select(.id == "5.6") | .severity'
# the hardened one has none of what it hardened, the others all of them
for id in 4.1 5.26 5.13 5.11 5.29; do
	lacks "$id" hard
	has "$id" priv capsys hostnet sock etc
done
jexpect true "priv: privileged true" '.containers[] | select(.name == "priv") | .privileged'
jexpect false "hard: privileged false" '.containers[] | select(.name == "hard") | .privileged'
jexpect 1000 "hard: user 1000" '.containers[] | select(.name == "hard") | .user'
jexpect "" "capsys: user empty (root)" '.containers[] | select(.name == "capsys") | .user'
jexpect ALL "hard: cap_drop ALL" '.containers[] | select(.name == "hard") | .cap_drop | join(",")'
jexpect SYS_ADMIN "capsys: cap_add SYS_ADMIN" '.containers[] | select(.name == "capsys") | .cap_add | join(",")'
jexpect no-new-privileges "hard: security_opt" '.containers[] | select(.name == "hard") | .security_opt | join(",")'
jexpect "true 67108864 64 true" "hard: read_only, memory, pids_limit, no health check" \
	'.containers[] | select(.name == "hard") | "\(.read_only) \(.memory) \(.pids_limit) \(.health_check == false)"'
jexpect host "hostnet: network_mode host" '.containers[] | select(.name == "hostnet") | .network_mode'
jexpect "/etc /hostetc true" "etc: the mount with source, destination, rw" \
	'.containers[] | select(.name == "etc") | .mounts[] | select(.destination == "/hostetc") | "\(.source) \(.destination) \(.rw)"'
jexpect "8080 80 tcp" "hard: the published port" \
	'[.containers[] | select(.name == "hard") | .ports[] | select(.host_port != null) | "\(.host_port) \(.port) \(.proto)"] | unique | join(",")'
jexpect "id severity message" "each finding has id, severity, message" \
	'[.containers[].findings[], .daemon.findings[] | keys_unsorted | join(" ")] | unique | join(",")'

# ---- daemon (Docker's defaults) ----
for id in 2.2 2.16 2.14 2.15 2.9; do
	if daemon_ids | grep -qx "$id"; then pass "daemon finding $id with Docker's defaults"; else fail "daemon finding $id missing: $(daemon_ids | tr '\n' ' ')"; fi
done
jexpect "true true false false" "daemon: icc, userland_proxy on; no_new_privileges, live_restore off" \
	'.daemon | "\(.icc) \(.userland_proxy) \(.no_new_privileges) \(.live_restore)"'
jexpect "$DK/daemon.json" "daemon: daemon.json found through dockerd's --config-file" '.daemon.daemon_json'

# ---- exposure without a table, then with one ----
jexpect "false" "exposure: no table yet, nothing closed" '[.exposure[].closed] | any'
hg apply >/dev/null 2>&1 || fail "apply"
audit_json
jexpect "true" "exposure: the table is loaded" '.table.loaded'
jexpect "true" "exposure: hard's bridge, published and docker-proxy paths closed" \
	'[.exposure[] | select(.container == "hard") | .closed] | all'
jexpect "bridge,docker-proxy,published" "exposure: hard has the three paths" \
	'[.exposure[] | select(.container == "hard") | .path] | unique | join(",")'
jexpect "root" "exposure: reachable by root alone" \
	'[.exposure[] | select(.container == "hard") | .reachable_by[]] | unique | join(",")'
jexpect "false everyone" "exposure: hostnet cannot be closed" \
	'.exposure[] | select(.container == "hostnet") | "\(.closed) \(.reachable_by | join(","))"'
jexpect "1" "cannot_close names the host-network container" '[.cannot_close[] | select(test("hostnet"))] | length'
# an uncovered bridge: a network created after apply (follow is not running)
dk network create -o com.docker.network.bridge.name=hgtcust0 --subnet 172.30.99.0/24 hgcust >/dev/null ||
	fail "docker network create hgcust"
sleeper cust --network hgcust
audit_json
jexpect "false" "exposure: a container on a bridge created after apply is open" \
	'.exposure[] | select(.container == "cust" and .path == "bridge") | .closed'
jexpect "everyone" "exposure: ... reachable by everyone" \
	'.exposure[] | select(.container == "cust" and .path == "bridge") | .reachable_by | join(",")'
jexpect "hgtcust0 not covered" "exposure: ... the note names the bridge" \
	'.exposure[] | select(.container == "cust" and .path == "bridge") | .note'

# ---- the text report ----
expect_rc 1 "audit (text) exits 1 with high findings" hg audit
expect_match '^CONTAINERS' "text: containers table"
expect_match '^DAEMON ' "text: daemon section"
expect_match '^EXPOSURE ' "text: exposure table"
expect_match '^HOSTGUARD CANNOT CLOSE' "text: what hostguard cannot close"
long=$(printf '%s\n' "$OUT" | awk '/^CONTAINERS/ { f = 1; next } /^$/ { f = 0 } f && length > 100' | head -3)
if [ -z "$long" ]; then pass "text: the containers table fits 100 columns"; else fail "text: lines over 100 columns: $long"; fi
expect_rc 0 "audit --fail-on high exits 0 once the high-finding containers are gone" \
	bash -c "DOCKER_HOST=unix://$DK_SOCK $DOCKER_CLI rm -f priv capsys hostnet sock etc >/dev/null && ip netns exec $H $HG --config $CONF audit --json >/dev/null"
expect_rc 0 "audit --fail-on high: the remaining findings are below high" hg audit --json --fail-on high
expect_rc 1 "audit --fail-on medium exits 1 (icc, userland-proxy...)" hg audit --json --fail-on medium

# ---- daemon findings flip ----
phase "dockerd restarting with hardened flags"
docker_stop
docker_start --add-runtime hgt-runc="$T/runc-wrap" --icc=false --userland-proxy=false --no-new-privileges --live-restore
sleeper plain
audit_json
for id in 2.2 2.16 2.14 2.15; do
	if daemon_ids | grep -qx "$id"; then fail "daemon finding $id with the hardened flags"; else pass "no daemon finding $id with the hardened flags"; fi
done
jexpect "false false true true" "daemon: icc, userland_proxy off; no_new_privileges, live_restore on" \
	'.daemon | "\(.icc) \(.userland_proxy) \(.no_new_privileges) \(.live_restore)"'
lacks 5.26 plain
jexpect "false" "exposure: no docker-proxy path without the userland proxy" \
	'[.exposure[] | select(.path == "docker-proxy")] | length > 0'
# the same command under valgrind: no memory error, no definite leak
if command -v valgrind >/dev/null; then
	expect_rc 0 "valgrind: audit --json is clean (exit 99 would be a valgrind error)" \
		ip netns exec "$H" valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$HG" --config "$CONF" audit --json
fi
docker_finish
