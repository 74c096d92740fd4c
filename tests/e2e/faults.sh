#!/usr/bin/env bash
# Endpoints misbehaving under the console: a hung /metrics and /health, 500s
# and garbage each say so on the status line and in the Alerts pane; the
# clock keeps ticking, keys answer, and quitting during a hang is prompt.
. "$(dirname "$0")/../lib.sh"
stack_up
control() { curl -fsS -X POST "$MARKETING_CONTROL_URL?$1" >/dev/null; }

console_start 120 30 --scrape-timeout 1s --scrape-interval 500ms
expect_screen 10 "metrics: ok"
expect_screen 5 "health: healthy"

control error_rate=1
expect_screen 10 "metrics: HTTP 500"
keys 4
expect_screen 5 "CRIT +health .*HTTP 503|CRIT +health .*HTTP 500"
control error_rate=0
expect_screen 10 "metrics: ok"

control garbage=1
expect_screen 10 "metrics: line [0-9]+"
expect_screen 10 "invalid response \("
control garbage=0
expect_screen 10 "health: healthy"

control hang=1
expect_screen 10 "metrics: timeout after 1000 ms"
clock1=$(screen | tail -n 1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2} *$')
keys 1
expect_screen 3 "^ Campaigns  [0-9]+"
sleep 1.2
clock2=$(screen | tail -n 1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2} *$')
[ "$clock1" != "$clock2" ] || fail "the clock stopped during a hung scrape"
# the previous values stay, marked stale: the Alerts pane says how old
keys 4
expect_screen 5 "last good answer: [0-9]+s ago"

# quitting while requests hang: the process ends within about a second
start=$(date +%s%N)
keys q
wait_for 5 console_exited || fail "q during a hang did not quit"
ms=$((($(date +%s%N) - start) / 1000000))
note "quit during a hang took $ms ms"
[ "$ms" -lt 3000 ] || fail "quitting during a hang took $ms ms"
eq "exit status" "$(cat "$T_TMP/exit")" 0
control hang=0
echo ok
