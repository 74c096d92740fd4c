#!/usr/bin/env bash
# 'make demo' as a user runs it: the console on a fresh stack; quitting (q, or
# Ctrl-C) leaves no server, no backend and no temporary folder behind.
. "$(dirname "$0")/../lib.sh"
for how in q C-c; do
    dt=$T_TMP/demo-$how
    mkdir -p "$dt"
    chmod 755 "$dt"
    rm -f "$T_TMP/exit"
    T_TMUX=$T_TMP/tmux-$how.sock   # a fresh tmux server for each run
    defer "tmux -S '$T_TMUX' kill-server"
    # a wrapper, so that $dt appears in no command line but the demo's own
    # (the trap keeps the wrapper alive through Ctrl-C; its children get the default)
    printf '#!/bin/sh\ntrap : INT\nTMPDIR=%q LANG=C.UTF-8 TERM=xterm-256color DEMO_CONTACTS=3000 %q demo\necho $? >%q\nsleep 600\n' \
        "$dt" "$T_TOP/demo/stack.sh" "$T_TMP/exit" >"$T_TMP/run-$how.sh"
    tm -f /dev/null new-session -d -s c -x 100 -y 30 "sh '$T_TMP/run-$how.sh'"
    expect_screen 60 "Campaigns  [0-9]+  sort"
    expect_screen 10 "db: ok"
    pgrep -f "$dt" >/dev/null || fail "no process of the demo found under $dt"
    keys "$how"
    wait_for 30 console_exited || { screen >&2; fail "the demo did not end after $how"; }
    if pgrep -af "$dt"; then fail "processes left behind after $how"; fi
    left=$(ls -A "$dt")
    [ -z "$left" ] || fail "left behind in TMPDIR after $how: $left"
done
echo ok
