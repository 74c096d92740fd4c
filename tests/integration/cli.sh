#!/usr/bin/env bash
# The non-interactive commands: output, sanitizing, exit codes, config errors.
. "$(dirname "$0")/../lib.sh"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null

sql "INSERT INTO contacts (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 10) g;
     INSERT INTO segments (name, rule, size, reachable) VALUES ('Everyone', 'all', 10, 10);
     BEGIN;
     INSERT INTO campaigns (name, segment_id, current_revision)
       VALUES ('Spring Sale', 'seg_1', 1),
              (E'Evil \x1b]0;pwned\x07 \x1b[2J \u202e done', 'seg_1', 1);
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
       VALUES ('cmp_1', 1, 'a@example.com', 's', 'b'), ('cmp_2', 1, 'a@example.com', 's', 'b');
     COMMIT;
     INSERT INTO deliveries (campaign_id, contact_id, revision, status, sent_at, opened_at)
       SELECT 'cmp_1', id, 1, 'sent', now(), CASE WHEN id <= 3 THEN now() END FROM contacts WHERE id <= 6;" >/dev/null

# JSON for scripts: every campaign, exact counters, ASCII-only
"$MKT" --dsn "$PGDSN" campaigns --json >"$T_TMP/c.json"
python3 - "$T_TMP/c.json" <<'PY' || fail "campaigns --json is wrong"
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert all(b < 0x80 for b in raw), "non-ASCII byte in JSON output"
c = {x['id']: x for x in json.loads(raw)}
assert set(c) == {'cmp_1', 'cmp_2'}, c.keys()
assert (c['cmp_1']['sent'], c['cmp_1']['opened'], c['cmp_1']['audience']) == (6, 3, 10), c['cmp_1']
assert c['cmp_2']['name'] == 'Evil \x1b]0;pwned\x07 \x1b[2J \u202e done'
PY

# the table for people: no control byte reaches the terminal
"$MKT" --dsn "$PGDSN" campaigns >"$T_TMP/c.txt"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T_TMP/c.txt"; then fail "control bytes in table output"; fi
grep -q 'Evil \^\[\]0;pwned\^G' "$T_TMP/c.txt" || fail "escapes not shown visibly: $(cat "$T_TMP/c.txt")"
eq "status filter" "$("$MKT" --dsn "$PGDSN" campaigns --status active --json)" "[]"

# exit codes and messages
set +e
"$MKT" --dsn "$PGDSN" campaigns --status running 2>"$T_TMP/err"; rc=$?
set -e
eq "bad status exit" "$rc" 2
grep -q "unknown status 'running'" "$T_TMP/err" || fail "bad status message: $(cat "$T_TMP/err")"

set +e
"$MKT" --dsn "host=$T_TMP/nowhere dbname=x password=hunter2" campaigns 2>"$T_TMP/err"; rc=$?
set -e
eq "no database exit" "$rc" 1
grep -q "cannot connect" "$T_TMP/err" || fail "connect failure message: $(cat "$T_TMP/err")"
if grep -q hunter2 "$T_TMP/err"; then fail "password in an error message"; fi

# a malformed DSN: libpq would quote the text around the error, password and all
for bad in 'postgresql://u:s3cret@[::1/db' 'host=db password=s3cret dbname' 'postgresql://u:s3%zzcret@db/x'; do
    set +e
    "$MKT" --dsn "$bad" campaigns 2>"$T_TMP/err"; rc=$?
    set -e
    eq "malformed DSN exit ($bad)" "$rc" 1
    grep -q "the DSN is malformed" "$T_TMP/err" || fail "malformed DSN message: $(cat "$T_TMP/err")"
    if grep -q s3 "$T_TMP/err"; then fail "a password from a malformed DSN was printed"; fi
done
"$MKT" --dsn "host=db sslpassword=s3cret password=s3cret" --dump-config >"$T_TMP/dump"
if grep -q s3cret "$T_TMP/dump"; then fail "a secret in --dump-config: $(cat "$T_TMP/dump")"; fi

printf 'refresh = 1s\nbogus = 1\nrefresh = never\n' >"$T_TMP/bad.conf"
set +e
"$MKT" --config "$T_TMP/bad.conf" campaigns 2>"$T_TMP/err"; rc=$?
set -e
eq "bad config exit" "$rc" 2
grep -qx "marketing: $T_TMP/bad.conf:2: unknown option 'bogus'" "$T_TMP/err" || fail "config error: $(cat "$T_TMP/err")"
grep -q "bad.conf:3: refresh: 'never' is not a duration" "$T_TMP/err" || fail "config error: $(cat "$T_TMP/err")"

# precedence: file < MARKETING_* < flags; --dump-config hides the password
printf 'refresh = 5s\nenvironment = file\n' >"$T_TMP/ok.conf"
MARKETING_ENVIRONMENT=env "$MKT" --config "$T_TMP/ok.conf" --refresh 750ms \
    --dsn "host=db password=hunter2" --dump-config >"$T_TMP/dump"
grep -qx 'refresh = 750ms  # --refresh' "$T_TMP/dump" || fail "flag did not win: $(cat "$T_TMP/dump")"
grep -qx 'environment = "env"  # MARKETING_ENVIRONMENT' "$T_TMP/dump" || fail "env did not win: $(cat "$T_TMP/dump")"
if grep -q hunter2 "$T_TMP/dump"; then fail "password in --dump-config"; fi

set +e
"$MKT" --frobnicate $'\e]0;x\a' 2>"$T_TMP/err"; rc=$?
set -e
eq "unknown flag exit" "$rc" 2
grep -q "unknown option '--frobnicate'" "$T_TMP/err" || fail "unknown flag message"
set +e
"$MKT" $'--\e]0;x\a' 2>"$T_TMP/err"
set -e
if LC_ALL=C grep -q $'\x1b' "$T_TMP/err"; then fail "an escape from argv reached stderr raw"; fi

# the console refuses to start without a terminal, with a pointer to scripts
set +e
"$MKT" --dsn "$PGDSN" </dev/null >/dev/null 2>"$T_TMP/err"; rc=$?
set -e
eq "no tty exit" "$rc" 2
grep -q "needs a terminal" "$T_TMP/err" || fail "no-tty message: $(cat "$T_TMP/err")"

# the shipped sample and the man page come from the option table
diff -u "$T_TOP/marketing.conf" <("$MKT" config sample) || fail "marketing.conf is not 'marketing config sample'"
"$MKT" config man >"$T_TMP/opts.man"
grep -qF -f "$T_TMP/opts.man" "$T_TOP/man/marketing.conf.5" || fail "man/marketing.conf.5 lacks the option list"
awk '/^\.\\" BEGIN OPTIONS/{f=1;next} /^\.\\" END OPTIONS/{f=0} f' "$T_TOP/man/marketing.conf.5" >"$T_TMP/man.opts"
diff -u "$T_TMP/man.opts" "$T_TMP/opts.man" || fail "marketing.conf.5 options differ from 'marketing config man'"
awk '/^\.\\" BEGIN KEYS/{f=1;next} /^\.\\" END KEYS/{f=0} f' "$T_TOP/man/marketing.1" >"$T_TMP/man.keys"
diff -u "$T_TMP/man.keys" <("$MKT" config keys) || fail "marketing.1's key table differs from 'marketing config keys'"
echo ok
