#!/usr/bin/env python3
"""A TCP proxy in front of PostgreSQL that loses one reply on purpose.

    pgproxy.py --target PATH --port-file FILE [--mode MODE] [--match TEXT]
               [--hold-file FILE] [--log FILE]

Listens on 127.0.0.1 (a free port, written to --port-file once listening)
and forwards each connection to the server's unix socket --target (a path
such as DIR/.s.PGSQL.5432) or to HOST:PORT.

It watches what clients send for --match (default "campaign_act("), as it
appears in a Query or Parse message. The first connection that sends it
gets the mode's treatment; every other connection, before and after, is
passed through untouched:

  pass               nothing: a plain proxy
  drop-after-commit  the next data from the server after the match (for a
                     single autocommit statement it is sent only after the
                     commit) is not forwarded: both sockets are closed. The
                     server committed; the client never hears of it.
  cut-client         right after the matching message is forwarded the
                     client's socket is closed; the server's stays open and
                     unread, so the backend goes on with the statement (a
                     network partition seen from the client).

--hold-file: when the mode fires, the proxy creates this file, and while it
exists every new connection is accepted and closed at once (the server is
unreachable). Remove the file to let connections through again.

--log: one line per event ("fired drop-after-commit", "refused", ...), for
the test to check what happened.
"""
import argparse
import os
import signal
import socket
import sys
import threading

lock = threading.Lock()
fired = False
log_file = None


def log(msg):
    if log_file:
        with lock:
            with open(log_file, "a") as f:
                f.write(msg + "\n")


def close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


class Conn:
    def __init__(self, client, server, args):
        self.client = client
        self.server = server
        self.args = args
        self.match = args.match.encode()
        self.armed = False      # the match went to the server: the next reply is the one
        self.done = False

    def to_server(self):
        global fired
        tail = b""
        try:
            while True:
                data = self.client.recv(65536)
                if not data:
                    break
                hit = False
                if self.args.mode != "pass" and not self.armed:
                    seen = tail + data
                    if self.match in seen:
                        with lock:
                            if not fired:
                                fired = True
                                hit = True
                    tail = seen[-(len(self.match) - 1):] if len(self.match) > 1 else b""
                if hit and self.args.mode == "drop-after-commit":
                    self.armed = True   # before the query leaves: its reply comes after
                self.server.sendall(data)
                if hit:
                    log("fired " + self.args.mode)
                    if self.args.hold_file:
                        open(self.args.hold_file, "w").close()
                if hit and self.args.mode == "cut-client":
                    self.done = True
                    close(self.client)
                    return      # the server's socket stays open, unread
        except OSError:
            pass
        if not self.done:
            close(self.server)
            close(self.client)

    def to_client(self):
        try:
            while True:
                data = self.server.recv(65536)
                if not data:
                    break
                if self.armed:
                    log("dropped %d bytes of reply" % len(data))
                    self.done = True
                    close(self.client)
                    close(self.server)
                    return
                if self.done:
                    return
                self.client.sendall(data)
        except OSError:
            pass
        if not self.done:
            close(self.client)


def connect_target(target):
    if target.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(target)
    else:
        host, port = target.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    return s


def main():
    global log_file
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--mode", default="drop-after-commit",
                    choices=["pass", "drop-after-commit", "cut-client"])
    ap.add_argument("--match", default="campaign_act(")
    ap.add_argument("--hold-file")
    ap.add_argument("--log")
    args = ap.parse_args()
    log_file = args.log
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, args.port_file)

    keep = []   # sockets left open on purpose (cut-client)
    while True:
        client, _ = ls.accept()
        if args.hold_file and os.path.exists(args.hold_file):
            log("refused")
            close(client)
            continue
        try:
            server = connect_target(args.target)
        except OSError as e:
            log("cannot reach the server: %s" % e)
            close(client)
            continue
        keep.append(server)
        c = Conn(client, server, args)
        threading.Thread(target=c.to_server, daemon=True).start()
        threading.Thread(target=c.to_client, daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
