#!/usr/bin/env bash
# A campaign save whose connection fails in flight (RELIABILITY.md checklist
# item 10), as tests/integration/outcome.sh does for the control actions:
#
#   a. a create commits and its reply is lost (a proxy drops it): "Outcome
#      unknown", then verified by request id as applied, with the new
#      campaign's id; one campaign, one audit row
#   b. an edit's backend is killed between its writes and COMMIT (a deferred
#      trigger sleeps at commit): verified not applied; no revision, the
#      version unchanged, and the same edit then goes through once
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "python3 is needed for the proxy"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null

sql "INSERT INTO contacts (email, attributes) SELECT 'c' || g || '@example.com', '{\"first_name\": \"C\"}' FROM generate_series(1, 10) g;
     INSERT INTO segments (id, name, rule) VALUES ('seg_o', 'Everyone', 'all');
     INSERT INTO segment_members (segment_id, contact_id) SELECT 'seg_o', id FROM contacts;" >/dev/null
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
cat >"$T_TMP/new.json" <<'JSON'
{"name": "Lost reply", "segment_id": "seg_o", "from": "a@example.com",
 "subject": "Hi {{first_name}}", "body": "Hello"}
JSON

# ---- a. committed, reply lost: verified applied, once ----
sock=$(sed -n 's/^host=\([^ ]*\) .*/\1/p' "$T_TMP/pg/dsn")/.s.PGSQL.5432
[ -S "$sock" ] || fail "no server socket at $sock"
python3 "$T_TOP/tests/integration/pgproxy.py" --target "$sock" --mode drop-after-commit --match "campaign_save(" \
    --port-file "$T_TMP/a.port" --log "$T_TMP/a.proxy" 2>"$T_TMP/a.proxy.err" &
defer "kill $!"
wait_for 10 test -s "$T_TMP/a.port" || fail "the proxy did not start: $(cat "$T_TMP/a.proxy.err")"
PROXY_DSN="host=127.0.0.1 port=$(cat "$T_TMP/a.port") dbname=marketing user=postgres sslmode=disable gssencmode=disable"
: >>"$T_TMP/a.proxy"
set +e
"$MKT" --dsn "$PROXY_DSN" --log-file "$T_TMP/a.log" campaign create --from-file "$T_TMP/new.json" --json \
    >"$T_TMP/a.json" 2>"$T_TMP/a.err"
rc=$?
set -e
grep -qx "fired drop-after-commit" "$T_TMP/a.proxy" || fail "a: the proxy never dropped a reply: $(cat "$T_TMP/a.proxy" "$T_TMP/a.err")"
grep -q "Outcome unknown: create of a new campaign was in flight when the connection failed" "$T_TMP/a.err" ||
    fail "a: no 'Outcome unknown' on stderr: $(cat "$T_TMP/a.err")"
eq "a: exit status (applied)" "$rc" 0
eq "a: outcome" "$(json_field "$T_TMP/a.json" outcome)" applied
made=$(sql "SELECT string_agg(id, ' ') FROM campaigns WHERE name = 'Lost reply'")
eq "a: campaign id in the JSON" "$(json_field "$T_TMP/a.json" campaign_id)" "$made"
json_field "$T_TMP/a.json" message | grep -q "^Campaign created (verified after the connection failed): $made (draft, version 1, revision 1)" ||
    fail "a: message: $(cat "$T_TMP/a.json")"
rid=$(json_field "$T_TMP/a.json" request_id)
eq "a: audit rows of $rid" "$(sql "SELECT count(*) FROM audit_log WHERE request_id = '$rid'")" 1
grep -q "\"request_id\": *\"$rid\".*Outcome unknown" "$T_TMP/a.log" || fail "a: the log lacks the unknown outcome: $(cat "$T_TMP/a.log")"

# ---- b. killed between the writes and COMMIT: verified not applied ----
sql "CREATE TABLE slow_commit (enabled boolean NOT NULL);
     INSERT INTO slow_commit VALUES (true);
     CREATE FUNCTION slow_commit_sleep() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN
         IF (SELECT enabled FROM slow_commit) THEN
             PERFORM pg_sleep(30);
         END IF;
         RETURN NULL;
     END \$\$;
     CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON campaigns
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit_sleep();" >/dev/null
sleeping_pid() {
    sql "SELECT pid FROM pg_stat_activity
          WHERE application_name = 'marketing' AND query LIKE '%campaign_save(%' AND wait_event = 'PgSleep'"
}
has_sleeper() { [ -n "$(sleeping_pid)" ]; }
before=$(sql "SELECT version || ' ' || current_revision FROM campaigns WHERE id = '$made'")
echo '{"version": 1, "subject": "Edited"}' >"$T_TMP/edit.json"
"$MKT" --dsn "$PGDSN" campaign edit "$made" --from-file "$T_TMP/edit.json" --json >"$T_TMP/b.json" 2>"$T_TMP/b.err" &
cli=$!
defer "kill $cli"
wait_for 15 has_sleeper || fail "b: the CLI's backend never slept at COMMIT: $(cat "$T_TMP/b.err")"
pid=$(sleeping_pid)
sql "UPDATE slow_commit SET enabled = false" >/dev/null
eq "b: terminated" "$(sql "SELECT pg_terminate_backend($pid)")" t
set +e
wait "$cli"; rc=$?
set -e
grep -q "Outcome unknown: edit of $made was in flight" "$T_TMP/b.err" || fail "b: no 'Outcome unknown': $(cat "$T_TMP/b.err")"
eq "b: exit status (not applied)" "$rc" 1
eq "b: outcome" "$(json_field "$T_TMP/b.json" outcome)" not_applied
eq "b: campaign unchanged" "$(sql "SELECT version || ' ' || current_revision FROM campaigns WHERE id = '$made'")" "$before"
eq "b: no revision written" "$(sql "SELECT count(*) FROM campaign_revisions WHERE subject = 'Edited'")" 0
"$MKT" --dsn "$PGDSN" campaign edit "$made" --from-file "$T_TMP/edit.json" --json >"$T_TMP/b2.json"
eq "b: the edit again" "$(json_field "$T_TMP/b2.json" outcome) $(json_field "$T_TMP/b2.json" version)" "applied 2"
eq "b: one edit row" "$(sql "SELECT count(*) FROM audit_log WHERE campaign_id = '$made' AND action = 'edit'")" 1
echo ok
