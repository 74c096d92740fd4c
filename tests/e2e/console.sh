#!/usr/bin/env bash
# The console over the demo stack in tmux: live data, untrusted names shown
# escaped (and never sent raw), a database restart under it, resizes, quit.
. "$(dirname "$0")/../lib.sh"
stack_up
n=$(sql "SELECT count(*) FROM campaigns")
# the active campaign furthest from done: it stays on the first rows
first=$(sql "SELECT c.id FROM campaigns c JOIN campaign_stats s ON s.campaign_id = c.id
             WHERE c.status = 'active' ORDER BY c.audience - s.sent DESC LIMIT 1")
[ -n "$first" ] || fail "the demo data has no active campaign"

console_start 120 30 --environment e2e-test --refresh 1s
expect_screen 10 "Campaigns  $n  sort: status"
expect_screen 5 "\[e2e-test\]"
expect_screen 5 "^ e2e-test \| db: ok"
# move the selection onto $first
for _ in $(seq "$n"); do screen_has "^>$first " && break; keys j; sleep 0.05; done
expect_screen 5 "^>$first +.*active"

# live: a fast campaign's sent count rises on screen
sql "UPDATE campaigns SET rate_limit_per_minute = 6000, version = version + 1 WHERE id = '$first'" >/dev/null
row1=$(screen | grep -E "^>$first ")
wait_for 15 bash -c "[ \"\$(tmux -S '$T_TMUX' capture-pane -p -t c | grep -E '^>$first ')\" != '$row1' ]" ||
    fail "the sent count of $first did not change on screen: $row1"

# a hostile name: shown as visible escapes, never sent raw to the terminal
evil=$first   # on screen for sure: the first row
sql "UPDATE campaigns SET name = E'Q\\x1b[2J\\x1b]0;x\\x07\\u202eZ', version = version + 1 WHERE id = '$evil'" >/dev/null
expect_screen 5 "^>$evil +Q\^\[\["
keys Enter   # the details show the whole name
expect_screen 5 "Name +Q\^\[\[2J\^\[\]0;x\^G<U\+202E>Z"
keys Escape
if LC_ALL=C grep -aq $'Q\x1b\\[2J' "$T_TMP/raw"; then fail "ESC[2J from a name reached the terminal"; fi
if LC_ALL=C grep -aq $'\x1b]0;x' "$T_TMP/raw"; then fail "an OSC title sequence from a name reached the terminal"; fi
if LC_ALL=C grep -aq $'\xe2\x80\xae' "$T_TMP/raw"; then fail "a bidi override reached the terminal"; fi

# the database goes away: keys still answer, the clock ticks, it says so
pgdir=$MARKETING_DEMO_DIR
pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null
expect_screen 15 "db: reconnecting \(attempt [0-9]+"
keys 4       # the Alerts pane has room for the whole reason
expect_screen 5 "CRIT +database reconnecting \(attempt [0-9]+\), data [0-9]+s old: "
keys 1
clock1=$(screen | tail -n 1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2} *$')
keys j
expect_screen 3 "^ $first "   # the selection moved off it
sleep 1.2
clock2=$(screen | tail -n 1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2} *$')
[ "$clock1" != "$clock2" ] || fail "the clock stopped while the database was down ($clock1)"
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w \
    -o "-c listen_addresses='' -k $pgdir/run" start >/dev/null
expect_screen 40 "db: ok"
expect_screen 5 "Campaigns  $n  sort"

# resizes keep working; too small says so
tm resize-window -t c -x 50 -y 12
expect_screen 5 "Campaigns  $n  sort"
tm resize-window -t c -x 30 -y 6
expect_screen 5 "Terminal too small: 30x6"
# wide and tall: the 2x2 dashboard shows all four panes at once
tm resize-window -t c -x 200 -y 50
expect_screen 5 "Campaigns  $n  sort"
expect_screen 5 "Segments  [0-9]+"
expect_screen 5 "Send rate  now"
expect_screen 5 "Alerts and health"
# the graph has data: the ledger's rate over the last seconds is a number
expect_screen 15 "Send rate  now [0-9.]+/s \(ledger\), [0-9.]+/s \(metrics\)"

keys q
wait_for 5 console_exited || fail "q did not quit"
eq "exit status" "$(cat "$T_TMP/exit")" 0
echo ok
