#!/usr/bin/env bash
# The demo backend sends an active campaign at its rate limit, stops within
# one batch on pause, survives a restart while paused, resumes without a
# double send, skips suppressed contacts, and completes the campaign with an
# audit row. Rates are measured from the ledger's own timestamps. Then a
# campaign's failed deliveries are requeued by campaign_act('retry_failed'):
# they are sent again in place (current revision, their variant), and the
# campaign completes only once none is queued.
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

BK=$T_BUILD/marketing-demo-backend
[ -x "$BK" ] || fail "$BK is missing; run 'make build/marketing-demo-backend'"
command -v curl >/dev/null || skip "curl is not installed"

RATE=1200     # per minute: 20 a second
BATCH=10      # --batch: the most one batch may send
CONTACTS=600  # every 25th unsubscribed or bounced

pg_up
psql -X -q -v ON_ERROR_STOP=1 "$PGDSN" -1 -f "$T_TOP/sql/001_init.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 "$PGDSN" -1 -f "$T_TOP/sql/002_control.sql" >/dev/null

sql "
INSERT INTO contacts (email, attributes, status)
SELECT 'person' || g || '@example.test', jsonb_build_object('first_name', 'P' || g),
       CASE WHEN g % 50 = 0 THEN 'unsubscribed' WHEN g % 50 = 25 THEN 'bounced' ELSE 'active' END
  FROM generate_series(1, $CONTACTS) AS g;
INSERT INTO segments (id, name, rule) VALUES ('seg_all', 'everyone', 'true');
INSERT INTO segment_members (segment_id, contact_id) SELECT 'seg_all', id FROM contacts;
INSERT INTO campaigns (id, name, segment_id, current_revision, rate_limit_per_minute)
VALUES ('cmp_t', 'rate test', 'seg_all', 1, $RATE);
INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
VALUES ('cmp_t', 1, 'Shop <news@shop.test>', 'Hello {{first_name}}', 'Hi {{ first_name }}, a sale.');
INSERT INTO campaign_variants (campaign_id, revision, variant, split_percent, subject)
VALUES ('cmp_t', 1, 'A', 50, 'Variant A for {{first_name}}'), ('cmp_t', 1, 'B', 50, NULL);"
reachable=$(sql "SELECT count(*) FROM segment_members m JOIN contacts c ON c.id = m.contact_id
                  WHERE m.segment_id = 'seg_all' AND c.status = 'active'")
note "reachable members: $reachable of $CONTACTS"

MAILDIR=$T_TMP/mail
BK_PID=
URL=

# start_backend NAME [ARGS...]: a backend in the background, its port in $URL
start_backend() {
    local name=$1
    shift
    rm -f "$T_TMP/port"
    "$BK" --dsn "$PGDSN" --listen 127.0.0.1:0 --port-file "$T_TMP/port" --sink "maildir:$MAILDIR" \
        --batch "$BATCH" --seed 42 "$@" 2>>"$T_TMP/backend-$name.log" &
    BK_PID=$!
    defer "kill -TERM $BK_PID 2>/dev/null; wait $BK_PID"
    wait_for 10 test -s "$T_TMP/port" || { cat "$T_TMP/backend-$name.log" >&2; fail "backend $name wrote no port file"; }
    URL=http://127.0.0.1:$(cat "$T_TMP/port")
    wait_for 20 curl -fsS -o /dev/null --max-time 2 "$URL/ready" || fail "backend $name never became ready"
}

# stop_backend: SIGTERM and its exit status must be 0
stop_backend() {
    local rc=0
    kill -TERM "$BK_PID"
    wait "$BK_PID" || rc=$?
    eq "backend exit status after SIGTERM" "$rc" 0
}

# metric NAME: its value in /metrics (a bare name, no labels)
metric() {
    curl -fsS --max-time 5 "$URL/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

ledger() { sql "SELECT count(*) FROM deliveries WHERE campaign_id = 'cmp_t' $*"; }
status_is() { [ "$(sql "SELECT status FROM campaigns WHERE id = 'cmp_t'")" = "$1" ]; }
ledger_at_least() { [ "$(ledger)" -ge "$1" ]; }

start_backend 1
eq "emails_sent_total before launch" "$(metric emails_sent_total)" 0

# launch the way a console does: status, launched_at, version
sql "UPDATE campaigns SET status = 'active', launched_at = now(), version = version + 1 WHERE id = 'cmp_t'"

# rate: deliveries between two ledger timestamps, after a short warm-up
wait_for 20 ledger_at_least 20 || fail "nothing sent within 20 s of launch"
IFS='|' read -r c1 t1 < <(sql "SELECT count(*), extract(epoch FROM max(queued_at)) FROM deliveries WHERE campaign_id = 'cmp_t'")
sleep 10
IFS='|' read -r c2 t2 < <(sql "SELECT count(*), extract(epoch FROM max(queued_at)) FROM deliveries WHERE campaign_id = 'cmp_t'")
rate=$(awk -v a="$c1" -v b="$c2" -v s="$t1" -v e="$t2" 'BEGIN { printf "%.1f", (b - a) / (e - s) * 60 }')
note "measured $((c2 - c1)) deliveries in $(awk -v s="$t1" -v e="$t2" 'BEGIN { printf "%.2f", e - s }') s: $rate/min (limit $RATE/min)"
awk -v r="$rate" -v l="$RATE" 'BEGIN { exit !(r >= l * 0.9 && r <= l * 1.1) }' ||
    fail "send rate $rate/min is not within 10% of $RATE/min"

# pause: at most one more batch after the pause committed
sql "UPDATE campaigns SET status = 'paused', paused_at = now(), version = version + 1 WHERE id = 'cmp_t'"
p1=$(ledger)
sleep 2
p2=$(ledger)
note "at pause: $p1 deliveries; 2 s later: $p2"
[ $((p2 - p1)) -le "$BATCH" ] || fail "sent $((p2 - p1)) after the pause (more than one batch of $BATCH)"
[ "$p2" -lt "$reachable" ] || fail "the campaign finished before the pause; nothing left to test"

# the process counters agree with the ledger
sent1=$(ledger "AND status = 'sent'")
eq "emails_sent_total at pause" "$(metric emails_sent_total)" "$sent1"
eq "emails_bounced_total at pause" "$(metric emails_bounced_total)" "$(ledger "AND status = 'bounced'")"
eq "emails_failed_total at pause" "$(metric emails_failed_total)" "$(ledger "AND status = 'failed'")"

# restart while paused, then resume: it continues where it stopped
stop_backend
start_backend 2
sql "UPDATE campaigns SET status = 'active', version = version + 1 WHERE id = 'cmp_t'"
wait_for 90 status_is completed || fail "not completed within 90 s of resuming ($(ledger) of $reachable sent)"

eq "deliveries" "$(ledger)" "$reachable"
eq "distinct recipients" "$(sql "SELECT count(DISTINCT contact_id) FROM deliveries WHERE campaign_id = 'cmp_t'")" "$reachable"
eq "deliveries to suppressed contacts" \
    "$(sql "SELECT count(*) FROM deliveries d JOIN contacts c ON c.id = d.contact_id WHERE c.status <> 'active'")" 0
eq "completed_at set" "$(sql "SELECT completed_at IS NOT NULL FROM campaigns WHERE id = 'cmp_t'")" t
eq "audit row of the completion" \
    "$(sql "SELECT count(*) FROM audit_log WHERE campaign_id = 'cmp_t' AND action = 'complete'
              AND from_status = 'active' AND to_status = 'completed' AND to_version = from_version + 1
              AND os_user = 'marketing-demo-backend'")" 1
eq "audit version matches the campaign" \
    "$(sql "SELECT a.to_version = c.version FROM audit_log a JOIN campaigns c ON c.id = a.campaign_id
             WHERE a.action = 'complete'")" t
eq "variants are A, B or none" "$(ledger "AND variant IS NOT NULL AND variant NOT IN ('A', 'B')")" 0
[ "$(ledger "AND variant = 'A'")" -gt 0 ] && [ "$(ledger "AND variant = 'B'")" -gt 0 ] ||
    fail "the A/B split sent only one variant"

sent=$(ledger "AND status = 'sent'")
eq "emails_sent_total of the second process" "$(metric emails_sent_total)" $((sent - sent1))
eq "campaign_stats.sent (trigger)" "$(sql "SELECT sent FROM campaign_stats WHERE campaign_id = 'cmp_t'")" "$sent"
eq "messages in the maildir" "$(find "$MAILDIR/new" -type f | wc -l)" "$sent"
eq "messages left in maildir tmp/" "$(find "$MAILDIR/tmp" -type f | wc -l)" 0
grep -rqsE '^Hi P[0-9]+, a sale\.$' "$MAILDIR/new" || fail "no message body rendered {{ first_name }}"
grep -rqsE '^Subject: Variant A for P[0-9]+$' "$MAILDIR/new" || fail "no message used variant A's subject"

# opens and clicks land in the ledger and stay consistent with campaign_stats
eq "clicked without opened" "$(ledger "AND clicked_at IS NOT NULL AND opened_at IS NULL")" 0
# one statement, one snapshot: opens keep arriving meanwhile
eq "campaign_stats opened and clicked agree with the ledger (trigger)" \
    "$(sql "SELECT s.opened = count(d.opened_at) AND s.clicked = count(d.clicked_at)
              FROM campaign_stats s JOIN deliveries d ON d.campaign_id = s.campaign_id
             WHERE s.campaign_id = 'cmp_t' GROUP BY s.opened, s.clicked")" t
[ "$(ledger "AND opened_at IS NOT NULL")" -gt 0 ] || fail "no opens were simulated"

stop_backend
grep -q '"message":"campaign completed' "$T_TMP/backend-2.log" || fail "no completion log line"

# --- retry_failed: a paused campaign at revision 2 whose ledger already has
# every reachable member but a few. Contacts by id: % 20 = 3 failed at
# revision 1 (variant A when % 40 = 3, else none recorded), % 20 = 11 bounced,
# % 20 = 7 no delivery yet, the rest sent; plus a failed row for contact 50,
# unsubscribed since. No random failures or bounces in this backend.
sql "
INSERT INTO campaigns (id, name, segment_id, current_revision, rate_limit_per_minute, status, launched_at, paused_at)
VALUES ('cmp_r', 'retry test', 'seg_all', 2, 600, 'paused', now(), now());
INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
VALUES ('cmp_r', 1, 'Shop <news@shop.test>', 'First {{first_name}}', 'First body.'),
       ('cmp_r', 2, 'Shop <news@shop.test>', 'Second {{first_name}}', 'Second body for {{ first_name }}.');
INSERT INTO campaign_variants (campaign_id, revision, variant, split_percent, subject)
VALUES ('cmp_r', 1, 'A', 50, 'First A for {{first_name}}'), ('cmp_r', 1, 'B', 50, NULL),
       ('cmp_r', 2, 'A', 50, 'Second A for {{first_name}}'), ('cmp_r', 2, 'B', 50, NULL);
INSERT INTO deliveries (campaign_id, contact_id, revision, variant, status, sent_at, error)
SELECT 'cmp_r', c.id, 1,
       CASE WHEN c.id % 40 = 3 THEN 'A' WHEN c.id % 20 = 3 THEN NULL ELSE 'B' END,
       CASE c.id % 20 WHEN 3 THEN 'failed' WHEN 11 THEN 'bounced' ELSE 'sent' END,
       CASE WHEN c.id % 20 = 3 THEN NULL ELSE now() - interval '1 hour' END,
       CASE c.id % 20 WHEN 3 THEN '421 earlier failure' WHEN 11 THEN '550 earlier bounce' END
  FROM contacts c
 WHERE c.status = 'active' AND c.id % 20 <> 7;
INSERT INTO deliveries (campaign_id, contact_id, revision, status, error)
VALUES ('cmp_r', 50, 1, 'failed', '421 earlier failure');"
eq "contact 50 is suppressed" "$(sql "SELECT status FROM contacts WHERE id = 50")" unsubscribed

rledger() { sql "SELECT count(*) FROM deliveries WHERE campaign_id = 'cmp_r' $*"; }
retried="AND contact_id % 20 = 3"
new_ones="AND contact_id % 20 = 7"
nretry=$(rledger "$retried")
nnew=$(sql "SELECT count(*) FROM contacts WHERE status = 'active' AND id % 20 = 7")
[ "$nretry" -gt 0 ] && [ "$nnew" -gt 0 ] || fail "the retry scenario has nothing to retry or nothing new"
eq "cmp_r deliveries before the retry" "$(rledger)" $((reachable - nnew + 1))
cmp_t_before=$(sql "SELECT status, count(*) FROM deliveries WHERE campaign_id = 'cmp_t' GROUP BY 1 ORDER BY 1")
maildir_before=$(find "$MAILDIR/new" -type f | wc -l)

start_backend 3 --fail-prob 0 --bounce-prob 0
eq "requeued while paused" \
    "$(sql "SELECT outcome || ' ' || status || ' ' || (detail->>'requeued')
              FROM campaign_act(gen_random_uuid(), 'retry_failed', 'cmp_r', NULL, NULL, 'test', NULL, NULL, NULL)")" \
    "applied paused $((nretry + 1))"
eq "queued after retry_failed" "$(rledger "AND status = 'queued' AND error IS NULL")" $((nretry + 1))
eq "campaign_stats.queued after retry_failed (trigger)" \
    "$(sql "SELECT queued FROM campaign_stats WHERE campaign_id = 'cmp_r'")" $((nretry + 1))
eq "bounced rows left alone by retry_failed" "$(rledger "AND status = 'bounced'")" \
    "$(sql "SELECT count(*) FROM contacts WHERE status = 'active' AND id % 20 = 11")"
eq "cmp_r sent nothing while paused" "$(metric emails_sent_total)" 0

eq "resumed" "$(sql "SELECT outcome || ' ' || status
                       FROM campaign_act(gen_random_uuid(), 'resume', 'cmp_r', NULL, NULL, 'test', NULL, NULL, NULL)")" \
    "applied active"

# until it completes, every snapshot with the campaign completed has nothing queued
r_done() {
    local v
    v=$(sql "SELECT c.status, EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'queued')
               FROM campaigns c WHERE c.id = 'cmp_r'")
    [ "$v" != "completed|t" ] || fail "cmp_r completed while deliveries were still queued"
    [ "$v" = "completed|f" ]
}
wait_for 120 r_done ||
    fail "cmp_r not completed within 120 s of resuming ($(rledger "AND status = 'queued'") still queued)"

eq "retried rows now sent" "$(rledger "$retried AND status = 'sent' AND sent_at IS NOT NULL AND error IS NULL")" "$nretry"
eq "retried rows at the current revision" "$(rledger "$retried AND revision = 2")" "$nretry"
eq "retried rows keep variant A" "$(rledger "AND contact_id % 40 = 3 AND variant = 'A'")" \
    "$(sql "SELECT count(*) FROM contacts WHERE status = 'active' AND id % 40 = 3")"
eq "retried rows without a variant got one" "$(rledger "$retried AND variant IS NULL")" 0
eq "the suppressed contact's row" \
    "$(sql "SELECT status || ' ' || (sent_at IS NULL) || ' ' || error FROM deliveries WHERE campaign_id = 'cmp_r' AND contact_id = 50")" \
    "failed true not retried: the contact is unsubscribed"
eq "new deliveries" "$(rledger "$new_ones AND status = 'sent' AND revision = 2")" "$nnew"
eq "cmp_r deliveries" "$(rledger)" $((reachable + 1))
eq "cmp_r distinct recipients" "$(sql "SELECT count(DISTINCT contact_id) FROM deliveries WHERE campaign_id = 'cmp_r'")" \
    $((reachable + 1))
eq "cmp_r deliveries to other suppressed contacts" \
    "$(sql "SELECT count(*) FROM deliveries d JOIN contacts c ON c.id = d.contact_id
             WHERE d.campaign_id = 'cmp_r' AND c.status <> 'active' AND c.id <> 50")" 0
eq "untouched rows kept revision 1" \
    "$(rledger "AND contact_id % 20 NOT IN (3, 7) AND contact_id <> 50 AND (revision <> 1 OR sent_at > now() - interval '30 minutes')")" 0
eq "queued rows went before new members" \
    "$(sql "SELECT max(sent_at) FILTER (WHERE contact_id % 20 = 3) <= min(queued_at) FILTER (WHERE contact_id % 20 = 7)
              FROM deliveries WHERE campaign_id = 'cmp_r'")" t
eq "completed after the last retried send" \
    "$(sql "SELECT a.created_at >= (SELECT max(d.sent_at) FROM deliveries d WHERE d.campaign_id = 'cmp_r')
              FROM audit_log a WHERE a.campaign_id = 'cmp_r' AND a.action = 'complete'
               AND a.os_user = 'marketing-demo-backend' AND a.to_version = a.from_version + 1")" t
eq "campaign_stats of cmp_r (trigger)" \
    "$(sql "SELECT queued || ' ' || sent || ' ' || failed || ' ' || bounced FROM campaign_stats WHERE campaign_id = 'cmp_r'")" \
    "0 $(rledger "AND status = 'sent'") 1 $(rledger "AND status = 'bounced'")"
eq "cmp_t untouched" "$(sql "SELECT status, count(*) FROM deliveries WHERE campaign_id = 'cmp_t' GROUP BY 1 ORDER BY 1")" \
    "$cmp_t_before"
eq "emails_sent_total of the third process" "$(metric emails_sent_total)" $((nretry + nnew))
eq "emails_failed_total of the third process" "$(metric emails_failed_total)" 1
eq "messages added to the maildir" "$(find "$MAILDIR/new" -type f | wc -l)" $((maildir_before + nretry + nnew))
grep -rlsx 'To: person3@example.test' "$MAILDIR/new" | xargs grep -qsx 'Subject: Second A for P3' ||
    fail "the retried message to person3 is not revision 2's variant A"
stop_backend
grep -q '"message":"campaign completed' "$T_TMP/backend-3.log" || fail "no completion log line for cmp_r"
# under sanitizers (make asan): UBSan reports without failing the process
! grep -hE 'runtime error|Sanitizer' "$T_TMP"/backend-*.log >&2 || fail "sanitizer reports in the backend log"
! grep -hv '^{' "$T_TMP"/backend-*.log >&2 || fail "a log line that is not JSON"
echo "ok: rate $rate/min of $RATE/min, $reachable delivered once each; $nretry failed retried and sent"
