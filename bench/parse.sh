#!/usr/bin/env bash
# The console's Prometheus text parser (src/promtext.c) against its peers, in
# the same run on the same files: `promtool check metrics` (Prometheus' Go
# parser and linter), python3-prometheus-client's parser, and `cat` as the
# floor (reading the file and nothing else).
#
#   bench/parse.sh
#
# Builds (make), compiles bench/promparse.c against libmarketing.a, writes
# deterministic expositions of 1k, 100k and 1M samples with bench/expo-gen
# into a private temporary folder, checks that every parser reads them
# (promtool without a single lint message, python's reading equal to ours),
# then times each program as a whole process (wall clock, exec included),
# the four alternating, BENCH_REPS runs each (default 5; the slow peers get
# BENCH_SLOW_REPS, default 3, at 1M samples), and takes the median. Peak
# memory is one more run of each under GNU time (%M, the peak RSS in KiB).
# Prints a table and the ratios. Sizes: BENCH_SIZES="1000 100000 1000000".
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${MARKETING_BUILD:-$top/build}
py=${BENCH_PYTHON:-/usr/bin/python3}   # Debian's, where python3-prometheus-client installs
sizes=${BENCH_SIZES:-1000 100000 1000000}
reps=${BENCH_REPS:-5}
slow_reps=${BENCH_SLOW_REPS:-3}

command -v promtool >/dev/null || { echo "bench: promtool is missing (make deps)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (make deps)" >&2; exit 1; }
"$py" -c 'import prometheus_client.parser' 2>/dev/null ||
    { echo "bench: $py cannot import prometheus_client (make deps: python3-prometheus-client)" >&2; exit 1; }

make -C "$top" --no-print-directory ${MARKETING_BUILD:+B="$MARKETING_BUILD"} >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/marketing-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# The Makefile's flags for a program that links libmarketing.a, plus
# --as-needed (Debian's gcc default, not clang's): the parser uses none of the
# libraries, and loading libcurl and libpq at exec would add about 5 ms and
# 7 MB to every run of ours.
pkgs=(ncursesw libpq libcurl jansson)
cc=${CC:-cc}
notrunc=-Wno-format-truncation
case $cc in *clang*) notrunc= ;; esac
# shellcheck disable=SC2046
$cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g \
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wwrite-strings \
    -Wno-missing-field-initializers -Werror $notrunc \
    -I"$top/src" $(pkg-config --cflags "${pkgs[@]}") -pthread \
    -o "$tmp/promparse" "$top/bench/promparse.c" "$bin/libmarketing.a" \
    -Wl,--as-needed $(pkg-config --libs "${pkgs[@]}") -lm

# One run of a tool on file $2; its output goes to $tmp/out.$1.
run() {
    case $1 in
    ours) "$tmp/promparse" "$2" >"$tmp/out.ours" ;;
    promtool) promtool check metrics <"$2" >"$tmp/out.promtool" 2>&1 ;;
    python) "$py" "$top/bench/promparse.py" "$2" >"$tmp/out.python" ;;
    cat) cat "$2" >/dev/null ;;
    esac
}
usec() { local t=${1/./}; echo $((10#$t)); } # $EPOCHREALTIME in microseconds
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p; s/^$1=\([^[:space:]]*\).*/\1/p" "$2" | head -n 1; }

tools=(ours promtool python cat)
declare -A T M R P
for n in $sizes; do
    f=$tmp/expo-$n.prom
    echo "bench: bench/expo-gen $n" >&2
    "$py" "$top/bench/expo-gen" "$n" >"$f"
    bytes=$(stat -c %s "$f")
    # Every parser must read the file, and read it the same way.
    run ours "$f" || { echo "bench: our parser refused expo-$n" >&2; exit 1; }
    [ "$(field samples "$tmp/out.ours")" = "$n" ] || { echo "bench: ours read $(field samples "$tmp/out.ours") samples, not $n" >&2; exit 1; }
    run promtool "$f" || { echo "bench: promtool check metrics failed on expo-$n:" >&2; head -n 20 "$tmp/out.promtool" >&2; exit 1; }
    [ ! -s "$tmp/out.promtool" ] || { echo "bench: promtool has lint messages on expo-$n:" >&2; head -n 20 "$tmp/out.promtool" >&2; exit 1; }
    run python "$f"
    [ "$(field check "$tmp/out.python")" = "$(field check "$tmp/out.ours")" ] ||
        { echo "bench: python and ours read expo-$n differently: $(field check "$tmp/out.python") vs $(field check "$tmp/out.ours")" >&2; exit 1; }
    cat "$f" >/dev/null

    echo "bench: timing $n samples ($bytes bytes)" >&2
    unset times; declare -A times=()
    parse_ms=()
    for ((r = 0; r < reps; r++)); do
        order=("${tools[@]}")
        # a different tool first each time, so no one always follows another
        order=("${order[@]:r%4}" "${order[@]:0:r%4}")
        for t in "${order[@]}"; do
            if [ "$n" -ge 1000000 ] && [ "$r" -ge "$slow_reps" ] && { [ "$t" = promtool ] || [ "$t" = python ]; }; then
                continue
            fi
            t0=$EPOCHREALTIME
            run "$t" "$f"
            t1=$EPOCHREALTIME
            times[$t]+="$(($(usec "$t1") - $(usec "$t0"))) "
            [ "$t" != ours ] || parse_ms+=("$(field parse_ms "$tmp/out.ours")")
        done
    done
    for t in "${tools[@]}"; do
        T[$t,$n]=$(tr ' ' '\n' <<<"${times[$t]% }" | median)
        R[$t,$n]=$(tr ' ' '\n' <<<"${times[$t]% }" | wc -l)
        case $t in
        promtool) /usr/bin/time -f %M -o "$tmp/mem" promtool check metrics <"$f" >/dev/null 2>&1 ;;
        ours) /usr/bin/time -f %M -o "$tmp/mem" "$tmp/promparse" "$f" >/dev/null ;;
        python) /usr/bin/time -f %M -o "$tmp/mem" "$py" "$top/bench/promparse.py" "$f" >/dev/null ;;
        cat) /usr/bin/time -f %M -o "$tmp/mem" cat "$f" >/dev/null ;;
        esac
        M[$t,$n]=$(tail -n 1 "$tmp/mem")
    done
    P[$n]=$(printf '%s\n' "${parse_ms[@]}" | median)
    P[bytes,$n]=$bytes
done

printf '%-9s %9s %6s %5s %11s %10s %11s %10s\n' tool samples MB runs 'median ms' 'us/sample' 'peak KiB' 'B/sample'
for n in $sizes; do
    for t in "${tools[@]}"; do
        awk -v t="$t" -v n="$n" -v b="${P[bytes,$n]}" -v r="${R[$t,$n]}" -v us="${T[$t,$n]}" -v kib="${M[$t,$n]}" 'BEGIN {
            printf "%-9s %9d %6.1f %5d %11.2f %10.3f %11d %10.1f\n", t, n, b / 1e6, r, us / 1000, us / n, kib, kib * 1024 / n }'
    done
done
echo
for n in $sizes; do
    awk -v n="$n" -v o="${T[ours,$n]}" -v p="${T[promtool,$n]}" -v y="${T[python,$n]}" -v c="${T[cat,$n]}" \
        -v om="${M[ours,$n]}" -v pm="${M[promtool,$n]}" -v ym="${M[python,$n]}" -v pp="${P[$n]}" 'BEGIN {
        printf "%7d samples: promtool/ours %.1fx, python/ours %.1fx, ours/cat %.1fx; memory per sample ours/promtool %.2f, ours/python %.2f; ours in-process parse %.2f ms (%.3f us/sample)\n",
            n, p / o, y / o, o / c, om / pm, om / ym, pp, pp * 1000 / n }'
done
