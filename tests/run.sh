#!/usr/bin/env bash
# The test runner behind 'make check': cmocka unit tests, then integration
# and end-to-end tests (shell scripts over real PostgreSQL, HTTP and tmux).
#
#   tests/run.sh [unit|integration|e2e|PATH...]
#
# Ends with one line 'N passed, N failed, N skipped'; exits non-zero on any
# failure. Output of a failed test is shown; of a passed one, kept in
# $MARKETING_BUILD/test-logs.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${MARKETING_BUILD:-$top/build}
export MARKETING_BUILD=$build
logs=$build/test-logs
mkdir -p "$logs"

sel=("$@")
[ ${#sel[@]} -gt 0 ] || sel=(unit integration e2e)
tests=()
for s in "${sel[@]}"; do
    case $s in
        unit) for t in "$build"/tests/test_*; do [ -x "$t" ] && tests+=("$t"); done ;;
        integration|e2e) for t in "$top/tests/$s"/*.sh; do [ -f "$t" ] && tests+=("$t"); done ;;
        *) tests+=("$s") ;;
    esac
done

pass=0 failn=0 skipn=0 failed=()
for t in "${tests[@]}"; do
    name=${t#"$top"/}
    name=${name#"$build"/}
    log=$logs/$(echo "$name" | tr '/' '_').log
    start=$(date +%s%N)
    # a differential test (marked '# differential:' in its header) checks
    # agreement with another program, not our memory or coverage: the
    # sanitizer and coverage passes set MARKETING_SKIP_DIFFERENTIAL=1
    if [ "${MARKETING_SKIP_DIFFERENTIAL:-0}" = 1 ] && [ "${t%.sh}" != "$t" ] &&
        head -n 30 "$t" | grep -q '^# differential:'; then
        skipn=$((skipn + 1))
        printf '  SKIP  %-48s %s\n' "$name" "differential: run by make check"
        continue
    fi
    case $t in
        *.sh) timeout -k 20 600 bash "$t" >"$log" 2>&1 ;;
        *) CMOCKA_MESSAGE_OUTPUT=stdout timeout -k 20 300 "$t" >"$log" 2>&1 ;;
    esac
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    secs=$(printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)))
    case $rc in
        0) pass=$((pass + 1)); printf '  PASS  %-48s %6ss\n' "$name" "$secs" ;;
        77) skipn=$((skipn + 1)); printf '  SKIP  %-48s %s\n' "$name" "$(tail -n 1 "$log")" ;;
        *) failn=$((failn + 1)); failed+=("$name")
           printf '  FAIL  %-48s %6ss (exit %d)\n' "$name" "$secs" "$rc"
           sed 's/^/        | /' "$log" | tail -n 40 ;;
    esac
done
echo
[ $failn -eq 0 ] || printf 'failed: %s\n' "${failed[*]}"
printf '%d passed, %d failed, %d skipped\n' "$pass" "$failn" "$skipn"
[ $failn -eq 0 ]
