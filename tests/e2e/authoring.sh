#!/usr/bin/env bash
# The seed's Playwright flow, in the real console over the demo stack: a
# new segment from the segment editor, refreshed; a new campaign to it
# from the form (a segment from the picker, the subject typed,
# the body written in $EDITOR), previewed for a contact, test-sent, then
# launched: "Campaign launched". Then editing it: refused while it sends
# (the pause confirm comes first), allowed once paused, and a second
# operator's edit meanwhile gives a conflict, not a silent overwrite.
# Hostile text in the name and body is stored and shown literally.
. "$(dirname "$0")/../lib.sh"
stack_up
want=$(sql "SELECT count(*) FROM contacts WHERE attributes->>'plan' = 'enterprise'")
[ "$want" -gt 0 ] || fail "the demo data has no enterprise contact"
contacts_before=$(sql "SELECT count(*) FROM contacts")
hostile="Winter '; DROP TABLE contacts; -- sale"

# the editor: writes the body, as a person would in vi
cat >"$T_TMP/editor.sh" <<'SH'
#!/bin/sh
printf 'Hello {{first_name}},\n\n<p>Our <b>winter sale</b> starts now; see <a href="https://example.com/s">the shop</a>.</p>\n-- the team; DROP TABLE contacts;\n' >"$1"
SH
chmod +x "$T_TMP/editor.sh"

CONSOLE_ENV="LANG=C.UTF-8 TERM=xterm-256color EDITOR=$T_TMP/editor.sh" console_start 140 40
expect_screen 15 "^ Campaigns  [0-9]+  sort: status"

# --- a new segment, in the console: the editor, then f materializes it ------
keys 2
expect_screen 10 "n new"
keys n
expect_screen 5 "New segment"
keys -l "E2E enterprise"
keys Tab
keys -l 'plan = "enterprise"'
expect_screen 10 "Size  [0-9,]+ contacts"
keys Enter
expect_screen 10 "Segment seg_[0-9]+ created: E2E enterprise"
seg=$(sql "SELECT id FROM segments WHERE name = 'E2E enterprise'")
segname="E2E enterprise"
[ -n "$seg" ] || fail "the new segment is not in the database"
# the list reloads with the new segment selected: f is for it
expect_screen 10 "^>$seg +E2E enterprise"
keys f
expect_screen 15 "$seg refreshed: "
eq "its members" "$(sql "SELECT count(*) FROM segment_members WHERE segment_id = '$seg'")" "$want"
keys 1
expect_screen 5 "^ Campaigns  [0-9]+  sort: status"

# --- the form: name, segment from the picker, from, subject, body --------
keys n
expect_screen 5 "New campaign  F2 save  Esc cancel"
keys -l "$hostile"
keys Down Down Enter
expect_screen 5 "Pick a segment \(Enter chooses, Esc closes\):"
for _ in $(seq 20); do screen_has "^> $seg " && break; keys j; done
expect_screen 2 "^> $seg "
keys Enter
expect_screen 5 "Segment +$seg  $segname, [0-9]+ reachable"
keys Down
keys -l "news@example.com"
keys Down
keys -l "{{first_name}}, the winter sale is on"
keys Down Enter
expect_screen 10 "Body +Hello \{\{first_name\}\},.*\(4 lines; Enter edits in \\\$EDITOR\)"
# a typo in a placeholder is caught before saving, with a suggestion
keys Up
keys BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
keys -l "{{frist_name}}, the winter sale is on"
keys F2
expect_screen 10 "did you mean first_name\?"
keys BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
keys -l "{{first_name}}, the winter sale is on"
keys F2
expect_screen 15 "Campaign created: cmp_[0-9]+ \(draft, version 1, revision 1\)"
id=$(screen | grep -oE "Campaign created: cmp_[0-9]+" | grep -oE "cmp_[0-9]+")
[ -n "$id" ] || fail "no campaign id on the screen"
note "created $id"
eq "the name, stored literally" "$(sql "SELECT name FROM campaigns WHERE id = '$id'")" "$hostile"
eq "the body, stored literally" "$(sql "SELECT body LIKE '%DROP TABLE contacts;%' FROM campaign_revisions WHERE campaign_id = '$id'")" t
eq "contacts untouched" "$(sql "SELECT count(*) FROM contacts")" "$contacts_before"

# --- find it; preview it for a contact ---------------------------------------
keys /
keys -l "$id"
keys Enter
expect_screen 5 "^>$id +Winter '; DROP TABLE contacts; -- "
keys v
expect_screen 10 "Preview of $id"
first=$(sql "SELECT k.attributes->>'first_name' FROM segment_members m JOIN contacts k ON k.id = m.contact_id
             WHERE m.segment_id = '$seg' AND k.status = 'active' ORDER BY k.id LIMIT 1")
expect_screen 5 "Subject: $first, the winter sale is on"
expect_screen 5 "Our winter sale starts now; see the shop \(https://example.com/s\)"
keys Escape

# --- a test send: delivered by the backend, counted nowhere else ------------
keys t
expect_screen 5 ":test-send $id$"
keys -l "qa@example.com"
keys Enter
expect_screen 10 "Test send queued: #[0-9]+ of $id revision 1"
wait_for 30 bash -c "[ \"\$(psql -X -At '$PGDSN' -c \"SELECT count(*) FROM test_deliveries WHERE campaign_id = '$id' AND sent_at IS NOT NULL\")\" = 1 ]" ||
    fail "the backend did not send the test: $(sql "SELECT status, error FROM test_deliveries WHERE campaign_id = '$id'")"
eq "a test send is no delivery" "$(sql "SELECT count(*) FROM deliveries WHERE campaign_id = '$id'")" 0

# --- launch: "Campaign launched" ---------------------------------------------
keys L
expect_screen 20 "y confirms, n or Esc cancels"
keys y
expect_screen 15 "Campaign launched: $id"
eq "status" "$(sql "SELECT status FROM campaigns WHERE id = '$id'")" active

# --- editing while it sends: pause first, with its confirm ------------------
expect_screen 10 "^>$id .* active "
keys e
expect_screen 10 "Pause $id"
expect_screen 10 "y confirms, n or Esc cancels"
keys y
expect_screen 15 "Campaign paused: $id"
expect_screen 10 "^>$id .* paused "
keys e
expect_screen 10 "Edit $id \(paused, version [0-9]+\): saving makes a new revision"
expect_screen 5 "Subject +\{\{first_name\}\}, the winter sale is on"
keys Down Down Down Down
keys -l " (last days)"
# a second operator saves first, from the command line
cat >"$T_TMP/other.json" <<'JSON'
{ "subject": "{{first_name}}: the sale ends Sunday" }
JSON
"$MKT" campaign edit "$id" --from-file "$T_TMP/other.json" >"$T_TMP/other.out" 2>&1 ||
    fail "the other operator's edit failed: $(cat "$T_TMP/other.out")"
keys F2
expect_screen 15 "Conflict: $id was changed by .*you saw"
eq "the other operator's subject stands" "$(sql "SELECT r.subject FROM campaigns c JOIN campaign_revisions r
    ON r.campaign_id = c.id AND r.revision = c.current_revision WHERE c.id = '$id'")" "{{first_name}}: the sale ends Sunday"
keys Escape
expect_screen 5 "Discard what you typed\?"
keys y
expect_screen 5 "^ Campaigns  "
