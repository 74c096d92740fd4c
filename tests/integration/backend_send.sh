#!/usr/bin/env bash
# The demo backend sends an active campaign at its rate limit, stops within
# one batch on pause, survives a restart while paused, resumes without a
# double send, skips suppressed contacts, and completes the campaign with an
# audit row. Rates are measured from the ledger's own timestamps.
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

# start_backend NAME: a backend in the background, its port in $URL
start_backend() {
    rm -f "$T_TMP/port"
    "$BK" --dsn "$PGDSN" --listen 127.0.0.1:0 --port-file "$T_TMP/port" --sink "maildir:$MAILDIR" \
        --batch "$BATCH" --seed 42 2>>"$T_TMP/backend-$1.log" &
    BK_PID=$!
    defer "kill -TERM $BK_PID 2>/dev/null; wait $BK_PID"
    wait_for 10 test -s "$T_TMP/port" || { cat "$T_TMP/backend-$1.log" >&2; fail "backend $1 wrote no port file"; }
    URL=http://127.0.0.1:$(cat "$T_TMP/port")
    wait_for 20 curl -fsS -o /dev/null --max-time 2 "$URL/ready" || fail "backend $1 never became ready"
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
# under sanitizers (make asan): UBSan reports without failing the process
! grep -hE 'runtime error|Sanitizer' "$T_TMP"/backend-*.log >&2 || fail "sanitizer reports in the backend log"
! grep -hv '^{' "$T_TMP"/backend-*.log >&2 || fail "a log line that is not JSON"
echo "ok: rate $rate/min of $RATE/min, $reachable delivered once each"
