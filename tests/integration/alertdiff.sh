#!/usr/bin/env bash
# The console's alert states against a real Prometheus server's, on the
# same rule file, both scraping the demo backend every second.
#
# The rule file is the shipped one with its windows and durations made
# short enough for a test (5m windows become 10s, every `for` 5s, the
# group's interval 1s): `promtool check rules` passes on it, and both
# sides load exactly that file.
#
# Then the backend's fault switch turns HighErrorRate on: a fifth of all
# responses become 500s, the scrapes of /metrics included, so both sides
# also see failed scrapes. Both must go pending, then fire, within a few
# seconds of each other; the console must never resolve the alert while
# its scrapes fail now and then; and once the switch is off, both must
# resolve it, again within a few seconds of each other.
#
# Tolerances: 5 s on every transition (scrapes are 1 s apart and not in
# phase, evaluations 1 s apart, and a 10 s window ends a second earlier or
# later). On the value of the rule's expression while it fires, at ten
# instants: means within 10%, and no single pair more than 60% apart. Each
# side estimates a rate over a 10 s window of a random fifth of 100 or more
# requests a second, through its own scrapes, a fifth of which fail (the
# fault hits /metrics too): which scrapes failed moves the extrapolation,
# so single instants differ by up to a third, typically by 5%.
# differential: the alert states against a real Prometheus server
. "$(dirname "$0")/../lib.sh"
stack_up
rules=$T_TMP/rules.yml
sed -e 's/\[5m\]/[10s]/g' -e 's/for: [0-9]*m$/for: 5s/' -e 's/interval: 15s/interval: 1s/' \
    "$T_TOP/rules/marketing.rules.yml" >"$rules"
grep -q 'for: 5s' "$rules" && ! grep -q '5m\]' "$rules" || fail "the test rule file was not made: $(cat "$rules")"
if command -v promtool >/dev/null; then
    promtool check rules "$rules" >/dev/null || fail "promtool check rules fails on the test rule file"
fi
prom_up "$rules"

control() { curl -fsS -X POST "$MARKETING_CONTROL_URL?$1" >/dev/null; }
expr='sum(rate(http_requests_total{status=~"5.."}[10s]))'

# ours: the console's engine, one JSON line a second
MARKETING_RULE_FILE=$rules MARKETING_SCRAPE_INTERVAL=1s "$MKT" watch --json --interval 1s \
    --query "$expr" >"$T_TMP/ours.jsonl" 2>"$T_TMP/ours.err" &
ours_pid=$!
defer "kill $ours_pid 2>/dev/null"
# theirs: Prometheus's alerts, twice a second
python3 - "$PROM" >"$T_TMP/prom.jsonl" 2>"$T_TMP/prom.err" <<'PY' &
import json, sys, time, urllib.request
url = sys.argv[1] + "/api/v1/alerts"
while True:
    t = time.time()
    try:
        d = json.load(urllib.request.urlopen(url, timeout=2))["data"]["alerts"]
        states = {}
        for a in d:
            n = a["labels"]["alertname"]
            if states.get(n) != "firing":
                states[n] = a["state"]
        print(json.dumps({"t": t, "states": states}), flush=True)
    except Exception as e:
        print(json.dumps({"t": t, "error": str(e)}), flush=True)
    time.sleep(0.5)
PY
mon_pid=$!
defer "kill $mon_pid 2>/dev/null"

# load: a hundred or more requests a second to a path the backend does not serve
# (404s, and 500s while the fault is on), so the windows count enough
# events for the values to compare closely
python3 - "${MARKETING_METRICS_URL%/metrics}/load" <<'PY' &
import sys, threading, time, urllib.request
def load():
    while True:
        try:
            urllib.request.urlopen(sys.argv[1], timeout=2)
        except Exception:
            pass
        time.sleep(0.01)
for _ in range(2):
    threading.Thread(target=load, daemon=True).start()
while True:
    time.sleep(60)
PY
load_pid=$!
defer "kill $load_pid 2>/dev/null"

# warm up: both have a full window, and nothing fires
sleep 14
kill -0 $ours_pid 2>/dev/null || fail "marketing watch ended: $(cat "$T_TMP/ours.err")"
t_on=$(date +%s.%N)
control error_rate=0.2
last_state() { # SOURCE NAME: the newest state seen
    python3 - "$@" <<'PY'
import json, sys
f = {"ours": "ours.jsonl", "prom": "prom.jsonl"}[sys.argv[1]]
state = "inactive"
for line in open(sys.argv[3] + "/" + f):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if sys.argv[1] == "ours":
        for a in d.get("alerts", []):
            if a["name"] == sys.argv[2]:
                state = a["state"]
    elif "states" in d:
        state = d["states"].get(sys.argv[2], "inactive")
print(state)
PY
}
both() { [ "$(last_state ours HighErrorRate "$T_TMP")" = "$1" ] && [ "$(last_state prom HighErrorRate "$T_TMP")" = "$1" ]; }
wait_for 60 both firing || fail "HighErrorRate did not fire on both within 60 s: ours $(last_state ours HighErrorRate "$T_TMP"), prometheus $(last_state prom HighErrorRate "$T_TMP")"
sleep 10
t_off=$(date +%s.%N)
control error_rate=0
wait_for 60 both inactive || fail "HighErrorRate did not resolve on both within 60 s: ours $(last_state ours HighErrorRate "$T_TMP"), prometheus $(last_state prom HighErrorRate "$T_TMP")"
sleep 3
kill $ours_pid $mon_pid $load_pid 2>/dev/null

python3 - "$T_TMP" "$t_on" "$t_off" "$PROM" "$expr" <<'PY' || fail "the console and Prometheus disagree (above)"
import datetime, json, sys, urllib.parse, urllib.request
tmp, t_on, t_off, prom, expr = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
ours, prom_s, values = [], [], []
for line in open(tmp + "/ours.jsonl"):
    d = json.loads(line)
    t = ts(d["time"])
    st = {a["name"]: a["state"] for a in d["alerts"]}
    nodata = any(a["noData"] for a in d["alerts"])
    ours.append((t, st, nodata))
    q = d["queries"][0]
    if q.get("value") is not None:
        values.append((ts(q["at"]), float(q["value"])))
for line in open(tmp + "/prom.jsonl"):
    d = json.loads(line)
    if "states" in d:
        prom_s.append((d["t"], d["states"]))

def first(series, after, state, name="HighErrorRate"):
    for t, st, *_ in series:
        if t >= after and st.get(name, "inactive") == state:
            return t
    return None

bad = []
def near(what, a, b, tol=5.0):
    if a and b:
        print(f"  {what}: console at +{a - t_on:.1f}s, prometheus at +{b - t_on:.1f}s (from the fault going on)",
              file=sys.stderr)
    if a is None or b is None:
        bad.append(f"{what}: console {a}, prometheus {b}")
    elif abs(a - b) > tol:
        bad.append(f"{what}: console at +{a - t_on:.1f}s, prometheus at +{b - t_on:.1f}s (more than {tol}s apart)")

for src, s in (("console", ours), ("prometheus", prom_s)):
    # before the fault: nothing of the four fires (the demo sends well above the rate rule)
    for t, st, *_ in s:
        if t < t_on - 1 and st.get("HighErrorRate", "inactive") != "inactive":
            bad.append(f"{src}: HighErrorRate {st['HighErrorRate']} before the fault")
            break
near("pending", first(ours, t_on, "pending"), first(prom_s, t_on, "pending"))
near("firing", first(ours, t_on, "firing"), first(prom_s, t_on, "firing"))
near("resolved", first(ours, t_off, "inactive"), first(prom_s, t_off, "inactive"))
fire = first(ours, t_on, "firing")
# pending comes before firing, by about the rule's 5 s
p = first(ours, t_on, "pending")
if p and fire and not (3.0 <= fire - p <= 8.0):
    bad.append(f"console: pending at +{p - t_on:.1f}s, firing at +{fire - t_on:.1f}s: not about 5 s apart")
# the console never resolved it while the fault was on, though scrapes failed
failed_scrapes = sum(1 for t, st, nd in ours if t_on < t < t_off and nd)
if fire:
    for t, st, nd in ours:
        if fire < t < t_off and st.get("HighErrorRate") != "firing":
            bad.append(f"console: HighErrorRate {st.get('HighErrorRate')} at +{t - t_on:.1f}s while the fault was on")
            break
print(f"  console lines with a failed scrape (no data) while the fault was on: {failed_scrapes}", file=sys.stderr)
# the expression's value while firing, at the instants the console evaluated it
diffs, pairs = [], []
for t, v in values:
    if fire and fire + 1 < t < t_off - 1 and len(diffs) < 10:
        q = urllib.parse.urlencode({"query": expr, "time": f"{t:.3f}"})
        r = json.load(urllib.request.urlopen(f"{prom}/api/v1/query?{q}", timeout=5))["data"]["result"]
        if not r:
            bad.append(f"prometheus has no value for {expr} at {t}")
            continue
        pv = float(r[0]["value"][1])
        d = abs(v - pv) / max(v, pv)
        diffs.append(d)
        pairs.append((v, pv))
        print(f"  {expr} at +{t - t_on:.1f}s: console {v:.4g}, prometheus {pv:.4g} ({100 * d:.0f}% apart)",
              file=sys.stderr)
if len(diffs) < 6:
    bad.append(f"only {len(diffs)} values compared while firing")
else:
    mean_ours = sum(v for v, _ in pairs) / len(pairs)
    mean_prom = sum(p for _, p in pairs) / len(pairs)
    m = abs(mean_ours - mean_prom) / max(mean_ours, mean_prom)
    print(f"  mean over {len(pairs)} instants: console {mean_ours:.4g}, prometheus {mean_prom:.4g} "
          f"({100 * m:.1f}% apart)", file=sys.stderr)
    if m > 0.10 or max(diffs) > 0.60:
        bad.append(f"values too far apart: means {100 * m:.1f}% (at most 10%), "
                   f"largest single {100 * max(diffs):.0f}% (at most 60%)")
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
