#!/usr/bin/env bash
# The demo data generator (marketing-demo-gen) against a real PostgreSQL:
# flags, determinism (same seed -> same bytes, other seed -> other data), the
# consistency the console and the backend rely on (statuses, versions and
# audit trail, campaign_stats, deliveries only to active contacts, segment
# membership = the rule's predicate), the schema left exactly as migrated,
# and refusal to load into a database that has data.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

GEN=$T_BUILD/marketing-demo-gen
[ -x "$GEN" ] || fail "$GEN is missing; run 'make build/marketing-demo-gen'"

NOW=2025-06-01T12:00:00Z
SIZES=(--contacts 3000 --segments 10 --campaigns 40)

pg_up
A=$PGDSN
dsn_of() { printf '%s' "${A/dbname=marketing/dbname=$1}"; }
B=$(dsn_of gen_b)
C=$(dsn_of gen_c)
E=$(dsn_of gen_empty)
for db in gen_b gen_c gen_empty gen_bare; do sql "CREATE DATABASE $db"; done
migrate() { psql -X -q -v ON_ERROR_STOP=1 -1 -d "$1" -f "$T_TOP/sql/001_init.sql" >/dev/null; }
for d in "$A" "$B" "$C" "$E"; do migrate "$d"; done
# q DSN QUERY: one value from another database
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# ---- flags ----
"$GEN" --help | grep -q -- '--contacts N' || fail "--help does not list --contacts"
"$GEN" --version | grep -q '^marketing-demo-gen ' || fail "--version"
# expect_usage WANT ARGS...: exit 2 with WANT in the message
expect_usage() {
    local want=$1 rc=0 err
    shift
    err=$("$GEN" --dsn "$E" "$@" 2>&1 >/dev/null) || rc=$?
    eq "exit status of $*" "$rc" 2
    case $err in *"$want"*) ;; *) fail "message of $* does not name '$want': $err" ;; esac
}
expect_usage --bogus --bogus
expect_usage --contacts --contacts abc
expect_usage --contacts --contacts 0
expect_usage --segments --segments
expect_usage --seed --seed -1
expect_usage --now --now yesterday
expect_usage --campaigns --campaigns=12x
[ "$(q "$E" 'SELECT count(*) FROM contacts')" = 0 ] || fail "a usage error loaded data"

# ---- refusals ----
rc=0
err=$("$GEN" --dsn "$(dsn_of gen_bare)" --quiet 2>&1) || rc=$?
eq "exit status on an unmigrated database" "$rc" 1
case $err in *"not migrated"*) ;; *) fail "unmigrated database: $err" ;; esac

# ---- generate: A and B with the same seed, C with another seed and the server's clock ----
out=$("$GEN" --dsn "$A" "${SIZES[@]}" --seed 7 --now "$NOW" 2>"$T_TMP/a.err")
case $out in
    "marketing-demo-gen: loaded 3,000 contacts, 10 segments ("*" members), 40 campaigns ("*" deliveries, "*" in "*" s") ;;
    *) fail "summary line: $out" ;;
esac
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "summary is not one line: $out"
grep -q 'contacts .*3,000 rows' "$T_TMP/a.err" || fail "no progress on stderr: $(cat "$T_TMP/a.err")"
MARKETING_DSN=$B "$GEN" "${SIZES[@]}" --seed 7 --now "$NOW" --quiet >"$T_TMP/b.out" 2>"$T_TMP/b.err"
if [ -s "$T_TMP/b.out" ] || [ -s "$T_TMP/b.err" ]; then
    fail "--quiet printed: $(cat "$T_TMP/b.out" "$T_TMP/b.err")"
fi
"$GEN" --dsn "$C" "${SIZES[@]}" --seed 8 --quiet

# checksum DSN TABLE: md5 of the table's rows in a fixed order
checksum() {
    local cols='t::text'
    [ "$2" = campaign_stats ] &&
        cols='(campaign_id, queued, sent, failed, bounced, opened, clicked, last_sent_at)::text'
    q "$1" "SELECT count(*) || ':' || coalesce(md5(string_agg(r, E'\n' ORDER BY r)), '')
              FROM (SELECT $cols AS r FROM $2 t) s"
}
TABLES=(contacts segments segment_members campaigns campaign_revisions campaign_variants
        deliveries campaign_stats audit_log conversions)
differ=0
for t in "${TABLES[@]}"; do
    a=$(checksum "$A" "$t")
    eq "$t: same seed, same data" "$a" "$(checksum "$B" "$t")"
    [ "${a%%:*}" != 0 ] || fail "$t is empty"
    [ "$a" = "$(checksum "$C" "$t")" ] || differ=$((differ + 1))
done
[ "$differ" -ge 8 ] || fail "seed 8 gives the same data as seed 7 in $((10 - differ)) tables"

# ---- the schema is exactly as migrated (indexes and keys were set aside during the load) ----
schema() {
    q "$1" "SELECT string_agg(d, E'\n' ORDER BY d) FROM (
              SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                     || ' valid=' || convalidated || ' deferrable=' || condeferrable AS d
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace
              UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
              UNION ALL SELECT tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text
                FROM pg_trigger WHERE NOT tgisinternal) s"
}
schema_a=$(schema "$A")
schema_e=$(schema "$E")
[ -n "$schema_e" ] || fail "no schema read"
eq "schema after loading" "$schema_a" "$schema_e"

# ---- consistency of A (seed 7, now = $NOW) ----
export PGDSN=$A
eq "every campaign status present" \
    "$(sql "SELECT string_agg(DISTINCT status, ',' ORDER BY status) FROM campaigns")" \
    "active,cancelled,completed,draft,paused,scheduled"
eq "every contact status present" \
    "$(sql "SELECT string_agg(DISTINCT status, ',' ORDER BY status) FROM contacts")" \
    "active,blocklisted,bounced,unsubscribed"
eq "campaign types" "$(sql "SELECT count(DISTINCT type) > 1 FROM campaigns")" t
eq "ids are cmp_1..cmp_N and seg_1..seg_N" \
    "$(sql "SELECT (SELECT string_agg(id, ',' ORDER BY id) FROM campaigns)
                 = (SELECT string_agg('cmp_' || g, ',' ORDER BY 'cmp_' || g) FROM generate_series(1, 40) g)
               AND (SELECT string_agg(id, ',' ORDER BY id) FROM segments)
                 = (SELECT string_agg('seg_' || g, ',' ORDER BY 'seg_' || g) FROM generate_series(1, 10) g)")" t
eq "sequences past the explicit ids" \
    "$(sql "SELECT nextval('campaign_id_seq') = 41 AND nextval('segment_id_seq') = 11
               AND nextval(pg_get_serial_sequence('contacts', 'id')) = 3001
               AND nextval(pg_get_serial_sequence('deliveries', 'id')) = (SELECT max(id) + 1 FROM deliveries)
               AND nextval(pg_get_serial_sequence('audit_log', 'id')) = (SELECT max(id) + 1 FROM audit_log)
               AND nextval(pg_get_serial_sequence('conversions', 'id')) = (SELECT max(id) + 1 FROM conversions)")" t

eq "campaign_stats = counts recomputed from deliveries" "$(sql "
    SELECT count(*) FROM campaigns c
      LEFT JOIN campaign_stats s ON s.campaign_id = c.id
      LEFT JOIN (SELECT campaign_id, count(*) FILTER (WHERE status = 'queued') AS q,
                        count(*) FILTER (WHERE status = 'sent') AS st,
                        count(*) FILTER (WHERE status = 'failed') AS f,
                        count(*) FILTER (WHERE status = 'bounced') AS b,
                        count(opened_at) AS o, count(clicked_at) AS k, max(sent_at) AS last
                   FROM deliveries GROUP BY campaign_id) d ON d.campaign_id = c.id
     WHERE s.campaign_id IS NULL
        OR (s.queued, s.sent, s.failed, s.bounced, s.opened, s.clicked, s.last_sent_at)
           IS DISTINCT FROM (coalesce(d.q, 0), coalesce(d.st, 0), coalesce(d.f, 0),
                             coalesce(d.b, 0), coalesce(d.o, 0), coalesce(d.k, 0), d.last)")" 0

eq "version = 1 + recorded transitions" "$(sql "
    SELECT count(*) FROM campaigns c
     WHERE version <> 1 + (SELECT count(*) FROM audit_log a
                            WHERE a.campaign_id = c.id AND a.action <> 'create')")" 0
eq "audit chain: versions and statuses follow on, the last is the campaign's" "$(sql "
    SELECT count(*) FROM (
      SELECT a.*, row_number() OVER w AS n, lag(to_version) OVER w AS pv, lag(to_status) OVER w AS ps,
             lead(id) OVER w AS next
        FROM audit_log a WINDOW w AS (PARTITION BY campaign_id ORDER BY created_at, id)) x
      JOIN campaigns c ON c.id = x.campaign_id
     WHERE x.to_version <> x.n OR x.from_version IS DISTINCT FROM x.pv
        OR x.from_status IS DISTINCT FROM x.ps
        OR (x.next IS NULL AND (x.to_version, x.to_status) <> (c.version, c.status))
        OR x.created_at < c.created_at OR x.created_at > c.updated_at")" 0
eq "only valid transitions" "$(sql "
    SELECT count(*) FROM audit_log
     WHERE NOT (action = 'create' AND from_status IS NULL AND to_status = 'draft'
            OR action = 'launch' AND from_status IN ('draft', 'scheduled') AND to_status IN ('active', 'scheduled')
            OR action = 'pause' AND from_status = 'active' AND to_status = 'paused'
            OR action = 'resume' AND from_status = 'paused' AND to_status = 'active'
            OR action = 'complete' AND from_status = 'active' AND to_status = 'completed'
            OR action = 'cancel' AND from_status IN ('draft', 'scheduled', 'active', 'paused') AND to_status = 'cancelled'
            OR action IN ('edit', 'rollback') AND from_status = to_status AND to_status <> 'cancelled')")" 0
eq "request ids unique, operator rows carry who and where" "$(sql "
    SELECT count(DISTINCT request_id) = count(*)
       AND count(*) FILTER (WHERE action <> 'complete' AND (os_user IS NULL OR ssh_client IS NULL OR tty IS NULL)) = 0
      FROM audit_log")" t
eq "current revision is the latest, rollbacks restore an earlier one" "$(sql "
    SELECT count(*) FROM campaigns c
     WHERE current_revision <> (SELECT max(revision) FROM campaign_revisions r WHERE r.campaign_id = c.id)
        OR (SELECT count(*) FROM campaign_revisions r WHERE r.campaign_id = c.id) NOT BETWEEN 1 AND 4")" 0
eq "some rollbacks and A/B variants" "$(sql "
    SELECT (SELECT count(*) FROM campaign_revisions WHERE restored_from IS NOT NULL) > 0
       AND (SELECT count(*) FROM campaign_variants) > 0
       AND (SELECT bool_and(s = 100) FROM (SELECT sum(split_percent) s FROM campaign_variants
                                            GROUP BY campaign_id, revision) v)")" t

eq "no delivery to a non-active contact" "$(sql "
    SELECT count(*) FROM deliveries d JOIN contacts c ON c.id = d.contact_id WHERE c.status <> 'active'")" 0
eq "deliveries only while sending: between a launch or resume and the next pause, complete or cancel" "$(sql "
    WITH ev AS (
        SELECT campaign_id, action, to_status, created_at,
               lead(created_at) OVER (PARTITION BY campaign_id ORDER BY created_at, id) AS next_at
          FROM audit_log
         WHERE action IN ('launch', 'resume', 'pause', 'complete', 'cancel')),
    sending AS (
        SELECT campaign_id, created_at AS since, coalesce(next_at, '$NOW') AS until
          FROM ev WHERE action IN ('launch', 'resume') AND to_status = 'active')
    SELECT count(*) FROM deliveries d
     WHERE NOT EXISTS (SELECT 1 FROM sending s
                        WHERE s.campaign_id = d.campaign_id AND d.queued_at >= s.since
                          AND coalesce(d.sent_at, d.queued_at) <= s.until)
        OR greatest(d.sent_at, d.opened_at, d.clicked_at) > '$NOW'
        OR d.opened_at < d.sent_at OR d.clicked_at < d.opened_at")" 0
eq "a delivery's revision existed when it was queued, its variant is the revision's" "$(sql "
    SELECT count(*) FROM deliveries d
      JOIN campaign_revisions r USING (campaign_id, revision)
     WHERE d.queued_at < r.created_at
        OR (d.variant IS NULL) <> NOT EXISTS (SELECT 1 FROM campaign_variants v
                                           WHERE v.campaign_id = d.campaign_id AND v.revision = d.revision)
        OR (d.variant IS NOT NULL AND NOT EXISTS (SELECT 1 FROM campaign_variants v
                                           WHERE (v.campaign_id, v.revision, v.variant) = (d.campaign_id, d.revision, d.variant)))")" 0
eq "completed campaigns reached their whole audience; active ones have more to send" "$(sql "
    SELECT bool_and(n = audience) FILTER (WHERE status = 'completed')
       AND bool_and(n < audience) FILTER (WHERE status = 'active')
       AND bool_and(n = 0) FILTER (WHERE status IN ('draft', 'scheduled'))
       AND bool_and(send_at > '$NOW') FILTER (WHERE status = 'scheduled')
      FROM (SELECT c.*, (SELECT count(*) FROM deliveries d WHERE d.campaign_id = c.id) n FROM campaigns c) x")" t
eq "failed deliveries say why, sent ones have a time" "$(sql "
    SELECT count(*) FROM deliveries
     WHERE (status IN ('failed', 'bounced')) <> (error IS NOT NULL) OR (status = 'failed') <> (sent_at IS NULL)")" 0
eq "contacts' last open and click come from their deliveries" "$(sql "
    SELECT count(*) FROM contacts c
      LEFT JOIN (SELECT contact_id, max(opened_at) AS o, max(clicked_at) AS k
                   FROM deliveries GROUP BY contact_id) d ON d.contact_id = c.id
     WHERE (c.last_opened_at, c.last_clicked_at) IS DISTINCT FROM (d.o, d.k)
        OR (c.status = 'unsubscribed') <> (c.unsubscribed_at IS NOT NULL)
        OR c.updated_at < c.created_at OR c.email <> lower(c.email)")" 0
eq "campaign conversions follow a click of that campaign" "$(sql "
    SELECT count(*) FROM conversions v
     WHERE (v.campaign_id IS NULL) <> (v.channel IN ('organic', 'paid'))
        OR (v.campaign_id IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
               WHERE d.campaign_id = v.campaign_id AND d.contact_id = v.contact_id
                 AND d.clicked_at <= v.converted_at AND c.type = v.channel))")" 0

# segment membership is exactly the rule, checked here in SQL for some rules
member_check() { # SEGMENT RULE SQL-PREDICATE
    eq "$1's rule" "$(sql "SELECT rule FROM segments WHERE id = '$1'")" "$2"
    eq "$1 members = contacts where $2" "$(sql "
        SELECT count(*) FROM contacts c
         WHERE coalesce($3, false) <> EXISTS (SELECT 1 FROM segment_members m
                                               WHERE m.segment_id = '$1' AND m.contact_id = c.id)")" 0
}
member_check seg_1 'all' 'true'
member_check seg_2 'country = "DE"' "c.attributes->>'country' = 'DE'"
member_check seg_3 'plan in ("pro", "team", "enterprise")' "c.attributes->>'plan' IN ('pro', 'team', 'enterprise')"
member_check seg_4 'age >= 30 and country = "US"' "(c.attributes->>'age')::int >= 30 AND c.attributes->>'country' = 'US'"
member_check seg_10 'plan = "free" and not country = "US"' "c.attributes->>'plan' = 'free' AND NOT c.attributes->>'country' = 'US'"
eq "segment size and reachable are the members' counts" "$(sql "
    SELECT count(*) FROM segments s
     WHERE size <> (SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id)
        OR reachable <> (SELECT count(*) FROM segment_members m JOIN contacts c ON c.id = m.contact_id
                          WHERE m.segment_id = s.id AND c.status = 'active')
        OR refreshed_at IS NULL")" 0
eq "segment sizes vary" "$(sql "SELECT min(size) * 5 < max(size) FROM segments")" t

# text survives COPY escaping: UTF-8 names, newlines, tabs and backslashes in bodies
eq "names with accents in attributes and ASCII emails" "$(sql "
    SELECT count(*) FILTER (WHERE attributes->>'last_name' = 'Müller') > 0
       AND count(*) FILTER (WHERE email !~ '^[a-z]+\.[a-z]+\.[0-9]+@example\.(com|org|net)$') = 0 FROM contacts")" t
eq "bodies keep newlines and carry no escape sequences" "$(sql "
    SELECT count(*) FILTER (WHERE body NOT LIKE E'%\n%' AND position('{{first_name}}' IN body) > 0) = 0
       AND count(*) FILTER (WHERE body LIKE E'%\\\\\\\\n%' OR body LIKE E'%\\\\\\\\t%') = 0 FROM campaign_revisions")" t
eq "a tab and a backslash survive" "$(sql "
    SELECT count(*) FILTER (WHERE body LIKE E'%Plan\tMonthly\tAnnual\n%') > 0
       AND count(*) FILTER (WHERE body LIKE E'%\\\\\\\\o/%') > 0 FROM campaign_revisions")" t

# ---- C: no --now, so the data set's now is the server's ----
export PGDSN=$C
eq "without --now, scheduled campaigns are in the future and active ones sent up to now" "$(sql "
    SELECT bool_and(send_at > now()) FILTER (WHERE status = 'scheduled')
       AND (SELECT max(sent_at) > now() - interval '10 minutes' AND max(sent_at) <= now() FROM deliveries)
       AND (SELECT max(created_at) < now() FROM contacts) FROM campaigns")" t

# ---- a second run into a database with data is refused and changes nothing ----
export PGDSN=$A
before=$(checksum "$A" campaigns)
rc=0
err=$("$GEN" --dsn "$A" --contacts 10 --segments 1 --campaigns 1 2>&1) || rc=$?
eq "exit status on a database with data" "$rc" 1
case $err in *"already has data"*) ;; *) fail "non-empty database: $err" ;; esac
eq "the refused run changed nothing" "$(checksum "$A" campaigns)" "$before"
q "$E" "INSERT INTO contacts (email) VALUES ('someone@example.com')"
rc=0
err=$("$GEN" --dsn "$E" --contacts 10 --segments 1 --campaigns 1 2>&1) || rc=$?
eq "exit status with one contact" "$rc" 1
case $err in *"already has data"*contacts*) ;; *) fail "database with a contact: $err" ;; esac
eq "nothing loaded beside the one contact" "$(q "$E" 'SELECT count(*) FROM contacts')" 1
echo "ok"
