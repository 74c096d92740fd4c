#!/usr/bin/env bash
# Prometheus server mode: with prometheus_url set, the Alerts pane shows the
# server's rules and alerts (source "prometheus"), `marketing alerts` and
# `marketing watch` read the server, and when the server goes away the
# rules say "no data" and what was firing stays firing.
. "$(dirname "$0")/../lib.sh"
stack_up
rules=$T_TMP/extra.rules.yml
cat >"$rules" <<'YML'
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: TargetUp
        expr: up == 1
        labels:
          severity: info
        annotations:
          summary: "{{ $labels.instance }} is up"
          runbook: campaign-not-sending
YML
prom_up "$rules"
wait_for 30 sh -c "curl -sf '$PROM/api/v1/alerts' | grep -q '\"state\":\"firing\"'" || fail "prometheus never fired TargetUp"
export MARKETING_PROMETHEUS_URL=$PROM

# the command line
"$MKT" alerts >"$T_TMP/alerts.txt" 2>"$T_TMP/alerts.err" || fail "marketing alerts: $(cat "$T_TMP/alerts.err")"
grep -qE "^firing +TargetUp +info +1 +[0-9]+s +127\.0\.0\.1:[0-9]+ is up" "$T_TMP/alerts.txt" ||
    fail "marketing alerts: $(cat "$T_TMP/alerts.txt")"
"$MKT" alerts --json >"$T_TMP/alerts.json" || fail "marketing alerts --json"
python3 - "$T_TMP/alerts.json" <<'PY' || fail "marketing alerts --json: $(cat "$T_TMP/alerts.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "prometheus", d["source"]
r = {x["name"]: x for x in d["rules"]}
assert r["TargetUp"]["state"] == "firing" and r["TargetUp"]["source"] == "prometheus", r["TargetUp"]
assert r["TargetUp"]["alerts"][0]["labels"]["alertname"] == "TargetUp"
assert r["TargetUp"]["runbook"] == "campaign-not-sending"
PY
"$MKT" watch --json --count 2 --interval 1s --query 'count(up)' >"$T_TMP/watch.jsonl" ||
    fail "marketing watch: $(cat "$T_TMP/watch.jsonl")"
python3 - "$T_TMP/watch.jsonl" <<'PY' || fail "marketing watch --json: $(cat "$T_TMP/watch.jsonl")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2, len(lines)
for d in lines:
    assert d["queries"][0]["value"] == "1", d["queries"]
    assert {"name": "TargetUp", "state": "firing", "value": "1", "noData": False}.items() <= \
        {k: v for a in d["alerts"] if a["name"] == "TargetUp" for k, v in a.items()}.items(), d["alerts"]
PY

# the console
console_start 140 40 --scrape-interval 1s
expect_screen 10 "metrics: ok"
keys 4
expect_screen 15 "FIRING +TargetUp +info +1 +for [0-9]+s +prometheus, data [0-9]+s"
keys g Enter
expect_screen 5 "Source +read from the Prometheus server"
expect_screen 5 "127\.0\.0\.1:[0-9]+ is up"
expect_screen 5 "Runbook campaign-not-sending"
keys Escape

# the server goes away: no data, and TargetUp is still firing
kill "$PROM_PID"
expect_screen 20 "NO DATA +TargetUp +info +frozen firing: .*(refused|connect)"
expect_screen 2 "Alerts and health  1 firing"
