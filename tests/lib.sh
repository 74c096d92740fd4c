# Shared helpers for the shell tests in tests/integration and tests/e2e.
# Sourced, not run. Every test gets a private PostgreSQL cluster or demo
# stack that is torn down when the test exits, whatever happens.
#
# Exit codes: 0 passed, 77 skipped, anything else failed.
set -euo pipefail

T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_BUILD=${MARKETING_BUILD:-$T_TOP/build}
MKT=$T_BUILD/marketing
export MARKETING_BUILD=$T_BUILD
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/marketing-test.XXXXXX")
chmod 755 "$T_TMP"
T_CLEANUP=()

t_cleanup() {
    local i
    for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${T_CLEANUP[i]}" >/dev/null 2>&1 || true
    done
    rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM HUP

# defer CMD: run CMD when the test exits (last deferred runs first)
defer() { T_CLEANUP+=("$*"); }

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }
note() { printf '  %s\n' "$*" >&2; }

# check DESC COND...: fail with DESC unless the command succeeds
check() { local d=$1; shift; "$@" || fail "$d"; }

# eq DESC GOT WANT
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_for() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# pg_up: a private cluster with an empty 'marketing' database; sets PGDSN
pg_up() {
    # deferred first: a start that fails halfway is cleaned up too
    defer "'$T_TOP/demo/stack.sh' pg-down '$T_TMP/pg'"
    "$T_TOP/demo/stack.sh" pg-up "$T_TMP/pg"
    PGDSN=$(cat "$T_TMP/pg/dsn")
    export PGDSN
}

# sql QUERY [ARGS]: one value or rows, unaligned, no headers
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$PGDSN" -c "$@"; }

# stack_up: the whole demo stack (database, data, backend); sources its env
stack_up() {
    defer "STACK_QUIET=1 '$T_TOP/demo/stack.sh' down '$T_TMP/stack'"
    STACK_QUIET=1 "$T_TOP/demo/stack.sh" up "$T_TMP/stack"
    # shellcheck disable=SC1091
    . "$T_TMP/stack/env"
    PGDSN=$MARKETING_DSN
    export PGDSN
}

# tmux on a private socket; the session is killed when the test exits
T_TMUX=$T_TMP/tmux.sock
tm() { tmux -S "$T_TMUX" "$@"; }

# console_start W H [ARGS...]: the real console in a tmux pane of W x H,
# its raw output appended to $T_TMP/raw and its exit status to $T_TMP/exit
console_start() {
    local w=$1 h=$2 args="" a
    shift 2
    for a in "$@"; do args+=" $(printf '%q' "$a")"; done
    defer "tmux -S '$T_TMUX' kill-server"
    tm -f /dev/null new-session -d -s c -x "$w" -y "$h" \
        "stty -ixon; ${CONSOLE_ENV:-LANG=C.UTF-8 TERM=xterm-256color} $(printf '%q' "$MKT")$args; echo \$? >'$T_TMP/exit'; sleep 600"
    tm set-option -t c status off >/dev/null
    tm pipe-pane -t c -o "cat >>'$T_TMP/raw'"
}

screen() { tm capture-pane -p -t c; }
screen_has() { screen | grep -qE -- "$1"; }
# expect_screen SECONDS REGEX: wait until the pane shows REGEX
expect_screen() {
    wait_for "$1" screen_has "$2" || { screen >&2; fail "screen never showed /$2/ within $1 s"; }
}
keys() { tm send-keys -t c "$@"; }
console_exited() { [ -s "$T_TMP/exit" ]; }

# prom_up [RULE_FILE...]: Debian's Prometheus on a free loopback port,
# scraping the demo stack's backend every second (job "marketing", as the
# console names it) and evaluating the rule files every second; sets PROM
# to its URL (with PROM_PREFIX, e.g. /prom, served under that path) and
# PROM_PID. Skips the test when prometheus is not installed.
prom_up() {
    command -v prometheus >/dev/null || skip "prometheus is not installed"
    local target=${MARKETING_METRICS_URL#http://} port rules="" f ext=()
    target=${target%%/*}
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$T_TMP/prom"
    for f in "$@"; do rules+="  - \"$f\""$'\n'; done
    cat >"$T_TMP/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
$rules
scrape_configs:
  - job_name: marketing
    static_configs:
      - targets: ["$target"]
YML
    [ -z "${PROM_PREFIX:-}" ] || ext=(--web.external-url="http://127.0.0.1:$port$PROM_PREFIX")
    prometheus --config.file="$T_TMP/prom/prometheus.yml" --storage.tsdb.path="$T_TMP/prom/data" \
        --web.listen-address="127.0.0.1:$port" "${ext[@]}" --log.level=warn >"$T_TMP/prom/log" 2>&1 &
    PROM_PID=$!
    defer "kill $PROM_PID 2>/dev/null; wait $PROM_PID 2>/dev/null"
    PROM=http://127.0.0.1:$port${PROM_PREFIX:-}
    wait_for 30 curl -sf "$PROM/-/ready" -o /dev/null || fail "prometheus never got ready: $(cat "$T_TMP/prom/log")"
}
