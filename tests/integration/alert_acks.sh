#!/usr/bin/env bash
# 'marketing alerts ack|snooze|unack|acks' on a real cluster: each command
# and its JSON, a second ack superseding the first, expiry, the audit rows
# and the operations log, usage errors, the database's own checks (a direct
# INSERT with an empty comment fails), hostile text stored literally and
# shown sanitized, read-only (flag, variable and a role that may not
# write), and the migration of a database that has 001's alert_acks.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed to read the JSON output"

# the caller's configuration must not leak in
while read -r v; do
    [ "$v" = MARKETING_BUILD ] || unset "$v"
done < <(compgen -e | grep '^MARKETING_' || true)
unset SSH_CLIENT SSH_CONNECTION PGOPTIONS PGAPPNAME
export XDG_CONFIG_HOME=$T_TMP/xdg HOME=$T_TMP/home
mkdir -p "$HOME"

pg_up
export MARKETING_DSN=$PGDSN
"$MKT" db migrate >/dev/null
ME=$(id -un)
LOG=$T_TMP/ops.log
export MARKETING_LOG_FILE=$LOG

# ---- helpers ----
# run NAME ARGS...: the CLI with stdin from /dev/null; $T_TMP/NAME.out/.err, status in $rc
run() {
    local n=$1
    shift
    rc=0
    "$MKT" "$@" >"$T_TMP/$n.out" 2>"$T_TMP/$n.err" </dev/null || rc=$?
}
out() { cat "$T_TMP/$1.out"; }
err() { cat "$T_TMP/$1.err"; }
expect_rc() {
    [ "$rc" = "$2" ] || fail "$1: exit $rc, want $2; stdout: $(out "$1"); stderr: $(err "$1")"
}
expect_err() {
    grep -qF -- "$2" "$T_TMP/$1.err" || fail "$1: stderr lacks '$2': $(err "$1")"
}
# j NAME EXPR: a Python expression over the JSON output of NAME, as 'o'
j() {
    python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print("null" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else v)' \
        "$T_TMP/$1.out" "$2" || fail "$1: cannot read '$2' from $(out "$1")"
}
rows() { sql "SELECT count(*) FROM alert_acks"; }
audit_rows() { sql "SELECT count(*) FROM audit_log WHERE action LIKE 'alert.%'"; }
in_force() {
    "$MKT" alerts acks --json | python3 -c 'import json, sys
print(" ".join(str(a["id"]) for a in sorted(json.load(sys.stdin), key=lambda a: a["id"])))'
}

# ---- ack with labels, the default expiry ----
run ack1 alerts ack HighErrorRate --label instance=db1:9187 --label severity=critical \
    --comment "looking into it" --json
expect_rc ack1 0
eq "ack outcome" "$(j ack1 'o["outcome"]')" applied
eq "ack action" "$(j ack1 'o["action"]')" alert.ack
eq "ack kind" "$(j ack1 'o["kind"]')" ack
eq "ack rule" "$(j ack1 'o["rule"]')" HighErrorRate
eq "ack labels" "$(j ack1 'o["labels"]')" '{"instance": "db1:9187", "severity": "critical"}'
eq "ack comment" "$(j ack1 'o["comment"]')" "looking into it"
eq "ack default expiry: 4h" "$(j ack1 'o["expires_at_ms"] - o["created_at_ms"]')" 14400000
eq "ack who" "$(j ack1 'o["who"].split(" from ")[0]')" "$ME as postgres"
A1=$(j ack1 'o["id"]')
RQ1=$(j ack1 'o["request_id"]')
eq "ack stored" "$(sql "SELECT rule || ' ' || labels::text || ' ' || kind || ' ' || comment || ' ' || os_user
                        FROM alert_acks WHERE id = $A1")" \
   "HighErrorRate {\"instance\": \"db1:9187\", \"severity\": \"critical\"} ack looking into it $ME"
eq "ack audit row" "$(sql "SELECT action || ' ' || (details->>'ack_id') || ' ' || (details->>'rule') || ' ' || note
                            || ' ' || os_user || ' ' || coalesce(campaign_id, '-')
                           FROM audit_log WHERE request_id = '$RQ1'")" \
   "alert.ack $A1 HighErrorRate looking into it $ME -"
eq "ack logged" "$(tail -n 1 "$LOG" | python3 -c 'import json, sys
o = json.load(sys.stdin); c = o["context"]
print(o["request_id"], o["level"], c["action"], c["outcome"], c["rule"], c["ack_id"])')" \
   "$RQ1 info alert.ack applied HighErrorRate $A1"

# the text form says the same in a sentence
run ack_text alerts ack DatabaseSlow --comment "slow queries, checking" --for 1h30m
expect_rc ack_text 0
grep -q '^Alert acknowledged: DatabaseSlow until .* (ack [0-9]*)$' "$T_TMP/ack_text.out" ||
    fail "ack text: $(out ack_text)"
A2=$(sed 's/.*(ack \([0-9]*\))$/\1/' "$T_TMP/ack_text.out")
eq "--for 1h30m" "$(sql "SELECT extract(epoch FROM expires_at - created_at)::int FROM alert_acks WHERE id = $A2")" 5400

# ---- snooze ----
run snooze1 alerts snooze CampaignSendRateLow --label campaign=cmp_7 --comment "planned pause" \
    --for 2d --json
expect_rc snooze1 0
eq "snooze action" "$(j snooze1 'o["action"]')" alert.snooze
eq "snooze kind" "$(j snooze1 'o["kind"]')" snooze
eq "snooze expiry: 2d" "$(j snooze1 'o["expires_at_ms"] - o["created_at_ms"]')" 172800000
S1=$(j snooze1 'o["id"]')
eq "snooze audit row" "$(sql "SELECT action FROM audit_log WHERE request_id = '$(j snooze1 'o["request_id"]')'")" \
   alert.snooze

# ---- a second ack of the same target replaces the first ----
run ack2 alerts snooze HighErrorRate --label severity=critical --label instance=db1:9187 \
    --comment "snoozed instead" --for 30m --json
expect_rc ack2 0
A3=$(j ack2 'o["id"]')
eq "superseded" "$(j ack2 'o["superseded"]')" "[$A1]"
grep -q "it replaces ack $A1" <<<"$(j ack2 'o["message"]')" || fail "message: $(j ack2 'o["message"]')"
eq "old one cleared as superseded" "$(sql "SELECT cleared_reason || ' ' || superseded_by || ' ' || (cleared_at IS NOT NULL)
                                           FROM alert_acks WHERE id = $A1")" "superseded $A3 true"
eq "audit row names it" "$(sql "SELECT details->'superseded' FROM audit_log
                                 WHERE request_id = '$(j ack2 'o["request_id"]')'")" "[$A1]"
# a less specific target replaces nothing: both stay in force
run ack_rule alerts ack HighErrorRate --comment "the whole rule" --json
expect_rc ack_rule 0
A4=$(j ack_rule 'o["id"]')
eq "whole rule supersedes nothing" "$(j ack_rule 'o["superseded"]')" "[]"
eq "in force" "$(in_force)" "$A2 $S1 $A3 $A4"

# ---- the list ----
run list alerts acks --json
expect_rc list 0
eq "list: newest first" "$(j list '[a["id"] for a in o]')" "[$A4, $A3, $S1, $A2]"
eq "list: labels" "$(j list '[a for a in o if a["id"] == '"$A3"'][0]["labels"]')" \
   '{"instance": "db1:9187", "severity": "critical"}'
eq "list: fields" "$(j list 'sorted(o[0].keys())')" \
   '["comment", "created_at_ms", "db_user", "expires_at_ms", "id", "kind", "labels", "os_user", "rule", "who"]'
eq "list: snooze" "$(j list '[a["kind"] + " " + a["comment"] for a in o if a["id"] == '"$S1"'][0]')" \
   "snooze planned pause"
run list_text alerts acks
expect_rc list_text 0
eq "table: a header and a line per ack" "$(wc -l <"$T_TMP/list_text.out")" 5
grep -q "^$A3 *snooze *HighErrorRate{instance=\"db1:9187\",sever.* $ME as postgres *snoozed instead\$" \
    "$T_TMP/list_text.out" || fail "table: $(out list_text)"

# ---- unack ----
run unack1 alerts unack "$A4" --comment "fixed by the deploy" --json
expect_rc unack1 0
eq "unack outcome" "$(j unack1 'o["outcome"]')" applied
eq "unack action" "$(j unack1 'o["action"]')" alert.unack
eq "unack of" "$(j unack1 'o["rule"] + " " + o["kind"]')" "HighErrorRate ack"
eq "unack cleared by" "$(j unack1 'o["cleared_by"].split(" from ")[0]')" "$ME as postgres"
eq "unack stored" "$(sql "SELECT cleared_reason || ' ' || split_part(cleared_by, ' from ', 1) FROM alert_acks WHERE id = $A4")" \
   "unack $ME as postgres"
eq "unack audit row" "$(sql "SELECT action || ' ' || (details->>'ack_id') || ' ' || note FROM audit_log
                              WHERE request_id = '$(j unack1 'o["request_id"]')'")" "alert.unack $A4 fixed by the deploy"
eq "in force after unack" "$(in_force)" "$A2 $S1 $A3"
run unack_again alerts unack "$A4"
expect_rc unack_again 0
grep -q "^Ack $A4 was already cleared (unack) by $ME as postgres" "$T_TMP/unack_again.out" ||
    fail "unack again: $(out unack_again)"
run unack_sup alerts unack "$A1" --json
expect_rc unack_sup 0
eq "unack of a superseded ack" "$(j unack_sup 'o["outcome"] + " " + o["cleared_reason"]')" "already superseded"
run unack_unknown alerts unack 987654 --json
expect_rc unack_unknown 1
eq "unknown id outcome" "$(j unack_unknown 'o["outcome"]')" not_found
eq "unknown id message" "$(j unack_unknown 'o["message"]')" "No alert acknowledgement 987654 (see marketing alerts acks)"
run unack_unknown_text alerts unack 987654
expect_rc unack_unknown_text 1
expect_err unack_unknown_text "marketing: No alert acknowledgement 987654"
eq "audit rows so far" "$(audit_rows)" 6

# ---- expiry ----
run short alerts snooze DatabaseSlow --label instance=db2 --comment "a short one" --for 2s --json
expect_rc short 0
S2=$(j short 'o["id"]')
gone() { ! in_force | tr ' ' '\n' | grep -qx "$S2"; }
in_force | tr ' ' '\n' | grep -qx "$S2" || fail "the short snooze is not in force"
wait_for 10 gone || fail "the short snooze did not expire: $(in_force)"
eq "an expired ack stays, not cleared" "$(sql "SELECT cleared_at IS NULL AND expires_at <= now() FROM alert_acks WHERE id = $S2")" t
run unack_expired alerts unack "$S2"
expect_rc unack_expired 0
grep -q "^Ack $S2 had already expired at " "$T_TMP/unack_expired.out" || fail "unack expired: $(out unack_expired)"

# ---- usage errors: exit 2, a message naming the problem, nothing changed ----
before_rows=$(rows) before_audit=$(audit_rows) before_log=$(wc -l <"$LOG")
usage() {
    local n=$1 msg=$2
    shift 2
    run "$n" "$@"
    expect_rc "$n" 2
    expect_err "$n" "$msg"
}
usage no_comment "a comment is required" alerts ack HighErrorRate
usage blank_comment "a comment is required" alerts ack HighErrorRate --comment "   "
usage no_rule "which alert?" alerts ack --comment x
usage bad_rule "is not an alert name" alerts ack "High Error" --comment x
usage bad_for "is not a duration" alerts ack HighErrorRate --comment x --for 4q
usage zero_for "in the future" alerts ack HighErrorRate --comment x --for 0s
usage long_for "beyond the bound: at most 30 days" alerts snooze HighErrorRate --comment x --for 31d
usage snooze_no_for "how long? (--for DURATION" alerts snooze HighErrorRate --comment x
usage bad_label "--label needs NAME=VALUE" alerts ack HighErrorRate --label instance --comment x
usage label_name "not a label name" alerts ack HighErrorRate --label 9x=1 --comment x
usage alertname "alertname is the rule" alerts ack HighErrorRate --label alertname=X --comment x
usage twice "label instance is given twice" alerts ack HighErrorRate --label instance=a --label instance=b --comment x
usage no_value "--comment needs a value" alerts ack HighErrorRate --comment
usage long_comment "501 characters long; at most 500" alerts ack HighErrorRate --comment "$(printf 'x%.0s' {1..501})"
usage unexpected "unexpected argument '--yes'" alerts ack HighErrorRate --comment x --yes
usage unack_word "is not an ack id" alerts unack abc
usage unack_none "which ack?" alerts unack
usage unack_label "unexpected argument '--label'" alerts unack 1 --label a=b
usage acks_pos "takes no argument" alerts acks HighErrorRate
eq "usage errors changed nothing" "$(rows) $(audit_rows)" "$before_rows $before_audit"
eq "usage errors logged nothing" "$(wc -l <"$LOG")" "$before_log"

# 'alerts' alone lists the rules: without metrics_url there is nothing to
# evaluate, and it says so
for args in "alerts" "alerts --json"; do
    rc=0
    # shellcheck disable=SC2086
    MARKETING_METRICS_URL= "$MKT" $args >/dev/null 2>"$T_TMP/alerts.err" || rc=$?
    eq "'$args' exit" "$rc" 2
    grep -q "no metrics_url is configured" "$T_TMP/alerts.err" ||
        fail "'$args': $(cat "$T_TMP/alerts.err")"
done

# ---- the database checks, whoever writes ----
for bad in "''" "'   '" "E' \\t\\n'" "repeat('x', 501)"; do
    if sql "INSERT INTO alert_acks (request_id, rule, kind, comment, expires_at)
            VALUES (gen_random_uuid(), 'HighErrorRate', 'ack', $bad, now() + interval '1 hour')" 2>"$T_TMP/db.err"; then
        fail "a direct INSERT with comment $bad was accepted"
    fi
    grep -q 'alert_acks_comment_check' "$T_TMP/db.err" || fail "comment $bad: $(cat "$T_TMP/db.err")"
done
if sql "INSERT INTO alert_acks (request_id, rule, kind, comment) VALUES (gen_random_uuid(), 'X', 'ack', 'c')" 2>/dev/null; then
    fail "an ack without an expiry was accepted"
fi
for exp in "now() - interval '1 minute'" "now() + interval '31 days'"; do
    if sql "INSERT INTO alert_acks (request_id, rule, kind, comment, expires_at)
            VALUES (gen_random_uuid(), 'X', 'ack', 'c', $exp)" 2>/dev/null; then
        fail "an expiry of $exp was accepted"
    fi
done
for lbl in "'[]'" "'{\"a\": 1}'" "'{\"alertname\": \"X\"}'" "'{\"a-b\": \"1\"}'" "'{\"a\": \"\"}'"; do
    if sql "INSERT INTO alert_acks (request_id, rule, labels, kind, comment, expires_at)
            VALUES (gen_random_uuid(), 'X', $lbl, 'ack', 'c', now() + interval '1 hour')" 2>/dev/null; then
        fail "labels $lbl were accepted"
    fi
done
if sql "INSERT INTO alert_acks (request_id, rule, kind, comment, expires_at)
        VALUES (gen_random_uuid(), 'X', 'mute', 'c', now() + interval '1 hour')" 2>/dev/null; then
    fail "a kind outside ack and snooze was accepted"
fi
err=$(sql "SELECT alert_ack(gen_random_uuid(), 'ack', 'X', '{}', ' ', '1 hour', NULL, NULL, NULL)" 2>&1) &&
    fail "alert_ack() took a blank comment"
grep -q "a comment is required" <<<"$err" || fail "alert_ack() blank comment: $err"
err=$(sql "SELECT alert_ack(gen_random_uuid(), 'ack', 'X', '{}', 'c', '-1 hour', NULL, NULL, NULL)" 2>&1) &&
    fail "alert_ack() took an expiry in the past"
grep -q "in the future and at most 30 days" <<<"$err" || fail "alert_ack() past expiry: $err"
eq "the database's checks changed nothing" "$(rows) $(audit_rows)" "$before_rows $before_audit"
# every change is NOTIFYed, whoever makes it
got=$(psql -X -q "$PGDSN" <<'SQL' 2>&1
LISTEN alert_acks;
SELECT outcome FROM alert_ack(gen_random_uuid(), 'ack', 'NotifyCheck', '{}', 'heard?', '1 hour', NULL, NULL, NULL);
SQL
)
grep -q 'Asynchronous notification "alert_acks" with payload ".*NotifyCheck' <<<"$got" ||
    fail "no notification for an ack: $got"

# ---- hostile text: stored literally, shown sanitized ----
EVIL=$'\'; DROP TABLE contacts; -- \e[2J\e]0;pwned\a\r\xe2\x80\xae done'
run evil alerts ack HighErrorRate --label instance=$'db\e[31m9' --comment "$EVIL" --json
expect_rc evil 0
E1=$(j evil 'o["id"]')
eq "contacts survived" "$(sql "SELECT to_regclass('public.contacts') IS NOT NULL")" t
python3 - "$T_TMP/evil.out" "$EVIL" <<'PY' || fail "evil JSON: $(out evil)"
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert all(b < 0x80 for b in raw), "non-ASCII byte in JSON output"
o = json.loads(raw)
want = sys.argv[2].encode('utf-8', 'surrogateescape').decode('utf-8')
assert o["comment"] == want, (o["comment"], want)
assert o["labels"] == {"instance": "db\x1b[31m9"}, o["labels"]
PY
printf '%s' "$EVIL" >"$T_TMP/evil.want"
sql "SELECT encode(convert_to(comment, 'UTF8'), 'hex') FROM alert_acks WHERE id = $E1" >"$T_TMP/evil.hex"
eq "stored byte for byte" "$(cat "$T_TMP/evil.hex")" "$(od -An -tx1 -v "$T_TMP/evil.want" | tr -d ' \n')"
run evil_list alerts acks --json
expect_rc evil_list 0
python3 - "$T_TMP/evil_list.out" "$EVIL" "$E1" <<'PY' || fail "evil list JSON: $(out evil_list)"
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert all(b < 0x80 for b in raw), "non-ASCII byte in JSON output"
a = [x for x in json.loads(raw) if x["id"] == int(sys.argv[3])][0]
assert a["comment"] == sys.argv[2], a["comment"]
PY
for n in evil_text evil_table; do
    case $n in
        evil_text) run "$n" alerts ack HighErrorRate --label instance=$'db\e[31m9' --comment "$EVIL" ;;
        evil_table) run "$n" alerts acks ;;
    esac
    expect_rc "$n" 0
    if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T_TMP/$n.out"; then
        fail "$n: control bytes reached the terminal: $(od -c "$T_TMP/$n.out" | head)"
    fi
    if grep -q $'\xe2\x80\xae' "$T_TMP/$n.out"; then fail "$n: a bidi override reached the terminal"; fi
done
grep -qF "'; DROP TABLE contacts; -- ^[[2J^[]0;pwned^G^M<U+202E> done" "$T_TMP/evil_table.out" ||
    fail "evil comment not shown literally and visibly: $(out evil_table)"
grep -qF 'HighErrorRate{instance="db^[[31m9"}' "$T_TMP/evil_text.out" ||
    fail "evil label not shown visibly: $(out evil_text)"

# ---- read-only: the flag, the variable, and a role that may not write ----
before_rows=$(rows) before_audit=$(audit_rows) before_log=$(wc -l <"$LOG")
run ro_flag --read-only alerts ack HighErrorRate --comment x --json
expect_rc ro_flag 4
expect_err ro_flag "read-only"
eq "read-only JSON" "$(j ro_flag 'o["outcome"] + " " + o["action"]')" "denied alert.ack"
eq "read-only logged" "$(tail -n 1 "$LOG" | python3 -c 'import json, sys
o = json.load(sys.stdin); print(o["level"], o["context"]["outcome"])')" "warn denied"
rc=0
MARKETING_READ_ONLY=true "$MKT" alerts unack "$A3" >/dev/null 2>"$T_TMP/ro_env.err" </dev/null || rc=$?
eq "read-only by variable" "$rc" 4
grep -q "read-only" "$T_TMP/ro_env.err" || fail "read-only by variable: $(cat "$T_TMP/ro_env.err")"

sql "CREATE ROLE mkt_ro LOGIN;
     GRANT USAGE ON SCHEMA public TO mkt_ro;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO mkt_ro;" >/dev/null
RO_DSN=${PGDSN/user=postgres/user=mkt_ro}
[ "$RO_DSN" != "$PGDSN" ] || fail "cannot make a DSN for another role from '$PGDSN'"
run role_ack --dsn "$RO_DSN" alerts ack HighErrorRate --comment x --json
expect_rc role_ack 4
eq "role: denied" "$(j role_ack 'o["outcome"]')" denied
grep -q "Not permitted to ack HighErrorRate: .*permission denied" <<<"$(j role_ack 'o["message"]')" ||
    fail "role ack message: $(out role_ack)"
run role_snooze --dsn "$RO_DSN" alerts snooze HighErrorRate --comment x --for 1h
expect_rc role_snooze 4
expect_err role_snooze "permission denied"
run role_unack --dsn "$RO_DSN" alerts unack "$A3"
expect_rc role_unack 4
expect_err role_unack "Not permitted to clear ack $A3"
eq "read-only changed nothing" "$(rows) $(audit_rows)" "$before_rows $before_audit"
eq "still in force" "$(sql "SELECT cleared_at IS NULL FROM alert_acks WHERE id = $A3")" t
# it may still look
run role_list --dsn "$RO_DSN" alerts acks --json
expect_rc role_list 0
grep -q "\"id\": $A3," "$T_TMP/role_list.out" || fail "a read-only role does not see the acks: $(out role_list)"
# and the audit log shows the acks beside campaign actions
run audit audit --action alert.unack --json
expect_rc audit 0
eq "audit: unack rows" "$(j audit 'len(o)')" 1
eq "audit: no campaign" "$(j audit 'o[0]["campaign_id"]')" ""

# ---- a database that has 001's alert_acks, with a row written by hand ----
sql "CREATE DATABASE legacy" >/dev/null
LEGACY=${PGDSN/dbname=marketing/dbname=legacy}
[ "$LEGACY" != "$PGDSN" ] || fail "cannot make a DSN for another database from '$PGDSN'"
for f in "$T_TOP"/sql/001_*.sql "$T_TOP"/sql/002_*.sql; do
    psql -X -q -v ON_ERROR_STOP=1 "$LEGACY" -f "$f" >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 "$LEGACY" >/dev/null <<'SQL'
CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
                                applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO schema_migrations (version, name) VALUES (1, 'init'), (2, 'control');
INSERT INTO alert_acks (request_id, alert_name, fingerprint, kind, note)
    VALUES (gen_random_uuid(), 'HighErrorRate', 'abc', 'ack', 'by hand');
SQL
# before the migration: a clear word, not a missing function
rc=0
"$MKT" --dsn "$LEGACY" alerts ack HighErrorRate --comment "too early" >/dev/null 2>"$T_TMP/early.err" || rc=$?
eq "ack before the migration" "$rc" 1
grep -q "schema is older than this console (run marketing db migrate)" "$T_TMP/early.err" ||
    fail "ack before the migration: $(cat "$T_TMP/early.err")"
rc=0
"$MKT" --dsn "$LEGACY" alerts acks >/dev/null 2>"$T_TMP/early.err" || rc=$?
eq "acks before the migration" "$rc" 1
grep -q "schema is older than this console" "$T_TMP/early.err" || fail "acks before the migration: $(cat "$T_TMP/early.err")"
"$MKT" --dsn "$LEGACY" db migrate >/dev/null
eq "legacy rows kept" "$(psql -X -At "$LEGACY" -c "SELECT alert_name || ' ' || note FROM alert_acks_001")" "HighErrorRate by hand"
rc=0
"$MKT" --dsn "$LEGACY" alerts ack HighErrorRate --comment "after the migration" >/dev/null 2>&1 || rc=$?
eq "ack on a migrated legacy database" "$rc" 0
eq "legacy: new table" "$(psql -X -At "$LEGACY" -c "SELECT count(*) FROM alert_acks_in_force")" 1
echo ok
