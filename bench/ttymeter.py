#!/usr/bin/env python3
"""Drive a full-screen program in a pseudo-terminal of a fixed size, as a
person on an SSH link would see it, and measure what it costs: the time to
the first frame that shows data, the bytes per second it writes in steady
state, and its CPU use (all threads) over the same interval.

    ttymeter.py --cols 80 --rows 24 --warm 5 --measure 30 --marker cmp_ -- CMD ARGS...

Prints one JSON object. Used by bench/tty.sh; no test asserts a time."""
import argparse
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, all threads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--warm", type=float, default=5)
    ap.add_argument("--measure", type=float, default=30)
    ap.add_argument("--marker", default="", help="bytes whose first appearance marks the first frame with data")
    ap.add_argument("--quit", default="q")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
        os.execvp(cmd[0], cmd)
    marker = a.marker.encode()
    first = None
    total = 0
    tail = b""
    mark_bytes = mark_ticks = None
    t_mark = None
    end = t0 + a.warm + a.measure
    while True:
        now = time.monotonic()
        if t_mark is None and now >= t0 + a.warm:
            t_mark, mark_bytes, mark_ticks = now, total, cpu_ticks(pid)
        if now >= end:
            break
        r, _, _ = select.select([fd], [], [], min(0.05, end - now))
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            total += len(data)
            if first is None and marker:
                if marker in tail + data:
                    first = time.monotonic() - t0
                tail = (tail + data)[-len(marker):]
    t_end = time.monotonic()
    ticks = cpu_ticks(pid)
    hz = os.sysconf("SC_CLK_TCK")
    os.write(fd, a.quit.encode())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                if not os.read(fd, 65536):
                    break
            except OSError:
                break
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    secs = t_end - t_mark
    print(json.dumps({
        "cols": a.cols, "rows": a.rows,
        "first_frame_ms": None if first is None else round(first * 1000, 1),
        "bytes_per_s": round((total - mark_bytes) / secs, 1),
        "cpu_percent": round(100.0 * (ticks - mark_ticks) / hz / secs, 2),
        "seconds": round(secs, 1),
    }))


if __name__ == "__main__":
    sys.exit(main())
