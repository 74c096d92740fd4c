#!/usr/bin/env bash
# Every pane, the tab bar, filter, sort, details, help, the command line,
# unbound keys and rebinding, in the real console over the demo stack.
. "$(dirname "$0")/../lib.sh"
stack_up
n=$(sql "SELECT count(*) FROM campaigns")
nseg=$(sql "SELECT count(*) FROM segments")
word=$(sql "SELECT split_part(name, ' ', 1) FROM campaigns ORDER BY id LIMIT 1")
nword=$(sql "SELECT count(*) FROM campaigns WHERE name ILIKE '%' || '$word' || '%'
             OR segment_id IN (SELECT id FROM segments WHERE name ILIKE '%' || '$word' || '%')")

console_start 100 30
expect_screen 10 "Campaigns  $n  sort: status"
expect_screen 5 "1 Campaigns \([0-9]+ active\) +2 Segments \($nseg\) +3 Send rate .* 4 Alerts"

# panes: digits, Tab, Shift-Tab
keys 2;      expect_screen 3 "^ Segments  $nseg"
keys Tab;    expect_screen 3 "^ Send rate  now"
keys BTab;   expect_screen 3 "^ Segments  $nseg"
keys 4;      expect_screen 3 "^ Alerts and health"
expect_screen 10 "ok +health +http://127.0.0.1:[0-9]+/health"
expect_screen 5 "database +healthy"
expect_screen 5 "ok +database connected, data [0-9]+s old"
keys s;      expect_screen 3 "s \(sort\): not in this pane"
keys 1;      expect_screen 3 "^ Campaigns  $n"

# the filter narrows as you type; Esc clears it
keys /
keys -l zzzq
expect_screen 3 "No campaign matches the filter"
expect_screen 3 "^/zzzq"
keys Escape
expect_screen 3 "^ Campaigns  $n  sort: status$"
keys /
keys -l "$word"
keys Enter
expect_screen 3 "Campaigns  $nword of $n  sort: status  filter: $word"
keys Escape
expect_screen 3 "^ Campaigns  $n  sort: status"

# sort and reverse
keys s;  expect_screen 3 "sort: name"
keys S;  expect_screen 3 "sort: name \(reversed\)"
keys s s s s S; expect_screen 3 "sort: status$"

# details, and back
keys Enter
expect_screen 3 "Campaign details"
expect_screen 3 "Rate +"
# its history, read from the database when the details open
expect_screen 5 "^Revisions \(newest first"
expect_screen 5 "^  r[0-9]+ +[0-9]{4}-[0-9]{2}-[0-9]{2}"
expect_screen 5 "^Audit log \(newest first\)"
keys Escape
expect_screen 3 "^ Campaigns  $n"
keys 2 Enter
expect_screen 3 "Segment details"
expect_screen 3 "^Rule +"
keys Escape 1

# help lists every key, made from the action table
keys ?
expect_screen 3 "Keys: any other key closes"
expect_screen 3 "j Down +next row"
keys x
expect_screen 3 "^ Campaigns  $n"

# the command line: completion, running an action, an unknown command
keys :
keys -l seg
keys Tab
expect_screen 3 "^:segments *$"
keys Enter
expect_screen 3 "^ Segments  $nseg"
keys : 
keys -l "bogus thing"
keys Enter
expect_screen 3 "bogus thing: no such command"
keys :
keys Up
expect_screen 3 "^:bogus thing$"
keys Escape
keys x
expect_screen 3 "x: no action \(\? lists the keys\)"

keys q
wait_for 5 console_exited || fail "q did not quit"
eq "exit status" "$(cat "$T_TMP/exit")" 0

# rebinding in marketing.conf: n moves down, q is free, Q quits
printf 'key.down = n Down\nkey.quit = Q\n' >"$T_TMP/keys.conf"
rm -f "$T_TMP/exit"
tm kill-server
T_TMUX=$T_TMP/tmux2.sock
console_start 100 30 --config "$T_TMP/keys.conf"
expect_screen 10 "Campaigns  $n"
expect_screen 3 "^ Q quit  \? help"
second=$(screen | grep -E '^ cmp_' | head -n 1 | awk '{print $1}')
keys n
expect_screen 3 "^>$second "
keys q
expect_screen 3 "q: no action"
keys Q
wait_for 5 console_exited || fail "Q did not quit"

# the mouse, when asked for: a click on a tab, a click on a row, the wheel
rm -f "$T_TMP/exit"
tm kill-server
T_TMUX=$T_TMP/tmux3.sock
console_start 100 30 --mouse
expect_screen 10 "Campaigns  $n"
click() { keys -l $'\e[<0;'"$1;$2"$'M\e[<0;'"$1;$2"'m'; }   # SGR 1006, 1-based
x=$(screen | head -n 1 | grep -bo '2 Segments' | cut -d: -f1)
click $((x + 2)) 1
expect_screen 3 "^ Segments  $nseg"
keys 1
fifth=$(screen | sed -n 8p | awk '{print $1}')
click 10 8
expect_screen 3 "^>$fifth "
eighth=$(screen | sed -n 11p | awk '{print $1}')
keys -l $'\e[<65;10;10M'   # wheel down: three rows
expect_screen 3 "^>$eighth "
keys q
wait_for 5 console_exited || fail "q did not quit (mouse)"
echo ok
