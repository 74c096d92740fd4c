#!/usr/bin/env bash
# Two operators, two real consoles, one campaign. A pauses while B has a
# cancel dialog open on the same campaign: B's confirm is refused as a
# conflict that names who changed it, and the campaign stays paused with
# one audit row. B's list hears A's change by NOTIFY (its periodic refresh
# is an hour away). Then both pause another campaign at once: one pauses
# it, the other is told it is already paused.
. "$(dirname "$0")/../lib.sh"
stack_up
me=$(id -un)

# --- two dedicated campaigns, active and slow: they stay active --------------
seg=$(sql "SELECT 'seg_' || nextval('segment_id_seq')")
sql "BEGIN;
     INSERT INTO segments (id, name, rule) VALUES ('$seg', 'E2E race segment', 'first 1000 contacts');
     INSERT INTO segment_members (segment_id, contact_id)
          SELECT '$seg', id FROM contacts ORDER BY id LIMIT 1000;
     UPDATE segments SET size = 1000, refreshed_at = now(),
            reachable = (SELECT count(*) FROM segment_members m JOIN contacts k ON k.id = m.contact_id
                          WHERE m.segment_id = '$seg' AND k.status = 'active')
      WHERE id = '$seg';
     COMMIT" >/dev/null
new_campaign() {   # new_campaign WORD: a draft at 60/min; prints its id
    local id
    id=$(sql "SELECT 'cmp_' || nextval('campaign_id_seq')")
    sql "BEGIN;
         INSERT INTO campaigns (id, name, segment_id, rate_limit_per_minute, current_revision)
              VALUES ('$id', 'E2E race $1 $id', '$seg', 60, 1);
         INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
              VALUES ('$id', 1, 'ACME <news@acme.example>', 'Race $1', 'Hello {{email}}.');
         COMMIT" >/dev/null
    echo "$id"
}
c1=$(new_campaign one)
c2=$(new_campaign two)
for c in "$c1" "$c2"; do
    "$MKT" launch "$c" --yes >"$T_TMP/launch-$c.out" 2>&1 || { cat "$T_TMP/launch-$c.out" >&2; fail "launching $c failed"; }
done
status() { sql "SELECT status FROM campaigns WHERE id = '$1'"; }
version() { sql "SELECT version FROM campaigns WHERE id = '$1'"; }
audits() { sql "SELECT count(*) FROM audit_log WHERE campaign_id = '$1'"; }
eq "$c1 launched" "$(status "$c1")" active
eq "$c2 launched" "$(status "$c2")" active

# --- console A (session c) and console B (session d), side by side ----------
# A periodic refresh an hour away: whatever changes on screen came by NOTIFY
# (or, for the console that acted, the re-read after its own action).
console_start 180 30 --refresh 1h
tm new-session -d -s d -x 180 -y 30 \
    "stty -ixon; ${CONSOLE_ENV:-LANG=C.UTF-8 TERM=xterm-256color} $(printf '%q' "$MKT") --refresh 1h; echo \$? >'$T_TMP/exit-b'; sleep 600"
tm set-option -t d status off >/dev/null
tm pipe-pane -t d -o "cat >>'$T_TMP/raw-b'"

# the helpers of lib.sh, for either session
screen_of() { tm capture-pane -p -t "$1"; }
has_on() { screen_of "$1" | grep -qE -- "$2"; }
expect_on() {   # expect_on SESSION SECONDS REGEX
    wait_for "$2" has_on "$1" "$3" ||
        { echo "--- screen $1:" >&2; screen_of "$1" >&2; fail "screen $1 never showed /$3/ within $2 s"; }
}
keys_to() { local s=$1; shift; tm send-keys -t "$s" "$@"; }
command_on() { keys_to "$1" :; keys_to "$1" -l "$2"; keys_to "$1" Enter; }

for s in c d; do
    expect_on "$s" 15 "^ Campaigns  [0-9]+  sort: status"
    keys_to "$s" /
    keys_to "$s" -l "E2E race"
    keys_to "$s" Enter
    expect_on "$s" 5 "Campaigns  2 of [0-9]+  sort: status  filter: E2E race"
    expect_on "$s" 5 "^.$c1 +E2E race one .* active "
    expect_on "$s" 5 "^.$c2 +E2E race two .* active "
done

# --- A pauses while B's cancel dialog is open ---------------------------------
v1=$(version "$c1")
n1=$(audits "$c1")
command_on c "pause $c1"
expect_on c 5 "Pause $c1 \"E2E race one $c1\"\?"
command_on d "cancel $c1"
expect_on d 5 "Cancel $c1 \"E2E race one $c1\"\?"
expect_on d 2 "It is active, version $v1\."
expect_on d 2 "Cancelling is final"
expect_on c 2 "It is active, version $v1\."   # both dialogs are open now
keys_to c y
expect_on c 15 "Campaign paused: $c1 is paused \(version $((v1 + 1))\)"
eq "$c1 after A's pause" "$(status "$c1")" paused
# NOTIFY: B's list, behind its open dialog, shows it paused without a key
expect_on d 10 "^.$c1 +E2E race one .* paused "
expect_on d 1 "Cancel $c1 \"E2E race one $c1\"\?"   # the dialog is still up
keys_to d y
expect_on d 15 "Conflict: $c1 was changed by $me as postgres at [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [A-Z+0-9-]+; it is now paused \(version $((v1 + 1)), you saw $v1\)\. Nothing was done"
eq "$c1 after B's cancel" "$(status "$c1")" paused
eq "$c1 cancelled_at" "$(sql "SELECT coalesce(cancelled_at::text, 'null') FROM campaigns WHERE id = '$c1'")" null
eq "$c1 version" "$(version "$c1")" "$((v1 + 1))"
eq "audit rows of $c1 added" "$(($(audits "$c1") - n1))" 1
eq "the new audit row of $c1" \
    "$(sql "SELECT action || ' ' || from_status || ' ' || to_status || ' ' || from_version || ' ' || to_version || ' ' || os_user
              FROM audit_log WHERE campaign_id = '$c1' ORDER BY id DESC LIMIT 1")" \
    "pause active paused $v1 $((v1 + 1)) $me"
expect_on d 5 "^.$c1 +E2E race one .* paused "

# --- both pause c2 at once ----------------------------------------------------
v2=$(version "$c2")
n2=$(audits "$c2")
command_on c "pause $c2"
command_on d "pause $c2"
expect_on c 5 "Pause $c2 \"E2E race two $c2\"\?"
expect_on d 5 "Pause $c2 \"E2E race two $c2\"\?"
expect_on c 2 "It is active, version $v2\."
expect_on d 2 "It is active, version $v2\."
keys_to c y
keys_to d y
paused_msg="Campaign paused: $c2 is paused \(version $((v2 + 1))\)"
already_msg="$c2 is already paused: by $me as postgres at [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [A-Z+0-9-]+ \(version $((v2 + 1))\)"
outcome_of() { if has_on "$1" "$paused_msg"; then echo paused; elif has_on "$1" "$already_msg"; then echo already; fi; }
both_told() { [ -n "$(outcome_of c)" ] && [ -n "$(outcome_of d)" ]; }
wait_for 20 both_told || {
    echo "--- screen A:" >&2; screen_of c >&2
    echo "--- screen B:" >&2; screen_of d >&2
    fail "both consoles should say how their pause of $c2 went"
}
got="$(outcome_of c) $(outcome_of d)"
note "pause of $c2: A $(outcome_of c), B $(outcome_of d)"
[ "$got" = "paused already" ] || [ "$got" = "already paused" ] ||
    fail "one console should have paused $c2 and the other been told it already was: got A, B = $got"
eq "$c2 after both pauses" "$(status "$c2")" paused
eq "$c2 version" "$(version "$c2")" "$((v2 + 1))"
eq "audit rows of $c2 added" "$(($(audits "$c2") - n2))" 1
for s in c d; do expect_on "$s" 10 "^.$c2 +E2E race two .* paused "; done

for s in c d; do keys_to "$s" q; done
wait_for 10 console_exited || fail "q did not quit console A"
wait_for 10 test -s "$T_TMP/exit-b" || fail "q did not quit console B"
eq "exit status of A" "$(cat "$T_TMP/exit")" 0
eq "exit status of B" "$(cat "$T_TMP/exit-b")" 0
echo ok
