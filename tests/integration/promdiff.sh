#!/usr/bin/env bash
# The console's own PromQL against a real Prometheus server (Debian's
# prometheus, started here on loopback), both scraping the demo backend
# every second: the same expressions, evaluated at the same instant, agree
# within 5% (they see the same counters through scrapes a fraction of a
# second apart). And the text parser over an endpoint nobody here wrote,
# the Prometheus server's own /metrics: every sample parsed, none invented.
# differential: the PromQL engine against a real Prometheus server
. "$(dirname "$0")/../lib.sh"
stack_up
prom_up
# enough history in Prometheus for the widest window below
wait_for 60 sh -c "curl -sf '$PROM/api/v1/query?query=count_over_time(up%5B25s%5D)' | grep -q '\"2[5-9]\"\\|\"3[0-9]\"'" ||
    fail "prometheus has not scraped for 25 s"

exprs=(
    'sum(rate(emails_sent_total[20s]))'
    'sum(increase(emails_sent_total[20s]))'
    'sum by (status) (rate(http_requests_total{path!="/metrics"}[20s]))'
    'database_connections_active / database_connections_max'
    'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[20s])))'
    'max(campaigns_active) > 0'
    'sum(rate(emails_sent_total[20s])) * 60 > 1 and on() max(campaigns_active) > 0'
    'count(up == 1)'
)
# ours, all at once: each scrapes for the 20 s its window needs
i=0
pids=()
for e in "${exprs[@]}"; do
    MARKETING_SCRAPE_INTERVAL=1s "$MKT" query "$e" --json >"$T_TMP/ours.$i" 2>"$T_TMP/ours.$i.err" &
    pids+=($!)
    i=$((i + 1))
done
wait "${pids[@]}"  # not prometheus
i=0
for e in "${exprs[@]}"; do
    [ -s "$T_TMP/ours.$i" ] || fail "marketing query '$e': $(cat "$T_TMP/ours.$i.err")"
    # Prometheus at the instant ours was evaluated
    at=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; r=d["result"]
print(r[1] if d["resultType"]=="scalar" else (r[0]["value"][0] if r else ""))' "$T_TMP/ours.$i")
    [ -n "$at" ] || at=$(date +%s)
    curl -sf -G "$PROM/api/v1/query" --data-urlencode "query=$e" --data-urlencode "time=$at" >"$T_TMP/prom.$i" ||
        fail "prometheus query '$e' failed"
    python3 - "$T_TMP/ours.$i" "$T_TMP/prom.$i" "$e" <<'PY' || fail "'$e' differs: ours $(cat "$T_TMP/ours.$i"); prometheus $(cat "$T_TMP/prom.$i")"
import json, math, sys
ours = json.load(open(sys.argv[1]))["data"]
prom = json.load(open(sys.argv[2]))["data"]
def series(d):
    if d["resultType"] == "scalar":
        return {(): float(d["result"][1])}
    return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in d["result"]}
a, b = series(ours), series(prom)
assert a.keys() == b.keys(), f"series differ: ours {sorted(a)} prometheus {sorted(b)}"
for k in a:
    x, y = a[k], b[k]
    if math.isnan(x) or math.isnan(y):
        assert math.isnan(x) and math.isnan(y), (k, x, y)
        continue
    assert abs(x - y) <= 0.05 * max(abs(x), abs(y)) + 1e-9, f"{k}: ours {x} prometheus {y}"
    print(f"  {sys.argv[3]} {dict(k)}: ours {x:.6g}, prometheus {y:.6g}", file=sys.stderr)
PY
    i=$((i + 1))
done

# the server's own exposition, through our parser: every sample, none
# invented. One copy of the body is served again, so both count the same.
mkdir -p "$T_TMP/www"
curl -sf "$PROM/metrics" >"$T_TMP/www/metrics"
want=$(grep -cv '^#\|^$' "$T_TMP/www/metrics")
wport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$wport" --bind 127.0.0.1 --directory "$T_TMP/www" >/dev/null 2>&1 &
www_pid=$!
defer "kill $www_pid 2>/dev/null; wait $www_pid 2>/dev/null"
wait_for 10 curl -sf "http://127.0.0.1:$wport/metrics" -o /dev/null || fail "the file server did not start"
MARKETING_METRICS_URL=http://127.0.0.1:$wport/metrics "$MKT" query 'count({__name__=~".+"})' >"$T_TMP/count" 2>"$T_TMP/count.err" ||
    fail "parsing prometheus's own /metrics: $(cat "$T_TMP/count.err")"
got=$(awk '{ print $NF }' "$T_TMP/count")
# ours adds up, scrape_duration_seconds and scrape_samples_scraped
eq "prometheus's /metrics: samples parsed (plus our 3)" "$got" "$((want + 3))"
echo "ok"
