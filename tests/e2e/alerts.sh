#!/usr/bin/env bash
# The Alerts pane over the demo stack, as an on-call engineer uses it: the
# rules with their states; HighErrorRate firing through the backend's fault
# switch and resolving again; a scrape that fails (garbage) freezing the
# rules as "no data" without resolving what fires; a rule's details with
# its runbook; and `c` jumping to the campaign an alert names.
. "$(dirname "$0")/../lib.sh"
stack_up
control() { curl -fsS -X POST "$MARKETING_CONTROL_URL?$1" >/dev/null; }
cid=$(sql "SELECT id FROM campaigns WHERE status = 'active' ORDER BY id LIMIT 1")
[ -n "$cid" ] || fail "the demo data has no active campaign"

# the shipped rules made fast, and one that names a campaign and fires at once
rules=$T_TMP/rules.yml
sed -e 's/\[5m\]/[10s]/g' -e 's/for: [0-9]*m$/for: 3s/' -e 's/interval: 15s/interval: 1s/' \
    "$T_TOP/rules/marketing.rules.yml" >"$rules"
cat >>"$rules" <<YML
  - name: e2e
    interval: 1s
    rules:
      - alert: CampaignWatched
        expr: up == 1
        labels:
          severity: info
          campaign_id: "$cid"
        annotations:
          summary: "Watching {{ \$labels.instance }}, up is {{ \$value }}"
          runbook: campaign-not-sending
YML

CONSOLE_ENV="LANG=C.UTF-8 TERM=xterm-256color MARKETING_RULE_FILE=$rules" \
    console_start 140 40 --scrape-interval 1s
expect_screen 10 "metrics: ok"
keys 4
expect_screen 10 "FIRING +CampaignWatched +info"
expect_screen 5 "ok +HighErrorRate +critical"
expect_screen 5 "ok +DatabaseConnectionPoolExhausted +critical +0\.[0-9]+, fires > 0\.9"
expect_screen 5 "Alerts and health  1 firing"
expect_screen 5 "4 Alerts \(1 firing\)"

# 500s: HighErrorRate goes pending, then fires; then resolves
control error_rate=0.3
expect_screen 30 "pending +HighErrorRate|FIRING +HighErrorRate"
expect_screen 30 "FIRING +HighErrorRate +critical +[0-9.]+ .*for [0-9]+s"
control error_rate=0
expect_screen 40 "ok +HighErrorRate"

# a scrape that cannot be parsed: no data, and what fires stays firing
control garbage=1
expect_screen 10 "NO DATA +CampaignWatched +info +frozen firing: scrape of 127\.0\.0\.1:[0-9]+ failed: line"
sleep 3
screen_has "ok +CampaignWatched|CampaignWatched .*frozen inactive" && { screen >&2; fail "a failed scrape resolved an alert"; }
expect_screen 2 "Alerts and health  1 firing"
control garbage=0
expect_screen 15 "FIRING +CampaignWatched"

# its details: the alert, its annotations expanded, the runbook's text
keys g
expect_screen 5 "CampaignWatched"
keys Enter
expect_screen 5 "^ CampaignWatched"
expect_screen 5 "State +firing"
expect_screen 5 "Source +evaluated here, by this console"
expect_screen 5 "Watching 127\.0\.0\.1:[0-9]+, up is 1"
expect_screen 5 "alertname=\"CampaignWatched\", campaign_id=\"$cid\""
expect_screen 5 "Runbook campaign-not-sending"
keys Escape
expect_screen 5 "Alerts and health"

# a: acknowledge it, with a comment, from the command line it opens
keys g a
expect_screen 5 ":ack CampaignWatched 4h$"
keys "on it; see ticket 12" Enter
expect_screen 10 "FIRING +CampaignWatched .*\[acked by [^ ]+ until [0-9:]+: on it; see ticket 12\]"
[ "$(sql "SELECT count(*) FROM alert_acks WHERE rule = 'CampaignWatched' AND comment = 'on it; see ticket 12'")" = 1 ] ||
    fail "the ack is not in the database"
# a snooze needs a comment
keys z
expect_screen 5 ":snooze CampaignWatched 1h$"
keys Enter
expect_screen 5 "comment"
# u: end it
keys u
expect_screen 5 ":unack CampaignWatched$"
keys Enter
wait_for 10 sh -c "! tmux -S '$T_TMUX' capture-pane -p -t c | grep -q 'acked by'" || { screen >&2; fail "the ack did not end"; }

# c: the campaign it names, selected in Campaigns
keys c
expect_screen 5 "^>$cid "
keys 4
expect_screen 5 "Alerts and health"
keys j c
expect_screen 5 "names no campaign"
