#!/bin/bash
# Hostile review of grants by container name and label (security.md #19-#21,
# and limits.md), against a real dockerd, IPv4 and IPv6, real TCP and UDP:
#
#   alice (2001): grant_uids alice@web1 (every port); web3 labels alice
#   bob   (2002): owns "db", the container that gets web1's old addresses
#   stranger (2003): granted nothing; traefik (1001): allowed (the control)
#
# 1. Address reuse while Docker cannot be read.  follow talks to Docker
#    through a relay socket; the relay dies (dockerd restarting, a hung or
#    unreadable socket: follow sees only that its stream ended).  Meanwhile
#    web1 and web3 go away and bob's db takes their addresses.  Before the
#    fix follow kept the elements it last saw (and re-added them on every
#    failed read), so alice reached bob's db at web1's old address until
#    follow read Docker again; an apply (the repair timer) with Docker
#    unreadable kept them too.  Now the elements of names and labels go as
#    soon as Docker cannot be read: alice is refused at db.
# 2. A forged element comment: a tamperer (CAP_NET_ADMIN, or an old
#    "nft list ruleset" dump restored by nftables.service) adds
#    "2003 . 0.0.0.0/0 . 0-65535 comment \"label:web1\"".  Before the fix an
#    apply while Docker was unreadable kept it as Docker's ("repairs the
#    table" did not hold) and check said in sync; now apply removes it and
#    check exits 1 -- with Docker up both already did (asserted here).
# 4. A fake Engine API on the configured socket, served by another user
#    (the stranger): before the fix its answer was believed, and a label on
#    a made-up container "evil" with web1's addresses granted him web1.  Now
#    an answer from a peer (SO_PEERCRED) that is not root or the caller is
#    refused: Docker unreadable, no grant of a name or label.
# 3. Probed and closed (asserted): hostile label values (@ in a principal,
#    uid ranges, negative uids, empty lists, port 0, a port list that is not
#    one), a labelled container sharing web1's netns (--network container:),
#    a name that looks like an address; a name grant to a container with no
#    address of its own (--network container:web1) exits 2 at edit time and
#    is a note at apply, never web1's addresses; a grant to web1 does not
#    reach another container's published port (docker-proxy on 127.0.0.1,
#    Docker's DNAT on the host's bridge addresses, IPv4 and IPv6).
#
# CONTROLS: without the table the stranger reaches db; traefik reaches db at
# every step (it listens); alice reaches web1 before the attack.
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # finish prints it
TEST="docker-grants-attack"

ALICE=2001 BOB=2002 STRANGER=2003 TRAEFIK=1001
netns_new "$H"
phase "dockerd starting"
docker_start --ipv6 --fixed-cidr-v6 fd00:d0c::/64 --experimental --ip6tables
docker_image
phase "dockerd up"
dk network create --ipv6 --subnet 172.30.79.0/24 --subnet fd00:79:1::/64 hgnet >/dev/null ||
	{ echo "FAIL: docker network create hgnet"; exit 1; }
W1_4=172.30.79.10 W1_6=fd00:79:1::10 W3_4=172.30.79.30 W3_6=fd00:79:1::30

dk_serve_bg web1 --network hgnet --ip "$W1_4" --ip6 "$W1_6"
dk_serve_bg web3 --network hgnet --ip "$W3_4" --ip6 "$W3_6" --label "io.hostguard.allow-uids=$ALICE"
# hostile labels; each must grant nothing to anyone
dk_serve_bg odd --network hgnet \
	--label "io.hostguard.allow-uids=$STRANGER@0.0.0.0/0,1000-3000,-1,,$STRANGER@[::]/0" \
	--label "io.hostguard.allow-gids=$STRANGER-$STRANGER"
dk_serve_bg badports --network hgnet --label "io.hostguard.allow-uids=$STRANGER" \
	--label "io.hostguard.allow-ports=80;81"
dk_serve_bg port0 --network hgnet --label "io.hostguard.allow-uids=$STRANGER" \
	--label "io.hostguard.allow-ports=0"
dk_serve_bg emptyports --network hgnet --label "io.hostguard.allow-uids=$STRANGER" \
	--label "io.hostguard.allow-ports="
# another container's published port (docker-proxy on loopback, Docker's
# DNAT on the host's addresses): a grant to web1 must not reach it
dk_serve_bg pub --network hgnet -p 8080:80
dk_ready web1 web3 odd badports port0 emptyports pub
# a container in web1's network namespace, labelled for the stranger: it has
# no address of its own, so the label must not reach web1's
dk run -d --name sidecar --network container:web1 --label "io.hostguard.allow-uids=$STRANGER" \
	"$DK_IMAGE" sleep 1000 >/dev/null || fail "docker run --network container:web1"
# a name that looks like a prefix of an address
dk_serve 10.0.0.1a --network hgnet
ODD_4=$(dk_ip odd hgnet) BADP_4=$(dk_ip badports hgnet) P0_4=$(dk_ip port0 hgnet)
EMPTY_6=$(dk_ip6 emptyports hgnet)
for a in "$W1_4" "$W1_6" "$W3_4" "$W3_6" "$ODD_4" "$BADP_4" "$P0_4" "$EMPTY_6"; do
	[ -n "$a" ] || { echo "FAIL: a container without an address on hgnet"; exit 1; }
	wait_reach "$a" 80
done

hp() { probe "$H" "$2" "$3" 80 "$1"; } # hp UID PROTO ADDR
later c ok "control (no table): the stranger reaches web1 $W1_4" hp $STRANGER tcp "$W1_4"
later c ok "control (no table): the stranger reaches odd $ODD_4" hp $STRANGER tcp "$ODD_4"
judge
# the host's addresses that lead to pub's published port
PUB_PATHS=("127.0.0.1" "172.30.79.1" "fd00:79:1::1")
for a in "${PUB_PATHS[@]}"; do
	later c ok "control (no table): alice reaches pub's published port at $a:8080" probe "$H" tcp "$a" 8080 $ALICE
done
judge

# ---- the relay: follow reads Docker only through it ------------------------------
RELAY="$T/relay.sock"
cat >"$T/relay.py" <<'PY'
import os, socket, sys, threading
path, target = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(64)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = s.accept()
    u = socket.socket(socket.AF_UNIX)
    u.connect(target)
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
/usr/bin/python3 "$T/relay.py" "$RELAY" "$DK_SOCK" &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
for _ in $(seq 100); do [ -S "$RELAY" ] && break; sleep 0.05; done

write_conf <<CONF
allowed_uids = 0, $TRAEFIK
grant_uids = $ALICE@web1, $BOB@10.0.0.1a
docker_socket = $RELAY
CONF
export HOSTGUARD_DOCKER_SOCKET="$RELAY"
expect_rc 0 "apply (through the relay)" hg apply
OUT=$(hg apply 2>&1)
for v in "$STRANGER@0.0.0.0/0" 1000-3000 -1; do
	expect_match "container odd: label io.hostguard.allow-uids=.*'$v' \\(skipped\\)" "a hostile principal '$v' in a label is skipped, named"
done
expect_match "container badports: label io.hostguard.allow-ports=80;81: not a list" "a port list that is not one skips the container's grants"
expect_match "container port0: label io.hostguard.allow-ports=0: not a list" "port 0 in a label skips the container's grants"
expect_match "container emptyports: label io.hostguard.allow-ports=: not a list" "an empty port list skips the container's grants"
OUT=$(h nft list table inet hostguard)
expect_match "$ALICE \\. $W1_4 comment \"name:web1\"" "web1's element, name:web1"
expect_match "$BOB \\. $(dk_ip 10.0.0.1a hgnet) comment \"name:10.0.0.1a\"" "a name that looks like an address (10.0.0.1a) resolves to its container"
if printf '%s\n' "$OUT" | grep -Eq "^\s*$STRANGER \.|[ ,]$STRANGER \. "; then
	fail "the stranger has an element: $(printf '%s\n' "$OUT" | grep "$STRANGER")"
else
	pass "no element of the stranger's (hostile labels, the sidecar's label, the '10.0.0.1a' name)"
fi
cp "$CONF" "$T/conf.before"
expect_rc 2 "allow-uid --to sidecar (no address of its own: --network container:web1) exits 2" \
	hg allow-uid $STRANGER --to sidecar
expect_match "container sidecar has no address of its own" "the refusal says why"
expect ok "the config is unchanged" sh -c "cmp -s '$T/conf.before' '$CONF' && echo ok"
sed -i "s/^grant_uids = .*/&, $STRANGER@sidecar/" "$CONF"
OUT=$(hg apply 2>&1)
expect_match "note: grant_uids $STRANGER@sidecar: container sidecar has no address of its own" \
	"a name grant in the config to sidecar: a note, no element"
cp "$T/conf.before" "$CONF"
expect_rc 0 "apply" hg apply
for a in "$ODD_4" "$BADP_4" "$P0_4" "$EMPTY_6" "$W1_4" "$W1_6"; do
	later s no "hostile labels: the stranger is refused at $a" hp $STRANGER tcp "$a"
done
for a in "${PUB_PATHS[@]}"; do
	later s no "grant to web1: alice is refused at another container's published port $a:8080" probe "$H" tcp "$a" 8080 $ALICE
	later s ok "control: traefik reaches pub's published port at $a:8080" probe "$H" tcp "$a" 8080 $TRAEFIK
done
later s ok "alice reaches web1 $W1_4" hp $ALICE tcp "$W1_4"
later s ok "alice reaches web1 $W1_6 udp" hp $ALICE udp "$W1_6"
later s ok "alice reaches web3 (label) $W3_4" hp $ALICE tcp "$W3_4"
judge

# ---- 2. forged comment, Docker up: apply removes it ----------------------------------
forge() {
	h nft add element inet hostguard grant_uids4 "{ $STRANGER . 0.0.0.0/0 . 0-65535 comment \"label:web1\" }" &&
		h nft add element inet hostguard grant_uids6 "{ $STRANGER . ::/0 . 0-65535 comment \"name:web1\" }"
}
forge || fail "nft add element with a forged comment"
expect ok "forged: the stranger reaches web1 (the forgery works on packets)" hp $STRANGER tcp "$W1_4"
expect_rc 1 "forged, Docker up: check exits 1" hg check
expect_rc 0 "forged, Docker up: apply" hg apply
later f no "forged, Docker up: after apply the stranger is refused at web1 $W1_4" hp $STRANGER tcp "$W1_4"
later f no "forged, Docker up: after apply the stranger is refused at web1 $W1_6" hp $STRANGER tcp "$W1_6"
judge

# ---- 4. a fake Engine API served by another user ----------------------------------------
# The socket path is one the stranger can answer on (dockerd stopped and the
# path free, a writable directory, a rootless daemon): his server says a
# container "evil" has web1's addresses and labels them for him.
FAKE_DIR=$(mktemp -d /tmp/hg-fake.XXXXXX)
chown $STRANGER "$FAKE_DIR"
chmod 755 "$FAKE_DIR"   # hostguard keeps no CAP_DAC_OVERRIDE: it must see in
cat >"$FAKE_DIR/fake.py" <<'PY'
import http.server, json, os, socketserver, sys
path, a4, a6, uid = sys.argv[1:5]
containers = [{"Id": "e" * 64, "Names": ["/evil"], "Ports": [],
               "Labels": {"io.hostguard.allow-uids": uid},
               "NetworkSettings": {"Networks": {"x": {"IPAddress": a4, "GlobalIPv6Address": a6}}}}]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(containers if self.path.startswith("/containers/json") else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    pass
srv = S(path, H)
os.chmod(path, 0o666)   # anyone may connect, hostguard (no CAP_DAC_OVERRIDE) too
srv.serve_forever()
PY
setpriv --reuid=$STRANGER --regid=$STRANGER --clear-groups /usr/bin/python3 "$FAKE_DIR/fake.py" \
	"$FAKE_DIR/docker.sock" "$W1_4" "$W1_6" $STRANGER &
FAKE_PID=$!
PIDS+=("$FAKE_PID")
for _ in $(seq 100); do [ -S "$FAKE_DIR/docker.sock" ] && break; sleep 0.05; done
expect ok "control: the stranger's fake Engine API answers" \
	sh -c "curl -s --unix-socket '$FAKE_DIR/docker.sock' http://x/containers/json | grep -q evil && echo ok"
OUT=$(HOSTGUARD_DOCKER_SOCKET="$FAKE_DIR/docker.sock" hg apply 2>&1)
expect_match "served by uid $STRANGER, not by root or you; refusing its answer" "apply refuses an Engine API served by uid $STRANGER, naming it"
OUT=$(h nft list table inet hostguard)
if printf '%s\n' "$OUT" | grep -q 'label:evil'; then fail "the fake's label made an element"; else pass "the fake's label made no element"; fi
later k no "a fake Engine API: the stranger is refused at web1 $W1_4" hp $STRANGER tcp "$W1_4"
later k no "a fake Engine API: the stranger is refused at web1 $W1_6" hp $STRANGER udp "$W1_6"
judge
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
rm -rf "$FAKE_DIR"
expect_rc 0 "apply with the real Docker again" hg apply
expect ok "alice reaches web1 again" hp $ALICE tcp "$W1_4"

# ---- 1. follow, Docker unreadable, web1's addresses reused ------------------------------
follow_start "$RELAY" "follow starts (through the relay)"
kill "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
# the socket file stays: connect() is refused, as with a dockerd that is gone
for _ in $(seq 100); do
	grep -q "reconnecting\|retrying" "$T/follow.out" && break
	sleep 0.1
done
expect ok "follow sees Docker go" sh -c "grep -q 'reconnecting\|retrying' '$T/follow.out' && echo ok || tr '\n' '|' <'$T/follow.out'"
# bob's db takes web1's and web3's addresses (through the real socket)
dk rm -f sidecar web1 web3 >/dev/null
dk_serve db --network hgnet --ip "$W1_4" --ip6 "$W1_6"
dk_serve db3 --network hgnet --ip "$W3_4" --ip6 "$W3_6"
wait_reach "$W1_4" 80
# follow's verdict is there when the table has settled: wait until no element
# names web1 or web3, or 20 s (then the probes below show the hole)
has_docker_grants() { h nft list table inet hostguard | grep -Eq 'comment "(name|label):web[13]"' && echo yes || echo no; }
for _ in $(seq 40); do
	[ "$(has_docker_grants)" = no ] && break
	sleep 0.5
done
expect no "Docker unreadable: no element of a name or label is left" has_docker_grants
for a in "$W1_4" "$W1_6" "$W3_4" "$W3_6"; do
	later d no "Docker unreadable: alice is refused at bob's db on web1/web3's old address $a (tcp)" hp $ALICE tcp "$a"
	later d no "Docker unreadable: alice is refused at bob's db on web1/web3's old address $a (udp)" hp $ALICE udp "$a"
	later d ok "control: traefik reaches bob's db at $a" hp $TRAEFIK tcp "$a"
done
judge
OUT=$(cat "$T/follow.out")
expect_match "^- grant_uids $ALICE@$W1_4 \\(container name web1\\)" "follow printed web1's element going"

# ---- apply with Docker unreadable: nothing of Docker's grants is kept, forged or not ----
# (follow stopped: its retries would repair the table before apply does)
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null
forge || fail "nft add element with a forged comment (Docker unreadable)"
h nft add element inet hostguard grant_uids4_addr "{ $ALICE . $W1_4 comment \"name:web1\" }"
expect ok "forged while Docker is unreadable: the stranger reaches db" hp $STRANGER tcp "$W1_4"
OUT=$(hg check 2>&1)
expect_rc 1 "Docker unreadable, forged elements: check exits 1" hg check
OUT=$(hg apply 2>&1)
expect_match "warning: .*relay.sock" "Docker unreadable: apply warns, naming the socket"
expect no "Docker unreadable: apply left no element of a name or label" has_docker_grants
later a no "after apply, Docker unreadable: the stranger is refused at db $W1_4" hp $STRANGER tcp "$W1_4"
later a no "after apply, Docker unreadable: the stranger is refused at db $W1_6" hp $STRANGER tcp "$W1_6"
later a no "after apply, Docker unreadable: alice is refused at db $W1_4" hp $ALICE tcp "$W1_4"
later a ok "control: traefik reaches db $W1_4" hp $TRAEFIK tcp "$W1_4"
judge
OUT=$(HOSTGUARD_DOCKER_SOCKET=keep hg apply 2>&1)
expect no "HOSTGUARD_DOCKER_SOCKET=keep keeps no element of a name or label" has_docker_grants

# ---- the documented limit: no follow, Docker readable, an address reused ------------------
export HOSTGUARD_DOCKER_SOCKET="$DK_SOCK"
T5_4=172.30.79.50
dk_serve tmp1 --network hgnet --ip "$T5_4"
write_conf <<CONF
allowed_uids = 0, $TRAEFIK
grant_uids = $ALICE@tmp1
CONF
expect_rc 0 "apply: alice@tmp1" hg apply
dk rm -f tmp1 >/dev/null
dk_serve tmp2 --network hgnet --ip "$T5_4"
# (doc/limits.md: without follow the element stays until the next apply)
expect ok "limit, no follow: alice reaches tmp2 on tmp1's old address until the next apply" hp $ALICE tcp "$T5_4"
OUT=$(hg check 2>&1)
expect_rc 1 "limit, no follow: check exits 1" hg check
expect_match "container tmp1 is not running" "check names the container that is gone"
expect_rc 0 "apply" hg apply
later l no "after apply: alice is refused at tmp2" hp $ALICE tcp "$T5_4"
judge
echo "# follow's output:"; sed 's/^/#   /' "$T/follow.out"
docker_finish
