#!/usr/bin/env bash
# Runs the cmocka program test_poller against the real demo stack (whose
# faults it switches through the control endpoint) and httpfaults.py, a
# server of oversized, compressed, redirecting, dripping and truncated
# bodies; a closed port stands for a target that is down.
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
[ -x "$T_BUILD/itests/test_poller" ] || fail "$T_BUILD/itests/test_poller is missing; run 'make'"

stack_up

python3 "$T_TOP/tests/integration/httpfaults.py" "$T_TMP/aux.port" 2>"$T_TMP/aux.log" &
aux_pid=$!
defer "kill $aux_pid 2>/dev/null; wait $aux_pid 2>/dev/null"
wait_for 20 test -s "$T_TMP/aux.port" || { cat "$T_TMP/aux.log" >&2; fail "httpfaults.py did not start"; }
T_AUX_URL=http://127.0.0.1:$(cat "$T_TMP/aux.port")
export T_AUX_URL

# a port nothing listens on: bound once to get a free number, then closed
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export T_CLOSED_URL=http://127.0.0.1:$closed/metrics
export T_TMP

"$T_BUILD/itests/test_poller"
