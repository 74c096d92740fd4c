#!/usr/bin/env bash
# The segment editor in the console over the demo stack: n in Segments
# opens it; a rule with a mistake shows the error with a caret under it;
# fixed, its size equals SQL's count; Enter saves it (stored as typed,
# hostile text too) and it shows in the list; f refreshes it, and says who
# is refreshing when another session holds the lock; a segment's details
# show the campaigns sent to it; a name with an escape byte is shown
# sanitized; a count that takes too long (contacts locked by another
# session) is stopped by the statement timeout and said to be; and a
# read-only console refuses to save, saying why.
. "$(dirname "$0")/../lib.sh"
stack_up
before=$(sql "SELECT count(*) FROM segments")
want=$(sql "SELECT count(*) FROM contacts WHERE attributes->>'plan' = 'pro'")
[ "$want" -gt 0 ] || fail "the demo data has no contact with plan = pro"
want_fmt=$(echo "$want" | rev | sed 's/[0-9]\{3\}/&,/g' | rev | sed 's/^,//')

console_start 120 40
expect_screen 10 "db: ok"
keys 2
expect_screen 10 "Segments +$before"
expect_screen 5 "n new"

# --- the editor: a name, then a rule with a mistake
keys n
expect_screen 5 "New segment"
expect_screen 5 "Rules pick contacts"
keys -l "'; DROP TABLE contacts; --"
keys Tab
keys -l 'plan = "pro" and age >='
expect_screen 5 "Error 1:24: expected a value after '>=', found end of rule"
expect_screen 3 "^ +plan = \"pro\" and age >=$"
expect_screen 3 "^ +\^$"
expect_screen 3 "Size  - \(the rule has an error\)"
# fixed: the error goes and the size is counted
for _ in $(seq 1 11); do keys BSpace; done
expect_screen 5 "Size  $want_fmt contacts \([0-9,]+ reachable\)"
screen_has "Error 1:" && { screen >&2; fail "a fixed rule still shows an error"; }
# editing in the middle: to the start (C-a: tmux's Home is not xterm's),
# Right to the closing quote, Delete it, and type it back
keys C-a
for _ in $(seq 1 11); do keys Right; done
keys DC
expect_screen 3 "Error 1:8: "
keys -l '"'
expect_screen 5 "Size  $want_fmt contacts"
keys Enter
expect_screen 10 "Segment seg_[0-9]+ created: '; DROP TABLE contacts; --, $want_fmt contacts"
sid=$(sql "SELECT id FROM segments WHERE name = \$\$'; DROP TABLE contacts; --\$\$")
[ -n "$sid" ] || fail "the segment is not in the database by its literal name"
eq "the rule is stored as typed" "$(sql "SELECT rule FROM segments WHERE id = '$sid'")" 'plan = "pro"'
eq "contacts are still there" "$(sql "SELECT count(*) > 0 FROM contacts")" t
eq "one audit row" "$(sql "SELECT count(*) FROM audit_log WHERE action = 'segment_create' AND segment_id = '$sid'")" 1
expect_screen 10 "Segments +$((before + 1))"
expect_screen 5 "> *$sid +'; DROP TABLE contacts"

# --- f refreshes the selected segment (the new one)
keys f
expect_screen 10 "$sid refreshed: $want_fmt members \(\+$want_fmt -0\)"
eq "members materialized" "$(sql "SELECT count(*) FROM segment_members WHERE segment_id = '$sid'")" "$want"

# --- another session holds the refresh lock: f says who
fifo=$T_TMP/locker
mkfifo "$fifo"
psql -X -q "$PGDSN" -v ON_ERROR_STOP=1 <"$fifo" >/dev/null 2>&1 &
locker=$!
exec 7>"$fifo"
defer "kill $locker 2>/dev/null"
echo "SET application_name = 'locker'; BEGIN; SELECT pg_advisory_xact_lock(hashtext('marketing.segment_refresh'), hashtext('$sid'));" >&7
locked() { [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2")" -ge 1 ]; }
wait_for 10 locked ||
    fail "the second session never took the lock"
keys f
expect_screen 10 "$sid is being refreshed by [^ ]+@[^ ]+ \(locker, since [0-9]{2}:[0-9]{2}:[0-9]{2}\)"
echo "COMMIT;" >&7
exec 7>&-
wait "$locker" 2>/dev/null || true

# --- a segment's details: the campaigns sent to it, with their rates
used=$(sql "SELECT segment_id FROM campaigns WHERE segment_id IS NOT NULL GROUP BY segment_id ORDER BY count(*) DESC, segment_id LIMIT 1")
ncamp=$(sql "SELECT count(*) FROM campaigns WHERE segment_id = '$used'")
keys /
keys -l "$used"
keys Enter
expect_screen 5 "> *$used "
keys Enter
expect_screen 5 "Segment details"
expect_screen 10 "Performance $ncamp campaigns? sent to it: [0-9,]+ sent, ([0-9.]+%|-) opened, ([0-9.]+%|-) clicked"
expect_screen 5 "CAMPAIGN +NAME +STATUS +SENT +OPEN +CLICK"
first=$(sql "SELECT id FROM campaigns WHERE segment_id = '$used' ORDER BY id LIMIT 1")
expect_screen 5 "$first .* ([0-9.]+%|-) +([0-9.]+%|-) *$"
keys Escape Escape

# --- Esc on a typed form asks once; n keeps it, y discards it
keys n
expect_screen 5 "New segment"
keys -l "x"
keys Escape
expect_screen 3 "Discard this segment\? y/n"
keys n
expect_screen 3 "> Name"
keys Escape
expect_screen 3 "Discard this segment\? y/n"
keys y
expect_screen 5 "Segments +$((before + 1))"
keys q
wait_for 5 console_exited || fail "the console did not quit"
eq "the console's exit status" "$(cat "$T_TMP/exit")" 0
tm kill-server

# --- a name with an escape byte: stored literally, shown sanitized
"$MKT" segment create --name $'evil\e[31mred' --rule 'all' >/dev/null
eq "stored literally" "$(sql "SELECT count(*) FROM segments WHERE name = E'evil\\x1b[31mred'")" 1

# --- read-only: the editor opens, tries rules, and refuses to save
rm -f "$T_TMP/exit"
console_start 120 40 --read-only
expect_screen 10 "READ-ONLY"
keys 2
expect_screen 10 "evil\^\[\[31mred"
no_dots() { ! screen_has '\.\.\.'; }
wait_for 10 no_dots || fail "the segments' engagement never arrived"
keys n
expect_screen 5 "Read-only: nothing can be saved \(read_only is set"
keys -l "ro"
keys Tab
keys -l 'plan = "pro"'
expect_screen 5 "Size  $want_fmt contacts"
# a count that cannot finish (another session locks contacts) is stopped
# by the statement timeout, and the editor says so
fifo2=$T_TMP/locker2
mkfifo "$fifo2"
psql -X -q "$PGDSN" -v ON_ERROR_STOP=1 <"$fifo2" >/dev/null 2>&1 &
locker2=$!
exec 8>"$fifo2"
defer "kill $locker2 2>/dev/null"
echo "BEGIN; LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE;" >&8
contacts_locked() { [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'contacts' AND l.mode = 'AccessExclusiveLock' AND l.granted")" -ge 1 ]; }
wait_for 10 contacts_locked || fail "the second session never locked contacts"
keys -l ' and age >= 30'
expect_screen 10 "Size  unknown: the rule took longer than 2000 ms to count, and was stopped"
echo "COMMIT;" >&8
exec 8>&-
wait "$locker2" 2>/dev/null || true
keys BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
expect_screen 10 "Size  $want_fmt contacts"
keys Enter
expect_screen 5 "Read-only: read_only is set \(--read-only, MARKETING_READ_ONLY or marketing.conf\)\. Nothing was saved\."
keys Escape y
keys f
expect_screen 5 "Read-only: read_only is set .*Nothing was changed"
keys q
wait_for 5 console_exited || fail "the console did not quit"
eq "the console's exit status" "$(cat "$T_TMP/exit")" 0
eq "nothing saved read-only" "$(sql "SELECT count(*) FROM segments")" "$((before + 2))"
if grep -q $'evil\e\\[31mred' "$T_TMP/raw"; then fail "the escape byte reached the terminal"; fi
echo "ok"
