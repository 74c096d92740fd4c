#!/usr/bin/env bash
# The Prometheus API client (src/promapi.c) and `marketing query` with
# prometheus_url, against a real Prometheus server (Debian's prometheus,
# started here on loopback under the route prefix /prom) that scrapes the
# demo backend and loads the shipped rules plus two of ours: TargetUp fires
# at once, TargetUpForAnHour stays pending. What the client reads is
# compared with what curl and python read from the same server at the same
# evaluation time. Then misbehaving servers (httpfaults.py): bad JSON,
# wrong shapes, Prometheus errors, HTTP errors, a hang, a huge body, a
# token, a redirect to file://, and hostile strings.
. "$(dirname "$0")/../lib.sh"
command -v prometheus >/dev/null || skip "prometheus is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
[ -x "$T_BUILD/itests/test_promapi" ] || fail "$T_BUILD/itests/test_promapi is missing; run 'make'"
stack_up
target=${MARKETING_METRICS_URL#http://}
target=${target%%/*}
mkdir -p "$T_TMP/prom"
cat >"$T_TMP/prom/test.rules.yml" <<'YML'
groups:
  - name: promapi-test
    interval: 1s
    rules:
      - alert: TargetUp
        expr: up == 1
        for: 0s
        keep_firing_for: 30s
        labels:
          severity: info
        annotations:
          summary: "{{ $labels.instance }} is up ({{ $value }})"
      - alert: TargetUpForAnHour
        expr: up == 1
        for: 1h
        labels:
          severity: info
      - record: job:up:sum
        expr: sum by (job) (up)
YML
PROM_PREFIX=/prom prom_up "$T_TOP/rules/marketing.rules.yml" "$T_TMP/prom/test.rules.yml"

# every rule evaluated once (the shipped group runs every 15 s), both test
# alerts active, and 15 s of scrapes for the windows below
rules_ready() {
    curl -sf "$PROM/api/v1/rules" | python3 -c '
import json, sys
g = json.load(sys.stdin)["data"]["groups"]
rules = [r for x in g for r in x["rules"]]
assert len(rules) == 7 and all(r["health"] == "ok" for r in rules)
st = {r["name"]: r.get("state") for r in rules}
assert st["TargetUp"] == "firing" and st["TargetUpForAnHour"] == "pending"' 2>/dev/null
}
wait_for 60 rules_ready || fail "prometheus did not evaluate the rules: $(curl -s "$PROM/api/v1/rules")"
wait_for 60 sh -c "curl -sf '$PROM/api/v1/query?query=count_over_time(up%5B15s%5D)' | grep -q '\"1[5-9]\"\\|\"[2-9][0-9]\"'" ||
    fail "prometheus has not scraped for 15 s"

python3 "$T_TOP/tests/integration/httpfaults.py" "$T_TMP/aux.port" 2>"$T_TMP/aux.log" &
aux_pid=$!
defer "kill $aux_pid 2>/dev/null; wait $aux_pid 2>/dev/null"
wait_for 20 test -s "$T_TMP/aux.port" || { cat "$T_TMP/aux.log" >&2; fail "httpfaults.py did not start"; }
AUX=http://127.0.0.1:$(cat "$T_TMP/aux.port")

# ---- the client in C: assertions of its own, and files for python below ----
# an instant in the past that every scrape before it has reached
at_ms=$(( ($(date +%s) - 3) * 1000 + 250 ))
T_PROM_URL=$PROM T_AUX_URL=$AUX T_TMP=$T_TMP T_TARGET=$target T_AT_MS=$at_ms \
    "$T_BUILD/itests/test_promapi" || fail "test_promapi failed"

# ---- what the client read == what curl and python read ----
curl -sf "$PROM/api/v1/alerts" >"$T_TMP/py.alerts" || fail "curl /api/v1/alerts"
curl -sf "$PROM/api/v1/rules" >"$T_TMP/py.rules" || fail "curl /api/v1/rules"
python3 - "$T_TMP" "$PROM" "$at_ms" <<'PY' || fail "the client and python disagree"
import calendar, json, math, re, subprocess, sys, urllib.parse
tmp, prom, at_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])

def rfc3339_ms(s):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z", s)
    y, mo, d, h, mi, se, frac = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(se)))
    return secs * 1000 + int(((frac or "") + "000")[:3])

def num(s):
    return float(s)  # python reads "NaN", "+Inf", "1e+00" as Prometheus writes them

def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b

# alerts: the C program wrote one line per alert, name state activeAt value.
# The shipped rules' alerts come and go with the demo's traffic between the
# two reads: the test rules' alerts stay, and are compared.
def alert_line(l):
    name, state, at, v = l.split(" ")
    return name, state, int(at), num(v)
stays = lambda name: name.startswith("TargetUp")
ours = sorted(a for a in map(alert_line, open(f"{tmp}/c.alerts").read().splitlines()) if stays(a[0]))
theirs = sorted((a["labels"]["alertname"], a["state"], rfc3339_ms(a["activeAt"]), num(a["value"]))
                for a in json.load(open(f"{tmp}/py.alerts"))["data"]["alerts"]
                if stays(a["labels"]["alertname"]))
assert len(ours) == 2, ours
assert len(ours) == len(theirs) and all(a[:3] == b[:3] and same(a[3], b[3]) for a, b in zip(ours, theirs)), \
    f"alerts: ours {ours}, python {theirs}"
print(f"  alerts agree: {len(ours)}", file=sys.stderr)

# rules: group name interval, then each rule's type name health state for
# keep alerts labels (state and alerts "-" in the shipped group: they follow
# the demo's traffic)
ours = open(f"{tmp}/c.rules").read().splitlines()
theirs = []
for g in json.load(open(f"{tmp}/py.rules"))["data"]["groups"]:
    theirs.append("group %s %s %d" % (g["name"], g["file"], round(g["interval"] * 1000)))
    for r in g["rules"]:
        labels = ",".join("%s=%s" % kv for kv in sorted(r.get("labels", {}).items()))
        if r["type"] == "alerting":
            live = g["name"] == "marketing-system"
            theirs.append("alerting %s %s %s %d %d %s %s" % (
                r["name"], r["health"], "-" if live else r["state"], round(r["duration"] * 1000),
                round(r.get("keepFiringFor", 0) * 1000), "-" if live else len(r["alerts"]), labels))
        else:
            theirs.append("recording %s %s %s" % (r["name"], r["health"], labels))
assert ours == theirs, f"rules: ours {ours}, python {theirs}"
print(f"  rules agree: {len(ours)} lines", file=sys.stderr)

def get(path, **params):
    url = prom + path + "?" + urllib.parse.urlencode(params)
    return json.loads(subprocess.run(["curl", "-sf", url], check=True, capture_output=True).stdout)

# instant queries: the C program wrote each answer with promql_format_result
for i, expr in enumerate(open(f"{tmp}/c.exprs").read().splitlines()):
    ours = json.load(open(f"{tmp}/c.query.{i}"))
    d = get("/api/v1/query", query=expr, time="%.3f" % (at_ms / 1000))["data"]
    if d["resultType"] == "scalar":
        theirs = [{"metric": None, "value": d["result"]}]
        ours = [{"metric": None, "value": ours}]
    else:
        theirs = d["result"]
    key = lambda s: json.dumps(s["metric"], sort_keys=True)
    ours, theirs = sorted(ours, key=key), sorted(theirs, key=key)
    assert [key(s) for s in ours] == [key(s) for s in theirs], f"{expr}: series {ours} vs {theirs}"
    for a, b in zip(ours, theirs):
        assert a["value"][0] == b["value"][0], f"{expr}: time {a} vs {b}"
        assert same(num(a["value"][1]), num(b["value"][1])), f"{expr}: {a} vs {b}"
    print(f"  query {expr}: {len(ours)} series agree", file=sys.stderr)

# range queries: the C program wrote {labels: [[t_ms, value], ...]}
for i, expr in enumerate(open(f"{tmp}/c.rexprs").read().splitlines()):
    ours = json.load(open(f"{tmp}/c.range.{i}"))
    d = get("/api/v1/query_range", query=expr, start="%.3f" % (at_ms / 1000 - 30),
            end="%.3f" % (at_ms / 1000), step="2")["data"]
    theirs = {json.dumps(s["metric"], sort_keys=True):
              [[round(t * 1000), num(v)] for t, v in s["values"]] for s in d["result"]}
    ours = {json.dumps(json.loads(k), sort_keys=True): [[t, num(v)] for t, v in pts]
            for k, pts in ours.items()}
    assert ours.keys() == theirs.keys(), f"{expr}: {sorted(ours)} vs {sorted(theirs)}"
    for k in ours:
        assert len(ours[k]) == len(theirs[k]) and len(ours[k]) > 0, f"{expr} {k}: {ours[k]} vs {theirs[k]}"
        for a, b in zip(ours[k], theirs[k]):
            assert a[0] == b[0] and same(a[1], b[1]), f"{expr} {k}: {a} vs {b}"
    print(f"  range {expr}: {sum(map(len, ours.values()))} points agree", file=sys.stderr)
PY

# ---- marketing query with prometheus_url ----
export MARKETING_PROMETHEUS_URL=$PROM/
for e in 'up' 'count(up == 1)' 'topk(1, up)' 'scalar(count(up))' 'max(campaigns_active)'; do
    "$MKT" query "$e" --json >"$T_TMP/cli.json" 2>"$T_TMP/cli.err" || fail "marketing query '$e': $(cat "$T_TMP/cli.err")"
    python3 - "$T_TMP/cli.json" "$PROM" "$e" <<'PY' || fail "marketing query '$e' disagrees with prometheus: $(cat "$T_TMP/cli.json")"
import json, subprocess, sys, urllib.parse
ours = json.load(open(sys.argv[1]))
assert ours["status"] == "success" and ours["scrapes"] == 0, ours
d = ours["data"]
at = d["result"][0] if d["resultType"] == "scalar" else d["result"][0]["value"][0]
url = sys.argv[2] + "/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[3], "time": "%.3f" % at})
theirs = json.loads(subprocess.run(["curl", "-sf", url], check=True, capture_output=True).stdout)["data"]
assert d == theirs, f"ours {d}, prometheus {theirs}"
print(f"  marketing query {sys.argv[3]}: {json.dumps(d['result'])[:100]}", file=sys.stderr)
PY
done
# the text output is the same as without a server: one sanitized line per series
"$MKT" query 'up' >"$T_TMP/cli.txt" 2>"$T_TMP/cli.err" || fail "marketing query up: $(cat "$T_TMP/cli.err")"
eq "marketing query up (text)" "$(cat "$T_TMP/cli.txt")" "up{instance=\"$target\", job=\"marketing\"} 1"
# an error is Prometheus's own words, exit 1
set +e
"$MKT" query 'sum(up' >"$T_TMP/cli.txt" 2>"$T_TMP/cli.err"
rc=$?
set -e
eq "marketing query with a bad expression: exit code" "$rc" 1
grep -q 'bad_data: invalid parameter "query": 1:7: parse error: unclosed left parenthesis' "$T_TMP/cli.err" ||
    fail "marketing query 'sum(up': $(cat "$T_TMP/cli.err")"
[ ! -s "$T_TMP/cli.txt" ] || fail "marketing query 'sum(up' printed $(cat "$T_TMP/cli.txt")"
# hostile label values from a server reach the terminal escaped
MARKETING_PROMETHEUS_URL=$AUX/prom-values "$MKT" query m >"$T_TMP/cli.txt" 2>"$T_TMP/cli.err" ||
    fail "marketing query on prom-values: $(cat "$T_TMP/cli.err")"
eq "lines from prom-values" "$(wc -l <"$T_TMP/cli.txt")" 2
if LC_ALL=C grep -q "$(printf '[\033\007\r]')" "$T_TMP/cli.txt"; then
    fail "raw control bytes in marketing query's output: $(od -c "$T_TMP/cli.txt" | head)"
fi
grep -q '^m{x="a"} +Inf$' "$T_TMP/cli.txt" || fail "prom-values: $(cat "$T_TMP/cli.txt")"
# and a server error on the command line: HTTP status and the server's text, escaped
set +e
MARKETING_PROMETHEUS_URL=$AUX/prom-503 "$MKT" query up >/dev/null 2>"$T_TMP/cli.err"
rc=$?
set -e
eq "marketing query on a 503: exit code" "$rc" 1
grep -q "/api/v1/query: HTTP 503: unavailable: the server is shutting down" "$T_TMP/cli.err" ||
    fail "503: $(cat "$T_TMP/cli.err")"
echo "ok"
