#!/usr/bin/env bash
# An action whose connection fails in flight (RELIABILITY.md checklist item
# 10): the CLI says "Outcome unknown", verifies by request id on a new
# connection, and reports what really happened; nothing is applied twice.
#
#   a. the backend is killed between campaign_act's UPDATE and its COMMIT
#      (a deferred trigger sleeps at commit): not applied
#   b. the commit happens and the reply is lost (a proxy drops it): applied
#   c. the client's connection is cut while the backend still runs, and the
#      server is unreachable for a while: verification must end the old
#      session before it reads the audit log, or the old session could
#      commit after "not applied" was said
. "$(dirname "$0")/../lib.sh"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null
command -v python3 >/dev/null || skip "python3 is needed for the proxy"

sql "INSERT INTO contacts (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 10) g;
     INSERT INTO segments (name, rule, size, reachable) VALUES ('Everyone', 'all', 10, 10);
     BEGIN;
     INSERT INTO campaigns (name, segment_id, current_revision, status, launched_at)
       SELECT 'Campaign ' || g, 'seg_1', 1, 'active', now() FROM generate_series(1, 4) g;
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
       SELECT 'cmp_' || g, 1, 'a@example.com', 's', 'b' FROM generate_series(1, 4) g;
     COMMIT;" >/dev/null

# A commit that takes its time: a deferred constraint trigger fires at
# COMMIT, after campaign_act's UPDATE and audit INSERT, and sleeps there
# while slow_commit says so.
sql "CREATE TABLE slow_commit (enabled boolean NOT NULL);
     INSERT INTO slow_commit VALUES (false);
     CREATE FUNCTION slow_commit_sleep() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
         IF (SELECT enabled FROM slow_commit) THEN
             PERFORM pg_sleep(30);
         END IF;
         RETURN NULL;
     END \$\$;
     CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON campaigns
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit_sleep();" >/dev/null
slow() { sql "UPDATE slow_commit SET enabled = $1" >/dev/null; }

# a backend of ours (application_name marketing) sleeping at COMMIT of campaign_act: its pid
sleeping_pid() {
    sql "SELECT pid FROM pg_stat_activity
          WHERE application_name = 'marketing' AND query LIKE '%campaign_act(%'
            AND wait_event = 'PgSleep'"
}
has_sleeper() { [ -n "$(sleeping_pid)" ]; }
version_of() { sql "SELECT status || ' ' || version FROM campaigns WHERE id = '$1'"; }
audit_rows() { sql "SELECT count(*) FROM audit_log WHERE request_id = '$1'"; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
cli_exited() { ! kill -0 "$1" 2>/dev/null; }

# ---- a. killed between UPDATE and COMMIT: verified not applied ----------
before=$(version_of cmp_1)
slow true
"$MKT" --dsn "$PGDSN" --log-file "$T_TMP/a.log" pause cmp_1 --yes --json >"$T_TMP/a.json" 2>"$T_TMP/a.err" &
cli=$!
defer "kill $cli"
wait_for 15 has_sleeper || fail "a: the CLI's backend never slept at COMMIT: $(cat "$T_TMP/a.err")"
pid=$(sleeping_pid)
# inside the doomed transaction the audit row exists; outside it does not
eq "a: audit rows visible before the commit" "$(sql "SELECT count(*) FROM audit_log WHERE campaign_id = 'cmp_1'")" 0
slow false   # the verification only reads; later steps want a fast commit
eq "a: terminated" "$(sql "SELECT pg_terminate_backend($pid)")" t
set +e
wait "$cli"; rc=$?
set -e
grep -q "Outcome unknown: pause of cmp_1 was in flight when the connection failed" "$T_TMP/a.err" ||
    fail "a: no 'Outcome unknown' on stderr: $(cat "$T_TMP/a.err")"
eq "a: exit status (not applied)" "$rc" 1
eq "a: outcome" "$(json_field "$T_TMP/a.json" outcome)" not_applied
json_field "$T_TMP/a.json" message | grep -q "^Not applied: the connection failed before pause of cmp_1 committed; nothing changed" ||
    fail "a: message: $(cat "$T_TMP/a.json")"
rid=$(json_field "$T_TMP/a.json" request_id)
eq "a: audit rows of $rid" "$(audit_rows "$rid")" 0
eq "a: campaign unchanged" "$(version_of cmp_1)" "$before"
note "a: $(cat "$T_TMP/a.err")"
# the structured log has both steps, under the one request id
grep -q "\"request_id\": *\"$rid\".*Outcome unknown" "$T_TMP/a.log" || fail "a: the log lacks the unknown outcome: $(cat "$T_TMP/a.log")"
grep -q "\"request_id\": *\"$rid\".*\"outcome\": *\"not_applied\"" "$T_TMP/a.log" || fail "a: the log lacks the verified outcome: $(cat "$T_TMP/a.log")"
# nothing is left locked: the same pause now goes through, once
"$MKT" --dsn "$PGDSN" pause cmp_1 --yes --json >"$T_TMP/a2.json"
eq "a: second pause" "$(json_field "$T_TMP/a2.json" outcome)" applied
eq "a: paused, version +1" "$(version_of cmp_1)" "paused $((${before#active } + 1))"
eq "a: audit rows of cmp_1" "$(sql "SELECT count(*) FROM audit_log WHERE campaign_id = 'cmp_1'")" 1

# ---- b. committed, reply lost: verified applied, once -------------------
sock=$(sed -n 's/^host=\([^ ]*\) .*/\1/p' "$T_TMP/pg/dsn")/.s.PGSQL.5432
[ -S "$sock" ] || fail "no server socket at $sock"
# proxy_start NAME MODE [ARGS]: a proxy in front of the cluster; sets PROXY_DSN
proxy_start() {
    local name=$1 mode=$2
    shift 2
    python3 "$T_TOP/tests/integration/pgproxy.py" --target "$sock" --mode "$mode" \
        --port-file "$T_TMP/$name.port" --log "$T_TMP/$name.log" "$@" 2>"$T_TMP/$name.err" &
    defer "kill $!"
    wait_for 10 test -s "$T_TMP/$name.port" || fail "the proxy did not start: $(cat "$T_TMP/$name.err")"
    PROXY_DSN="host=127.0.0.1 port=$(cat "$T_TMP/$name.port") dbname=marketing user=postgres sslmode=disable gssencmode=disable"
    : >>"$T_TMP/$name.log"
}
proxy_start b drop-after-commit
# the proxy passes everything else: a read through it works
eq "b: read through the proxy" "$(psql -X -At "$PROXY_DSN" -c "SELECT count(*) FROM campaigns")" 4
before=$(version_of cmp_2)
set +e
"$MKT" --dsn "$PROXY_DSN" --log-file "$T_TMP/b.log" pause cmp_2 --yes --json >"$T_TMP/b.json" 2>"$T_TMP/b.err"
rc=$?
set -e
grep -qx "fired drop-after-commit" "$T_TMP/b.log" || fail "b: the proxy never dropped a reply: $(cat "$T_TMP/b.log" "$T_TMP/b.err")"
grep -q "Outcome unknown: pause of cmp_2 was in flight when the connection failed" "$T_TMP/b.err" ||
    fail "b: no 'Outcome unknown' on stderr: $(cat "$T_TMP/b.err")"
eq "b: exit status (applied)" "$rc" 0
eq "b: outcome" "$(json_field "$T_TMP/b.json" outcome)" applied
eq "b: status in the JSON" "$(json_field "$T_TMP/b.json" status)" paused
eq "b: version in the JSON" "$(json_field "$T_TMP/b.json" version)" "$((${before#active } + 1))"
json_field "$T_TMP/b.json" message | grep -q "^Campaign paused (verified after the connection failed): cmp_2 is paused" ||
    fail "b: message: $(cat "$T_TMP/b.json")"
rid=$(json_field "$T_TMP/b.json" request_id)
eq "b: audit rows of $rid" "$(audit_rows "$rid")" 1
eq "b: audit rows of cmp_2" "$(sql "SELECT count(*) FROM audit_log WHERE campaign_id = 'cmp_2'")" 1
eq "b: paused once, version +1" "$(version_of cmp_2)" "paused $((${before#active } + 1))"
note "b: $(cat "$T_TMP/b.err")"

# ---- c. cut from the client while the backend runs; server unreachable --
# The client loses its connection while its backend sleeps at COMMIT; the
# proxy then refuses connections (hold file) so that the first tries to
# verify fail. When it lets them through, verification must end the old
# backend before reading the audit log: if it did not, that backend would
# commit after "not applied" was reported.
proxy_start c cut-client --hold-file "$T_TMP/c.hold"
before=$(version_of cmp_3)
slow true
"$MKT" --dsn "$PROXY_DSN" --log-file "$T_TMP/c.log" pause cmp_3 --yes --json >"$T_TMP/c.json" 2>"$T_TMP/c.err" &
cli=$!
defer "kill $cli"
wait_for 15 has_sleeper || fail "c: the CLI's backend never slept at COMMIT: $(cat "$T_TMP/c.err")"
pid=$(sleeping_pid)
grep -qx "fired cut-client" "$T_TMP/c.log" || fail "c: the proxy did not cut: $(cat "$T_TMP/c.log")"
has_retry() { grep -q "still verifying" "$T_TMP/c.err"; }
wait_for 20 has_retry || fail "c: no retry while the server was unreachable: $(cat "$T_TMP/c.err")"
grep -q "Outcome unknown: pause of cmp_3" "$T_TMP/c.err" || fail "c: no 'Outcome unknown': $(cat "$T_TMP/c.err")"
cli_exited "$cli" && fail "c: the CLI gave up while the server was unreachable: $(cat "$T_TMP/c.err")"
# the old backend is still there, still about to commit
eq "c: old backend alive" "$(sql "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")" 1
rm -f "$T_TMP/c.hold"   # the server is reachable again; the flag stays on
set +e
wait "$cli"; rc=$?
set -e
grep -q "refused" "$T_TMP/c.log" || fail "c: the proxy refused nothing: $(cat "$T_TMP/c.log")"
eq "c: exit status (not applied)" "$rc" 1
eq "c: outcome" "$(json_field "$T_TMP/c.json" outcome)" not_applied
eq "c: old backend ended by the verification" "$(sql "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")" 0
rid=$(json_field "$T_TMP/c.json" request_id)
eq "c: audit rows of $rid" "$(audit_rows "$rid")" 0
eq "c: campaign unchanged" "$(version_of cmp_3)" "$before"
note "c: $(cat "$T_TMP/c.err")"
slow false

# two changes in all (a's second pause and b's); the bystander untouched
eq "total audit rows" "$(sql "SELECT count(*) FROM audit_log")" 2
eq "untouched campaign" "$(version_of cmp_4)" "active 1"
echo ok
