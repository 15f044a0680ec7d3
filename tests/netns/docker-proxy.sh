#!/bin/bash
# status warns about docker-proxy processes nothing keeps local users from:
# Docker's userland proxy forwards a published port from 127.0.0.1/::1 to
# the container as root, so with docker_socket = none (or Docker
# unreachable) and the port not in published_tcp, every local user reaches
# the container through it.  Docker's own docker-proxy binary when it is
# installed (it runs without dockerd), else a fake one (python3 copied under
# that name: the kernel's comm is the file name) that relays as it does.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { echo "FAIL: jq is missing"; exit 1; }
REAL=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/libexec/docker command -v docker-proxy)
PY=$(readlink -f /usr/bin/python3 2>/dev/null)
[ -n "$REAL" ] || [ -x "$PY" ] || { echo "SKIP: neither docker-proxy nor python3"; exit 77; }
topo_basic
serve "$C" 0 tcp 9000
[ -n "$REAL" ] || cp "$PY" "$T/docker-proxy"
cat >"$T/relay.py" <<'PY'
import socket, sys, threading
a = sys.argv
arg = lambda k: a[a.index(k) + 1]
hip, hp, cip, cp = arg("-host-ip"), int(arg("-host-port")), arg("-container-ip"), int(arg("-container-port"))
s = socket.socket(socket.AF_INET6 if ":" in hip else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((hip, hp))
s.listen(16)
with open(3, "w") as sig:
    sig.write("0\n")
def pipe(x, y):
    try:
        while True:
            d = x.recv(65536)
            if not d:
                break
            y.sendall(d)
    except OSError:
        pass
    finally:
        try:
            y.shutdown(socket.SHUT_WR)
        except OSError:
            pass
while True:
    c, _ = s.accept()
    try:
        u = socket.create_connection((cip, cp), timeout=2)
    except OSError:
        c.close()
        continue
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
PY
# fake_proxy NS HOST_IP HOST_PORT CONTAINER_IP: docker-proxy's own arguments;
# it writes "0" to fd 3 once it listens
fake_proxy() {
	local ready="$T/ready/proxy.$1.$2"
	if [ -n "$REAL" ]; then
		ip netns exec "$1" "$REAL" -proto tcp -host-ip "$2" -host-port "$3" \
			-container-ip "$4" -container-port 9000 3>"$ready" &
	else
		ip netns exec "$1" "$T/docker-proxy" "$T/relay.py" -proto tcp -host-ip "$2" -host-port "$3" \
			-container-ip "$4" -container-port 9000 3>"$ready" &
	fi
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -s "$ready" ] && return 0
		sleep 0.05
	done
	echo "FAIL: fake docker-proxy on $2 in $1 did not start"
	exit 1
}
not_ok() { [ "$1" = timeout ] || [ "$1" = blocked ]; }

write_conf <<'CONF'
allowed_uids = 0
docker_socket = none
CONF
expect_rc 0 "apply" hg apply
expect_rc 0 "status without docker-proxy" hg status
printf '%s\n' "$OUT" | grep -q docker-proxy && fail "a warning without docker-proxy: $OUT" || pass "no docker-proxy, no warning"

fake_proxy "$H" 127.0.0.1 8080 10.77.0.2
PROXY4=${PIDS[-1]}
fake_proxy "$H" ::1 8080 fd77::2
# one in another namespace is not this host's business, even on the same
# port (hostguard, with CAP_NET_ADMIN only, may not read another root
# process's /proc/PID/ns/net: it compares /proc/PID/net/unix)
fake_proxy "$C" 127.0.0.1 8080 127.0.0.1

# the leak: kept out of the container, uid 2000 walks in through the proxy
not_ok "$(probe "$H" tcp 10.77.0.2 9000 2000)" && pass "uid 2000 is kept out of 10.77.0.2:9000" || fail "uid 2000 reaches the container directly"
[ "$(probe "$H" tcp 127.0.0.1 8080 2000)" = ok ] && pass "control: uid 2000 reaches it through docker-proxy on 127.0.0.1:8080" ||
	fail "control: the fake docker-proxy does not relay (IPv4)"
[ "$(probe "$H" tcp ::1 8080 2000)" = ok ] && pass "control: uid 2000 reaches it through docker-proxy on [::1]:8080" ||
	fail "control: the fake docker-proxy does not relay (IPv6)"

expect_rc 0 "status warns (exit 0)" hg status
expect_match "^warning: docker-proxy \(pid $PROXY4\) forwards tcp port 8080 \(127.0.0.1\) to 10.77.0.2:9000, and published_tcp does not hold 8080: every local user reaches that container" "status names the unprotected docker-proxy"
expect_match "docker_socket = none: list 8080 in published_tcp" "status says why and what to do"
[ "$(printf '%s\n' "$OUT" | grep -c '^warning: docker-proxy')" = 2 ] && pass "two warnings: the proxies of this namespace only" ||
	fail "expected 2 docker-proxy warnings: $OUT"
OUT=$(hg status --json)
if printf '%s' "$OUT" | jq -e --argjson pid "$PROXY4" '(.docker_proxies | length == 2) and
	(.docker_proxies | map(select(.pid == $pid)) == [{"pid":$pid,"proto":"tcp","host_port":8080,"protected":false}]) and
	([.warnings[] | select(startswith("docker-proxy"))] | length == 2)' >/dev/null; then
	pass "status --json: docker_proxies and the warnings"
else
	fail "status --json: $OUT"
fi
# Docker unreachable (a socket nobody answers on): nothing learned, the same
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/dead.sock" 2>/dev/null ||
	"$PY" -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/dead.sock"
expect_rc 0 "status with Docker unreachable" env HOSTGUARD_DOCKER_SOCKET="$T/dead.sock" ip netns exec "$H" "$HG" --config "$CONF" status
expect_match "^warning: docker-proxy \(pid $PROXY4\) forwards tcp port 8080 .*\(Docker's socket did not tell it: list 8080" "Docker unreachable: status names the docker-proxy and says why"
expect_rc 0 "status without a table warns too" bash -c "ip netns exec $H $HG --config $CONF remove >/dev/null && ip netns exec $H $HG --config $CONF status"
expect_match "^warning: docker-proxy \(pid $PROXY4\)" "status of a removed table keeps the docker-proxy warning"

# published_tcp protects it: no warning, and the packets agree
write_conf <<'CONF'
allowed_uids = 0
docker_socket = none
published_tcp = 8080
CONF
expect_rc 0 "apply with published_tcp = 8080" hg apply
expect_rc 0 "status" hg status
printf '%s\n' "$OUT" | grep -q 'warning: docker-proxy' && fail "still a warning: $OUT" || pass "no warning once 8080 is published"
OUT=$(hg status --json)
printf '%s' "$OUT" | jq -e '(.docker_proxies | length == 2) and (.docker_proxies | all(.protected))' >/dev/null &&
	pass "status --json: both proxies protected" || fail "status --json: $OUT"
not_ok "$(probe "$H" tcp 127.0.0.1 8080 2000)" && pass "uid 2000 kept away from docker-proxy on 127.0.0.1:8080" ||
	fail "uid 2000 still reaches docker-proxy (IPv4)"
not_ok "$(probe "$H" tcp ::1 8080 2000)" && pass "uid 2000 kept away from docker-proxy on [::1]:8080" ||
	fail "uid 2000 still reaches docker-proxy (IPv6)"
[ "$(probe "$H" tcp 127.0.0.1 8080 0)" = ok ] && pass "root (allowed) still reaches it" || fail "root refused"

# a proxy whose command line names no port: protected only if some port is
write_conf <<'CONF'
allowed_uids = 0
docker_socket = none
CONF
hg apply >/dev/null
mkdir "$T/sleepy" && cp "$(readlink -f /bin/sleep)" "$T/sleepy/docker-proxy"
ip netns exec "$H" "$T/sleepy/docker-proxy" 600 &
PIDS+=($!)
SLEEPY=$!
sleep 0.2
expect_rc 0 "status" hg status
expect_match "^warning: docker-proxy \(pid $SLEEPY\) runs and published_tcp/published_udp are empty" "a proxy without a port: warned while nothing is published"
OUT=$(hg status --json)
printf '%s' "$OUT" | jq -e --argjson pid "$SLEEPY" '.docker_proxies | map(select(.pid == $pid)) == [{"pid":$pid,"proto":null,"host_port":null,"protected":false}]' >/dev/null &&
	pass "status --json: proto and host_port null" || fail "status --json: $OUT"

finish
