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
"""
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

    def do_GET(self):
        path = self.path.split("?")[0]
        try:
            if path == "/big":
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
