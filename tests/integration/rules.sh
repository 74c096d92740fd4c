#!/usr/bin/env bash
# The shipped rule file is one a Prometheus server loads: promtool (from the
# Debian package prometheus) checks it, and finds its four alerts.
. "$(dirname "$0")/../lib.sh"
command -v promtool >/dev/null || { echo "promtool is not installed (package prometheus)"; exit 77; }
out=$(promtool check rules "$T_TOP/rules/marketing.rules.yml" 2>&1) || fail "promtool check rules: $out"
grep -q "SUCCESS: 4 rules found" <<<"$out" || fail "promtool: $out"
echo ok
