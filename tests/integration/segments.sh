#!/usr/bin/env bash
# Segment rules against a real PostgreSQL: previews agree with hand-written
# SQL, every demo segment's stored rule selects exactly its materialized
# members, a refresh that meets another refresh says who, hostile names and
# rules are stored and shown literally, a slow rule is stopped with a clear
# message, read-only refuses; then the C API (test_segments.c).
. "$(dirname "$0")/../lib.sh"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null
export MARKETING_DSN=$PGDSN MARKETING_LOG_FILE=$T_TMP/oplog
"$MARKETING_BUILD/marketing-demo-gen" --dsn "$PGDSN" --quiet --contacts 3000 --segments 24 --campaigns 12
# contacts the generator does not make: missing, null, textual and odd attributes
sql "INSERT INTO contacts (email, attributes, status, last_opened_at) VALUES
       ('odd1@example.com', '{}', 'active', NULL),
       ('odd2@example.com', '{\"age\": \"41\", \"plan\": null}', 'active', now() - interval '2 days'),
       ('odd3@example.com', '{\"age\": \"forty\", \"plan\": \"pro\"}', 'bounced', NULL),
       ('odd4@example.com', '{\"age\": 1e2, \"vip\": true}', 'active', NULL),
       ('ODD5@Example.COM', '{\"age\": [1], \"vip\": \"true\"}', 'active', NULL)" >/dev/null
contacts=$(sql "SELECT count(*) FROM contacts")

count() { "$MKT" segment preview --rule "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'; }

# 1. preview counts equal hand-written SQL
check_count() {
    local rule=$1 where=$2 got want
    got=$(count "$rule") || fail "preview of '$rule' failed"
    want=$(sql "SELECT count(*) FROM contacts c WHERE $where")
    eq "preview of '$rule'" "$got" "$want"
}
check_count 'all' 'true'
check_count 'country = "FR" and plan = "pro" and age >= 30' \
    "attributes->>'country' = 'FR' AND attributes->>'plan' = 'pro'
     AND CASE WHEN jsonb_typeof(attributes->'age') = 'number' THEN (attributes->>'age')::numeric >= 30 END"
check_count 'age >= 40' \
    "CASE WHEN jsonb_typeof(attributes->'age') = 'number' THEN (attributes->>'age')::numeric >= 40
          ELSE attributes->>'age' = '41' END"
check_count 'plan != "pro"' "attributes->>'plan' <> 'pro'"
check_count 'not plan = "pro"' "attributes->>'plan' IS DISTINCT FROM 'pro'"
check_count 'country not in ("DE", "FR")' "attributes->>'country' IS NULL OR attributes->>'country' NOT IN ('DE', 'FR')"
check_count 'vip = true' "attributes->'vip' = 'true'::jsonb"
check_count 'plan is null' "attributes->>'plan' IS NULL"
check_count 'last_open_at > 30 days ago' "last_opened_at > now() - interval '30 days'"
check_count 'last_clicked_at is null and status = "active"' "last_clicked_at IS NULL AND status = 'active'"
check_count 'email contains "ODD" or email starts with "odd5"' "lower(email) LIKE '%odd%'"
check_count 'signup_date >= "2025-01-01" and language in ("fr", "de")' \
    "attributes->>'signup_date' COLLATE \"C\" >= '2025-01-01' AND attributes->>'language' IN ('fr', 'de')"
check_count 'opened cmp_2 or clicked cmp_3' \
    "id IN (SELECT contact_id FROM deliveries WHERE campaign_id = 'cmp_2' AND opened_at IS NOT NULL)
     OR id IN (SELECT contact_id FROM deliveries WHERE campaign_id = 'cmp_3' AND clicked_at IS NOT NULL)"
check_count 'created_at < "2000-01-01"' "created_at < '2000-01-01'"
[ "$(count 'opened cmp_2')" -gt 0 ] || fail "no contact opened cmp_2: the engagement check proves nothing"

# 2. every demo segment's stored rule selects exactly its materialized
# members: a refresh (which deletes non-matching and adds missing members)
# changes nothing
nseg=$(sql "SELECT count(*) FROM segments")
eq "demo segments" "$nseg" 24
sql "DELETE FROM contacts WHERE email LIKE 'odd%' OR email LIKE 'ODD%'" >/dev/null
for id in $(sql "SELECT id FROM segments ORDER BY length(id), id"); do
    before=$(sql "SELECT size || ' ' || reachable || ' ' || (SELECT count(*) FROM segment_members WHERE segment_id = '$id') FROM segments WHERE id = '$id'")
    rule=$(sql "SELECT rule FROM segments WHERE id = '$id'")
    eq "$id preview" "$(count "$rule")" "${before%% *}"
    "$MKT" segment refresh "$id" --json >"$T_TMP/r.json" || fail "refresh $id failed: $(cat "$T_TMP/r.json")"
    python3 - "$T_TMP/r.json" "$before" <<'PY' || fail "refresh of $id changed its members: $(cat "$T_TMP/r.json")"
import json, sys
r = json.load(open(sys.argv[1]))
size, reach, members = map(int, sys.argv[2].split())
assert r["outcome"] == "ok", r
assert (r["added"], r["removed"]) == (0, 0), r
assert (r["size"], r["reachable"]) == (size, reach) and size == members, (r, size, reach, members)
PY
done
eq "refresh audit rows" "$(sql "SELECT count(*) FROM audit_log WHERE action = 'segment_refresh'")" 24

# 3. a refresh while another session holds the lock says who, at once
PGAPPNAME=lockholder psql -X -q "$PGDSN" -c "BEGIN" \
    -c "SELECT pg_advisory_xact_lock(hashtext('marketing.segment_refresh'), hashtext('seg_4'))" \
    -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
holder=$!
defer "kill $holder"
holds() { [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'lockholder'")" = 1 ]; }
wait_for 20 holds || fail "the lock holder never took the lock"
set +e
"$MKT" segment refresh seg_4 2>"$T_TMP/err"; rc=$?
"$MKT" segment refresh seg_4 --json >"$T_TMP/locked.json" 2>/dev/null; rcj=$?
set -e
eq "locked refresh exit" "$rc" 3
eq "locked refresh exit (json)" "$rcj" 3
grep -qE "^marketing: segment refresh: seg_4 is being refreshed by [a-z_]+@local \(lockholder, since [0-9]{2}:[0-9]{2}:[0-9]{2}\)$" "$T_TMP/err" ||
    fail "who is refreshing: $(cat "$T_TMP/err")"
python3 - "$T_TMP/locked.json" <<'PY' || fail "locked refresh JSON: $(cat "$T_TMP/locked.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["outcome"] == "locked", r
assert r["refreshing"]["application_name"] == "lockholder" and r["refreshing"]["pid"] > 0, r
PY
# another segment is not held up
"$MKT" segment refresh seg_5 >/dev/null || fail "seg_5 was held up by seg_4's refresh"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lockholder'" >/dev/null
gone() { ! holds; }
wait_for 20 gone || fail "the lock holder never went"
"$MKT" segment refresh seg_4 >/dev/null || fail "refresh after the holder left failed"

# 4. hostile names and rules: stored and shown literally, never executed
evil="'; DROP TABLE contacts; --"
name=$(printf 'Evil %s "q" /* c */ \033[2J\033]0;t\007 \342\200\256 end' "$evil")
rule="attr(\"$evil\") = \"$evil\" or plan in ('$(printf '%s' "$evil" | sed "s/'/\\\\'/g")', \"x\") or email contains \"--\""
"$MKT" segment create --name "$name" --rule "$rule" --json >"$T_TMP/c.json" || fail "create failed: $(cat "$T_TMP/c.json")"
newid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["segment_id"])' "$T_TMP/c.json")
[[ $newid =~ ^seg_[0-9]+$ ]] || fail "new segment id: $newid"
python3 - "$T_TMP/c.json" "$name" "$rule" <<'PY' || fail "create JSON: $(cat "$T_TMP/c.json")"
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert all(b < 0x80 for b in raw), "non-ASCII byte in JSON output"
r = json.loads(raw)
assert r["outcome"] == "ok" and r["name"] == sys.argv[2] and r["rule"] == sys.argv[3], r
assert r["preview"]["outcome"] == "ok" and r["preview"]["size"] >= 0, r
PY
eq "name stored literally" "$(sql "SELECT name = \$q\$$name\$q\$ FROM segments WHERE id = '$newid'")" t
eq "rule stored literally" "$(sql "SELECT rule = \$q\$$rule\$q\$ FROM segments WHERE id = '$newid'")" t
eq "contacts intact" "$(sql "SELECT to_regclass('public.contacts') IS NOT NULL AND (SELECT count(*) FROM contacts) = $contacts - 5")" t
eq "create audit row" "$(sql "SELECT count(*) FROM audit_log WHERE action = 'segment_create' AND segment_id = '$newid' AND details->>'rule' = \$q\$$rule\$q\$")" 1
"$MKT" segment refresh "$newid" >/dev/null || fail "refresh of the hostile segment failed"
eq "hostile refresh" "$(sql "SELECT size = (SELECT count(*) FROM contacts c WHERE attributes->>'plan' = 'x' OR email LIKE '%--%') FROM segments WHERE id = '$newid'")" t
"$MKT" segment show "$newid" >"$T_TMP/show.txt"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T_TMP/show.txt"; then fail "control bytes in segment show"; fi
grep -qF "Evil '; DROP TABLE contacts; -- \"q\" /* c */ ^[[2J^[]0;t^G <U+202E> end" "$T_TMP/show.txt" ||
    fail "name not shown literally: $(cat "$T_TMP/show.txt")"
grep -qF "rule           $rule" "$T_TMP/show.txt" || fail "rule not shown literally: $(cat "$T_TMP/show.txt")"
"$MKT" segment show "$newid" --json >"$T_TMP/show.json"
python3 - "$T_TMP/show.json" "$name" "$rule" <<'PY' || fail "show JSON: $(cat "$T_TMP/show.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["name"] == sys.argv[2] and r["rule"] == sys.argv[3], r
PY
# a segment change is heard, whoever makes it
got=$(psql -X -q "$PGDSN" <<SQL 2>&1
LISTEN marketing_segment;
UPDATE segments SET name = 'renamed' WHERE id = '$newid';
SELECT 1;
SQL
)
grep -q "Asynchronous notification \"marketing_segment\" with payload \".*$newid" <<<"$got" ||
    fail "no notification for a segment update: $got"

# 5. a bad rule is refused before anything is written, with a caret
n_before=$(sql "SELECT count(*) FROM segments")
set +e
"$MKT" segment create --name bad --rule 'country = "FR" and age >=' 2>"$T_TMP/err"; rc=$?
"$MKT" segment create --name bad --rule "plan = 'pro'; DROP TABLE contacts" --json >"$T_TMP/bad.json" 2>/dev/null; rcj=$?
set -e
eq "bad rule exit" "$rc" 2
eq "bad rule exit (json)" "$rcj" 2
eq "bad rule message" "$(cat "$T_TMP/err")" "marketing: segment create: 1:26: expected a value after '>=', found end of rule
  country = \"FR\" and age >=
                           ^"
python3 - "$T_TMP/bad.json" <<'PY' || fail "bad rule JSON: $(cat "$T_TMP/bad.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["outcome"], r["line"], r["column"]) == ("bad_rule", 1, 13), r
PY
eq "nothing created" "$(sql "SELECT count(*) FROM segments")" "$n_before"

# 6. read-only refuses writes, and says so
set +e
"$MKT" --read-only segment create --name x --rule all 2>"$T_TMP/err"; rc1=$?
"$MKT" --read-only segment refresh seg_1 2>>"$T_TMP/err"; rc2=$?
set -e
eq "read-only create exit" "$rc1" 4
eq "read-only refresh exit" "$rc2" 4
eq "read-only messages" "$(grep -c 'read-only' "$T_TMP/err")" 2
eq "nothing written" "$(sql "SELECT count(*) FROM segments")" "$n_before"
"$MKT" --read-only segment preview --rule all >/dev/null || fail "preview is a read and works read-only"
# the structured log has the writes
grep -q '"action":"segment_create"' "$T_TMP/oplog" || fail "no segment_create in the log: $(cat "$T_TMP/oplog")"

# 7. a rule too slow to count is stopped with a clear message
sql "INSERT INTO contacts (email, attributes)
       SELECT 'bulk' || g || '@example.com', jsonb_build_object('bio', repeat('lorem ipsum dolor ', 30))
         FROM generate_series(1, 60000) g" >/dev/null
slow='bio contains "zz0"'
for i in $(seq 1 40); do slow+=" or bio contains \"zz$i\" or bio starts with \"q$i\""; done
set +e
"$MKT" segment preview --rule "$slow" --timeout 100ms 2>"$T_TMP/err"; rc=$?
set -e
eq "slow preview exit" "$rc" 1
grep -q "^marketing: segment preview: the rule took longer than 100 ms to count, and was stopped" "$T_TMP/err" ||
    fail "slow preview message: $(cat "$T_TMP/err")"
"$MKT" segment create --name slow --rule "$slow" --timeout 100ms >"$T_TMP/out" 2>"$T_TMP/err" ||
    fail "a slow preview stopped the create: $(cat "$T_TMP/err")"
grep -q "size unknown: the rule took longer" "$T_TMP/err" || fail "slow create message: $(cat "$T_TMP/err")"
grep -q "^Segment created: seg_" "$T_TMP/out" || fail "slow create output: $(cat "$T_TMP/out")"

# 8. the C API as the console's worker calls it (test_segments.c)
sql "DELETE FROM contacts WHERE email LIKE 'bulk%'" >/dev/null
PGDSN=$PGDSN "$T_BUILD/itests/test_segments"
echo ok
