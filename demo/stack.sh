#!/usr/bin/env bash
# The embedded demo stack: a private PostgreSQL cluster in a temporary folder
# (unix socket only), the schema, generated data and the demo backend.
#
#   stack.sh up [STATE_DIR]     start everything; write STATE_DIR/env
#   stack.sh down [STATE_DIR]   stop everything; remove the temporary folder
#   stack.sh demo               up in a fresh state dir, run the console, down
#   stack.sh pg-up DIR          only the cluster (the test harness uses this)
#   stack.sh pg-down DIR        stop that cluster and remove DIR
#
# Sizes come from DEMO_CONTACTS, DEMO_SEGMENTS, DEMO_CAMPAIGNS, DEMO_SEED.
# As root the server runs as the 'postgres' user, since initdb refuses root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${MARKETING_BUILD:-$top/build}

die() { printf 'stack: %s\n' "$*" >&2; exit 1; }
say() { [ -n "${STACK_QUIET:-}" ] || printf 'stack: %s\n' "$*" >&2; }

pg_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir)
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    fi
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    die "no PostgreSQL server found (initdb); run 'make deps'"
}

# run a command as the cluster's owner
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg-up DIR: a cluster in DIR/data, its socket in DIR/run, database 'marketing'
pg_up() {
    local dir=$1 pgbin
    pgbin=$(pg_bindir)
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "as root the server runs as user 'postgres', which does not exist; run 'make deps'"
        chown postgres: "$dir"
    fi
    as_owner mkdir -p "$dir/run"
    as_owner chmod 700 "$dir/run"
    # trust is safe here: the only way in is a socket in a 0700 folder.
    as_owner "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses='' -k '$dir/run' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/postgres.log" >&2; die "postgres did not start"; }
    as_owner "$pgbin/psql" -q -X -h "$dir/run" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c 'CREATE DATABASE marketing' >/dev/null
    printf 'host=%s dbname=marketing user=postgres\n' "$dir/run" >"$dir/dsn"
}

pg_down() {
    local dir=$1 pgbin
    [ -d "$dir" ] || return 0
    pgbin=$(pg_bindir)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$pgbin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

need_bins() {
    local b
    for b in marketing marketing-demo-gen marketing-demo-backend; do
        [ -x "$bin/$b" ] || die "$bin/$b is missing; run 'make' first"
    done
}

# up STATE: STATE/tmp names the temporary folder; STATE/env is sourceable
up() {
    local state=$1 tmp dsn port
    need_bins
    mkdir -p "$state"
    [ ! -f "$state/tmp" ] || die "a demo is already up in $state (run 'make demo-down')"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/marketing-demo.XXXXXX")
    printf '%s\n' "$tmp" >"$state/tmp"
    say "starting PostgreSQL in $tmp"
    pg_up "$tmp"
    dsn=$(cat "$tmp/dsn")
    say "migrating"
    "$bin/marketing" --dsn "$dsn" db migrate >/dev/null
    say "generating data (${DEMO_CONTACTS:-20000} contacts)"
    "$bin/marketing-demo-gen" --dsn "$dsn" \
        --contacts "${DEMO_CONTACTS:-20000}" --segments "${DEMO_SEGMENTS:-8}" \
        --campaigns "${DEMO_CAMPAIGNS:-24}" --seed "${DEMO_SEED:-42}" >"$tmp/gen.log" 2>&1 ||
        { cat "$tmp/gen.log" >&2; die "data generation failed"; }
    say "starting the demo backend"
    "$bin/marketing-demo-backend" --dsn "$dsn" --listen 127.0.0.1:0 --port-file "$tmp/backend.port" \
        ${DEMO_BACKEND_ARGS:-} >"$tmp/backend.log" 2>&1 &
    echo $! >"$tmp/backend.pid"
    for _ in $(seq 100); do
        [ -s "$tmp/backend.port" ] && break
        kill -0 "$(cat "$tmp/backend.pid")" 2>/dev/null || { cat "$tmp/backend.log" >&2; die "the backend exited"; }
        sleep 0.1
    done
    [ -s "$tmp/backend.port" ] || die "the backend did not start listening"
    port=$(cat "$tmp/backend.port")
    {
        printf 'export MARKETING_DSN=%q\n' "$dsn"
        printf 'export MARKETING_METRICS_URL=%q\n' "http://127.0.0.1:$port/metrics"
        printf 'export MARKETING_HEALTH_URL=%q\n' "http://127.0.0.1:$port/health"
        printf 'export MARKETING_READY_URL=%q\n' "http://127.0.0.1:$port/ready"
        printf 'export MARKETING_CONTROL_URL=%q\n' "http://127.0.0.1:$port/control"
        printf 'export MARKETING_DEMO_DIR=%q\n' "$tmp"
    } >"$state/env"
    say "up: source $state/env"
}

down() {
    local state=$1 tmp pid
    trap '' INT TERM HUP   # a second Ctrl-C must not stop the teardown halfway
    [ -f "$state/tmp" ] || { rm -f "$state/env"; return 0; }
    tmp=$(cat "$state/tmp")
    if [ -f "$tmp/backend.pid" ]; then
        pid=$(cat "$tmp/backend.pid")
        if kill "$pid" 2>/dev/null; then
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    pg_down "$tmp"
    rm -f "$state/tmp" "$state/env"
    rmdir "$state" 2>/dev/null || true
    say "down"
}

demo() {
    local rc=0
    need_bins
    # global: the EXIT trap runs after this function has returned
    demo_state=$(mktemp -d "${TMPDIR:-/tmp}/marketing-demo-state.XXXXXX")
    trap 'down "$demo_state"' EXIT
    trap 'exit 130' INT TERM HUP
    up "$demo_state"
    # shellcheck disable=SC1091
    . "$demo_state/env"
    # Ctrl-C now belongs to the console, which quits on it; we then tear down.
    trap '' INT
    "$bin/marketing" "$@" || rc=$?
    return "$rc"
}

cmd=${1:-}
shift || true
case $cmd in
    up)
        st=${1:-$top/.demo}
        [ ! -f "$st/tmp" ] || die "a demo is already up in $st (run 'make demo-down')"
        # a start that fails halfway leaves nothing running
        trap '[ "${up_ok:-0}" = 1 ] || down "$st"' EXIT
        up "$st"
        up_ok=1
        ;;
    down) down "${1:-$top/.demo}" ;;
    demo) demo "$@" ;;
    pg-up) [ $# -eq 1 ] || die "usage: stack.sh pg-up DIR"; pg_up "$1" ;;
    pg-down) [ $# -eq 1 ] || die "usage: stack.sh pg-down DIR"; pg_down "$1" ;;
    *) die "usage: stack.sh up|down|demo|pg-up DIR|pg-down DIR" ;;
esac
