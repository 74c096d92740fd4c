#!/usr/bin/env bash
# 'make demo-up' as the README shows it: a sourceable env whose endpoints
# serve promtool-clean metrics and the seed's /health fields, a database the
# console reads, and 'make demo-down' that leaves nothing behind.
. "$(dirname "$0")/../lib.sh"
command -v promtool >/dev/null || skip "promtool is not installed (make deps)"
state=$T_TMP/state
dt=$T_TMP/tmp
mkdir -p "$dt"
chmod 755 "$dt"
TMPDIR=$dt STACK_QUIET=1 DEMO_CONTACTS=2000 "$T_TOP/demo/stack.sh" up "$state"
defer "STACK_QUIET=1 '$T_TOP/demo/stack.sh' down '$state'"
# shellcheck disable=SC1091
. "$state/env"
PGDSN=$MARKETING_DSN
for v in MARKETING_DSN MARKETING_METRICS_URL MARKETING_HEALTH_URL; do
    [ -n "${!v:-}" ] || fail "$v is not in $state/env"
done

# one request first: http_requests_total has a series only once one was served
curl -fsS "$MARKETING_HEALTH_URL" >/dev/null || fail "GET $MARKETING_HEALTH_URL failed"
curl -fsS "$MARKETING_METRICS_URL" >"$T_TMP/metrics" || fail "GET $MARKETING_METRICS_URL failed"
promtool check metrics <"$T_TMP/metrics" >"$T_TMP/promtool" 2>&1 || fail "promtool: $(cat "$T_TMP/promtool")"
[ ! -s "$T_TMP/promtool" ] || fail "promtool complained: $(cat "$T_TMP/promtool")"
for m in http_requests_total http_request_duration_seconds_bucket campaigns_created_total \
         campaigns_launched_total emails_sent_total emails_opened_total emails_clicked_total \
         database_connections_active database_connections_max process_cpu_seconds_total; do
    grep -q "^$m[{ ]" "$T_TMP/metrics" || fail "metric $m is missing"
done

curl -fsS "$MARKETING_HEALTH_URL" >"$T_TMP/health" || fail "GET $MARKETING_HEALTH_URL failed"
python3 - "$T_TMP/health" <<'PY' || fail "/health lacks the seed's fields: $(cat "$T_TMP/health")"
import json, sys
h = json.load(open(sys.argv[1]))
assert h['status'] in ('healthy', 'degraded', 'unhealthy'), h
assert isinstance(h['version'], str) and isinstance(h['uptime'], int), h
assert h['checks']['database'] == 'healthy', h
PY

# the console's view of the same database, through MARKETING_DSN alone
n=$("$MKT" campaigns --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
eq "campaigns seen through MARKETING_DSN" "$n" "$(sql "SELECT count(*) FROM campaigns")"

STACK_QUIET=1 "$T_TOP/demo/stack.sh" down "$state"
[ ! -e "$state/env" ] || fail "demo-down left $state/env"
if pgrep -af "$dt"; then fail "demo-down left processes"; fi
[ -z "$(ls -A "$dt")" ] || fail "demo-down left files: $(ls -A "$dt")"
echo ok
