#!/usr/bin/env bash
# The demo backend's HTTP side: /metrics passes promtool, /health and /ready
# carry the seed's fields (and turn 503 without a database), the control
# endpoint validates and switches every fault, and SIGTERM ends the process
# while requests hang.
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

BK=$T_BUILD/marketing-demo-backend
[ -x "$BK" ] || fail "$BK is missing; run 'make build/marketing-demo-backend'"
command -v curl >/dev/null || skip "curl is not installed"
command -v promtool >/dev/null || skip "promtool is not installed (Debian package prometheus)"

pg_up
psql -X -q -v ON_ERROR_STOP=1 "$PGDSN" -1 -f "$T_TOP/sql/001_init.sql" >/dev/null

# start_backend NAME DSN ARGS...: sets BK_PID and URL
start_backend() {
    local name=$1 dsn=$2
    shift 2
    rm -f "$T_TMP/port"
    "$BK" --dsn "$dsn" --listen 127.0.0.1:0 --port-file "$T_TMP/port" "$@" 2>>"$T_TMP/backend-$name.log" &
    BK_PID=$!
    defer "kill -TERM $BK_PID 2>/dev/null; wait $BK_PID"
    wait_for 10 test -s "$T_TMP/port" || { cat "$T_TMP/backend-$name.log" >&2; fail "backend $name wrote no port file"; }
    URL=http://127.0.0.1:$(cat "$T_TMP/port")
}

# code PATH [CURL ARGS...]: the HTTP status of one request ("000" if none)
code() {
    local path=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' "$@" "$URL$path" || true
}

# control QUERY: POST /control?QUERY, which must answer 200
control() { eq "POST /control?$1" "$(code "/control?$1" -X POST --max-time 5)" 200; }

# gone PID: the process has exited (a zombie counts: it is not reaped until 'wait')
gone() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }

# --- a backend without a database: alive, but unhealthy and not ready
start_backend nodb "host=$T_TMP/nowhere dbname=marketing connect_timeout=2"
eq "/health without a database" "$(code /health)" 503
curl -s "$URL/health" | grep -q '"status":"unhealthy".*"database":"unhealthy"' || fail "/health does not say the database is unhealthy"
eq "/ready without a database" "$(code /ready)" 503
curl -s "$URL/ready" | grep -q '"status":"not_ready"' || fail "/ready does not say not_ready"
eq "/metrics without a database" "$(code /metrics)" 200
kill -TERM "$BK_PID"
wait "$BK_PID" || fail "backend without a database exited non-zero after SIGTERM"

# --- the real one
start_backend main "$PGDSN" --sink "maildir:$T_TMP/mail"
wait_for 20 curl -fsS -o /dev/null --max-time 2 "$URL/ready" || fail "backend never became ready"

# metrics: well-formed, linted, and the names the console and the alert rules use
code /nowhere >/dev/null
curl -fsS "$URL/metrics" >"$T_TMP/metrics.txt"
promtool check metrics <"$T_TMP/metrics.txt" >"$T_TMP/promtool.txt" 2>&1 || { cat "$T_TMP/promtool.txt" >&2; fail "promtool check metrics failed"; }
[ ! -s "$T_TMP/promtool.txt" ] || { cat "$T_TMP/promtool.txt" >&2; fail "promtool has complaints"; }
ctype=$(curl -fsS -o /dev/null -w '%{content_type}' "$URL/metrics")
eq "/metrics content type" "$ctype" "text/plain; version=0.0.4; charset=utf-8"
for name in http_requests_total http_request_duration_seconds campaigns_created_total campaigns_launched_total \
    emails_sent_total emails_opened_total emails_clicked_total emails_failed_total emails_bounced_total \
    database_connections_active database_connections_max campaigns_active process_cpu_seconds_total \
    process_resident_memory_bytes process_open_fds process_start_time_seconds; do
    grep -q "^# TYPE $name " "$T_TMP/metrics.txt" || fail "/metrics has no family $name"
done
grep -q '^http_requests_total{method="GET",path="other",status="404"} 1$' "$T_TMP/metrics.txt" ||
    fail "an unknown path is not counted as path=\"other\""
grep -q '^http_request_duration_seconds_bucket{method="GET",path="/ready",le="+Inf"} ' "$T_TMP/metrics.txt" ||
    fail "no duration histogram for /ready"
wait_for 10 sh -c "curl -fsS '$URL/metrics' | grep -q '^database_connections_max [1-9]'" ||
    fail "database figures never appeared in /metrics"

# health and readiness: the seed's shape, only the checks we have
health=$(curl -fsS "$URL/health")
note "health: $health"
for field in '"status":"healthy"' '"version":"' '"uptime":' '"database":"healthy"' '"email_service":"healthy"' \
    '"campaign_worker":"healthy"'; do
    case $health in *"$field"*) ;; *) fail "/health lacks $field" ;; esac
done
case $(curl -fsS "$URL/ready") in *'"status":"ready"'*) ;; *) fail "/ready is not ready" ;; esac

# control: validation
eq "bad latency" "$(code '/control?latency_ms=-1' -X POST)" 400
eq "bad error rate" "$(code '/control?error_rate=2' -X POST)" 400
eq "bad switch" "$(code '/control?hang=yes' -X POST)" 400
eq "unknown parameter" "$(code '/control?colour=red' -X POST)" 400
eq "no parameters" "$(code '/control' -X POST)" 400
curl -s -X POST "$URL/control?latency_ms=x" | grep -q 'latency_ms' || fail "the 400 does not name the parameter"
eq "GET /control" "$(curl -fsS "$URL/control")" \
    '{"latency_ms":0,"error_rate":0.0,"garbage":false,"hang":false,"send":true}'

# latency: the response waits at least that long
control latency_ms=400
t=$(curl -fsS -o /dev/null -w '%{time_total}' "$URL/health")
awk -v t="$t" 'BEGIN { exit !(t >= 0.4) }' || fail "latency_ms=400 answered in $t s"
control latency_ms=0

# error rate 1: every faulted response is a 500, /control is exempt
control error_rate=1
eq "/metrics at error_rate=1" "$(code /metrics)" 500
eq "/health at error_rate=1" "$(code /health)" 500
eq "/control at error_rate=1" "$(code /control)" 200
control error_rate=0
eq "/health after error_rate=0" "$(code /health)" 200

# garbage: 200 with a body that is neither the metrics text nor JSON
control garbage=1
eq "/metrics with garbage" "$(code /metrics)" 200
curl -s "$URL/metrics" -o "$T_TMP/garbage.bin"
! grep -qa '^# TYPE emails_sent_total counter' "$T_TMP/garbage.bin" || fail "garbage=1 still serves the real metrics"
curl -s "$URL/health" | grep -qa '"checks"' && fail "garbage=1 still serves the real health"
control garbage=0

# hang: probes time out, /control still answers, clearing it releases the waiters
control hang=1
rc=0
curl -s -o /dev/null --max-time 1 "$URL/health" || rc=$?
eq "curl exit status on a hanging /health" "$rc" 28
eq "/control during a hang" "$(code /control --max-time 2)" 200
curl -s -o "$T_TMP/released.json" -w '%{http_code}' --max-time 20 "$URL/ready" >"$T_TMP/released.code" &
waiter=$!
sleep 0.5
control hang=0
wait "$waiter" || fail "the hanging /ready did not complete after hang=0"
eq "status of the released /ready" "$(cat "$T_TMP/released.code")" 200

# send switch
control send=0
case $(curl -fsS "$URL/control") in *'"send":false'*) ;; *) fail "send=0 not reflected" ;; esac
control send=1

# SIGTERM while requests hang: the process exits promptly and cleanly
control hang=1
curl -s -o /dev/null --max-time 20 "$URL/metrics" &
c1=$!
curl -s -o /dev/null --max-time 20 "$URL/health" &
c2=$!
sleep 0.5
kill -TERM "$BK_PID"
wait_for 2 gone "$BK_PID" || fail "backend still running 2 s after SIGTERM during a hang"
rc=0
wait "$BK_PID" || rc=$?
eq "exit status after SIGTERM during a hang" "$rc" 0
wait "$c1" "$c2" || true

grep -q '"message":"stopped"' "$T_TMP/backend-main.log" || fail "no 'stopped' log line"
! grep -hE 'runtime error|Sanitizer' "$T_TMP"/backend-*.log >&2 || fail "sanitizer reports in the backend log"
! grep -hv '^{' "$T_TMP"/backend-*.log >&2 || fail "a log line that is not JSON"
echo "ok: metrics lint-clean, health and faults behave"
