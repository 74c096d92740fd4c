#!/usr/bin/env bash
# The guards around a write, in the real console: typing the name for a big
# launch (a wrong name does nothing), a launch refused by its pre-flight
# check, and read-only mode by flag and by a database role that may not
# write, where every write path says why and nothing changes.
. "$(dirname "$0")/../lib.sh"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null
"$T_BUILD/marketing-demo-gen" --dsn "$PGDSN" --contacts 2000 --segments 4 --campaigns 14 --seed 7 --quiet
export MARKETING_DSN=$PGDSN
draft=$(sql "SELECT id FROM campaigns WHERE status = 'draft' AND send_at IS NULL ORDER BY id LIMIT 1")
[ -n "$draft" ] || fail "no draft campaign in the generated data"
name=$(sql "SELECT name FROM campaigns WHERE id = '$draft'")
active=$(sql "SELECT id FROM campaigns WHERE status = 'active' ORDER BY id LIMIT 1")
v_active=$(sql "SELECT version FROM campaigns WHERE id = '$active'")
audits=$(sql "SELECT count(*) FROM audit_log")

# --- typing the name: every launch asks for it with confirm_name_above = 0
CONSOLE_ENV="LANG=C.UTF-8 TERM=xterm-256color MARKETING_CONFIRM_NAME_ABOVE=0" console_start 160 40
expect_screen 10 "Campaigns  14"
keys ":launch $draft" Enter
expect_screen 10 "type the campaign's name, then Enter"
keys y                                     # only a letter of the name here
expect_screen 3 "then Enter \(Esc cancels\): y"
keys BSpace
keys -l "not the name"
keys Enter
expect_screen 3 "type the campaign's name, then Enter \(Esc cancels\): not the name"
eq "a wrong name launches nothing" "$(sql "SELECT status FROM campaigns WHERE id = '$draft'")" draft
for _ in $(seq 1 24); do keys BSpace; done
keys -l "$name"
keys Enter
expect_screen 10 "Campaign launched: $draft"
eq "launched by the typed name" "$(sql "SELECT status FROM campaigns WHERE id = '$draft'")" active

# --- a pre-flight failure refuses the launch: content nobody can render
bad=$(sql "SELECT id FROM campaigns WHERE status = 'draft' AND id <> '$draft' ORDER BY id LIMIT 1")
[ -n "$bad" ] || fail "the generated data has only one draft campaign"
{
    sql "UPDATE campaign_revisions SET body = 'Hi {{no_such_attribute}}'
          WHERE (campaign_id, revision) = (SELECT id, current_revision FROM campaigns WHERE id = '$bad')" >/dev/null
    keys ":launch $bad" Enter
    expect_screen 10 "FAIL Content: no recipient has a value for \{\{no_such_attribute\}\}"
    expect_screen 3 "Launch refused: fix what failed"
    keys y
    keys Escape
    expect_screen 3 "Nothing done"
    eq "refused launch" "$(sql "SELECT status FROM campaigns WHERE id = '$bad'")" draft
}

# --- the Audit log screen: the launch is there, whole, and the filter finds it
keys 5
expect_screen 10 "Audit log  newest"
keys /
keys -l "campaign:$draft action:launch"
keys Enter
expect_screen 5 "Audit log  1 of [0-9]+  filter: campaign:$draft action:launch"
keys Enter
expect_screen 3 "Audit entry"
expect_screen 3 "Status      draft -> active"
expect_screen 3 "Client said OS user $(id -un)"
keys Escape
expect_screen 3 "Audit log  1 of"
keys Escape
expect_screen 3 "Audit log  newest"
keys 5
expect_screen 3 "Campaigns  14"
keys q
wait_for 5 console_exited || fail "the console did not quit"
tm kill-server

# --- read-only by flag: keys, the command line and stop-all all refuse
rm -f "$T_TMP/exit"
console_start 160 40 --read-only
expect_screen 10 "READ-ONLY"
expect_screen 10 "Campaigns  14"
keys ":pause $active" Enter
expect_screen 3 "Read-only: read_only is set .*Nothing was changed"
keys '!'
expect_screen 3 "Read-only: read_only is set"
keys g L
expect_screen 3 "Read-only"
keys q
wait_for 5 console_exited || fail "the console did not quit"
tm kill-server

# --- read-only by the database: a role that may read but not write
sql "CREATE ROLE reader LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader" >/dev/null
rm -f "$T_TMP/exit"
MARKETING_DSN="$PGDSN user=reader" console_start 160 40
expect_screen 10 "READ-ONLY \(database role reader may not change campaigns\)"
keys ":pause $active" Enter
expect_screen 3 "Read-only: database role reader may not change campaigns. Nothing was changed"
keys q
wait_for 5 console_exited || fail "the console did not quit"

eq "nothing paused" "$(sql "SELECT status || ' ' || version FROM campaigns WHERE id = '$active'")" "active $v_active"
eq "only the launch was audited" "$(sql "SELECT count(*) FROM audit_log")" "$((audits + 1))"
echo "ok"
