#!/usr/bin/env python3
"""Misbehaving /metrics endpoints for tests/integration/poller.sh.

    httpfaults.py PORT_FILE

Listens on 127.0.0.1 on a free port, writes the port to PORT_FILE and
serves until killed:

  /big        2 MiB with a Content-Length
  /chunked    2 MiB chunked, no length
  /bomb       gzip that inflates to 64 MiB (about 64 KiB on the wire)
  /loop       a redirect to itself
  /tofile     a redirect to file:///etc/passwd
  /drip       a Content-Length of 1000, then a byte every 0.4 s
  /truncated  a Content-Length of 1000, 20 bytes, then the connection closes
  /nonl       a body whose last line has no newline
  /empty      the connection closes before any response
  /auth       metrics for "Authorization: Bearer s3cret-token", else 401
  /ok         a small good body
  /unhealthy  503 with a health document that says why
  /down       503 with a plain-text body

and, for tests/integration/promapi.sh, Prometheus HTTP API endpoints that
misbehave, under a path prefix that names how (PREFIX/api/v1/ENDPOINT):

  /prom-badjson     200 with JSON cut short
  /prom-shape       200 with a field of the wrong type or missing: alerts[2].state
                    a number, rules[1] without health, a query value a number,
                    range points out of order
  /prom-500         500 with Prometheus's error body (its text has escapes)
  /prom-503         503 with Prometheus's error body
  /prom-502         502 with an HTML body (a proxy's)
  /prom-hang        headers never come
  /prom-huge        2 MiB of valid JSON with a Content-Length
  /prom-hugechunked the same, chunked
  /prom-auth        good answers for "Authorization: Bearer s3cret-token", else 401
  /prom-tofile      a redirect to file:///etc/passwd
  /prom-values      good answers with NaN, +Inf, -Inf, time offsets and label
                    values holding escape sequences
"""
import json
import gzip
import http.server
import os
import socket
import sys
import time

MIB = 1 << 20
FILLER = b"# filler line to make the body large............................\n"
BIG = (FILLER * (2 * MIB // len(FILLER) + 1))[: 2 * MIB]
BOMB = gzip.compress(b"\n" * (64 * MIB), compresslevel=9)
GOOD = b"# TYPE emails_sent_total counter\nemails_sent_total 5\n"


def ok(data):
    return json.dumps({"status": "success", "data": data}).encode()


def alert(name, state, value, active="2026-01-02T03:04:05.123456789Z", extra=None):
    a = {"labels": {"alertname": name, "severity": "warning"},
         "annotations": {"summary": name + " happened"},
         "state": state, "activeAt": active, "value": value}
    a.update(extra or {})
    return a


def rule(name, health="ok", alerts=()):
    return {"state": "firing" if alerts else "inactive", "name": name, "query": "up == 1",
            "duration": 300, "labels": {"severity": "warning"}, "annotations": {},
            "alerts": list(alerts), "health": health, "evaluationTime": 0.001,
            "lastEvaluation": "2026-01-02T03:04:05.5Z", "type": "alerting"}


def rules(*rs):
    return ok({"groups": [{"name": "g", "file": "/etc/prometheus/g.yml", "rules": list(rs),
                           "interval": 15, "limit": 0, "evaluationTime": 0.002,
                           "lastEvaluation": "2026-01-02T03:04:05.5Z"}]})


ESC_LABEL = "\x1b[2J\x1b]0;pwned\x07\r\u202e"
PROM = {
    "badjson": {ep: b'{"status":"success","data":{"resultType":"vector","result":[{"metric":'
                for ep in ("query", "query_range", "alerts", "rules")},
    "shape": {
        "alerts": ok({"alerts": [alert("A", "firing", "1e+00"), alert("B", "pending", "2"),
                                 alert("C", 5, "3")]}),
        "rules": ok({"groups": [{"name": "g", "file": "f", "interval": 15, "rules": [
            rule("A"), {k: v for k, v in rule("B").items() if k != "health"}]}]}),
        "query": ok({"resultType": "vector", "result": [{"metric": {"job": "x"},
                                                          "value": [1700000000, 1]}]}),
        "query_range": ok({"resultType": "matrix", "result": [{"metric": {}, "values": [
            [1700000010, "1"], [1700000000, "2"]]}]}),
    },
    "values": {
        "alerts": ok({"alerts": [
            alert("Nan", "firing", "NaN"), alert("Inf", "firing", "+Inf"),
            alert("NegInf", "pending", "-Inf"), alert("Small", "firing", "1.5e-03",
                                                      active="2026-01-02T03:04:05.5+01:00"),
            alert("Esc", "firing", "1", extra={"labels": {"alertname": "Esc", "x": ESC_LABEL}})]}),
        "rules": rules(rule("R", alerts=[alert("R", "firing", "NaN")]),
                       dict(rule("Broken", health="err"), lastError="boom \x1b[2J")),
        "query": ok({"resultType": "vector", "result": [
            {"metric": {"__name__": "m", "x": ESC_LABEL}, "value": [1700000000.5, "NaN"]},
            {"metric": {"__name__": "m", "x": "a"}, "value": [1700000000.5, "+Inf"]}]}),
        "query_range": ok({"resultType": "matrix", "result": [{"metric": {"x": "b"}, "values": [
            [1700000000, "-Inf"], [1700000015.25, "4e+01"]]}]}),
    },
}
PROM_ERROR = {
    "500": b'{"status":"error","errorType":"internal","error":"something broke: \\u001b]0;pwned\\u0007disk full"}',
    "503": b'{"status":"error","errorType":"unavailable","error":"the server is shutting down"}',
}
HUGE = ok({"alerts": [alert("Huge%d" % i, "firing", "1") for i in range(12000)]})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("httpfaults: " + (fmt % args) + "\n")

    def send(self, code, body, headers=()):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, where):
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def prom(self, path):
        """The /prom-* prefixes; True when path was one of them."""
        parts = path.split("/")  # "", "prom-x", "api", "v1", endpoint
        if len(parts) != 5 or not parts[1].startswith("prom-") or parts[2:4] != ["api", "v1"]:
            return False
        how, ep = parts[1][5:], parts[4]
        if how in PROM and ep in PROM[how]:
            self.send(200, PROM[how][ep], [("Content-Type", "application/json")])
        elif how in PROM_ERROR:
            self.send(int(how), PROM_ERROR[how], [("Content-Type", "application/json")])
        elif how == "502":
            self.send(502, b"<html><head><title>502 Bad Gateway</title></head></html>\n")
        elif how == "hang":
            time.sleep(60)
        elif how == "huge":
            self.send(200, HUGE)
        elif how == "hugechunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(HUGE), 65536):
                part = HUGE[i : i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif how == "auth":
            if self.headers.get("Authorization") == "Bearer s3cret-token":
                self.send(200, ok({"alerts": [alert("Authorized", "firing", "1")]}))
            else:
                self.send(401, b"Unauthorized\n")
        elif how == "tofile":
            self.redirect("file:///etc/passwd")
        else:
            self.send(404, b"404 page not found\n")
        return True

    def do_GET(self):
        path = self.path.split("?")[0]
        try:
            if self.prom(path):
                pass
            elif path == "/big":
                self.send(200, BIG)
            elif path == "/chunked":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(BIG), 65536):
                    part = BIG[i : i + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            elif path == "/bomb":
                self.send(200, BOMB, [("Content-Encoding", "gzip")])
            elif path == "/loop":
                self.redirect("/loop")
            elif path == "/tofile":
                self.redirect("file:///etc/passwd")
            elif path == "/drip":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(1000):
                    self.wfile.write(b"#")
                    self.wfile.flush()
                    time.sleep(0.4)
            elif path == "/truncated":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"emails_sent_total 1\n")
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif path == "/nonl":
                self.send(200, b"emails_sent_total 1\nemails_opened_total 12")
            elif path == "/empty":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif path == "/auth":
                if self.headers.get("Authorization") == "Bearer s3cret-token":
                    self.send(200, GOOD)
                else:
                    self.send(401, b"who are you?\n")
            elif path == "/ok":
                self.send(200, GOOD)
            elif path == "/unhealthy":
                self.send(503, b'{"status":"unhealthy","version":"9.9.9","uptime":5,'
                          b'"checks":{"database":"unhealthy","redis":{"status":"healthy"}}}')
            elif path == "/down":
                self.send(503, b"shutting down\n")
            else:
                self.send(404, b"not found\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
