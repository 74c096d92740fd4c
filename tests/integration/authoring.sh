#!/usr/bin/env bash
# Campaign authoring on a real cluster with the real demo backend:
# create from a file, edit (a new revision, version + 1, an audit row),
# editing refused while active and allowed once paused, two editors racing
# (one conflict naming the other, nothing overwritten), clone, preview, a
# test send delivered by the backend and counted nowhere else, A/B numbers
# against a hand-written aggregate and promote, hostile text stored and
# shown literally, bad files each with its message, read-only, and the
# same validation inside the database.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed to read the JSON output"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
BK=$T_BUILD/marketing-demo-backend
[ -x "$BK" ] || fail "$BK is missing; run 'make'"

while read -r v; do
    [ "$v" = MARKETING_BUILD ] || unset "$v"
done < <(compgen -e | grep '^MARKETING_' || true)
unset SSH_CLIENT SSH_CONNECTION PGOPTIONS PGAPPNAME
export XDG_CONFIG_HOME=$T_TMP/xdg HOME=$T_TMP/home
mkdir -p "$HOME"

pg_up
export MARKETING_DSN=$PGDSN
"$MKT" db migrate >/dev/null
ME=$(id -un)

# 2000 contacts with a first name; one test contact; a segment of them all
sql "
INSERT INTO contacts (email, attributes)
  SELECT 'au' || g || '@au.test', jsonb_build_object('first_name', 'P' || g, 'plan', 'pro')
    FROM generate_series(1, 2000) g;
INSERT INTO contacts (email, attributes) VALUES ('Tess@AU.test', '{\"first_name\": \"Tess\"}');
INSERT INTO segments (id, name, rule) VALUES ('seg_au', 'authoring', 'all');
INSERT INTO segment_members (segment_id, contact_id) SELECT 'seg_au', id FROM contacts;" >/dev/null
CONTACTS=$(sql "SELECT count(*) FROM contacts")

MAILDIR=$T_TMP/mail
"$BK" --dsn "$PGDSN" --listen 127.0.0.1:0 --port-file "$T_TMP/port" --sink "maildir:$MAILDIR" \
    --seed 7 --scan-ms 500 2>>"$T_TMP/backend.log" &
BK_PID=$!
defer "kill -TERM $BK_PID 2>/dev/null; wait $BK_PID"
wait_for 10 test -s "$T_TMP/port" || { cat "$T_TMP/backend.log" >&2; fail "the backend wrote no port file"; }
URL=http://127.0.0.1:$(cat "$T_TMP/port")
wait_for 20 curl -fsS -o /dev/null --max-time 2 "$URL/ready" || fail "the backend never became ready"
metric() { curl -fsS --max-time 5 "$URL/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'; }

# ---- helpers ----
run() {
    local n=$1
    shift
    rc=0
    "$MKT" "$@" >"$T_TMP/$n.out" 2>"$T_TMP/$n.err" </dev/null || rc=$?
}
out() { cat "$T_TMP/$1.out"; }
err() { cat "$T_TMP/$1.err"; }
expect_rc() { [ "$rc" = "$2" ] || fail "$1: exit $rc, want $2; stdout: $(out "$1"); stderr: $(err "$1")"; }
expect_err() { grep -qF -- "$2" "$T_TMP/$1.err" || fail "$1: stderr lacks '$2': $(err "$1")"; }
expect_out() { grep -qF -- "$2" "$T_TMP/$1.out" || fail "$1: stdout lacks '$2': $(out "$1")"; }
j() {
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print("null" if v is None else v)' "$1" "$2" || fail "no key $2 in $1: $(cat "$1")"
}
ver() { sql "SELECT version FROM campaigns WHERE id = '$1'"; }
ncampaigns() { sql "SELECT count(*) FROM campaigns"; }
# write FILE JSON-KEY=VALUE...: a campaign file from python literals
write() {
    local f=$1
    shift
    python3 - "$f" "$@" <<'PY'
import json, sys
o = {}
for kv in sys.argv[2:]:
    k, v = kv.split('=', 1)
    o[k] = json.loads(v)
json.dump(o, open(sys.argv[1], 'w'), indent=2)
PY
}

EVIL_NAME="Robert'); DROP TABLE contacts; -- \"quoted\" /* c */ ; x"
EVIL_SUBJECT="Hi {{first_name}}: '; DROP TABLE contacts; -- and \"more\""
EVIL_BODY="<p>Hello {{first_name}},</p><p>'; DELETE FROM campaigns; --</p><ul><li>one</li><li>two</li></ul><p><a href=\"https://shop.test/?a=1&amp;b=2\">Shop</a></p>"
EVIL_JSON=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$EVIL_NAME")

# ---- create from a file: hostile text stored and shown literally ----
write "$T_TMP/new.json" "name=$EVIL_JSON" 'segment_id="seg_au"' \
    "from=\"Shop <news@shop.test>\"" \
    "subject=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$EVIL_SUBJECT")" \
    "body=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$EVIL_BODY")" \
    'variants=[{"variant": "A", "split_percent": 60}, {"variant": "B", "split_percent": 40, "subject": "B for {{ first_name }}"}]' \
    'rate_limit_per_minute=600' 'send_at="2030-01-02 09:00 Europe/Berlin"' 'note="first draft"'
run create campaign create --from-file "$T_TMP/new.json" --json
expect_rc create 0
ID=$(j "$T_TMP/create.out" campaign_id)
eq "create outcome" "$(j "$T_TMP/create.out" outcome)" applied
eq "create version and revision" "$(j "$T_TMP/create.out" version) $(j "$T_TMP/create.out" revision)" "1 1"
eq "created row" "$(sql "SELECT status || ' ' || version || ' ' || current_revision || ' ' || rate_limit_per_minute || ' ' || to_char(send_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM campaigns WHERE id = '$ID'")" \
   "draft 1 1 600 2030-01-02 08:00"
eq "stored name, literally" "$(sql "SELECT name FROM campaigns WHERE id = '$ID'")" "$EVIL_NAME"
eq "stored subject, literally" "$(sql "SELECT subject FROM campaign_revisions WHERE campaign_id = '$ID'")" "$EVIL_SUBJECT"
eq "stored body, literally" "$(sql "SELECT body FROM campaign_revisions WHERE campaign_id = '$ID'")" "$EVIL_BODY"
eq "variants" "$(sql "SELECT string_agg(variant || split_percent || ':' || coalesce(subject, '-'), ' ' ORDER BY variant) FROM campaign_variants WHERE campaign_id = '$ID'")" \
   "A60:- B40:B for {{ first_name }}"
eq "create audit row" "$(sql "SELECT action || ' ' || coalesce(from_status, '-') || '>' || to_status || ' v' || to_version || ' r' || revision || ' ' || os_user || ' ' || note
                               FROM audit_log WHERE request_id = '$(j "$T_TMP/create.out" request_id)'")" \
   "create ->draft v1 r1 $ME first draft"
eq "contacts intact" "$(sql "SELECT count(*) FROM contacts")" "$CONTACTS"
run show campaign show "$ID"
expect_rc show 0
grep -qxF "name           $EVIL_NAME" "$T_TMP/show.out" || fail "campaign show: the name is not shown literally: $(out show)"
run show_json campaign show "$ID" --json
eq "campaign show --json name" "$(j "$T_TMP/show_json.out" name)" "$EVIL_NAME"

# preview: the test contact's first name, HTML as text, both variants
run preview campaign preview "$ID" --contact tess@au.test
expect_rc preview 0
expect_out preview "Subject: Hi Tess: '; DROP TABLE contacts; -- and \"more\""
expect_out preview "Subject: B for Tess"
expect_out preview "--- variant B (40%) ---"
python3 - "$T_TMP/preview.out" <<'PY' || fail "preview body: $(out preview)"
import sys
t = open(sys.argv[1]).read()
want = "  Hello Tess,\n\n  '; DELETE FROM campaigns; --\n\n  - one\n  - two\n\n  Shop (https://shop.test/?a=1&b=2)\n"
assert want in t, t
PY
run preview_b campaign preview "$ID" --variant C
expect_rc preview_b 1
expect_err preview_b "has no variant C"

# ---- edit: a new revision, version + 1, an audit row; the old one kept ----
write "$T_TMP/edit.json" 'version=1' 'subject="Second {{first_name}}"' 'note="better subject"'
run edit campaign edit "$ID" --from-file "$T_TMP/edit.json" --json
expect_rc edit 0
eq "edit outcome" "$(j "$T_TMP/edit.out" outcome) v$(j "$T_TMP/edit.out" version) r$(j "$T_TMP/edit.out" revision)" "applied v2 r2"
eq "edit changed" "$(j "$T_TMP/edit.out" changed)" "['subject']"
eq "revisions after edit" "$(sql "SELECT string_agg(revision || ':' || subject || ':' || coalesce(note, '-'), ' | ' ORDER BY revision) FROM campaign_revisions WHERE campaign_id = '$ID'")" \
   "1:$EVIL_SUBJECT:first draft | 2:Second {{first_name}}:better subject"
eq "variants carried into revision 2" "$(sql "SELECT count(*) FROM campaign_variants WHERE campaign_id = '$ID' AND revision = 2")" 2
eq "edit audit row" "$(sql "SELECT action || ' ' || from_status || '>' || to_status || ' v' || from_version || '>' || to_version || ' r' || revision || ' ' || (details->>'previous_revision')
                             FROM audit_log WHERE request_id = '$(j "$T_TMP/edit.out" request_id)'")" "edit draft>draft v1>2 r2 1"
# without "version": the current one, and it says so
write "$T_TMP/edit_nover.json" 'rate_limit_per_minute=900'
run edit_nover campaign edit "$ID" --from-file "$T_TMP/edit_nover.json"
expect_rc edit_nover 0
expect_err edit_nover "has no \"version\": saving over version 2 of $ID (draft)"
expect_out edit_nover "Campaign saved: $ID has revision 3 (version 3, draft); changed: rate_limit_per_minute"
# a stale version: a conflict naming who changed it, nothing saved
run edit_stale campaign edit "$ID" --from-file "$T_TMP/edit.json"
expect_rc edit_stale 3
expect_err edit_stale "Conflict: $ID was changed by $ME as postgres"
expect_err edit_stale "(version 3, you saw 1). Nothing was saved"
eq "revisions after a stale edit" "$(sql "SELECT count(*) FROM campaign_revisions WHERE campaign_id = '$ID'")" 3

# ---- editing is refused while active; allowed once paused ----
run launch launch "$ID" --yes
expect_rc launch 0
eq "launched" "$(sql "SELECT status FROM campaigns WHERE id = '$ID'")" scheduled
# send_at is in 2030: scheduled. Bring it forward so it is active, through an edit first
write "$T_TMP/now.json" 'send_at=null'
run edit_sched_null campaign edit "$ID" --from-file "$T_TMP/now.json"
expect_rc edit_sched_null 3
expect_err edit_sched_null "send_at: a scheduled campaign needs one"
write "$T_TMP/soon.json" 'send_at="2000-01-01T00:00:00Z"'
run edit_sched campaign edit "$ID" --from-file "$T_TMP/soon.json"
expect_rc edit_sched 0
# the backend promotes it (send_at reached) and sends
wait_for 30 test "$(sql "SELECT status FROM campaigns WHERE id = '$ID'")" = active ||
    fail "the backend never promoted $ID: $(sql "SELECT status FROM campaigns WHERE id = '$ID'")"
v=$(ver "$ID")
write "$T_TMP/active.json" 'subject="Edited while active"'
run edit_active campaign edit "$ID" --from-file "$T_TMP/active.json" --json
expect_rc edit_active 3
eq "edit while active" "$(j "$T_TMP/edit_active.out" outcome)" invalid
grep -qF "it is active: pause it first" "$T_TMP/edit_active.out" || fail "edit while active: $(out edit_active)"
if [ "$(ver "$ID")" != "$v" ]; then
    # the backend may complete or bump it meanwhile; the refusal is what counts
    note "version moved from $v to $(ver "$ID") (the backend)"
fi
eq "no revision while active" "$(sql "SELECT count(*) FROM campaign_revisions WHERE subject = 'Edited while active'")" 0
run pause pause "$ID" --yes
expect_rc pause 0
run edit_paused campaign edit "$ID" --from-file "$T_TMP/active.json" --json
expect_rc edit_paused 0
eq "edit once paused" "$(j "$T_TMP/edit_paused.out" status) $(j "$T_TMP/edit_paused.out" revision)" "paused 5"
eq "current subject" "$(sql "SELECT r.subject FROM campaigns c JOIN campaign_revisions r ON r.campaign_id = c.id AND r.revision = c.current_revision WHERE c.id = '$ID'")" \
   "Edited while active"
# what was sent stays recorded under the revision it was sent with
eq "deliveries of revision 5" "$(sql "SELECT count(*) FROM deliveries WHERE campaign_id = '$ID' AND revision = 5")" 0

# ---- two editors race: exactly one applies, the other is told who ----
v=$(ver "$ID")
write "$T_TMP/race1.json" "version=$v" 'subject="Editor one"'
write "$T_TMP/race2.json" "version=$v" 'subject="Editor two"'
r1=0 r2=0
"$MKT" campaign edit "$ID" --from-file "$T_TMP/race1.json" --note one >"$T_TMP/race1.out" 2>"$T_TMP/race1.err" </dev/null &
p1=$!
"$MKT" campaign edit "$ID" --from-file "$T_TMP/race2.json" --note two >"$T_TMP/race2.out" 2>"$T_TMP/race2.err" </dev/null &
p2=$!
wait $p1 || r1=$?
wait $p2 || r2=$?
eq "exit statuses of two racing edits" "$(printf '%s\n' "$r1" "$r2" | sort | tr '\n' ' ')" "0 3 "
eq "version after the race" "$(ver "$ID")" $((v + 1))
winner=$([ "$r1" = 0 ] && echo one || echo two)
loser=$([ "$r1" = 0 ] && echo two || echo one)
n=$([ "$r1" = 0 ] && echo 2 || echo 1)
grep -qF "Conflict: $ID was changed by $ME as postgres" "$T_TMP/race$n.err" || fail "the loser was not told who: $(cat "$T_TMP/race$n.err")"
eq "the winner's subject is current" "$(sql "SELECT r.subject FROM campaigns c JOIN campaign_revisions r ON r.campaign_id = c.id AND r.revision = c.current_revision WHERE c.id = '$ID'")" \
   "Editor $winner"
eq "the loser's subject is nowhere" "$(sql "SELECT count(*) FROM campaign_revisions WHERE subject = 'Editor $loser'")" 0
eq "edit rows for the race" "$(sql "SELECT count(*) FROM audit_log WHERE campaign_id = '$ID' AND action = 'edit' AND from_version = $v")" 1

# ---- clone ----
run clone campaign clone "$ID" --name "Clone of it" --json
expect_rc clone 0
CL=$(j "$T_TMP/clone.out" campaign_id)
[ "$CL" != "$ID" ] || fail "clone kept the id"
eq "clone row" "$(sql "SELECT name || ' ' || status || ' ' || version || ' ' || current_revision || ' ' || segment_id || ' ' || (send_at IS NULL) FROM campaigns WHERE id = '$CL'")" \
   "Clone of it draft 1 1 seg_au true"
eq "clone content" "$(sql "SELECT subject || ' ' || (body = \$\$$EVIL_BODY\$\$) FROM campaign_revisions WHERE campaign_id = '$CL'")" "Editor $winner true"
eq "clone variants" "$(sql "SELECT string_agg(variant || split_percent, ' ' ORDER BY variant) FROM campaign_variants WHERE campaign_id = '$CL'")" "A60 B40"
eq "clone audit row" "$(sql "SELECT action || ' ' || (details->>'cloned_from') FROM audit_log WHERE campaign_id = '$CL'")" "clone $ID"
run clone_default campaign clone "$ID" --json
expect_rc clone_default 0
eq "default clone name" "$(sql "SELECT name FROM campaigns WHERE id = '$(j "$T_TMP/clone_default.out" campaign_id)'")" "Copy of $EVIL_NAME"

# ---- a test send: delivered by the backend, counted nowhere else ----
# nothing else sends meanwhile: the campaign above is paused
# (a batch that the pause waited for is counted just after its commit)
steady() { local a; a=$(metric emails_sent_total); sleep 0.5; [ "$a" = "$(metric emails_sent_total)" ]; }
wait_for 20 steady || fail "emails_sent_total keeps moving with nothing active"
sent0=$(metric emails_sent_total)
test0=$(metric emails_test_sent_total)
led0=$(sql "SELECT count(*) || ' ' || md5(string_agg(id || status, ',' ORDER BY id)) FROM deliveries")
stats0=$(sql "SELECT md5(string_agg(campaign_id || queued || sent || failed || bounced, ',' ORDER BY campaign_id)) FROM campaign_stats")
run ts campaign test-send "$CL" --to tess@au.test --variant B --json
expect_rc ts 0
TS1=$(j "$T_TMP/ts.out" test_delivery_id)
run ts2 campaign test-send "$CL" --to stranger@elsewhere.test
expect_rc ts2 0
expect_out ts2 "Test send queued: #"
expect_out ts2 "it is not a campaign send"
wait_for 30 test "$(sql "SELECT count(*) FROM test_deliveries WHERE campaign_id = '$CL' AND status = 'sent'")" = 2 ||
    fail "the backend did not send the test deliveries: $(sql "SELECT id, status, error FROM test_deliveries") $(tail -n 5 "$T_TMP/backend.log")"
eq "sent_at set" "$(sql "SELECT count(*) FROM test_deliveries WHERE sent_at IS NOT NULL AND campaign_id = '$CL'")" 2
wait_for 10 test "$(metric emails_test_sent_total)" = $((test0 + 2)) || fail "emails_test_sent_total: $(metric emails_test_sent_total), want $((test0 + 2))"
eq "emails_sent_total unchanged" "$(metric emails_sent_total)" "$sent0"
eq "deliveries unchanged" "$(sql "SELECT count(*) || ' ' || md5(string_agg(id || status, ',' ORDER BY id)) FROM deliveries")" "$led0"
eq "campaign_stats unchanged" "$(sql "SELECT md5(string_agg(campaign_id || queued || sent || failed || bounced, ',' ORDER BY campaign_id)) FROM campaign_stats")" "$stats0"
eq "test send audit row" "$(sql "SELECT action || ' ' || (details->>'address') FROM audit_log WHERE request_id = '$(j "$T_TMP/ts.out" request_id)'")" "test_send tess@au.test"
msg=$(grep -l "Message-ID: <t$TS1\." "$MAILDIR"/new/* 2>/dev/null | head -n 1)
[ -n "$msg" ] || fail "no message for test delivery $TS1 in $MAILDIR/new"
grep -qx "Subject: B for Tess" "$msg" || fail "the test send is not rendered for Tess: $(cat "$msg")"
grep -qx "X-Test-Send: yes" "$msg" || fail "the test send is not marked: $(cat "$msg")"
grep -qx "X-Variant: B" "$msg" || fail "the test send lost its variant: $(cat "$msg")"
msg2=$(grep -l "^To: stranger@elsewhere.test" "$MAILDIR"/new/* | head -n 1)
[ -n "$msg2" ] || fail "no message to stranger@elsewhere.test"
grep -qx "Subject: Editor $winner" "$msg2" || fail "the stranger's subject: $(grep Subject "$msg2")"
grep -qF "<p>Hello ,</p>" "$msg2" || fail "no contact: empty attributes: $(tail -n 3 "$msg2")"
run ts_bad campaign test-send "$CL" --to 'not an address'
expect_rc ts_bad 3
expect_err ts_bad "not an email address"
run ts_var campaign test-send "$CL" --to tess@au.test --variant D
expect_rc ts_var 3
expect_err ts_var "has no variant D"

# ---- A/B: numbers against a hand-written aggregate, then promote ----
sql "
BEGIN;
INSERT INTO campaigns (id, name, segment_id, status, version, current_revision, launched_at, paused_at)
  VALUES ('cmp_ab', 'A/B fixture', 'seg_au', 'paused', 3, 1, now(), now());
INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
  VALUES ('cmp_ab', 1, 'ab@shop.test', 'Base subject', 'Base body');
INSERT INTO campaign_variants (campaign_id, revision, variant, split_percent, subject, body)
  VALUES ('cmp_ab', 1, 'A', 50, 'Subject A', NULL), ('cmp_ab', 1, 'B', 50, NULL, 'Body B');
COMMIT;
INSERT INTO deliveries (campaign_id, contact_id, revision, variant, status, sent_at, opened_at, clicked_at)
  SELECT 'cmp_ab', id, 1, CASE WHEN rn <= 1000 THEN 'A' ELSE 'B' END,
         CASE WHEN rn % 97 = 0 THEN 'bounced' ELSE 'sent' END, now(),
         CASE WHEN rn % 97 <> 0 AND ((rn <= 1000 AND rn % 5 < 2) OR (rn > 1000 AND rn % 20 < 9)) THEN now() END,
         CASE WHEN rn % 97 <> 0 AND ((rn <= 1000 AND rn % 5 = 0) OR (rn > 1000 AND rn % 4 = 0)) THEN now() END
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM contacts WHERE email LIKE 'au%@au.test') k;" >/dev/null
run ab campaign ab cmp_ab --json
expect_rc ab 0
sql "SELECT variant, count(*) FILTER (WHERE status = 'sent'),
            count(*) FILTER (WHERE status = 'sent' AND opened_at IS NOT NULL),
            count(*) FILTER (WHERE status = 'sent' AND clicked_at IS NOT NULL)
       FROM deliveries WHERE campaign_id = 'cmp_ab' GROUP BY variant ORDER BY variant" >"$T_TMP/ab.sql"
python3 - "$T_TMP/ab.out" "$T_TMP/ab.sql" <<'PY' || fail "campaign ab: $(out ab); by hand: $(cat "$T_TMP/ab.sql")"
import json, math, sys
o = json.load(open(sys.argv[1]))
hand = {}
for line in open(sys.argv[2]):
    v, s, op, cl = line.strip().split('|')
    hand[v] = (int(s), int(op), int(cl))
got = {r['variant']: (r['sent'], r['opened'], r['clicked']) for r in o['variants']}
assert got == hand, (got, hand)
# the leader has the higher click rate; z and p as a pooled test computes them
(sa, oa, ca), (sb, ob, cb) = hand['A'], hand['B']
assert cb / sb > ca / sa
assert o['leader'] == 'B', o
def z(x1, n1, x2, n2):
    p = (x1 + x2) / (n1 + n2)
    zz = (x1 / n1 - x2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return zz, math.erfc(abs(zz) / math.sqrt(2))
a = [r for r in o['variants'] if r['variant'] == 'A'][0]
zc, pc = z(cb, sb, ca, sa)
zo, po = z(ob, sb, oa, sa)
assert abs(a['z_click'] - zc) < 1e-9 and abs(a['p_click'] - pc) < 1e-12, (a, zc, pc)
assert abs(a['z_open'] - zo) < 1e-9 and abs(a['p_open'] - po) < 1e-12, (a, zo, po)
assert abs(a['click_rate'] - ca / sa) < 1e-12
assert o['significant'] is (pc < 0.05), o
assert o['verdict'].startswith('B wins'), o['verdict']
PY
run ab_txt campaign ab cmp_ab
expect_rc ab_txt 0
expect_out ab_txt "verdict: B wins"
grep -q '^B .* leader$' "$T_TMP/ab_txt.out" || fail "campaign ab: no leader row: $(out ab_txt)"
led_ab=$(sql "SELECT md5(string_agg(contact_id || variant || revision || status, ',' ORDER BY contact_id)) FROM deliveries WHERE campaign_id = 'cmp_ab'")
run promote campaign promote cmp_ab --variant B --yes --json
expect_rc promote 0
eq "promote" "$(j "$T_TMP/promote.out" outcome) v$(j "$T_TMP/promote.out" version) r$(j "$T_TMP/promote.out" revision) $(j "$T_TMP/promote.out" status)" "applied v4 r2 paused"
eq "promoted content" "$(sql "SELECT subject || '|' || body FROM campaign_revisions WHERE campaign_id = 'cmp_ab' AND revision = 2")" "Base subject|Body B"
eq "no variants left" "$(sql "SELECT count(*) FROM campaign_variants WHERE campaign_id = 'cmp_ab' AND revision = 2")" 0
eq "deliveries keep their variant" "$(sql "SELECT md5(string_agg(contact_id || variant || revision || status, ',' ORDER BY contact_id)) FROM deliveries WHERE campaign_id = 'cmp_ab'")" "$led_ab"
eq "promote audit row" "$(sql "SELECT action || ' ' || (details->>'promoted') || ' v' || from_version || '>' || to_version FROM audit_log WHERE campaign_id = 'cmp_ab'")" "promote B v3>4"
run promote_again campaign promote cmp_ab --variant B --yes
expect_rc promote_again 3
expect_err promote_again "revision 2 is not an A/B test"
run promote_tty campaign promote cmp_ab --variant A
expect_rc promote_tty 2
expect_err promote_tty "pass --yes"

# ---- bad files: each says what is wrong, naming the field; nothing saved ----
n0=$(ncampaigns)
bad() {
    local name=$1 want=$2
    shift 2
    write "$T_TMP/$name.json" "$@"
    run "$name" campaign create --from-file "$T_TMP/$name.json" --json
    expect_rc "$name" 2
    expect_err "$name" "$want"
    python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["outcome"] == "invalid" and any(p["message"] == sys.argv[2] for p in o["problems"]), o' \
        "$T_TMP/$name.out" "$want" || fail "$name: JSON: $(out "$name")"
}
GOOD=('name="ok"' 'segment_id="seg_au"' 'from="a@shop.test"' 'subject="s"' 'body="b"')
bad bad_unknown "colour: unknown field (name, type, segment_id, from, subject, body, variants, rate_limit_per_minute, send_at, note, version)" \
    "${GOOD[@]}" 'colour="red"'
bad bad_type "rate_limit_per_minute: must be a whole number, not a string" "${GOOD[@]}" 'rate_limit_per_minute="fast"'
bad bad_split "variants: splits add up to 90, not 100" "${GOOD[@]}" \
    'variants=[{"variant": "A", "split_percent": 50}, {"variant": "B", "split_percent": 40}]'
bad bad_segment "segment_id: there is no segment seg_nope" 'name="ok"' 'segment_id="seg_nope"' \
    'from="a@shop.test"' 'subject="s"' 'body="b"'
bad bad_placeholder "body: {{frist_name}} is not an attribute of any recipient; did you mean first_name?" \
    'name="ok"' 'segment_id="seg_au"' 'from="a@shop.test"' 'subject="s"' 'body="Hi {{frist_name}}"'
bad bad_zone "send_at: needs a time zone (\"2026-12-01 09:00 Europe/Berlin\", \"...+01:00\" or \"...Z\")" \
    "${GOOD[@]}" 'send_at="2026-12-01 09:00"'
bad bad_missing "subject: missing" 'name="ok"' 'segment_id="seg_au"' 'from="a@shop.test"' 'body="b"'
printf '{"name": "x",' >"$T_TMP/bad_syntax.json"
run bad_syntax campaign create --from-file "$T_TMP/bad_syntax.json"
expect_rc bad_syntax 2
expect_err bad_syntax "file: line 1"
run bad_nofile campaign create --from-file "$T_TMP/nope.json"
expect_rc bad_nofile 2
expect_err bad_nofile "cannot read"
run bad_usage campaign edit --from-file "$T_TMP/edit.json"
expect_rc bad_usage 2
eq "no campaign from a bad file" "$(ncampaigns)" "$n0"

# ---- read-only: refused before the database ----
for c in "create --from-file $T_TMP/new.json" "edit $ID --from-file $T_TMP/edit.json" "clone $ID" \
         "test-send $ID --to tess@au.test" "promote $ID --variant A --yes"; do
    # shellcheck disable=SC2086 # words on purpose
    run ro --read-only campaign $c --json
    expect_rc ro 4
    expect_err ro "read-only"
    eq "read-only JSON ($c)" "$(j "$T_TMP/ro.out" outcome)" denied
done
# a database role that may only read: the server refuses, exit 4
sql "CREATE ROLE mkt_ro LOGIN; GRANT USAGE ON SCHEMA public TO mkt_ro;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO mkt_ro;" >/dev/null
RO_DSN=${PGDSN/user=postgres/user=mkt_ro}
[ "$RO_DSN" != "$PGDSN" ] || fail "cannot make a DSN for another role from '$PGDSN'"
run role_create --dsn "$RO_DSN" campaign create --from-file "$T_TMP/new.json"
expect_rc role_create 4
expect_err role_create "Not permitted to create a campaign"
run role_test --dsn "$RO_DSN" campaign test-send "$ID" --to tess@au.test
expect_rc role_test 4
run role_preview --dsn "$RO_DSN" campaign preview "$ID"
expect_rc role_preview 0
eq "read-only changed nothing" "$(ncampaigns)" "$n0"
run ro_ab --read-only campaign ab cmp_ab
expect_rc ro_ab 0

# ---- the database checks the same, whoever calls it ----
eq "SQL validation" "$(sql "SELECT outcome || ' ' || (detail->'problems')::text FROM campaign_save(gen_random_uuid(), NULL, NULL,
        '{\"name\": \"\", \"segment_id\": \"seg_au\", \"from\": 1, \"subject\": \"s\", \"body\": \"b\", \"x\": 1,
          \"variants\": [{\"variant\": \"A\", \"split_percent\": 0}, {\"variant\": \"B\", \"split_percent\": 90}]}',
        NULL, NULL, NULL, NULL)")" \
   'invalid ["x: unknown field", "name: empty", "from: must be a string, not number", "variants[0].split_percent: 0 is outside 1 to 100", "variants: splits add up to 90, not 100"]'
RID=00000000-0000-4000-8000-0000000000aa
first=$(sql "SELECT outcome || ' ' || campaign_id FROM campaign_save('$RID', NULL, NULL, campaign_fields('$CL'), 'x', NULL, NULL, NULL)")
again=$(sql "SELECT outcome || ' ' || campaign_id FROM campaign_save('$RID', NULL, NULL, campaign_fields('$CL'), 'x', NULL, NULL, NULL)")
eq "a replayed create" "${again%% *} ${again#* }" "replayed ${first#* }"
eq "one campaign for one request id" "$(sql "SELECT count(*) FROM audit_log WHERE request_id = '$RID'")" 1
eq "contacts intact at the end" "$(sql "SELECT count(*) FROM contacts")" "$CONTACTS"
echo ok
