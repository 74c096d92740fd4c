#!/usr/bin/env bash
# 'marketing db migrate' on a real cluster: applies, is idempotent, survives
# two at once, and the schema's constraints and triggers do their jobs.
. "$(dirname "$0")/../lib.sh"
pg_up

out=$("$MKT" --dsn "$PGDSN" db version)
# the newest migration's number, and how many there are (numbers may have gaps)
latest=$(for f in "$T_TOP"/sql/[0-9]*.sql; do b=$(basename "$f"); echo $((10#${b%%_*})); done | sort -n | tail -n 1)
count=$(ls "$T_TOP"/sql/[0-9]*.sql | wc -l)
eq "version before" "$out" "schema at version 0 of $latest (run 'marketing db migrate')"

# two at once: the advisory lock serializes them; both succeed
"$MKT" --dsn "$PGDSN" db migrate >"$T_TMP/m1" &
p1=$!
"$MKT" --dsn "$PGDSN" db migrate >"$T_TMP/m2" || fail "second concurrent migrate failed"
wait $p1 || fail "first concurrent migrate failed"
eq "applied once" "$(cat "$T_TMP/m1" "$T_TMP/m2" | grep -c "($count applied")" 1
eq "again" "$("$MKT" --dsn "$PGDSN" db migrate)" "schema at version $latest (0 applied, $count known)"
eq "migrations table" "$(sql "SELECT string_agg(version || ':' || name, ' ' ORDER BY version) FROM schema_migrations")" \
   "$(for f in "$T_TOP"/sql/[0-9]*.sql; do b=$(basename "$f" .sql); printf '%d:%s ' "$((10#${b%%_*}))" "${b#*_}"; done | sed 's/ $//')"

for t in contacts segments segment_members campaigns campaign_revisions campaign_variants \
         deliveries campaign_stats audit_log alert_acks conversions; do
    eq "table $t" "$(sql "SELECT to_regclass('public.$t') IS NOT NULL")" t
done

# CHECK constraints refuse bad states
sql "INSERT INTO contacts (email) VALUES ('a@example.com')" >/dev/null
sql "INSERT INTO segments (name, rule) VALUES ('all', 'all')" >/dev/null
if sql "INSERT INTO contacts (email, status) VALUES ('b@example.com', 'zombie')" 2>/dev/null; then
    fail "a contact status outside the list was accepted"
fi
if sql "INSERT INTO campaigns (name, segment_id, status) VALUES ('x', 'seg_1', 'running')" 2>/dev/null; then
    fail "a campaign status outside the list was accepted"
fi
if sql "INSERT INTO campaigns (name, segment_id, status) VALUES ('x', 'seg_1', 'completed')" 2>/dev/null; then
    fail "a completed campaign without completed_at was accepted"
fi

# a campaign with its revision (the FK is deferred to commit)
sql "BEGIN;
     INSERT INTO campaigns (id, name, segment_id, current_revision) VALUES ('cmp_1', 'c', 'seg_1', 1);
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
       VALUES ('cmp_1', 1, 'a@example.com', 's', 'b');
     COMMIT" >/dev/null
eq "stats row created" "$(sql "SELECT count(*) FROM campaign_stats WHERE campaign_id = 'cmp_1'")" 1

# the ledger's unique key: one delivery per campaign and contact
sql "INSERT INTO deliveries (campaign_id, contact_id, revision, status, sent_at) VALUES ('cmp_1', 1, 1, 'sent', now())" >/dev/null
if sql "INSERT INTO deliveries (campaign_id, contact_id, revision, status, sent_at) VALUES ('cmp_1', 1, 1, 'sent', now())" 2>/dev/null; then
    fail "a second delivery to the same contact was accepted"
fi
sql "UPDATE deliveries SET opened_at = now()" >/dev/null
eq "stats follow the ledger" "$(sql "SELECT sent || '/' || opened FROM campaign_stats WHERE campaign_id = 'cmp_1'")" "1/1"
sql "DELETE FROM deliveries" >/dev/null
eq "stats follow deletes" "$(sql "SELECT sent || '/' || opened FROM campaign_stats WHERE campaign_id = 'cmp_1'")" "0/0"

# every campaign change is NOTIFYed, whoever makes it
got=$(psql -X -q "$PGDSN" <<'SQL' 2>&1
LISTEN marketing_campaign;
UPDATE campaigns SET name = 'renamed', version = version + 1 WHERE id = 'cmp_1';
SELECT 1;
SQL
)
grep -q 'Asynchronous notification "marketing_campaign" with payload ".*cmp_1' <<<"$got" ||
    fail "no notification for a campaign update: $got"

# the guard trigger: no status change outside the state machine, and no
# change without its version, whoever writes
err=$(sql "UPDATE campaigns SET status = 'completed', completed_at = now(), launched_at = now(),
              version = version + 1 WHERE id = 'cmp_1'" 2>&1) && fail "draft -> completed was accepted"
grep -q "cannot go from draft to completed" <<<"$err" || fail "guard message: $err"
err=$(sql "UPDATE campaigns SET name = 'sneaky' WHERE id = 'cmp_1'" 2>&1) && fail "a change without its version was accepted"
grep -q "without adding one to its version" <<<"$err" || fail "guard message: $err"
eq "nothing changed" "$(sql "SELECT status || ' ' || name FROM campaigns WHERE id = 'cmp_1'")" "draft renamed"
echo "ok"
