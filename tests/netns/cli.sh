#!/bin/bash
# The CLI's contract: exit codes, one-line errors naming the bad value,
# invalid config changes nothing, privilege, dry run, built-in defaults.
. "$(dirname "$0")/lib.sh"

netns_new "$H"
write_conf <<'CONF'
# a comment
allowed_uids = 0, 1001          # numbers or names
allow_from_containers_tcp = 53
CONF
expect_rc 0 "apply" hg apply
good=$(h nft list table inet hostguard)

bad_config() { # bad_config DESCRIPTION REGEX CONFIG-TEXT
	local desc=$1 re=$2
	printf '%s\n' "$3" >"$T/bad.conf"
	OUT=$(ip netns exec "$H" "$HG" --config "$T/bad.conf" apply 2>&1)
	local rc=$?
	if [ $rc = 2 ] && printf '%s\n' "$OUT" | grep -Eq -- "$re"; then
		pass "$desc -> exit 2: $OUT"
	else
		fail "$desc: exit $rc, output: $OUT"
	fi
}
bad_config "unknown key" "bad.conf:2: unknown key 'allowed_uid'" $'allowed_uids = 0\nallowed_uid = 5'
bad_config "malformed line" "bad.conf:1: expected 'key = values'" 'allowed_uids 0'
bad_config "port 0" "bad.conf:1: .*port '0' is out of range" 'allow_from_containers_tcp = 0'
bad_config "port 65536" "bad.conf:1: .*port '65536' is out of range" 'allow_from_containers_udp = 53 65536'
bad_config "reversed range" "reversed port range '8100-8000'" 'allow_from_containers_tcp = 8100-8000'
bad_config "interface name of 16 characters" "interface name 'abcdefghijklmnop' is too long" 'container_ifaces = abcdefghijklmnop'
bad_config "trailing garbage" "invalid uid '12abc'" 'allowed_uids = 12abc'
bad_config "negative uid" "invalid uid '-1'" 'allowed_uids = -1'
bad_config "uid too large" "uid '4294967295' is out of range" 'allowed_uids = 4294967295'
bad_config "duplicate key" "duplicate key 'allowed_uids' \\(first set on line 1\\)" $'allowed_uids = 0\nallowed_uids = 1'
bad_config "overlapping interface patterns" "'br-x' overlaps 'br-\\*'" 'container_ifaces = br-*, br-x'
bad_config "wildcard in the middle" "invalid interface name 'br\\*x'" 'container_ifaces = br*x'
bad_config "match-all pattern" "would match every interface" 'container_ifaces = *'

[ "$(h nft list table inet hostguard)" = "$good" ] && pass "invalid configs changed nothing in the kernel" ||
	fail "the kernel table changed after invalid configs"

expect_rc 2 "check with invalid config -> 2" ip netns exec "$H" "$HG" --config "$T/bad.conf" check

# an unknown user or group name is skipped with a warning (fails closed; names.sh)
printf '# x\n\nallowed_uids = 0, no_such_user_hg\nallowed_gids = no_such_group_hg\n' >"$T/unk.conf"
expect_rc 0 "unknown names: the rest of the config loads" ip netns exec "$H" "$HG" --config "$T/unk.conf" apply --dry-run
expect_match "warning: .*unk.conf:3: unknown user 'no_such_user_hg' \\(skipped\\)" "warning names FILE:LINE and the user"
expect_match "warning: .*unk.conf:4: unknown group 'no_such_group_hg' \\(skipped\\)" "and the group"

# names resolve through NSS, and the config keeps what was typed
printf 'allowed_uids = root, nobody\nallowed_gids = nogroup\n' >"$T/names.conf"
expect_rc 0 "user and group names apply" ip netns exec "$H" "$HG" --config "$T/names.conf" apply
OUT=$(ip netns exec "$H" "$HG" --config "$T/names.conf" status)
expect_match "65534 \\(nobody\\)" "status shows uid and name"

# no config file: built-in defaults
expect_rc 1 "apply without a config file keeps a live table that holds more" ip netns exec "$H" "$HG" --config "$T/none.conf" apply
expect_match "does not exist, and the live table holds more.*apply --defaults" "saying how to load the defaults on purpose"
expect_rc 0 "apply --defaults without a config file uses the defaults" ip netns exec "$H" "$HG" --config "$T/none.conf" apply --defaults
expect_match "using the built-in defaults" "a note says the defaults are used"
OUT=$(ip netns exec "$H" "$HG" --config "$T/none.conf" status --json)
if printf '%s' "$OUT" | jq -e '.sets.container_ifaces == ["br-*","docker0","docker_gwbridge","ipvlan*","macvlan*","veth*"] and ([.sets.allowed_uids[].id] == [0]) and (.sets.allow_from_containers_tcp == [])' >/dev/null; then
	pass "defaults: uid 0; docker0, docker_gwbridge, br-*, veth*, macvlan*, ipvlan*; no ports"
else
	fail "defaults: $OUT"
fi
expect_rc 1 "the table now holds the defaults, not $CONF" ip netns exec "$H" "$HG" --config "$CONF" check
expect_rc 0 "HOSTGUARD_CONFIG selects the config" ip netns exec "$H" env HOSTGUARD_CONFIG="$T/none.conf" "$HG" check
expect_rc 1 "--config wins over HOSTGUARD_CONFIG" ip netns exec "$H" env HOSTGUARD_CONFIG="$T/none.conf" "$HG" --config "$CONF" check
expect_rc 0 "apply $CONF again" hg apply

# apply and its dry run say what changes, value by value
write_conf <<'CONF'
allowed_uids = 0, 1001, 65534
allow_from_containers_tcp = 53, 2222
CONF
expect_rc 0 "apply --dry-run (root): the delta against the live table" hg apply --dry-run
expect_match "^\+ allowed_uids 65534 \(nobody\)$" "dry run: + allowed_uids 65534 (nobody)"
expect_match "^\+ allow_from_containers_tcp 2222$" "dry run: + allow_from_containers_tcp 2222"
expect_rc 0 "apply says what it changed" hg apply
expect_match "^\+ allowed_uids 65534 \(nobody\)$" "apply: + allowed_uids 65534 (nobody)"
write_conf <<'CONF'
allowed_uids = 0, 1001          # numbers or names
allow_from_containers_tcp = 53
CONF
expect_rc 0 "apply removes them" hg apply
expect_match "^- allowed_uids 65534 \(nobody\)$" "apply: - allowed_uids 65534 (nobody)"
expect_match "^- allow_from_containers_tcp 2222$" "apply: - allow_from_containers_tcp 2222"
expect_rc 0 "apply --dry-run when in sync" hg apply --dry-run
expect_match "in sync: apply would change nothing" "dry run says nothing would change"
h nft add table inet hostguard '{ flags dormant; }'
expect_rc 0 "apply --dry-run of a dormant table" hg apply --dry-run
expect_match "^~ table inet hostguard: dormant" "dry run shows the repair as ~"
hg apply >/dev/null

# dry run: no privilege needed, nothing changes, and nft loads the same table;
# with grants of every shape (the _port and _addr hash sets and the interval
# set, uid and gid, v4 and v6): nft encodes their elements as apply does
write_conf <<'CONF'
allowed_uids = 0, 1001          # numbers or names
allow_from_containers_tcp = 53
grant_uids = 2000@10.9.0.2:80, 2000@10.9.0.3, 2000@10.9.5.0/24:8000-8100, 2000@[fd09::2]:80, 2000@[fd09::3], 2000@fd09:1::/64
grant_gids = 3000@10.9.0.2:80, 3000@10.9.0.3, 3000@10.9.1.0/24, 3000@[fd09::2]:443, 3000@[fd09::4], 3000@[fd09::5]:1-1000
CONF
expect_rc 0 "apply with grants of every shape" hg apply
for set in grant_uids4_port grant_uids4_addr grant_uids4 grant_gids6_port grant_gids6_addr grant_gids6; do
	[ "$(h nft list set inet hostguard $set | grep -c 'elements = ')" = 1 ] && pass "$set holds its grants" ||
		fail "$set: $(h nft list set inet hostguard $set)"
done
before=$(h nft list ruleset)
expect_rc 0 "apply --dry-run as uid 2000" ip netns exec "$H" setpriv --reuid=2000 --regid=2000 --clear-groups "$HG" --config "$CONF" apply --dry-run --full
printf '%s\n' "$OUT" >"$T/dry.nft"
[ "$(h nft list ruleset)" = "$before" ] && pass "dry run changed nothing" || fail "dry run changed the ruleset"
N2="hgt-n2-$ID"
netns_new "$N2"
if ip netns exec "$N2" nft -f "$T/dry.nft"; then pass "nft -f loads the dry-run output"; else fail "nft -f rejected the dry-run output"; fi
expect_rc 0 "hostguard check accepts the table nft loaded from the dry run" ip netns exec "$N2" "$HG" --config "$CONF" check
# (apply's counting rules carry a comment saying since when they count)
if [ "$(ip netns exec "$N2" nft list ruleset)" = "$(h nft list ruleset | sed 's/ comment "hostguard: counting since [0-9]*"//')" ]; then
	pass "the table nft loaded from the dry run equals apply's table"
else
	fail "nft -f of the dry run differs from apply's table"
fi
# the dry run must not claim a delete-and-recreate: apply never does one
if grep -q "^delete table" "$T/dry.nft"; then fail "the dry run deletes the table"; else pass "the dry run never deletes the table"; fi

# privilege: one line, documented exit code, nothing changed
for cmd in apply status check save remove; do
	expect_rc 4 "$cmd without CAP_NET_ADMIN -> 4" ip netns exec "$H" setpriv --reuid=2000 --regid=2000 --clear-groups "$HG" --config "$CONF" $cmd
	[ "$OUT" = "hostguard: permission denied: this command needs root or CAP_NET_ADMIN" ] &&
		pass "$cmd: one line names the privilege" || fail "$cmd: message: $OUT"
done

# usage
expect_rc 0 "--help" "$HG" --help
expect_match "allow|apply" "--help lists commands"
expect_match "Exit codes" "--help documents exit codes"
expect_rc 0 "apply --help" "$HG" apply --help
expect_match "dry-run" "apply --help shows --dry-run"
expect_rc 0 "save --help" "$HG" save --help
expect_match "dry-run" "save --help shows --dry-run"
expect_rc 0 "check --help" "$HG" check --help
expect_match "3: the table differs from the config only by" "check --help documents exit 3"
expect_rc 0 "--version" "$HG" --version
expect_match "^hostguard [0-9]" "--version prints the version"
expect_rc 2 "unknown command -> 2" "$HG" frobnicate
expect_match "unknown command 'frobnicate'" "unknown command is named"
expect_rc 2 "no command -> 2" "$HG"
expect_rc 2 "unknown option -> 2" "$HG" --bogus apply
expect_rc 2 "extra argument -> 2" hg check extra
expect_rc 2 "save: extra argument -> 2" hg save extra
# HOSTGUARD_DOCKER_SOCKET=keep (the boot unit): Docker is not asked, what
# the live table learned from it stays; none drops it
h nft add element inet hostguard published_tcp '{ 8888 }'
expect_rc 0 "apply with HOSTGUARD_DOCKER_SOCKET=keep" ip netns exec "$H" env HOSTGUARD_DOCKER_SOCKET=keep "$HG" --config "$CONF" apply
h nft list set inet hostguard published_tcp | grep -q 8888 && pass "keep: the published port stays" || fail "keep dropped the published port"
expect_rc 0 "apply with HOSTGUARD_DOCKER_SOCKET=none" ip netns exec "$H" env HOSTGUARD_DOCKER_SOCKET=none "$HG" --config "$CONF" apply
h nft list set inet hostguard published_tcp | grep -q 8888 && fail "none kept the published port" || pass "none: Docker's entries go"
# a socket path no unix socket can have is named, not cut short
long="/$(printf 'd%.0s' {1..120}).sock"
expect_rc 2 "audit with a 126-character HOSTGUARD_DOCKER_SOCKET -> 2" ip netns exec "$H" env HOSTGUARD_DOCKER_SOCKET="$long" "$HG" --config "$CONF" audit
expect_match "audit: Docker socket path '/d+\.\.\.' is too long for a unix socket \(at most 107 characters\)" "it says the path is too long"

# habits
expect_rc 0 "-V" "$HG" -V
expect_match "^hostguard [0-9]" "-V prints the version"
expect_rc 0 "help" "$HG" help
expect_match "Commands:" "help lists the commands"
expect_rc 0 "help apply" "$HG" help apply
expect_match "reset-counters" "help apply is apply --help"
expect_rc 2 "help frobnicate -> 2" "$HG" help frobnicate
expect_rc 2 "a global option after the command -> 2" ip netns exec "$H" "$HG" status --config "$CONF"
expect_match "global option: put it before the command \(hostguard --config PATH status" "the hint says where it goes"
expect_rc 0 "ifaces without privilege lists (by the config)" ip netns exec "$H" setpriv --reuid=2000 --regid=2000 --clear-groups "$HG" --config "$CONF" ifaces
expect_match "by the config" "ifaces says whose patterns it used"
OUT=$(hg apply)
expect_match "\(2 uids, 0 gids, [0-9]+ interface patterns, 1 tcp and 0 udp port entry\)" "apply counts in words: 1 entry, 2 uids"

finish
