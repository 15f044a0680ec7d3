#!/bin/bash
# hostguard verify against a real Docker engine (Docker's defaults: the
# userland proxy serves loopback and IPv6): exit 0 on a protected host, exit
# 1 after "hostguard remove" (the control: the same connects get through
# without the table) and exit 1 with an uncovered custom-named bridge, each
# leak named in the report; an allowed --uid is refused (exit 2). Without
# libcurl (hidden in a private mount namespace) the commands that do not
# talk to Docker work, and those that do name the library.
#
#   c0 on docker0 (-p 8080:80), c1 on network hgnet (br-<id>, IPv4 and
#   IPv6, -p 8081:80); after apply: network hgcust with the bridge name
#   hgtcust0, c2 on it (-p 8082:80)
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { echo "FAIL: jq is missing (scripts/install-deps --test)"; exit 1; }

write_conf <<CONF
allowed_uids = 0, 1001
container_ifaces = docker0, br-*, veth*
CONF

netns_new "$H"
phase "dockerd starting"
# shellcheck disable=SC2119  # docker_start takes no arguments here
docker_start
docker_image
dk network create --ipv6 --subnet 172.30.77.0/24 --subnet fd00:77:1::/64 hgnet >/dev/null ||
	{ echo "FAIL: docker network create hgnet"; exit 1; }
dk_serve_bg c0 -p 8080:80 &
dk_serve_bg c1 --network hgnet -p 8081:80 &
wait_jobs
dk_ready c0 c1
C0=$(dk_ip c0) C1=$(dk_ip c1 hgnet) C1_6=$(dk_ip6 c1 hgnet)
for a in $C0 $C1 $C1_6; do
	wait_reach "$a" 80
done
phase "containers up"
V="$T/verify.json"
verify_json() { # verify --json into $V, exit code in $VRC
	hg verify --json >"$V" 2>"$T/verify.err"
	VRC=$?
}
leaks() { jq -r '.attempts[] | select(.result == "LEAK") | "\(.path) \(.address):\(.port)"' "$V" | sort; }

# ---- without the table (the control: every path is open) ----
hg remove >/dev/null 2>&1
expect_rc 1 "control: no table, verify exits 1" hg verify
expect_match "^LEAK: nobody reached $C0:80 of c0 by the bridge path" "control: the report names c0's bridge leak"
expect_match "^LEAK: nobody reached \\[$C1_6\\]:80 of c1 by the bridge path" "control: ... c1's IPv6 bridge leak"
expect_match "^LEAK: nobody reached 127.0.0.1:8080 of c0 by the docker-proxy path" "control: ... docker-proxy on 127.0.0.1"
expect_match "^LEAK: nobody reached \\[::1\\]:8081 of c1 by the docker-proxy path" "control: ... docker-proxy on ::1"
expect_match "^LEAK: nobody reached 172.30.77.1:8081 of c1 by the published path" "control: ... a published port on a host address"
expect_match "not loaded" "control: the report says the table is not loaded"

# ---- protected ----
hg apply >/dev/null 2>&1 || fail "apply"
verify_json
if [ "$VRC" = 0 ]; then pass "protected: verify exits 0"; else fail "protected: verify exit $VRC: $(leaks) $(cat "$T/verify.err")"; fi
expect 0 "protected: no leaks" jq -r .leaks "$V"
expect 0 "protected: no allowed attempt refused" jq -r .refused "$V"
expect "bridge,docker-proxy,published" "protected: all three paths were tried" \
	jq -r '[.attempts[].path] | unique | join(",")' "$V"
expect true "protected: IPv4 and IPv6 targets" \
	jq -r '([.attempts[].address | select(test(":"))] | length > 0) and ([.attempts[].address | select(test("^[0-9.]+$"))] | length > 0)' "$V"
expect true "protected: root connected on every target (the probes can succeed)" \
	jq -r '[.attempts[] | select(.as == "root") | .got == "connected"] | all' "$V"
expect true "protected: nobody was kept out of every target" \
	jq -r '[.attempts[] | select(.as == "nobody") | .result == "pass"] | all' "$V"
expect true "protected: every attempt names path, container, address, port, expected, got, result" \
	jq -r '[.attempts[] | has("path") and has("container") and has("address") and has("port") and has("expected") and has("got") and has("result")] | all' "$V"
expect true "protected: only this host's and its containers' addresses were contacted" \
	bash -c "jq -r '.attempts[].address' '$V' | sort -u | while read -r a; do
		ip netns exec '$H' ip -o addr show | grep -q \" \$a/\" || [ \"\$a\" = '$C0' ] || [ \"\$a\" = '$C1' ] || [ \"\$a\" = '$C1_6' ] || { echo \"\$a\"; exit; }
	done | grep -q . && echo false || echo true"
ms=$(jq -r .milliseconds "$V")
echo "# verify took $ms ms for $(jq -r '.attempts | length' "$V") attempts"
expect_rc 2 "verify --uid root (allowed) is refused with exit 2" hg verify --uid root
expect_match "uid 0 .* is allowed" "verify: the refusal names the uid"
expect_rc 2 "verify --uid 1001 (allowed) is refused" hg verify --uid 1001
expect_rc 0 "verify --uid 2000 (not allowed) passes" hg verify --uid 2000
expect_rc 2 "verify --uid no-such-user is exit 2" hg verify --uid hgt-no-such-user
expect_rc 2 "verify --timeout 0 is exit 2" hg verify --timeout 0

# ---- status and Docker's docker-proxy processes ----
# with Docker's socket their ports are in published_tcp: no warning; with
# docker_socket = none (nothing learned) each one is named, until the
# config lists its port
expect_rc 0 "status with Docker's socket" hg status
printf '%s\n' "$OUT" | grep -q '^warning: docker-proxy' && fail "status warns although Docker's ports are known: $OUT" ||
	pass "status: no docker-proxy warning while hostguard reads Docker's ports"
expect_rc 0 "status with docker_socket none" env HOSTGUARD_DOCKER_SOCKET=none ip netns exec "$H" "$HG" --config "$CONF" status
expect_match "^warning: docker-proxy \(pid [0-9]+\) forwards tcp port 8080 \(0\.0\.0\.0\) to $C0:80, and published_tcp does not hold 8080" "status names c0's docker-proxy (IPv4)"
expect_match "^warning: docker-proxy \(pid [0-9]+\) forwards tcp port 8081 \(::\) to " "status names c1's docker-proxy (IPv6)"
expect 4 "status --json: four docker-proxy processes (8080, 8081; IPv4 and IPv6), none protected" \
	bash -c "HOSTGUARD_DOCKER_SOCKET=none ip netns exec '$H' '$HG' --config '$CONF' status --json | jq '[.docker_proxies[] | select(.protected | not)] | length'"
cp "$CONF" "$T/published.conf"
echo "published_tcp = 8080, 8081" >>"$T/published.conf"
expect_rc 0 "status with docker_socket none and the ports listed" env HOSTGUARD_DOCKER_SOCKET=none ip netns exec "$H" "$HG" --config "$T/published.conf" status
printf '%s\n' "$OUT" | grep -q '^warning: docker-proxy' && fail "still a docker-proxy warning: $OUT" ||
	pass "status: no warning once published_tcp lists 8080 and 8081"

# ---- an uncovered custom-named bridge: a network created after apply ----
# apply and follow add every bridge Docker reports, so a bridge is uncovered
# when it appears while follow is not running: the config does not cover
# hgtcust0 and no apply has seen it yet.
dk network create -o com.docker.network.bridge.name=hgtcust0 --subnet 172.30.99.0/24 hgcust >/dev/null ||
	fail "docker network create hgcust"
dk_serve c2 --network hgcust -p 8082:80
C2=$(dk_ip c2 hgcust)
wait_reach "$C2" 80
expect_rc 1 "uncovered bridge: verify exits 1" hg verify
expect_match "^LEAK: nobody reached $C2:80 of c2 by the bridge path" "uncovered bridge: the report names c2's bridge leak"
expect_match "^LEAK: nobody reached 127.0.0.1:8082 of c2 by the docker-proxy path" "uncovered bridge: ... and its unpublished-to-hostguard port"
if printf '%s\n' "$OUT" | grep '^LEAK' | grep -qv ' of c2 '; then
	fail "uncovered bridge: leaks beyond c2: $(printf '%s\n' "$OUT" | grep '^LEAK' | grep -v ' of c2 ')"
else
	pass "uncovered bridge: every leak is c2's"
fi
# neither the config nor the table changed: Docker did
expect_rc 1 "check: Docker changed since the last apply -> 1" hg check
expect_match "^hostguard: drifted: Docker's published ports or bridges changed since the last apply: run hostguard apply; " "check says Docker changed"
expect docker_changed "check --json: docker_changed" bash -c "ip netns exec '$H' '$HG' --config '$CONF' check --json | jq -r .state"
hg apply >/dev/null 2>&1 || fail "apply"
expect_rc 0 "apply learns hgtcust0 and 8082: verify exits 0 again" hg verify
expect_rc 0 "check: in sync after apply" hg check
# ---- libcurl is loaded only by the commands that talk to Docker ----
# libcurl.so.4 replaced by an empty file in a private mount namespace: the
# commands that do not talk to Docker work without it; one that does says
# which library it could not load, and the table stays as it was.
LIBCURL=$(readlink -f "$(ldconfig -p | awk '/libcurl\.so\.4 /{print $NF; exit}')")
# shellcheck disable=SC2016  # $1 and $@ are the inner sh's
nocurl() { ip netns exec "$H" unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$LIBCURL" "$@"; }
if [ -f "$LIBCURL" ]; then
	expect_rc 0 "without libcurl: --version works" nocurl "$HG" --version
	expect_rc 0 "without libcurl: check (Docker not asked) works" \
		nocurl env HOSTGUARD_DOCKER_SOCKET=keep "$HG" --config "$CONF" check
	expect_rc 0 "without libcurl: allow-uid --runtime works" nocurl "$HG" --config "$CONF" allow-uid --runtime 4242
	hg revoke-uid --runtime 4242 >/dev/null 2>&1
	before=$(ip netns exec "$H" nft -s list table inet hostguard)
	nocurl "$HG" --config "$CONF" status >"$T/nocurl.out" 2>&1
	OUT=$(cat "$T/nocurl.out")
	expect_match "cannot load libcurl\.so\.4" "without libcurl: status names the library it could not load"
	nocurl "$HG" --config "$CONF" apply >"$T/nocurl.out" 2>&1
	OUT=$(cat "$T/nocurl.out")
	expect_match "cannot load libcurl\.so\.4" "without libcurl: apply names the library it could not load"
	if [ "$(ip netns exec "$H" nft -s list table inet hostguard)" = "$before" ]; then
		pass "without libcurl: the table is as it was"
	else
		fail "without libcurl: apply changed the table"
	fi
	echo "# without libcurl, status and apply said: $(head -c 600 "$T/nocurl.out")"
else
	fail "libcurl.so.4 not found by ldconfig"
fi
# the same command under valgrind: no memory error, no definite leak
if command -v valgrind >/dev/null; then
	expect_rc 0 "valgrind: verify is clean (exit 99 would be a valgrind error)" \
		ip netns exec "$H" valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$HG" --config "$CONF" verify
fi
docker_finish
