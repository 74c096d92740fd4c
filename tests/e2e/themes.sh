#!/usr/bin/env bash
# Themes, colour depths, --no-color / NO_COLOR, --ascii, production's accent,
# and terminals the console cannot use.
. "$(dirname "$0")/../lib.sh"
stack_up

# colour escapes in what the console wrote: SGR parameters 30-49, 90-107, 38;/48;
has_color() { LC_ALL=C grep -aqE $'\x1b\\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])(;[0-9;]*)?m' "$1"; }

run_console() { # NAME W H ARGS...: start, wait for data, quit; raw output in $T_TMP/raw
    local name=$1
    shift
    rm -f "$T_TMP/raw" "$T_TMP/exit"
    T_TMUX=$T_TMP/tmux-$name.sock
    console_start "$@"
    expect_screen 10 "Campaigns  [0-9]+  sort"
    keys 3
    expect_screen 5 "Send rate  now"
    keys q
    wait_for 5 console_exited || fail "$name: q did not quit"
    eq "$name: exit status" "$(cat "$T_TMP/exit")" 0
    tm kill-server 2>/dev/null || true
}

for theme in dark light high-contrast; do
    run_console "$theme" 120 30 --theme "$theme"
    has_color "$T_TMP/raw" || fail "theme $theme drew no colour"
done
run_console mono 120 30 --theme monochrome
if has_color "$T_TMP/raw"; then fail "the monochrome theme drew colour"; fi
run_console nocolor 120 30 --no-color
if has_color "$T_TMP/raw"; then fail "--no-color drew colour"; fi
CONSOLE_ENV="LANG=C.UTF-8 TERM=xterm-256color NO_COLOR=1" run_console NO_COLOR 120 30
if has_color "$T_TMP/raw"; then fail "NO_COLOR drew colour"; fi

# 8 colours: no 256-colour escapes
CONSOLE_ENV="LANG=C.UTF-8 TERM=xterm" run_console eight 120 30 --theme dark
has_color "$T_TMP/raw" || fail "no colour on an 8-colour terminal"
if LC_ALL=C grep -aq $'\x1b\\[38;5;' "$T_TMP/raw"; then fail "256-colour escapes on an 8-colour terminal"; fi

# --ascii and a non-UTF-8 locale: pure 7-bit output
run_console ascii 120 30 --ascii
if LC_ALL=C grep -aq $'[\x80-\xff]' "$T_TMP/raw"; then fail "--ascii wrote non-ASCII bytes"; fi
CONSOLE_ENV="LANG=C TERM=xterm-256color" run_console clocale 120 30
if LC_ALL=C grep -aq $'[\x80-\xff]' "$T_TMP/raw"; then fail "the C locale got non-ASCII bytes"; fi

# production looks different: the header is drawn in its own role
run_console prod 120 30 --environment production
grep -aq "production" "$T_TMP/raw" || fail "no environment name on screen"

# what the console cannot use: a clear message, exit 2, nothing drawn
set +e
TERM=dumb script -qec "'$MKT' --dsn '$MARKETING_DSN'" /dev/null >"$T_TMP/dumb" 2>&1
set -e
grep -q "TERM is dumb" "$T_TMP/dumb" || fail "TERM=dumb: $(cat "$T_TMP/dumb")"
set +e
script -qec "'$MKT' --theme nonesuch" /dev/null >"$T_TMP/theme" 2>&1
script -qec "TERM=no-such-terminal '$MKT'" /dev/null >"$T_TMP/term" 2>&1
set -e
grep -q "theme 'nonesuch' not found (built in: dark, high-contrast, light, monochrome)" "$T_TMP/theme" ||
    fail "unknown theme: $(cat "$T_TMP/theme")"
grep -q "cannot use terminal type 'no-such-terminal'" "$T_TMP/term" || fail "unknown TERM: $(cat "$T_TMP/term")"
echo ok
