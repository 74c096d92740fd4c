#!/usr/bin/env bash
# A target that answers in OpenMetrics (Content-Type
# application/openmetrics-text) is parsed as OpenMetrics: float-second
# timestamps, # UNIT and # EOF, counters as NAME_total. The same body served
# as text/plain is refused by the 0.0.4 parser with the line named, and a
# scrape stays all or nothing.
. "$(dirname "$0")/../lib.sh"
mkdir -p "$T_TMP/www"
now=$(date +%s)
cat >"$T_TMP/www/om" <<EOF2
# TYPE emails_sent counter
# HELP emails_sent Emails sent.
emails_sent_total{campaign_type="email"} 1200 $now.250
emails_sent_created{campaign_type="email"} 1700000000.0 $now.250
# TYPE queue_depth gauge
# UNIT queue_depth_messages messages
queue_depth_messages 17 $now.500
# EOF
EOF2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$T_TMP/www/om" "$port" <<'PY' &
import http.server, sys
body = open(sys.argv[1], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        om = self.path.startswith("/om")
        self.send_response(200)
        self.send_header("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8"
                         if om else "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
PY
srv=$!
defer "kill $srv 2>/dev/null"
wait_for 10 curl -sf "http://127.0.0.1:$port/om" -o /dev/null || fail "the test server did not start"

out=$(MARKETING_METRICS_URL=http://127.0.0.1:$port/om "$MKT" query 'emails_sent_total' --json) ||
    fail "query over OpenMetrics failed"
python3 - "$out" "$now" <<'PY' || fail "OpenMetrics samples: $out"
import json, sys
d = json.loads(sys.argv[1])["data"]
r = {s["metric"]["__name__"]: s for s in d["result"]}
assert list(r) == ["emails_sent_total"], list(r)
s = r["emails_sent_total"]
assert s["metric"]["campaign_type"] == "email" and s["metric"]["job"] == "marketing", s
assert s["value"][1] == "1200", s
PY
out=$(MARKETING_METRICS_URL=http://127.0.0.1:$port/om "$MKT" query 'queue_depth_messages + 0') ||
    fail "query of the gauge failed"
echo "$out" | grep -qE '^\{instance="127\.0\.0\.1:[0-9]+", job="marketing"\} 17$' || fail "gauge: $out"

# the same bytes as text/plain: 0.0.4 refuses the float timestamp, naming the line
rc=0
MARKETING_METRICS_URL=http://127.0.0.1:$port/plain "$MKT" query 'up' >"$T_TMP/plain.out" 2>"$T_TMP/plain.err" || rc=$?
grep -q "scrape of http://127.0.0.1:$port/plain failed: line 3:" "$T_TMP/plain.err" ||
    fail "text/plain body: $(cat "$T_TMP/plain.err")"
grep -qE '^up\{instance="127\.0\.0\.1:[0-9]+", job="marketing"\} 0$' "$T_TMP/plain.out" ||
    fail "up after a refused body: $(cat "$T_TMP/plain.out")"
