#!/usr/bin/env bash
# Screen tests in the spirit of tig's: for each tests/ui/NAME.keys, the real
# console at 100x30 on the same generated data (no backend, so nothing moves),
# the keystrokes, and the screen compared with tests/ui/NAME.screen after the
# parts that change with time (clock, ages) are masked.
#
# A .keys file has one step a line: 'keys ARGS' (tmux send-keys), 'text STR'
# (typed literally), 'wait REGEX' (until the screen shows it), '# comment'.
# UPDATE=1 tests/run.sh tests/e2e/screens.sh rewrites the .screen files.
. "$(dirname "$0")/../lib.sh"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null
"$T_BUILD/marketing-demo-gen" --dsn "$PGDSN" --contacts 2000 --segments 6 --campaigns 14 --seed 7 --quiet
export MARKETING_DSN=$PGDSN

# ages and times move; the rest of the screen must not
# (an age with the blanks before it becomes '~' of the same width, so that
# right-aligned columns keep their shape)
mask() {
    perl -pe 's/\d{2}:\d{2}:\d{2}/HH:MM:SS/g;
              s/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/YYYY-MM-DD HH:MM/g;
              s/( *)(?<![\w.\/])(\d+[smhd])(?![\w%])/"~" x length($1 . $2)/ge;
              s/ +$//'
}

failed=0
for k in "$T_TOP"/tests/ui/*.keys; do
    name=$(basename "$k" .keys)
    want=${k%.keys}.screen
    T_TMUX=$T_TMP/tmux-$name.sock
    rm -f "$T_TMP/exit"
    console_start 100 30 --theme monochrome
    expect_screen 10 "Campaigns  14  sort"
    while IFS= read -r line; do
        case $line in
            ''|'#'*) ;;
            keys\ *) eval "keys ${line#keys }"; sleep 0.15 ;;
            text\ *) keys -l "${line#text }"; sleep 0.15 ;;
            wait\ *) expect_screen 5 "${line#wait }" ;;
            *) fail "$k: bad step: $line" ;;
        esac
    done <"$k"
    screen | mask >"$T_TMP/$name.got"
    keys C-c
    wait_for 5 console_exited || fail "$name: q did not quit"
    tm kill-server 2>/dev/null || true
    if [ "${UPDATE:-}" = 1 ]; then
        cp "$T_TMP/$name.got" "$want"
        note "updated $want"
    elif ! diff -u "$want" "$T_TMP/$name.got" >&2; then
        note "$name: the screen differs from $want (UPDATE=1 to accept)"
        failed=1
    fi
done
[ "$failed" = 0 ] || fail "screens differ"
echo ok
