#!/usr/bin/env bash
# The seed's whole control flow in the real console over the demo stack:
# a draft campaign is found with the filter, launched after its pre-flight
# check, sends, is paused (and the backend stops within the batch it was
# in), resumed, completes with exactly one delivery per reachable member,
# and is rolled back; the detail view shows the new revision and
# 'marketing recipients --csv' lists who got the superseded content.
. "$(dirname "$0")/../lib.sh"
stack_up

# --- a small dedicated campaign, so the flow is quick and its own ---------
# ~300 members, 600/min while it is launched and paused (it stays mid-send
# for half a minute whatever the load), faster only once it is paused.
seg=$(sql "SELECT 'seg_' || nextval('segment_id_seq')")
id=$(sql "SELECT 'cmp_' || nextval('campaign_id_seq')")
name="E2E control flow $id"
sql "BEGIN;
     INSERT INTO segments (id, name, rule) VALUES ('$seg', 'E2E control segment', 'first 300 contacts');
     INSERT INTO segment_members (segment_id, contact_id)
          SELECT '$seg', id FROM contacts ORDER BY id LIMIT 300;
     UPDATE segments SET size = 300, refreshed_at = now(),
            reachable = (SELECT count(*) FROM segment_members m JOIN contacts k ON k.id = m.contact_id
                          WHERE m.segment_id = '$seg' AND k.status = 'active')
      WHERE id = '$seg';
     INSERT INTO campaigns (id, name, segment_id, rate_limit_per_minute, current_revision)
          VALUES ('$id', '$name', '$seg', 600, 1);
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
          VALUES ('$id', 1, 'ACME <news@acme.example>', 'First draft', 'Hello {{email}}: the first draft.');
     COMMIT" >/dev/null
# revision 2, an edit made before the launch: every delivery is of revision 2
sql "BEGIN;
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body, note)
          VALUES ('$id', 2, 'ACME <news@acme.example>', 'Second draft', 'Hello {{email}}: the second draft.', 'e2e edit');
     UPDATE campaigns SET current_revision = 2, version = version + 1, updated_at = now() WHERE id = '$id';
     COMMIT" >/dev/null
reach=$(sql "SELECT count(*) FROM segment_members m JOIN contacts k ON k.id = m.contact_id
             WHERE m.segment_id = '$seg' AND k.status = 'active'")
[ "$reach" -gt 100 ] || fail "the dedicated segment has only $reach reachable members"
note "campaign $id, $reach reachable members"
delivered() { sql "SELECT count(*) FROM deliveries WHERE campaign_id = '$id'"; }
status() { sql "SELECT status FROM campaigns WHERE id = '$id'"; }
audits() { sql "SELECT count(*) FROM audit_log WHERE campaign_id = '$id'"; }

console_start 160 38
expect_screen 15 "^ Campaigns  [0-9]+  sort: status"

# --- find it with the filter and launch it with L ---------------------------
keys /
keys -l "$name"
keys Enter
expect_screen 5 "Campaigns  1 of [0-9]+  sort: status  filter: $name"
expect_screen 5 "^>$id +E2E control flow .* draft "
keys L
expect_screen 10 "Launch $id \"$name\"\?"
# the pre-flight check: audience, content, rate, alerts; then y may confirm
expect_screen 20 "y confirms, n or Esc cancels"
expect_screen 2 "ok +Audience: $reach reachable of 300 in $seg"
expect_screen 2 "ok +Content renders: \{\{email\}\} resolves for every recipient"
expect_screen 2 "ok +Rate limit 600/min"
keys y
expect_screen 15 "Campaign launched: $id, audience $reach \(version 3\)"
eq "status after the launch" "$(status)" active
eq "audience stored at the launch" "$(sql "SELECT audience FROM campaigns WHERE id = '$id'")" "$reach"

# --- it sends: the ledger grows, and so does the SENT column ---------------
wait_for 60 bash -c "[ \$(psql -X -At '$PGDSN' -c \"SELECT count(*) FROM deliveries WHERE campaign_id = '$id'\") -ge 10 ]" ||
    fail "the backend did not start sending $id (deliveries: $(delivered))"
expect_screen 20 "^>$id .* active .* [1-9][0-9]*/$reach "
# SENT/AUD on screen: the sent count of the row
screen_sent() { screen | grep -E "^>$id " | grep -oE " [0-9]+/$reach " | cut -d/ -f1 | tr -d ' '; }
s1=$(screen_sent)
wait_for 30 bash -c "[ \"\$(tmux -S '$T_TMUX' capture-pane -p -t c | grep -E '^>$id ' | grep -oE ' [0-9]+/$reach ' | cut -d/ -f1 | tr -d ' ')\" -gt $s1 ]" ||
    { screen >&2; fail "the SENT column of $id stayed at $s1"; }

# --- pause it from the command line ------------------------------------------
before=$(audits)
keys :
keys -l "pause $id"
keys Enter
expect_screen 5 "Pause $id \"$name\"\?"
expect_screen 2 "It is active, version 3\."
keys y
expect_screen 15 "Campaign paused: $id is paused \(version 4\)"
eq "status after the pause" "$(status)" paused
eq "audit rows added by the pause" "$(($(audits) - before))" 1
paused_at=$(sql "SELECT created_at FROM audit_log WHERE campaign_id = '$id' AND action = 'pause'")
n_paused=$(delivered)
[ "$n_paused" -lt "$reach" ] || fail "$id had already sent to everyone ($n_paused) when it was paused"
note "paused after $n_paused deliveries"
# At most the one batch that held its lock when the pause came: a batch
# is one transaction, so its rows share one queued_at (its now()).
late=$(sql "SELECT count(DISTINCT queued_at) FROM deliveries
             WHERE campaign_id = '$id' AND queued_at > '$paused_at'")
[ "$late" -le 1 ] || fail "$late batches of $id began after the pause at $paused_at"
# the backend heard it ...
wait_for 30 grep -q "\"message\":\"campaign left the send set\",\"context\":{\"campaign_id\":\"$id\"" \
    "$MARKETING_DEMO_DIR/backend.log" || fail "the backend never dropped $id from its send set"
# ... and the ledger stands still: the pause committed after the last batch
sleep 3
eq "deliveries of $id while paused" "$(delivered)" "$n_paused"
late=$(sql "SELECT count(DISTINCT queued_at) FROM deliveries
             WHERE campaign_id = '$id' AND queued_at > '$paused_at'")
[ "$late" -le 1 ] || fail "$late batches of $id began after the pause at $paused_at"
# the screen agrees: paused, and the sent count the ledger has
n_sent=$(sql "SELECT sent FROM campaign_stats WHERE campaign_id = '$id'")
expect_screen 10 "^>$id .* paused .* $n_sent/$reach "

# faster for the rest (an edit by hand, heard by the console at once): the
# detail view shows the new limit, so the resume confirms the fresh version
sql "UPDATE campaigns SET rate_limit_per_minute = 6000, version = version + 1, updated_at = now()
      WHERE id = '$id'" >/dev/null
keys Enter
expect_screen 5 "Campaign details"
expect_screen 15 "^Rate .*\(limit 6000/min\)"
expect_screen 5 "^Changed .*\(version 5\)"
keys Escape
expect_screen 5 "^>$id "

# --- resume with R; it completes, once per reachable member -----------------
keys R
expect_screen 5 "Resume $id \"$name\"\?"
expect_screen 2 "It is paused, version 5\."
keys y
expect_screen 15 "Campaign resumed: $id is active \(version 6\)"
wait_for 120 bash -c "[ \"\$(psql -X -At '$PGDSN' -c \"SELECT status FROM campaigns WHERE id = '$id'\")\" = completed ]" ||
    fail "$id did not complete (status $(status), $(delivered) of $reach deliveries)"
eq "deliveries, distinct contacts, reachable members" \
    "$(sql "SELECT count(*) || ' ' || count(DISTINCT contact_id) FROM deliveries WHERE campaign_id = '$id'") $reach" \
    "$reach $reach $reach"
eq "deliveries to anyone but a reachable member" \
    "$(sql "SELECT count(*) FROM deliveries d WHERE d.campaign_id = '$id' AND NOT EXISTS (
                SELECT 1 FROM segment_members m JOIN contacts k ON k.id = m.contact_id
                 WHERE m.segment_id = '$seg' AND m.contact_id = d.contact_id AND k.status = 'active')")" 0
eq "revisions delivered" "$(sql "SELECT string_agg(DISTINCT revision::text, ',') FROM deliveries WHERE campaign_id = '$id'")" 2
eq "deliveries still queued" "$(sql "SELECT count(*) FROM deliveries WHERE campaign_id = '$id' AND status = 'queued'")" 0
expect_screen 15 "^>$id .* completed "

# --- roll back to revision 1 ----------------------------------------------------
got=$(sql "SELECT count(*) FROM deliveries WHERE campaign_id = '$id' AND status IN ('sent', 'bounced')")
version=$(sql "SELECT version FROM campaigns WHERE id = '$id'")
keys :
keys -l "rollback $id 1"
keys Enter
expect_screen 5 "Roll back $id \"$name\"\?"
expect_screen 2 "It is completed, version $version\."
expect_screen 2 "To revision 1 \(now 2\), as a new revision\. \+/- picks another\."
keys y
expect_screen 15 "Campaign rolled back: $id now has revision 3, a copy of revision 1 \(version $((version + 1)))\. Sent mail cannot be recalled: $got recipients got other content"
eq "after the rollback (status, revision)" "$(sql "SELECT status || ' ' || current_revision FROM campaigns WHERE id = '$id'")" "completed 3"
eq "the new revision's content" \
    "$(sql "SELECT restored_from || ' ' || subject FROM campaign_revisions WHERE campaign_id = '$id' AND revision = 3")" \
    "1 First draft"

# the detail view: the new revision on top, restoring r1; the audit trail
keys Enter
expect_screen 5 "Campaign details"
expect_screen 10 "^  r3 +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]+ +[^ ]+, 0 sent \(restores r1\) +\"First draft\""
expect_screen 5 "^  r2 +.* \"Second draft\""
expect_screen 5 "^  r1 +.* \"First draft\""
# ... and who got the superseded content, as the rollback dialog promised
expect_screen 5 "^Recipients of other content: $got \(sent mail cannot be recalled"
expect_screen 5 "^  [0-9-]+ [0-9:]+ +rollback completed -> completed +v$version -> v$((version + 1))"
keys Escape

# who got the superseded revision: every delivery that reached someone
"$MKT" recipients "$id" --csv >"$T_TMP/recipients.csv" || fail "marketing recipients $id --csv failed"
head -n 1 "$T_TMP/recipients.csv" | grep -q '^contact_id,email,revision,status,sent_at' ||
    fail "recipients CSV header: $(head -n 1 "$T_TMP/recipients.csv")"
eq "recipients listed" "$(($(wc -l <"$T_TMP/recipients.csv") - 1))" "$got"
eq "recipients listed, distinct" "$(tail -n +2 "$T_TMP/recipients.csv" | cut -d, -f1 | sort -u | wc -l)" "$got"
eq "revisions in the CSV" "$(tail -n +2 "$T_TMP/recipients.csv" | cut -d, -f3 | sort -u | tr -d '\r')" 2
failed=$(sql "SELECT count(*) FROM deliveries WHERE campaign_id = '$id' AND status = 'failed'")
eq "recipients plus failed deliveries" "$((got + failed))" "$reach"

keys q
wait_for 10 console_exited || fail "q did not quit"
eq "exit status" "$(cat "$T_TMP/exit")" 0
echo ok
