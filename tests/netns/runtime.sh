#!/bin/bash
# Runtime versus permanent: --runtime edits are marked by status, told apart
# by check (exit 3) from a config edited and not applied (exit 1) and from a
# table changed by another program (exit 1), and written to the config by
# save; the record behind it is root's alone.  Packets prove each step.
. "$(dirname "$0")/lib.sh"

topo_basic
serve "$C" 0 tcp 9000
write_conf <<'CONF'
# the proxy and root
allowed_uids = 0, 1001
CONF
cp "$CONF" "$T/orig.conf"

# control: without the table every uid gets through
[ "$(probe "$H" tcp 10.77.0.2 9000 2000)" = ok ] && pass "control: uid 2000 reaches the container without the table" ||
	fail "control: uid 2000 cannot reach the container without the table"
expect_rc 0 "apply" hg apply
[ "$(probe "$H" tcp 10.77.0.2 9000 2000)" = timeout ] && pass "uid 2000 kept out" || fail "uid 2000 not kept out"
[ "$(probe "$H" tcp 10.77.0.2 9000 1001)" = ok ] && pass "uid 1001 (allowed) gets through" || fail "uid 1001 refused"
expect_rc 0 "check: in sync -> 0" hg check
RECORD=$(hg status --json | jq -r .record)
[ -n "$RECORD" ] && [ "$RECORD" != null ] && [ -f "$RECORD" ] && pass "apply wrote the record $RECORD" ||
	fail "no record: $RECORD"
# the namespace's lock is the record file itself (record.c)
export RECORD_LOCK="$RECORD"
cleanup_record() { rm -f "$RECORD"; cleanup; }
trap cleanup_record EXIT
[ "$(stat -c '%U %a' /run/hostguard)" = "root 700" ] && pass "/run/hostguard is root's, 0700" ||
	fail "/run/hostguard: $(stat -c '%U %a' /run/hostguard)"
[ "$(stat -c '%U %a' "$RECORD")" = "root 600" ] && pass "the record is root's, 0600" || fail "record: $(stat -c '%U %a' "$RECORD")"
expect_rc 66 "uid 2000 cannot open the record to lock it (flock: cannot open)" \
	setpriv --reuid=2000 --regid=2000 --clear-groups flock -n "$RECORD_LOCK" true
[ -z "$(find /run/hostguard -maxdepth 1 -name "lock-${RECORD##*/applied-}")" ] &&
	pass "no lock file beside it" || fail "a lock file beside the record"

# ---- an apply with nothing to do: nothing committed since its last one,
# the same policy; it knows from the record, without reading the table (a
# set dump the kernel makes quadratic), and sends nothing
expect_rc 0 "apply (records its policy)" hg apply
got=$(asked apply | sort -u | tr '\n' ' ')
[ "$got" = "NFT_MSG_GETGEN " ] && pass "an in-sync apply asks for the generation only" ||
	fail "an in-sync apply asked: $got"
h nft add element inet hostguard allowed_uids '{ 4299 }'
got=$(asked apply | tr '\n' ' ')
case $got in
*NFT_MSG_GETSETELEM*NFNL_MSG_BATCH_BEGIN*) pass "after another program's commit it reads the table and repairs" ;;
*) fail "after nft's commit apply asked: $got" ;;
esac
h nft list set inet hostguard allowed_uids | grep -q 4299 && fail "4299 is still there" || pass "4299 removed"
got=$(asked apply | sort -u | tr '\n' ' ')
[ "$got" = "NFT_MSG_GETGEN " ] && pass "and the apply after it asks for the generation only" || fail "apply asked: $got"
printf '%s\n' "allowed_uids = 0, 1001, 4298" >"$CONF"
got=$(asked apply | tr '\n' ' ')
case $got in
*NFNL_MSG_BATCH_BEGIN*) pass "a config edited by hand: apply reads and commits" ;;
*) fail "after a config edit apply asked: $got" ;;
esac
[ "$(probe "$H" tcp 10.77.0.2 9000 4298)" = ok ] && pass "uid 4298 (config) gets through" || fail "uid 4298 refused"
cp "$T/orig.conf" "$CONF"
expect_rc 0 "apply the original config" hg apply
[ "$(probe "$H" tcp 10.77.0.2 9000 4298)" = timeout ] && pass "uid 4298 kept out again" || fail "uid 4298 still gets through"
expect_rc 0 "allow-uid --runtime 4297" hg allow-uid --runtime 4297
got=$(asked apply | tr '\n' ' ')
case $got in
*NFNL_MSG_BATCH_BEGIN*) pass "after a runtime edit apply reads and commits (an edit's record knows no policy)" ;;
*) fail "after a runtime edit apply asked: $got" ;;
esac
[ "$(probe "$H" tcp 10.77.0.2 9000 4297)" = timeout ] && pass "uid 4297 (runtime) reverted" || fail "uid 4297 still gets through"
expect_rc 0 "check: in sync" hg check
# the short way holds for five minutes after an apply read the table
expect_rc 0 "apply (reads, records)" hg apply
python3 "$(dirname "$0")/record-set.py" "$RECORD" verified-ago 290
got=$(asked apply | sort -u | tr '\n' ' ')
[ "$got" = "NFT_MSG_GETGEN " ] && pass "290 s after the last read: the generation only" || fail "290 s after: $got"
python3 "$(dirname "$0")/record-set.py" "$RECORD" verified-ago 310
got=$(asked apply | tr '\n' ' ')
case $got in
*NFT_MSG_GETSETELEM*) pass "310 s after: apply reads the table again" ;;
*) fail "310 s after the last read apply asked: $got" ;;
esac
got=$(asked apply | sort -u | tr '\n' ' ')
[ "$got" = "NFT_MSG_GETGEN " ] && pass "and the apply after it the generation only" || fail "then: $got"

# ---- an edit blocked on its output (a stopped terminal) holds no lock of
# the record: apply and the guard write it after their commits
for args in "allow-uid --runtime 4343" "revoke-uid --runtime 4343" "allow-uid 4343" "revoke-uid 4343"; do
	# shellcheck disable=SC2086  # the words of args
	got=$(python3 "$(dirname "$0")/tty-stopped.py" "$H" "$HG" "$CONF" $args)
	[ "$got" = "1 1 0" ] && pass "$args, its output stopped: blocked, the record's lock free, exit 0 after" ||
		fail "$args, output stopped: blocked/lock free/exit = $got"
done
expect_rc 0 "check: in sync after the four" hg check
cmp -s "$CONF" "$T/orig.conf" && pass "the config is as it was" || fail "config: $(cat "$CONF")"
if setpriv --reuid=2000 --regid=2000 --clear-groups sh -c "echo x >$RECORD" 2>/dev/null ||
	setpriv --reuid=2000 --regid=2000 --clear-groups touch /run/hostguard/forged 2>/dev/null; then
	fail "uid 2000 could write the record or its directory"
else
	pass "uid 2000 can neither write the record nor add one"
fi

# ---- runtime edits: marked, exit 3, packets follow the table
expect_rc 0 "allow-uid --runtime 2000" hg allow-uid --runtime 2000
expect_rc 0 "revoke-uid --runtime 1001" hg revoke-uid --runtime 1001
expect_rc 0 "allow-port --runtime tcp 8080" hg allow-port --runtime tcp 8080
expect_rc 0 "a runtime grant without a timeout" hg allow-uid --runtime 3001 --to 10.77.0.2:9000
expect_rc 0 "a grant with --for" hg allow-uid 3002 --to 10.77.0.2 --for 1h
expect_rc 0 "add-iface --runtime 'hgx*'" hg add-iface --runtime 'hgx*' 
cmp -s "$CONF" "$T/orig.conf" && pass "runtime edits left the config alone" || fail "runtime edits changed the config"
[ "$(probe "$H" tcp 10.77.0.2 9000 2000)" = ok ] && pass "uid 2000 gets through (runtime)" || fail "uid 2000 still kept out"
[ "$(probe "$H" tcp 10.77.0.2 9000 1001)" = timeout ] && pass "uid 1001 kept out (runtime revoke)" || fail "uid 1001 still gets through"
expect_rc 3 "check: runtime entries only -> 3" hg check
expect_match "^hostguard: runtime entries only: .*'hostguard save' keeps them" "check says runtime entries only"
expect_rc 3 "check --json -> 3" hg check --json
if printf '%s' "$OUT" | jq -e '.state == "runtime_only" and .exit == 3 and
	(.runtime.added | index({"key":"allowed_uids","value":"2000"})) and
	(.runtime.added | index({"key":"allow_from_containers_tcp","value":"8080"})) and
	(.runtime.added | index({"key":"grant_uids","value":"3001@10.77.0.2:9000"})) and
	(.runtime.added | index({"key":"container_ifaces","value":"hgx*"})) and
	(.runtime.removed == [{"key":"allowed_uids","value":"1001"}]) and
	([.runtime.added[].value] | index("3002@10.77.0.2") | not)' >/dev/null; then
	pass "check --json: runtime_only, what was added and removed, not the --for grant"
else
	fail "check --json: $OUT"
fi
expect_rc 0 "status" hg status
expect_match "plus runtime entries \(marked \[\+\]" "status says runtime entries"
expect_match "allowed_uids +0 \(root\), 2000 \[\+\]$" "status marks uid 2000"
expect_match "allow_from_containers_tcp +8080 \[\+\]$" "status marks port 8080"
expect_match "container_ifaces +.*hgx\* \[\+\]" "status marks the interface pattern hgx*"
expect_match "^  \[\+\] runtime: in the table, not in the config" "status has the legend"
expect_match "runtime removals\): allowed_uids 1001" "status lists the runtime removal"
expect_match "uid 3001 +10\.77\.0\.2:9000 +runtime \[\+\]$" "status: the --runtime grant is runtime, not config"
expect_match "uid 3002 +10\.77\.0\.2 +runtime, expires in" "status: the --for grant shows its time left"
OUT=$(hg status --json)
if printf '%s' "$OUT" | jq -e '.drift == "runtime_only" and .in_sync == false and
	(.sets.allowed_uids == [{"id":0,"name":"root","runtime":false},{"id":2000,"name":null,"runtime":true}]) and
	(.sets.allow_from_containers_tcp == [{"first":8080,"last":8080,"runtime":true}]) and
	([.grants[] | select(.id == 3001) | .source] == ["runtime"]) and .loaded and .config_valid' >/dev/null; then
	pass "status --json: runtime fields, the existing keys unchanged"
else
	fail "status --json: $OUT"
fi

# ---- save: invalid input and failures change nothing
table_before=$(h nft list table inet hostguard | grep -v expires)
expect_rc 2 "save --bogus -> 2" hg save --bogus
expect_match "unexpected argument '--bogus'" "save names the bad argument"
expect_rc 0 "save --dry-run" hg save --dry-run
expect_match "^\+ allowed_uids 2000$" "dry run: + allowed_uids 2000"
expect_match "^- allowed_uids 1001$" "dry run: - allowed_uids 1001"
expect_match "^\+ grant_uids 3001@10.77.0.2:9000$" "dry run: + the runtime grant"
expect_match "1 grant with --for not saved" "dry run: the --for grant is not saved, and says so"
cmp -s "$CONF" "$T/orig.conf" && pass "--dry-run wrote nothing" || fail "--dry-run changed the config"
printf 'allowed_uids = 0, 1001\nallowed_gids = 12abc\n' >"$T/bad.conf"
expect_rc 2 "save with an invalid config -> 2" ip netns exec "$H" "$HG" --config "$T/bad.conf" save
expect_match "12abc" "save names the bad value"
# a config on a full file system: the new version cannot be written
mkdir "$T/small"
mount -t tmpfs -o size=64k,mode=755 tmpfs "$T/small" && MOUNTED=1
cp "$CONF" "$T/small/hostguard.conf"
head -c 1M /dev/zero >"$T/small/fill" 2>/dev/null
expect_rc 1 "save on a full file system -> 1" ip netns exec "$H" "$HG" --config "$T/small/hostguard.conf" save
expect_match "nothing changed" "save says nothing changed"
cmp -s "$T/small/hostguard.conf" "$T/orig.conf" && pass "the config is unchanged" || fail "a failing save changed the config"
# shellcheck disable=SC2010  # the names are the config's own temporary files
ls -A "$T/small" | grep -q '^\.hostguard\.conf\.' && fail "a temporary file was left" || pass "no temporary file left"
[ "${MOUNTED:-}" ] && umount "$T/small"
[ "$(h nft list table inet hostguard | grep -v expires)" = "$table_before" ] && pass "bad input and failed saves left the table alone" ||
	fail "the table changed"

# ---- save
expect_rc 0 "save" hg save
expect_match "^hostguard: saved to " "save says where"
expect_match "^\+ allowed_uids 2000$" "save prints + allowed_uids 2000"
expect_match "^- allowed_uids 1001$" "save prints - allowed_uids 1001"
expect_match "^\+ allow_from_containers_tcp 8080$" "save prints + allow_from_containers_tcp 8080"
grep -q '^# the proxy and root$' "$CONF" && pass "the comment is kept" || fail "the comment is gone"
grep -Eq '^allowed_uids = 0, 2000$' "$CONF" && grep -Eq '^allow_from_containers_tcp = 8080$' "$CONF" &&
	grep -Eq '^container_ifaces = .*hgx\*' "$CONF" &&
	grep -Eq '^grant_uids = 3001@10.77.0.2:9000$' "$CONF" && pass "the config holds the runtime entries" ||
	fail "config after save: $(cat "$CONF")"
grep -q 3002 "$CONF" && fail "the --for grant was saved" || pass "the --for grant is not in the config"
[ "$(h nft list table inet hostguard | grep -v expires)" = "$table_before" ] && pass "save left the table alone" ||
	fail "save changed the table"
expect_rc 0 "check after save -> 0" hg check
cp "$CONF" "$T/saved.conf"
expect_rc 0 "save again -> 0" hg save
expect_match "nothing to save" "second save: nothing to save"
cmp -s "$CONF" "$T/saved.conf" && pass "second save wrote nothing" || fail "second save changed the config"
expect_rc 0 "apply after save" hg apply
[ "$(probe "$H" tcp 10.77.0.2 9000 2000)" = ok ] && pass "after apply, uid 2000 still gets through (saved)" ||
	fail "uid 2000 lost after apply"
[ "$(probe "$H" tcp 10.77.0.2 9000 1001)" = timeout ] && pass "after apply, uid 1001 still kept out (saved)" ||
	fail "uid 1001 back after apply"
h nft list set inet hostguard grant_uids4_addr | grep -q 3002 && pass "apply kept the --for grant" || fail "the --for grant is gone"

# ---- apply drops what was not saved
expect_rc 0 "allow-uid --runtime 2001" hg allow-uid --runtime 2001
[ "$(probe "$H" tcp 10.77.0.2 9000 2001)" = ok ] && pass "uid 2001 gets through (runtime)" || fail "uid 2001 kept out"
expect_rc 0 "apply" hg apply
expect_match "^- allowed_uids 2001$" "apply says it dropped the runtime uid"
[ "$(probe "$H" tcp 10.77.0.2 9000 2001)" = timeout ] && pass "uid 2001 kept out after apply" || fail "uid 2001 still gets through"

# ---- the config edited, not applied yet
sed -i 's/^allowed_uids = 0, 2000$/allowed_uids = 0, 2000, 2002/' "$CONF"
expect_rc 1 "check: config edited -> 1" hg check
expect_match "^hostguard: drifted: config edited, not applied yet: run hostguard apply; allowed_uids: 2002 is in the config but not in the table$" "check says the config was edited"
OUT=$(hg check --json)
printf '%s' "$OUT" | jq -e '.state == "config_edited" and .exit == 1' >/dev/null && pass "check --json: config_edited" ||
	fail "check --json: $OUT"
expect_rc 0 "status" hg status
expect_match "DRIFTED from .*\(config edited, not applied yet: run 'hostguard apply'\)|DRIFTED from .*config edited, not applied yet" "status says the config was edited"
# an edit of another key keeps it "not applied yet"; so does a runtime edit
expect_rc 0 "allow-port tcp 8081" hg allow-port tcp 8081
expect_rc 0 "allow-gid --runtime 3000" hg allow-gid --runtime 3000
expect_rc 1 "check: still config edited -> 1" hg check
expect_match "config edited, not applied yet" "an edit does not bless the hand edit"
expect_rc 1 "save refuses while the config holds unapplied edits" hg save
expect_match "edited since it was last applied" "save says why"
expect_rc 0 "apply" hg apply
[ "$(probe "$H" tcp 10.77.0.2 9000 2002)" = ok ] && pass "uid 2002 gets through once applied" || fail "uid 2002 kept out"
expect_rc 0 "check: in sync -> 0" hg check

# ---- a persistent edit keeps the record: a runtime edit after it is runtime only
expect_rc 0 "allow-uid 2003" hg allow-uid 2003
expect_rc 0 "check after a persistent edit -> 0" hg check
expect_rc 0 "revoke-port --runtime tcp 8081" hg revoke-port --runtime tcp 8081
expect_rc 3 "check after it -> 3" hg check

# ---- another program changes the table
hg apply >/dev/null
h nft add element inet hostguard allowed_uids '{ 4242 }'
expect_rc 1 "check: element added by nft -> 1" hg check
expect_match "^hostguard: drifted: table changed outside hostguard: allowed_uids: 4242 is in the table but not in the config$" "check says the table changed outside hostguard"
OUT=$(hg check --json)
printf '%s' "$OUT" | jq -e '.state == "changed_outside" and .exit == 1' >/dev/null && pass "check --json: changed_outside" ||
	fail "check --json: $OUT"
expect_rc 0 "status" hg status
expect_match "DRIFTED from .*\(table changed outside hostguard\)" "status says the table changed outside hostguard"
expect_match "allowed_uids .*4242 \[\+\]" "status marks the foreign uid"
expect_match "^  \[\+\] in the table, not in the config$" "without calling it runtime"
cp "$CONF" "$T/before.conf"
expect_rc 1 "save refuses another program's element" hg save
expect_match "changed outside hostguard" "save says why"
cmp -s "$CONF" "$T/before.conf" && pass "the refused save wrote nothing" || fail "the refused save changed the config"
# the same element added by hostguard --runtime would have been saved: a
# runtime edit after the foreign change does not launder it
expect_rc 0 "allow-uid --runtime 4243" hg allow-uid --runtime 4243
expect_rc 1 "check: still changed outside -> 1" hg check
expect_match "changed outside hostguard" "a runtime edit does not bless another program's change"
# the edit that found the table changed said so in the record (table
# generation 0), so that the next edits do not read the whole table again
REC=$(hg status --json | jq -r .record)
if grep -Eq '^table [0-9a-f]{16} at 0 elements' "$REC"; then
	pass "the record says the table was changed outside hostguard"
else
	fail "the record does not say the table was changed outside: $(head -c 300 "$REC")"
fi
expect_rc 0 "allow-uid --runtime 4244" hg allow-uid --runtime 4244
expect_rc 1 "check: after one more runtime edit, still changed outside -> 1" hg check
expect_match "changed outside hostguard" "check says so from the record"
expect_rc 0 "save --force saves every difference" hg save --force
grep -Eq '^allowed_uids = .*4242' "$CONF" && pass "--force saved 4242" || fail "--force: $(cat "$CONF")"
expect_rc 0 "check after save --force" hg check

# ---- another program commits to another table (Docker's iptables rules do):
# hostguard's table is untouched, and check still knows the runtime entry
hg apply >/dev/null
expect_rc 0 "allow-uid --runtime 2005" hg allow-uid --runtime 2005
h nft add table inet other
h nft add chain inet other c
expect_rc 3 "a commit to another table after a runtime edit: still runtime only -> 3" hg check
h nft delete table inet other
# the edit brought the digest up to date by reading back its own set alone
# (record.c: the digest is a sum of one part per key), whatever the kind of
# set and whether the edit adds, merges, splits or removes: each is followed
# by another program's commit before any check, which then still knows
expect_rc 0 "allow-uid --runtime 2013 (after nft's commit: reads the table)" hg allow-uid --runtime 2013
got=$(asked allow-uid --runtime 2010 | tr '\n' ' ')
[ "$got" = "NFT_MSG_GETGEN NFT_MSG_GETSET NFNL_MSG_BATCH_BEGIN NFT_MSG_NEWSETELEM NFT_MSG_GETSET NFT_MSG_GETSETELEM NFT_MSG_GETGEN " ] &&
	pass "a small table's edit reads back the one set it changed" || fail "the edit asked: $got"
for edit in "allow-gid --runtime 3005" "allow-port --runtime tcp 8090" "allow-port --runtime tcp 8091" \
	"allow-port --runtime udp 5000-5010" "revoke-port --runtime udp 5005" "revoke-port --runtime tcp 8090" \
	"add-iface --runtime hgy*" "remove-iface --runtime hgy*" "revoke-uid --runtime 2010" \
	"allow-uid --runtime 3006 --to 10.77.0.2:9000" "revoke-uid --runtime 3006 --to 10.77.0.2:9000" \
	"allow-gid --runtime 3007 --to 10.77.0.2" "allow-uid 3009 --to 10.77.0.2 --for 1h" \
	"revoke-uid --runtime 3009 --to 10.77.0.2" "revoke-uid --runtime 1001"; do
	# shellcheck disable=SC2086
	expect_rc 0 "$edit" hg $edit
	h nft add table inet other
	expect_rc 3 "$edit, then another program's commit: runtime only -> 3" hg check
	h nft delete table inet other
done
expect_rc 0 "the same edits undone by an apply" hg apply
expect_rc 0 "check after apply -> 0" hg check
# and a change to the table itself after such an edit is another program's
for foreign in "allow_from_containers_tcp { 9999 }" "allowed_uids { 4250 }" "published_tcp { 8443 }" \
	"grant_gids4_addr { 3008 . 10.77.0.2 }"; do
	expect_rc 0 "allow-uid --runtime 2016" hg allow-uid --runtime 2016
	# shellcheck disable=SC2086
	h nft add element inet hostguard $foreign
	expect_rc 1 "after the edit, nft adds $foreign: changed outside -> 1" hg check
	expect_match "changed outside hostguard" "check says changed outside hostguard ($foreign)"
	hg apply >/dev/null
done
# a stale digest (the record's table older than its generation: an edit
# after another program's commit) is brought up to date from the whole table
expect_rc 0 "allow-uid --runtime 2011" hg allow-uid --runtime 2011
python3 "$(dirname "$0")/record-set.py" "$RECORD" table-generation 1
got=$(asked allow-uid --runtime 2012 | tr '\n' ' ')
case $got in
*NFT_MSG_GETCHAIN*NFT_MSG_GETRULE*) pass "with a stale digest the edit reads the whole table" ;;
*) fail "with a stale digest the edit asked: $got" ;;
esac
h nft add table inet other
expect_rc 3 "and another program's commit after it: runtime only -> 3" hg check
h nft delete table inet other
hg apply >/dev/null

# a large table: an edit does not walk it, it chains generations
write_conf <<CONF
allowed_uids = 0, $(seq -s ', ' 100000 103000)
CONF
expect_rc 0 "apply 3002 uids" hg apply
grep -Eq '^table [0-9a-f]+ at [0-9]+ elements 30[0-9][0-9]$' "$RECORD" && pass "the record counts the elements" ||
	fail "record: $(cat "$RECORD")"
# a small set of it is read back all the same: its part of the digest
expect_rc 0 "allow-port --runtime tcp 8095 (a small set of the large table)" hg allow-port --runtime tcp 8095
gen=$(sed -n 's/^generation //p' "$RECORD")
at=$(sed -n 's/^table [0-9a-f]* at \([0-9]*\) .*/\1/p' "$RECORD")
[ "$gen" = "$at" ] && pass "an edit of a small set of a large table brings the digest up to date" ||
	fail "record after the port edit: $(cat "$RECORD")"
h nft add table inet other
expect_rc 3 "and another program's commit after it: runtime only -> 3" hg check
h nft delete table inet other
expect_rc 0 "allow-uid --runtime 2006 (large table)" hg allow-uid --runtime 2006
gen=$(sed -n 's/^generation //p' "$RECORD")
at=$(sed -n 's/^table [0-9a-f]* at \([0-9]*\) .*/\1/p' "$RECORD")
[ "$gen" != "$at" ] && pass "the edit moved the generation on without digesting ($at -> $gen)" ||
	fail "record after the edit: $(cat "$RECORD")"
expect_rc 3 "runtime only (by generation) -> 3" hg check
at=$(sed -n 's/^table [0-9a-f]* at \([0-9]*\) .*/\1/p' "$RECORD")
[ "$gen" = "$at" ] && pass "check digested the table of the edit's generation" || fail "record after check: $(cat "$RECORD")"
h nft add table inet other
expect_rc 3 "a commit to another table: still runtime only -> 3" hg check
h nft delete table inet other
expect_rc 0 "allow-uid --runtime 2007 (after another program's commit: read and compared)" hg allow-uid --runtime 2007
expect_rc 3 "still runtime only -> 3" hg check
expect_rc 0 "allow-uid --runtime 2008" hg allow-uid --runtime 2008
h nft add table inet other
expect_rc 1 "another commit before any check: cannot tell -> 1" hg check
expect_match "^hostguard: drifted: " "check says drifted, without claiming runtime only"
h nft delete table inet other
h nft add element inet hostguard allowed_uids '{ 4244 }'
expect_rc 1 "an element added by nft to the large table -> 1" hg check
expect_rc 0 "allow-uid --runtime 2009" hg allow-uid --runtime 2009
expect_rc 1 "the runtime edit did not bless it -> 1" hg check
expect_rc 1 "save refuses" hg save
write_conf <<'CONF'
allowed_uids = 0, 1001
CONF
hg apply >/dev/null

# ---- a record that is not root's alone is not believed
hg apply >/dev/null
expect_rc 0 "allow-uid --runtime 2004" hg allow-uid --runtime 2004
expect_rc 3 "runtime only -> 3" hg check
chmod 644 "$RECORD"
expect_rc 1 "a record readable by others is not believed -> 1" hg check
expect_match "^hostguard: drifted: allowed_uids: 2004" "check cannot tell who made the change"
chmod 600 "$RECORD"
chown 2000 "$RECORD"
expect_rc 1 "a record owned by uid 2000 is not believed -> 1" hg check
chown 0 "$RECORD"
expect_rc 3 "root's record again -> 3" hg check
ln "$RECORD" "$RECORD.link"
expect_rc 1 "a record with a second link is not believed (nor locked) -> 1" hg check
rm -f "$RECORD.link"
expect_rc 3 "one link again -> 3" hg check
# rewritten in place, one fixed size, with a sum: a torn or altered record
# is garbage, never a different record
[ "$(stat -c %s "$RECORD")" = 1024 ] && pass "the record has its fixed size" || fail "record size $(stat -c %s "$RECORD")"
cp "$RECORD" "$T/record.good"
# (the last digit made another: 0 -> 1, else -> 0)
sed -i 's/^generation \([0-9]*\)0$/generation \11/; t; s/^generation \([0-9]*\)[1-9]$/generation \10/' "$RECORD"
cmp -s "$RECORD" "$T/record.good" && fail "the record was not altered"
expect_rc 1 "an altered record (its sum does not match) is not believed -> 1" hg check
cp "$T/record.good" "$RECORD"
expect_rc 3 "the record as written -> 3" hg check
head -c 100 "$T/record.good" >"$RECORD"
expect_rc 1 "a truncated record is not believed -> 1" hg check
cp "$T/record.good" "$RECORD"
expect_rc 0 "allow-uid --runtime 2005 (the record rewritten in place)" hg allow-uid --runtime 2005
expect_rc 3 "runtime only after an in-place rewrite -> 3" hg check
[ "$(stat -c '%U %a %s' "$RECORD")" = "root 600 1024" ] && pass "still root's, 0600, 1024 bytes" ||
	fail "record: $(stat -c '%U %a %s' "$RECORD")"
left=$(find "$(dirname "$RECORD")" -maxdepth 1 -name "$(basename "$RECORD").*")
[ -z "$left" ] && pass "no temporary record beside it" || fail "a temporary record was left: $left"
# the release before's record (format 2: one digest of the whole table, 512
# bytes): its key and generations are kept across the upgrade, its digest
# is not believed (check digests the table anew when nothing was committed
# since, else cannot tell)
v2() {
	python3 - "$RECORD" <<'PY'
import re, sys
t = open(sys.argv[1]).read().split("\nsum ")[0]
t = t.replace("hostguard record 3", "hostguard record 2", 1)
t = re.sub(r"\nsets[^\n]*", "", t)
h = 0xcbf29ce484222325
for b in t.encode():
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
out = t + "\nsum %016x\n" % h
open(sys.argv[1], "w").write(out + " " * (511 - len(out)) + "\n")
PY
}
key=$(sed -n 's/^key //p' "$RECORD")
v2
head -1 "$RECORD" | grep -q "record 2" && [ "$(stat -c %s "$RECORD")" = 512 ] && pass "a format 2 record" ||
	fail "record: $(head -c 200 "$RECORD")"
expect_rc 3 "a format 2 record, nothing committed since: runtime only -> 3" hg check
head -1 "$RECORD" | grep -q "record 3" && [ "$(sed -n 's/^key //p' "$RECORD")" = "$key" ] &&
	pass "check digested the table into format 3, with the same key" || fail "record: $(head -c 200 "$RECORD")"
v2
h nft add table inet other
expect_rc 1 "a format 2 digest is not believed: after another program's commit, cannot tell -> 1" hg check
h nft delete table inet other
expect_rc 0 "apply" hg apply
head -1 "$RECORD" | grep -q "record 3" && [ "$(sed -n 's/^key //p' "$RECORD")" = "$key" ] &&
	pass "apply wrote format 3 with the same key" || fail "record: $(head -c 200 "$RECORD")"
expect_rc 0 "allow-uid --runtime 2015" hg allow-uid --runtime 2015
h nft add table inet other
expect_rc 3 "then another program's commit -> 3" hg check
h nft delete table inet other
: >"$RECORD"
expect_rc 1 "an empty record is none -> 1" hg check
expect_rc 0 "allow-uid --runtime 2006 with an empty record" hg allow-uid --runtime 2006
[ "$(stat -c %s "$RECORD")" = 0 ] && pass "an edit writes no record where there is none" || fail "record: $(cat "$RECORD")"
expect_rc 0 "revoke-uid --runtime 2006" hg revoke-uid --runtime 2006
rm -f "$RECORD"
expect_rc 1 "no record -> 1" hg check
expect_rc 1 "save without a record refuses" hg save
expect_match "no record" "save says there is no record"

# ---- consecutive ids revoked at runtime are an entry each, as save writes them
# (ids are never a range: "1000-1001" is no uid)
write_conf <<'CONF'
allowed_uids = 0, 2005, 2006
CONF
expect_rc 0 "apply (uids 2005 and 2006)" hg apply
[ "$(probe "$H" tcp 10.77.0.2 9000 2006)" = ok ] && pass "control: uid 2006 (allowed) gets through" ||
	fail "control: uid 2006 refused"
expect_rc 0 "revoke-uid --runtime 2005 2006" hg revoke-uid --runtime 2005 2006
[ "$(probe "$H" tcp 10.77.0.2 9000 2006)" = timeout ] && pass "uid 2006 kept out (runtime revoke)" ||
	fail "uid 2006 still gets through"
expect_rc 3 "check: two runtime removals -> 3" hg check --json
printf '%s' "$OUT" | jq -e '.runtime.removed == [{"key":"allowed_uids","value":"2005"},{"key":"allowed_uids","value":"2006"}]' >/dev/null &&
	pass "check --json: uids 2005 and 2006 removed, one entry each" || fail "check --json: $OUT"
expect_rc 0 "save" hg save
grep -qx 'allowed_uids = 0' "$CONF" && pass "save removed both uids from the config" || fail "config: $(cat "$CONF")"
expect_rc 0 "check after save: in sync -> 0" hg check

# ---- a persisted edit of a config of many 64 KiB blocks: the record's
# digest of the new file resumes from the old one's chain at the first byte
# the edit changed (record.c config_digest); a wrong digest would make the
# runtime entry below "config edited, not applied yet" (exit 1)
ids=$(seq -s ', ' 100000 130000)
write_conf <<CONF
allowed_gids = 7
allowed_uids = 0, $ids
allow_from_containers_tcp = 53
CONF
[ "$(stat -c %s "$CONF")" -gt 200000 ] && pass "control: the config spans 4 blocks" || fail "control: $(stat -c %s "$CONF") bytes"
expect_rc 0 "apply the large config" hg apply
n=0
for edit in "allow-uid 2020" "allow-port tcp 8443" "allow-gid 8" "revoke-uid 100000" "allow-uid 2021 2022" \
	"revoke-port tcp 8443" "revoke-gid 7"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	expect_rc 0 "$edit (large config)" hg $edit
	expect_rc 0 "allow-uid --runtime $((4300 + n))" hg allow-uid --runtime $((4300 + n))
	expect_rc 3 "after $edit: the runtime entry alone -> 3 (the config's digest is the file's)" hg check
done
expect_rc 0 "revoke-uid --runtime of them" hg revoke-uid --runtime 4301 4302 4303 4304 4305 4306 4307
expect_rc 0 "allow-uid --runtime 4310" hg allow-uid --runtime 4310
expect_rc 0 "save (every key in one edit)" hg save
expect_rc 0 "allow-uid --runtime 4311" hg allow-uid --runtime 4311
expect_rc 3 "after save: the runtime entry alone -> 3" hg check

# ---- status of a removed table keeps its warnings
expect_rc 0 "apply (a record again)" hg apply
[ -s "$RECORD" ] && pass "apply wrote the record again" || fail "no record after apply"
h ip link add podman0 type bridge
write_conf <<'CONF'
allowed_uids = 0, no_such_user_hgt
CONF
expect_rc 0 "remove" hg remove
expect_rc 0 "status without a table" hg status
expect_match "not loaded" "status says not loaded"
expect_match "^warning: .*unknown user 'no_such_user_hgt'" "status keeps the skipped name"
expect_match "^warning: bridge podman0 is not covered" "status keeps the uncovered bridge"
OUT=$(hg status --json)
printf '%s' "$OUT" | jq -e '(.loaded | not) and .drift == "not_loaded" and (.warnings | length == 2)' >/dev/null &&
	pass "status --json without a table: the warnings" || fail "status --json: $OUT"
[ -s "$RECORD" ] && fail "remove left the record" || pass "remove forgot the record (emptied: a waiter for its lock holds the file)"
expect_rc 1 "save without a table -> 1" hg save
expect_match "not loaded: nothing to save" "save says the table is not loaded"
expect_rc 1 "check without a table -> 1" hg check --json
printf '%s' "$OUT" | jq -e '.state == "not_loaded" and .exit == 1' >/dev/null && pass "check --json: not_loaded" ||
	fail "check --json: $OUT"

finish
