#!/usr/bin/env bash
# Bytes on the wire, CPU and time to the first frame: the console beside
# htop in the same run, on the demo stack, at 80x24 and 200x50, both
# refreshing once a second. Prints a table and the ratios (ours / htop).
#
#   bench/tty.sh [SECONDS]     (default 30 s of steady state per run)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${MARKETING_BUILD:-$top/build}
secs=${1:-30}
command -v htop >/dev/null || { echo "bench: htop is missing (make deps)" >&2; exit 1; }
[ -x "$bin/marketing" ] || { echo "bench: run make first" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/marketing-bench.XXXXXX")
chmod 755 "$tmp"
trap 'STACK_QUIET=1 "$top/demo/stack.sh" down "$tmp/state" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
TMPDIR=$tmp STACK_QUIET=1 MARKETING_BUILD=$bin "$top/demo/stack.sh" up "$tmp/state"
# shellcheck disable=SC1091
. "$tmp/state/env"
export LANG=C.UTF-8 TERM=xterm-256color

run() { python3 "$top/bench/ttymeter.py" --warm 5 --measure "$secs" "$@"; }
declare -A R
for size in 80x24 200x50; do
    c=${size%x*} r=${size#*x}
    R[htop-$size]=$(run --cols "$c" --rows "$r" --quit q -- htop -d 10)
    R[ours-$size]=$(run --cols "$c" --rows "$r" --marker cmp_ --quit q -- \
        "$bin/marketing" --refresh 1s --scrape-interval 1s)
done
# btop, the dashboard peer, at 1 Hz too (its own config in a private folder)
R[btop-200x50]='{"bytes_per_s": 0, "cpu_percent": 0, "first_frame_ms": null}'
if command -v btop >/dev/null; then
    mkdir -p "$tmp/xdg/btop"
    printf 'update_ms = 1000\n' >"$tmp/xdg/btop/btop.conf"
    R[btop-200x50]=$(XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp run --cols 200 --rows 50 --quit q -- btop --utf-force)
fi
python3 - "${R[htop-80x24]}" "${R[ours-80x24]}" "${R[htop-200x50]}" "${R[ours-200x50]}" "${R[btop-200x50]}" <<'PY'
import json, sys
h80, o80, h200, o200, b200 = (json.loads(x) for x in sys.argv[1:])
print(f"{'':26}{'bytes/s':>10}{'CPU %':>8}{'first frame':>13}")
for name, r in (("htop -d 10, 80x24", h80), ("marketing, 80x24", o80),
                ("htop -d 10, 200x50", h200), ("marketing, 200x50", o200),
                ("btop at 1 Hz, 200x50", b200)):
    ff = "-" if r["first_frame_ms"] is None else f'{r["first_frame_ms"]:.0f} ms'
    print(f"{name:26}{r['bytes_per_s']:>10.0f}{r['cpu_percent']:>8.2f}{ff:>13}")
for size, h, o in (("80x24", h80, o80), ("200x50", h200, o200)):
    cpu = o["cpu_percent"] / h["cpu_percent"] if h["cpu_percent"] else float("nan")
    print(f"ratio ours/htop at {size}: bytes {o['bytes_per_s'] / h['bytes_per_s']:.2f}, CPU {cpu:.2f}")
if b200["bytes_per_s"]:
    print(f"ratio ours/btop at 200x50: bytes {o200['bytes_per_s'] / b200['bytes_per_s']:.3f}")
PY
