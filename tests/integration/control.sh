#!/usr/bin/env bash
# The campaign-control subcommands on a real cluster: launch, pause, resume,
# cancel, rollback, retry-failed and stop-all with --yes and --json, two
# operators pausing at the same moment, a conflict, invalid actions, usage
# errors, read-only (flag, variable and a database role without write
# rights), the operations log (log_file), and 'campaign show', 'audit' and
# 'recipients --csv' -- including hostile text from the database.
#
# Races are forced, not hoped for: a psql session the test drives holds the
# campaign's row lock until every client is seen waiting for it.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed to read the JSON output"
GEN=$T_BUILD/marketing-demo-gen
[ -x "$GEN" ] || fail "$GEN is missing; run 'make'"

# the caller's configuration must not leak in
while read -r v; do
    [ "$v" = MARKETING_BUILD ] || unset "$v"
done < <(compgen -e | grep '^MARKETING_' || true)
unset SSH_CLIENT SSH_CONNECTION PGOPTIONS PGAPPNAME
export XDG_CONFIG_HOME=$T_TMP/xdg HOME=$T_TMP/home
mkdir -p "$HOME"

pg_up
export MARKETING_DSN=$PGDSN
"$MKT" db migrate >/dev/null
"$GEN" --dsn "$PGDSN" --contacts 2000 --quiet
ME=$(id -un)

# Fixtures of known shape beside the demo data (ids of their own, so the
# demo's ids do not matter): a segment of 13 contacts (one unsubscribed,
# one whose address starts with '=', a spreadsheet formula) and campaigns.
sql "
INSERT INTO contacts (email, status)
  SELECT 'ctl' || g || '@ctl.test', CASE WHEN g = 12 THEN 'unsubscribed' ELSE 'active' END
    FROM generate_series(1, 12) g;
INSERT INTO contacts (email) VALUES ('=1+2@ctl.test');
INSERT INTO segments (id, name, rule, size, reachable) VALUES ('seg_ctl', 'Control test', 'all', 13, 12);
INSERT INTO segment_members (segment_id, contact_id)
  SELECT 'seg_ctl', id FROM contacts WHERE email LIKE '%@ctl.test';
BEGIN;
INSERT INTO campaigns (id, name, segment_id, status, version, current_revision, launched_at, completed_at) VALUES
  ('cmp_ctl_draft', 'Draft to launch', 'seg_ctl', 'draft', 1, 1, NULL, NULL),
  ('cmp_ctl_life',  'Pause resume cancel', 'seg_ctl', 'active', 3, 1, now(), NULL),
  ('cmp_ctl_rb',    'Rolled back', 'seg_ctl', 'active', 4, 2, now(), NULL),
  ('cmp_ctl_retry', 'Failed deliveries', 'seg_ctl', 'paused', 2, 1, now(), NULL),
  ('cmp_ctl_done',  'Completed', 'seg_ctl', 'completed', 5, 1, now(), now()),
  ('cmp_ctl_race',  'Race forced', 'seg_ctl', 'active', 2, 1, now(), NULL),
  ('cmp_ctl_race2', 'Race plain', 'seg_ctl', 'active', 2, 1, now(), NULL),
  ('cmp_ctl_cf',    'Conflict', 'seg_ctl', 'active', 2, 1, now(), NULL),
  ('cmp_ctl_ro',    'Read-only target', 'seg_ctl', 'active', 2, 2, now(), NULL),
  ('cmp_ctl_evil',  'Evil', 'seg_ctl', 'active', 1, 1, now(), NULL);
INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
  SELECT id, 1, 'news@ctl.test', 'First subject', 'first body' FROM campaigns WHERE id LIKE 'cmp_ctl_%';
INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body) VALUES
  ('cmp_ctl_rb', 2, 'news@ctl.test', 'Second subject', 'second body'),
  ('cmp_ctl_ro', 2, 'news@ctl.test', 'Second subject', 'second body');
COMMIT;
-- cmp_ctl_rb: ctl1-3 got revision 1; ctl4-8 and '=' got revision 2, ctl9
-- bounced on it, ctl10-11 failed and ctl12 waits: 7 recipients of content
-- other than revision 1 (failed and queued ones got nothing)
INSERT INTO deliveries (campaign_id, contact_id, revision, status, sent_at, error)
  SELECT 'cmp_ctl_rb', k.id,
         CASE WHEN n <= 3 THEN 1 ELSE 2 END,
         CASE WHEN n <= 8 OR n = 13 THEN 'sent' WHEN n = 9 THEN 'bounced'
              WHEN n <= 11 THEN 'failed' ELSE 'queued' END,
         CASE WHEN n <= 9 OR n = 13 THEN now() END,
         CASE WHEN n IN (10, 11) THEN 'smtp 451' END
    FROM (SELECT id, CASE WHEN email LIKE '=%' THEN 13
                          ELSE substring(email FROM 'ctl([0-9]+)@')::int END AS n
            FROM contacts WHERE email LIKE '%@ctl.test') k;
-- cmp_ctl_retry: 4 failed, 3 sent
INSERT INTO deliveries (campaign_id, contact_id, revision, status, sent_at, error)
  SELECT 'cmp_ctl_retry', id, 1, CASE WHEN rn <= 4 THEN 'failed' ELSE 'sent' END,
         CASE WHEN rn > 4 THEN now() END, CASE WHEN rn <= 4 THEN 'smtp 451' END
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM contacts WHERE email LIKE 'ctl%@ctl.test') k
   WHERE rn <= 7;
" >/dev/null

# ---- helpers ----
# run NAME ARGS...: the CLI with stdin from /dev/null; $T_TMP/NAME.out/.err, status in $rc
run() {
    local n=$1
    shift
    rc=0
    "$MKT" "$@" >"$T_TMP/$n.out" 2>"$T_TMP/$n.err" </dev/null || rc=$?
}
out() { cat "$T_TMP/$1.out"; }
err() { cat "$T_TMP/$1.err"; }
# expect_rc NAME WANT: the last run's status, with its output on failure
expect_rc() {
    [ "$rc" = "$2" ] || fail "$1: exit $rc, want $2; stdout: $(out "$1"); stderr: $(err "$1")"
}
# expect_err NAME TEXT: stderr of NAME contains TEXT
expect_err() {
    grep -qF -- "$2" "$T_TMP/$1.err" || fail "$1: stderr lacks '$2': $(err "$1")"
}
# j FILE KEY: a key of a JSON object ('null' for null)
j() {
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print("null" if v is None else v)' "$1" "$2" || fail "no key $2 in $1: $(cat "$1")"
}
ver() { sql "SELECT version FROM campaigns WHERE id = '$1'"; }
status() { sql "SELECT status FROM campaigns WHERE id = '$1'"; }
audit_n() {
    local filter=
    [ -z "${2:-}" ] || filter=" AND action = '$2'"
    sql "SELECT count(*) FROM audit_log WHERE campaign_id = '$1'$filter"
}
# everything an action could change, in one value
snapshot() {
    sql "SELECT md5((SELECT string_agg(id || ':' || status || ':' || version || ':' || coalesce(current_revision, 0), ',' ORDER BY id) FROM campaigns)
              || (SELECT count(*) FROM audit_log)::text
              || (SELECT count(*) FROM campaign_revisions)::text
              || (SELECT string_agg(status, ',' ORDER BY id) FROM deliveries))"
}

# A psql session the test drives line by line: it holds row locks while
# the clients under test line up behind them.
HOLD_PID=
pids=()
hold_start() {
    rm -f "$T_TMP/hold.in"
    mkfifo "$T_TMP/hold.in"
    PGAPPNAME=ctl_holder psql -X -q -v ON_ERROR_STOP=1 "$PGDSN" <"$T_TMP/hold.in" >"$T_TMP/hold.out" 2>&1 &
    HOLD_PID=$!
    exec 7>"$T_TMP/hold.in"
}
hold() { printf '%s\n' "$@" >&7; }
hold_end() {
    hold '\q'
    exec 7>&-
    wait "$HOLD_PID" || fail "the lock-holding session failed: $(cat "$T_TMP/hold.out")"
    HOLD_PID=
}
# shellcheck disable=SC2016 # expanded when the test exits
defer '[ -z "$HOLD_PID" ] || kill "$HOLD_PID"'
# the holder has run its statement and sits in its transaction, locks held
holding() {
    [ "$(sql "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
               WHERE a.application_name = 'ctl_holder' AND a.state = 'idle in transaction'
                 AND l.relation = 'campaigns'::regclass AND l.granted")" -ge 1 ]
}
# waiting N: N sessions of the CLI wait for a lock
waiting() {
    [ "$(sql "SELECT count(*) FROM pg_stat_activity
               WHERE application_name = 'marketing' AND wait_event_type = 'Lock'")" = "$1" ]
}
# The CLI sets lock_timeout=5s; a client that waits on purpose gets longer,
# so a slow machine cannot turn the wait into an error.
LOCK_DSN="$PGDSN options='-c lock_timeout=300s -c statement_timeout=300s'"

# ---- two operators pause at the same moment: one pauses, one finds it paused ----
v0=$(ver cmp_ctl_race)
a0=$(audit_n cmp_ctl_race pause)
hold_start
hold "BEGIN;" "SELECT version FROM campaigns WHERE id = 'cmp_ctl_race' FOR UPDATE;"
wait_for 60 holding || fail "the holder never took the row lock: $(cat "$T_TMP/hold.out")"
for k in 1 2; do
    (
        r=0
        "$MKT" --dsn "$LOCK_DSN" pause cmp_ctl_race --yes >"$T_TMP/race$k.out" 2>"$T_TMP/race$k.err" </dev/null || r=$?
        echo "$r" >"$T_TMP/race$k.rc"
    ) &
    pids[k]=$!
done
wait_for 120 waiting 2 || fail "the two pauses never both waited for the row lock"
hold "COMMIT;"
wait "${pids[1]}" "${pids[2]}"
hold_end
for k in 1 2; do
    eq "exit status of pause $k of 2" "$(cat "$T_TMP/race$k.rc")" 0
done
eq "pauses that applied" "$(cat "$T_TMP"/race[12].out | grep -c '^Campaign paused')" 1
eq "pauses that found it paused" "$(cat "$T_TMP"/race[12].out | grep -c 'already paused')" 1
eq "pause rows in the audit log" "$(audit_n cmp_ctl_race pause)" $((a0 + 1))
eq "version after two pauses" "$(ver cmp_ctl_race)" $((v0 + 1))
eq "status after two pauses" "$(status cmp_ctl_race)" paused

# the same without the lock: two shells, same moment, same result
v0=$(ver cmp_ctl_race2)
a0=$(audit_n cmp_ctl_race2 pause)
"$MKT" pause cmp_ctl_race2 --yes >"$T_TMP/plain1.out" 2>&1 </dev/null &
p1=$!
"$MKT" pause cmp_ctl_race2 --yes >"$T_TMP/plain2.out" 2>&1 </dev/null &
p2=$!
r1=0 r2=0
wait $p1 || r1=$?
wait $p2 || r2=$?
eq "exit statuses of two plain pauses" "$r1 $r2" "0 0"
eq "plain pauses that applied" "$(cat "$T_TMP"/plain[12].out | grep -c '^Campaign paused')" 1
eq "plain pauses that found it paused" "$(cat "$T_TMP"/plain[12].out | grep -c 'already paused')" 1
eq "pause rows after two plain pauses" "$(audit_n cmp_ctl_race2 pause)" $((a0 + 1))
eq "version after two plain pauses" "$(ver cmp_ctl_race2)" $((v0 + 1))

# ---- every action's happy path, each with one line in the operations log ----
LOG=$T_TMP/logs/ops.log
mkdir -p "$T_TMP/logs"
export MARKETING_LOG_FILE=$LOG
# act NAME WANT_RC WANT_LEVEL ARGS...: runs the CLI and checks the one line it logged
act() {
    local n=$1 want=$2 level=$3 before=0
    shift 3
    [ -f "$LOG" ] && before=$(wc -l <"$LOG")
    run "$n" "$@"
    expect_rc "$n" "$want"
    eq "$n: lines logged" "$(wc -l <"$LOG")" $((before + 1))
    tail -n 1 "$LOG" >"$T_TMP/$n.log"
    python3 - "$T_TMP/$n.log" "$level" "$ME" <<'PY' || fail "$n: log line: $(cat "$T_TMP/$n.log")"
import json, sys
line = open(sys.argv[1], 'rb').read()
assert all(b < 0x80 for b in line), "non-ASCII byte in the log line"
o = json.loads(line)
keys = ['timestamp', 'level', 'service', 'version', 'request_id', 'user_id', 'message', 'context']
assert list(o) == keys, list(o)
assert o['level'] == sys.argv[2], o['level']
assert o['user_id'] == sys.argv[3], o['user_id']
assert o['service'] == 'marketing-console', o['service']
assert o['timestamp'].endswith('Z') and 'T' in o['timestamp'], o['timestamp']
assert isinstance(o['context'], dict) and o['context'].get('action') and o['context'].get('outcome'), o['context']
assert o['message'], o
PY
}
# logged NAME KEY: a key of the line NAME logged ("context.KEY" for its context)
logged() {
    python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
k = sys.argv[2]
print(o["context"].get(k[8:]) if k.startswith("context.") else o.get(k))' "$T_TMP/$1.log" "$2"
}

# launch a draft: active (no send time), its audience counted
umask 022
v0=$(ver cmp_ctl_draft)
act launch 0 info launch cmp_ctl_draft --yes --json
[ -f "$LOG" ] || fail "log_file was not created"
eq "log file mode (umask 022)" "$(stat -c %a "$LOG")" 600
eq "launch outcome" "$(j "$T_TMP/launch.out" outcome)" applied
eq "launch status" "$(j "$T_TMP/launch.out" status)" active
eq "launch version" "$(j "$T_TMP/launch.out" version)" $((v0 + 1))
eq "launch audience" "$(j "$T_TMP/launch.out" audience)" 12
eq "audience recorded" "$(sql "SELECT status || ' ' || audience FROM campaigns WHERE id = 'cmp_ctl_draft'")" "active 12"
eq "launch request id logged" "$(logged launch request_id)" "$(j "$T_TMP/launch.out" request_id)"
eq "launch logged outcome" "$(logged launch context.outcome)" applied
eq "launch logged campaign" "$(logged launch context.campaign_id)" cmp_ctl_draft
eq "launch logged audience" "$(logged launch context.segment_size)" 12
eq "launch audit row" "$(sql "SELECT from_status || '>' || to_status || ' ' || from_version || '>' || to_version || ' ' || (details->>'audience')
                               FROM audit_log WHERE request_id = '$(j "$T_TMP/launch.out" request_id)'")" "draft>active $v0>$((v0 + 1)) 12"
# launched again (a double press with a new request id): already where it
# leads, not a second launch
v0=$(ver cmp_ctl_draft)
act launch_again 0 info launch cmp_ctl_draft --yes
grep -q '^cmp_ctl_draft is already active' "$T_TMP/launch_again.out" || fail "second launch: $(out launch_again)"
eq "second launch changed nothing" "$(ver cmp_ctl_draft) $(audit_n cmp_ctl_draft launch)" "$v0 1"

# pause, resume, cancel
for step in "pause paused" "resume active" "cancel cancelled"; do
    read -r -a w <<<"$step"
    set -- "${w[@]}"
    v0=$(ver cmp_ctl_life)
    a0=$(audit_n cmp_ctl_life)
    act "$1" 0 info "$1" cmp_ctl_life --yes --json
    eq "$1 outcome" "$(j "$T_TMP/$1.out" outcome)" applied
    eq "$1 status" "$(j "$T_TMP/$1.out" status)" "$2"
    eq "$1 version" "$(j "$T_TMP/$1.out" version)" $((v0 + 1))
    eq "$1 status in the database" "$(status cmp_ctl_life)" "$2"
    eq "$1 version in the database" "$(ver cmp_ctl_life)" $((v0 + 1))
    eq "$1 audit rows" "$(audit_n cmp_ctl_life)" $((a0 + 1))
    eq "$1 audit row" "$(sql "SELECT action || ' ' || to_status || ' ' || os_user FROM audit_log
                              WHERE request_id = '$(j "$T_TMP/$1.out" request_id)'")" "$1 $2 $ME"
done
eq "cancelled_at set" "$(sql "SELECT cancelled_at IS NOT NULL FROM campaigns WHERE id = 'cmp_ctl_life'")" t
act cancel_twice 0 info cancel cmp_ctl_life --yes
grep -q 'already cancelled' "$T_TMP/cancel_twice.out" || fail "second cancel: $(out cancel_twice)"

# rollback: a new revision copied from the previous one; who got other content
v0=$(ver cmp_ctl_rb)
act rollback 0 info rollback cmp_ctl_rb --yes --json --note 'bad subject line'
eq "rollback outcome" "$(j "$T_TMP/rollback.out" outcome)" applied
eq "rollback status (was active)" "$(j "$T_TMP/rollback.out" status)" paused
eq "rollback revision" "$(j "$T_TMP/rollback.out" revision)" 3
eq "rollback restored_from" "$(j "$T_TMP/rollback.out" restored_from)" 1
eq "rollback recipients_of_other_content" "$(j "$T_TMP/rollback.out" recipients_of_other_content)" 7
eq "rollback version" "$(ver cmp_ctl_rb)" $((v0 + 1))
eq "new revision" "$(sql "SELECT r.revision || ' ' || r.restored_from || ' ' || r.subject || ' ' || r.note
                           FROM campaigns c JOIN campaign_revisions r ON r.campaign_id = c.id AND r.revision = c.current_revision
                          WHERE c.id = 'cmp_ctl_rb'")" "3 1 First subject bad subject line"
run recipients recipients cmp_ctl_rb --csv
expect_rc recipients 0
head -n 1 "$T_TMP/recipients.out" | grep -qx $'contact_id,email,revision,status,sent_at\r' ||
    fail "CSV header: $(head -n 1 "$T_TMP/recipients.out" | od -c | head -n 3)"
eq "CSV rows" "$(($(wc -l <"$T_TMP/recipients.out") - 1))" 7
eq "CSV rows of revision 2" "$(grep -c ',2,\(sent\|bounced\),' "$T_TMP/recipients.out")" 7
grep -qF "\"'=1+2@ctl.test\"" "$T_TMP/recipients.out" ||
    fail "a formula-like address is not defused: $(grep ctl.test "$T_TMP/recipients.out")"
if grep -q '^[^,]*,=' "$T_TMP/recipients.out"; then fail "a CSV field starts with '='"; fi
run recipients_txt recipients cmp_ctl_rb
grep -q '^7 recipients of cmp_ctl_rb' "$T_TMP/recipients_txt.out" || fail "recipients: $(out recipients_txt)"
# to a named revision; to one that does not exist
act rollback_to 0 info rollback cmp_ctl_rb --to-revision 2 --yes --json
eq "rollback --to-revision" "$(j "$T_TMP/rollback_to.out" restored_from) $(j "$T_TMP/rollback_to.out" revision)" "2 4"
# now only those who got revision 1 got other content than revision 2's
eq "recipients_of_other_content after --to-revision" "$(j "$T_TMP/rollback_to.out" recipients_of_other_content)" 3
run recipients2 recipients cmp_ctl_rb --csv
eq "CSV rows after --to-revision" "$(($(wc -l <"$T_TMP/recipients2.out") - 1))" 3
act rollback_none 3 warn rollback cmp_ctl_rb --to-revision 9 --yes
expect_err rollback_none "there is no revision 9"

# retry-failed: the failed deliveries wait again
failed=$(sql "SELECT count(*) FROM deliveries WHERE campaign_id = 'cmp_ctl_retry' AND status = 'failed'")
eq "failed deliveries set up" "$failed" 4
v0=$(ver cmp_ctl_retry)
act retry 0 info retry-failed cmp_ctl_retry --yes --json
eq "retry outcome" "$(j "$T_TMP/retry.out" outcome)" applied
eq "requeued" "$(j "$T_TMP/retry.out" requeued)" "$failed"
eq "retry status (unchanged)" "$(j "$T_TMP/retry.out" status)" paused
eq "retry version" "$(ver cmp_ctl_retry)" $((v0 + 1))
eq "deliveries after retry" "$(sql "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM (
        SELECT status, count(*) AS n FROM deliveries WHERE campaign_id = 'cmp_ctl_retry' GROUP BY status) s")" "queued=4 sent=3"
eq "errors cleared" "$(sql "SELECT count(*) FROM deliveries WHERE campaign_id = 'cmp_ctl_retry' AND error IS NOT NULL")" 0
eq "stats after retry" "$(sql "SELECT queued || ' ' || failed || ' ' || sent FROM campaign_stats WHERE campaign_id = 'cmp_ctl_retry'")" "4 0 3"
eq "requeued in the audit row" "$(sql "SELECT details->>'requeued' FROM audit_log WHERE request_id = '$(j "$T_TMP/retry.out" request_id)'")" 4

# ---- a conflict: the campaign changes between the read and the write ----
# The holder edits the campaign (a new version) and keeps its transaction
# open; the cancel reads the old version, then waits for the row. When the
# edit commits, the cancel's compare-and-set fails: exit 3, nothing done.
v0=$(ver cmp_ctl_cf)
before=$(wc -l <"$LOG")
hold_start
hold "BEGIN;" "UPDATE campaigns SET name = name || ' (edited)', version = version + 1 WHERE id = 'cmp_ctl_cf';"
wait_for 60 holding || fail "the holder never took the row lock: $(cat "$T_TMP/hold.out")"
(
    r=0
    "$MKT" --dsn "$LOCK_DSN" cancel cmp_ctl_cf --yes --json >"$T_TMP/conflict.out" 2>"$T_TMP/conflict.err" </dev/null || r=$?
    echo "$r" >"$T_TMP/conflict.rc"
) &
pid=$!
wait_for 120 waiting 1 || fail "the cancel never waited for the row lock"
hold "COMMIT;"
wait "$pid"
hold_end
rc=$(cat "$T_TMP/conflict.rc")
expect_rc conflict 3
eq "conflict outcome" "$(j "$T_TMP/conflict.out" outcome)" conflict
eq "conflict: status reported" "$(j "$T_TMP/conflict.out" status)" active
eq "conflict: version reported" "$(j "$T_TMP/conflict.out" version)" $((v0 + 1))
grep -q 'Nothing was done' "$T_TMP/conflict.out" || fail "conflict message: $(out conflict)"
eq "conflict: not cancelled" "$(status cmp_ctl_cf) $(ver cmp_ctl_cf)" "active $((v0 + 1))"
eq "conflict: lines logged" "$(wc -l <"$LOG")" $((before + 1))
tail -n 1 "$LOG" >"$T_TMP/conflict.log"
eq "conflict logged level" "$(logged conflict level)" warn
eq "conflict logged outcome" "$(logged conflict context.outcome)" conflict
eq "conflict logged expected version" "$(logged conflict context.expected_version)" "$v0"

# ---- not allowed from its status; no such campaign ----
v0=$(ver cmp_ctl_done)
act cancel_done 3 warn cancel cmp_ctl_done --yes
expect_err cancel_done "Cannot cancel cmp_ctl_done"
act cancel_done_json 3 warn cancel cmp_ctl_done --yes --json
eq "invalid outcome" "$(j "$T_TMP/cancel_done_json.out" outcome)" invalid
eq "completed stays" "$(status cmp_ctl_done) $(ver cmp_ctl_done)" "completed $v0"
act retry_draft 3 warn retry-failed cmp_ctl_done --yes
expect_err retry_draft "Cannot retry the failed deliveries of cmp_ctl_done"

snap=$(snapshot)
for a in pause launch rollback; do
    run "missing_$a" "$a" cmp_nope --yes
    expect_rc "missing_$a" 1
    grep -qi 'no campaign cmp_nope' "$T_TMP/missing_$a.err" || fail "$a of an unknown campaign: $(err "missing_$a")"
done
run missing_show campaign show cmp_nope
expect_rc missing_show 1
run missing_evil pause $'cmp_\e[2J\e]0;x\a' --yes
expect_rc missing_evil 1
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T_TMP/missing_evil.err"; then
    fail "an id from argv reached stderr raw"
fi

# ---- usage errors: exit 2, nothing done, nothing logged ----
before=$(wc -l <"$LOG")
usage() {
    local n=$1 text=$2
    shift 2
    run "$n" "$@"
    expect_rc "$n" 2
    expect_err "$n" "$text"
}
usage no_id "which campaign" pause --yes
usage no_id_rb "which campaign" rollback --json --yes
usage bad_flag "unexpected argument '--bogus'" pause cmp_ctl_cf --yes --bogus
usage two_ids "unexpected argument 'cmp_ctl_ro'" pause cmp_ctl_cf cmp_ctl_ro --yes
usage no_tty "run it from a terminal, or pass --yes" pause cmp_ctl_cf
usage no_tty_stop "run it from a terminal, or pass --yes" stop-all
usage no_tty_json "run it from a terminal, or pass --yes" cancel cmp_ctl_cf --json
usage to_rev "--to-revision is for rollback only" pause cmp_ctl_cf --to-revision 1 --yes
usage bad_rev "--to-revision needs a revision number" rollback cmp_ctl_cf --to-revision 0 --yes
usage stop_id "takes no campaign" stop-all cmp_ctl_cf --yes
usage global_flag "unknown option '--bogus'" --bogus pause cmp_ctl_cf --yes
usage unknown_cmd "unknown command 'frobnicate'" frobnicate cmp_ctl_cf
usage audit_pos "use --campaign ID" audit cmp_ctl_cf
usage recipients_id "which campaign" recipients --csv
eq "usage errors logged nothing" "$(wc -l <"$LOG")" "$before"
eq "usage errors and unknown campaigns changed nothing" "$(snapshot)" "$snap"

# ---- read-only: the flag, the variable, and a role that may not write ----
run ro_flag --read-only pause cmp_ctl_ro --yes
expect_rc ro_flag 4
expect_err ro_flag "read-only"
run ro_flag_stop --read-only stop-all --yes --json
expect_rc ro_flag_stop 4
rc=0
MARKETING_READ_ONLY=true "$MKT" cancel cmp_ctl_ro --yes >"$T_TMP/ro_env.out" 2>"$T_TMP/ro_env.err" </dev/null || rc=$?
expect_rc ro_env 4
expect_err ro_env "read-only"
eq "read-only changed nothing" "$(snapshot)" "$snap"

sql "CREATE ROLE mkt_ro LOGIN;
     GRANT USAGE ON SCHEMA public TO mkt_ro;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO mkt_ro;" >/dev/null
RO_DSN=${PGDSN/user=postgres/user=mkt_ro}
[ "$RO_DSN" != "$PGDSN" ] || fail "cannot make a DSN for another role from '$PGDSN'"
for a in pause cancel rollback retry-failed launch; do
    act "role_$a" 4 warn --dsn "$RO_DSN" "$a" cmp_ctl_ro --yes
    expect_err "role_$a" "Not permitted to"
    expect_err "role_$a" "permission denied"
    eq "$a by a read-only role: logged outcome" "$(logged "role_$a" context.outcome)" denied
done
act role_stop 4 warn --dsn "$RO_DSN" stop-all --yes --json
eq "stop-all by a read-only role" "$(j "$T_TMP/role_stop.out" outcome)" denied
eq "a read-only role changed nothing" "$(snapshot)" "$snap"
# it may still look
run role_show --dsn "$RO_DSN" campaign show cmp_ctl_ro --json
expect_rc role_show 0
eq "a read-only role sees the campaign" "$(j "$T_TMP/role_show.out" status)" active
run role_audit --dsn "$RO_DSN" audit --campaign cmp_ctl_ro --json
expect_rc role_audit 0

# ---- stop-all: every active campaign paused, one audit row each, one request id ----
active=$(sql "SELECT string_agg(id || ':' || version, ' ' ORDER BY id) FROM campaigns WHERE status = 'active'")
n_active=$(sql "SELECT count(*) FROM campaigns WHERE status = 'active'")
[ "$n_active" -ge 3 ] || fail "too few active campaigns for stop-all: $active"
act stopall 0 info stop-all --yes --json
rid=$(j "$T_TMP/stopall.out" request_id)
eq "stop-all outcome" "$(j "$T_TMP/stopall.out" outcome)" applied
eq "stop-all paused" "$(j "$T_TMP/stopall.out" paused)" "$n_active"
eq "active after stop-all" "$(sql "SELECT count(*) FROM campaigns WHERE status = 'active'")" 0
eq "stop-all audit rows" "$(sql "SELECT string_agg(campaign_id || ':' || from_version, ' ' ORDER BY campaign_id)
                                  FROM audit_log WHERE request_id = '$rid'")" "$active"
eq "stop-all audit rows' shape" "$(sql "SELECT DISTINCT action || ' ' || from_status || '>' || to_status || ' ' || (to_version = from_version + 1)
                                         FROM audit_log WHERE request_id = '$rid'")" "stop_all active>paused true"
eq "stop-all versions" "$(sql "SELECT count(*) FROM audit_log a JOIN campaigns c ON c.id = a.campaign_id
                                WHERE a.request_id = '$rid' AND c.version = a.to_version AND c.status = 'paused'")" "$n_active"
act stopall_none 0 info stop-all --yes
grep -q 'no campaign was active' "$T_TMP/stopall_none.out" || fail "stop-all with nothing active: $(out stopall_none)"

# ---- who did it: os user, ssh client, tty; hostile text shown safely ----
sql "UPDATE campaigns SET name = E'Evil \x1b[2J\nsecond line', version = version + 1 WHERE id = 'cmp_ctl_evil'" >/dev/null
SSH='203.0.113.7 50022 22'
before=$(wc -l <"$LOG")
if command -v script >/dev/null 2>&1 && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
    # on a terminal of its own, so that the tty is recorded too
    cmd=$(printf '%q ' "$MKT" resume cmp_ctl_evil --yes --json)
    SSH_CLIENT=$SSH script -qec "$cmd >$(printf %q "$T_TMP/tty.out") 2>$(printf %q "$T_TMP/tty.err")" /dev/null \
        </dev/null >/dev/null || fail "resume on a terminal failed: $(cat "$T_TMP/tty.out" "$T_TMP/tty.err")"
    want_tty=/dev/
else
    note "no script(1) or no pseudo-terminal: the tty is not checked"
    SSH_CLIENT=$SSH "$MKT" resume cmp_ctl_evil --yes --json >"$T_TMP/tty.out" 2>"$T_TMP/tty.err" </dev/null ||
        fail "resume failed: $(cat "$T_TMP/tty.err")"
    want_tty=
fi
eq "resume of the hostile campaign" "$(j "$T_TMP/tty.out" outcome) $(j "$T_TMP/tty.out" status)" "applied active"
tty_rid=$(j "$T_TMP/tty.out" request_id)
eq "resume: lines logged" "$(wc -l <"$LOG")" $((before + 1))
tail -n 1 "$LOG" >"$T_TMP/tty.log"
python3 - "$T_TMP/tty.log" "$SSH" "$want_tty" <<'PY' || fail "resume log line: $(cat "$T_TMP/tty.log")"
import json, sys
c = json.loads(open(sys.argv[1]).read())['context']
assert c['ssh_client'] == sys.argv[2], c
assert c.get('tty', '').startswith(sys.argv[3]) if sys.argv[3] else 'tty' not in c, c
PY
EVIL_SSH=$'\e]0;pwned\a 1 2'
EVIL_NOTE=$'note \e[2J\nnext'
rc=0
SSH_CLIENT=$EVIL_SSH "$MKT" pause cmp_ctl_evil --yes --note "$EVIL_NOTE" >"$T_TMP/evil_pause.out" 2>"$T_TMP/evil_pause.err" </dev/null || rc=$?
expect_rc evil_pause 0
evil_n=$(audit_n cmp_ctl_evil)

run audit_json audit --campaign cmp_ctl_evil --json
expect_rc audit_json 0
python3 - "$T_TMP/audit_json.out" "$evil_n" "$ME" "$SSH" "$want_tty" "$tty_rid" "$EVIL_SSH" "$EVIL_NOTE" <<'PY' || fail "audit --json: $(out audit_json)"
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert all(b < 0x80 for b in raw), "non-ASCII byte in JSON output"
rows = json.loads(raw)
n, me, ssh, want_tty, rid, evil_ssh, evil_note = sys.argv[2:]
assert len(rows) == int(n), (len(rows), n)
assert all(r['campaign_id'] == 'cmp_ctl_evil' for r in rows)
keys = {'id', 'at_ms', 'action', 'from_status', 'to_status', 'from_version', 'to_version', 'revision',
        'db_user', 'application_name', 'client_addr', 'os_user', 'ssh_client', 'tty', 'request_id', 'note'}
assert all(keys <= set(r) for r in rows), rows[0].keys()
newest, resume = rows[0], rows[1]
assert (newest['action'], newest['os_user'], newest['db_user']) == ('pause', me, 'postgres'), newest
assert newest['ssh_client'] == evil_ssh and newest['note'] == evil_note, newest
assert newest['from_version'] + 1 == newest['to_version'] == resume['to_version'] + 1, (newest, resume)
assert (resume['action'], resume['request_id'], resume['os_user']) == ('resume', rid, me), resume
assert resume['ssh_client'] == ssh, resume
assert resume['tty'].startswith(want_tty) if want_tty else resume['tty'] == '', resume
stop = [r for r in rows if r['action'] == 'stop_all']
assert len(stop) == 1 and stop[0]['from_status'] == 'active' and stop[0]['to_status'] == 'paused', stop
PY
run audit_txt audit --campaign cmp_ctl_evil
expect_rc audit_txt 0
grep -q "resume .*$ME 203.0.113.7 50022 22 /dev/" "$T_TMP/audit_txt.out" || [ -z "$want_tty" ] ||
    fail "audit: the resume row lacks who and where: $(out audit_txt)"
run audit_lim audit --campaign cmp_ctl_evil --limit 1 --json
eq "audit --limit 1" "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r), r[0]["action"])' "$T_TMP/audit_lim.out")" "1 pause"
run audit_act audit --action stop_all --json
eq "audit --action stop_all" "$(python3 -c 'import json,sys; print(sorted({r["action"] for r in json.load(open(sys.argv[1]))}))' "$T_TMP/audit_act.out")" "['stop_all']"

run show campaign show cmp_ctl_evil
expect_rc show 0
run show_json campaign show cmp_ctl_evil --json
expect_rc show_json 0
for f in audit_txt show evil_pause; do
    if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T_TMP/$f.out" "$T_TMP/$f.err"; then
        fail "control bytes reached the terminal in '$f': $(od -c "$T_TMP/$f.out" | grep -m 3 '033\|007')"
    fi
done
grep -qF 'Evil ^[[2J^Jsecond line' "$T_TMP/show.out" || fail "campaign show: the name is not shown visibly: $(out show)"
grep -qx "status  *paused (version $(ver cmp_ctl_evil))" "$T_TMP/show.out" || fail "campaign show: status line: $(out show)"
grep -q '^type ' "$T_TMP/show.out" || fail "campaign show: the hostile name broke the layout: $(out show)"
grep -q "pause .* by $ME as postgres (ssh)" "$T_TMP/show.out" || fail "campaign show: audit lines: $(out show)"
python3 - "$T_TMP/show_json.out" "$(ver cmp_ctl_evil)" "$ME" \
    "$(sql "SELECT count(*) FROM campaign_revisions WHERE campaign_id = 'cmp_ctl_evil'")" "$evil_n" <<'PY' || fail "campaign show --json: $(out show_json)"
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert all(b < 0x80 for b in raw), "non-ASCII byte in JSON output"
o = json.loads(raw)
version, me, nrev, naudit = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
assert o['id'] == 'cmp_ctl_evil' and o['name'] == 'Evil \x1b[2J\nsecond line', o
assert (o['status'], o['version'], o['segment_id'], o['audience']) == ('paused', version, 'seg_ctl', 0), o
assert len(o['revisions']) == nrev, o['revisions']
assert len(o['audit']) == min(naudit, 20), o['audit']
assert (o['audit'][0]['action'], o['audit'][0]['os_user'], o['audit'][0]['to_version']) == ('pause', me, version), o['audit'][0]
PY

# the rollback campaign, as a person reads it
run show_rb campaign show cmp_ctl_rb
grep -q '^revision  *4$' "$T_TMP/show_rb.out" || fail "campaign show: revision: $(out show_rb)"
grep -q '^  *3 (rollback) by postgres' "$T_TMP/show_rb.out" || fail "campaign show: revisions: $(out show_rb)"

# ---- refusals before the database: said, logged, and JSON for scripts ----
act ro_logged 4 warn --read-only pause cmp_ctl_rb --yes --json
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["outcome"] == "denied", o' \
    "$T_TMP/ro_logged.out" || fail "read-only JSON: $(out ro_logged)"
act unknown_logged 1 error pause cmp_nope --yes --json
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["outcome"] == "not_found", o' \
    "$T_TMP/unknown_logged.out" || fail "unknown campaign JSON: $(out unknown_logged)"
sql "INSERT INTO segments (id, name, rule) VALUES ('seg_ctl_empty', 'nobody', 'none');
     BEGIN;
     INSERT INTO campaigns (id, name, segment_id, current_revision) VALUES ('cmp_ctl_empty', 'to nobody', 'seg_ctl_empty', 1);
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
       VALUES ('cmp_ctl_empty', 1, 'a@example.com', 'Hi', 'Hello');
     COMMIT;" >/dev/null
act preflight_refused 3 warn launch cmp_ctl_empty --yes --json
python3 - "$T_TMP/preflight_refused.out" <<'PY' || fail "pre-flight refusal JSON: $(out preflight_refused)"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["outcome"] == "refused", o
assert any(c["level"] == "fail" and c["text"].startswith("Audience: nobody reachable") for c in o["preflight"]), o
PY
grep -q "FAIL  Audience: nobody reachable" "$T_TMP/preflight_refused.err" ||
    fail "the pre-flight check is not on stderr: $(err preflight_refused)"
eq "refused launch" "$(sql "SELECT status FROM campaigns WHERE id = 'cmp_ctl_empty'")" draft
run recipients_unknown recipients cmp_nope --csv
expect_rc recipients_unknown 1

# ---- the operations log as a whole ----
eq "log file mode" "$(stat -c %a "$LOG")" 600
python3 - "$LOG" <<'PY' || fail "the operations log: $(cat "$LOG")"
import json, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
assert lines[-1] == b'', "the last line is not terminated"
for l in lines[:-1]:
    o = json.loads(l)
    assert o['level'] in ('info', 'warn', 'error'), o
print(f'  {len(lines) - 1} log lines', file=sys.stderr)
PY
echo ok
