#!/usr/bin/env bash
# Concurrent campaign actions and alert acks, step by step: every tests/isolation/*.spec is
# run by PostgreSQL's isolationtester against a fresh copy of the migrated
# schema, and its output must match tests/isolation/expected/NAME.out.
#
#   tests/run.sh tests/integration/isolation.sh
#   ISOLATION_SPECS="pause-cancel stop-all" tests/run.sh tests/integration/isolation.sh
#
# isolationtester ships with the PostgreSQL server's development files
# (postgresql-client-15 on Debian: lib/pgxs/src/test/isolation); set
# ISOLATIONTESTER to use another one. Outputs that differ are kept in
# $MARKETING_BUILD/test-logs/isolation/.
. "$(dirname "$0")/../lib.sh"

find_isolationtester() {
    local c
    if [ -n "${ISOLATIONTESTER:-}" ]; then
        echo "$ISOLATIONTESTER"
        return 0
    fi
    if command -v pg_config >/dev/null 2>&1; then
        c="$(pg_config --pkglibdir)/pgxs/src/test/isolation/isolationtester"
        if [ -x "$c" ]; then echo "$c"; return 0; fi
    fi
    # newest major version first
    while read -r c; do
        if [ -x "$c" ]; then echo "$c"; return 0; fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/lib/pgxs/src/test/isolation/isolationtester | sort -rV)
    return 0
}
ISO=$(find_isolationtester)
if [ -z "$ISO" ] || [ ! -x "$ISO" ]; then
    skip "isolationtester not found (install postgresql-client-15 or set ISOLATIONTESTER)"
fi

SPECDIR=$T_TOP/tests/isolation
specs=()
if [ -n "${ISOLATION_SPECS:-}" ]; then
    for n in $ISOLATION_SPECS; do specs+=("$SPECDIR/$n.spec"); done
else
    for s in "$SPECDIR"/*.spec; do [ -f "$s" ] && specs+=("$s"); done
fi
[ ${#specs[@]} -gt 0 ] || fail "no specs in $SPECDIR"

pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null
ADMIN_DSN=${PGDSN/dbname=marketing/dbname=postgres}

# deterministic output whatever the caller's environment says
unset PGOPTIONS PGAPPNAME PGDATABASE PGUSER PGHOST PGPORT
export LC_ALL=C PGTZ=UTC
export PGOPTIONS='-c lc_messages=C'
# a step that waits longer than this is cancelled (and the output differs)
export PGISOLATIONTIMEOUT=${PGISOLATIONTIMEOUT:-120}

keep=$T_BUILD/test-logs/isolation
failed=()
for spec in "${specs[@]}"; do
    name=$(basename "$spec" .spec)
    [ -f "$spec" ] || fail "no spec $spec"
    expected=$SPECDIR/expected/$name.out
    out=$T_TMP/$name.out
    # a database of its own: stop_all touches every campaign there is
    db=iso_$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_')
    psql -X -q -v ON_ERROR_STOP=1 "$ADMIN_DSN" -c "CREATE DATABASE $db TEMPLATE marketing" >/dev/null
    rc=0
    timeout -k 10 300 "$ISO" "${PGDSN/dbname=marketing/dbname=$db}" <"$spec" >"$out" 2>&1 || rc=$?
    if [ ! -f "$expected" ]; then
        note "$name: no expected output $expected; got:"
        cat "$out" >&2
        failed+=("$name")
    elif [ $rc -ne 0 ] || ! diff -u "$expected" "$out" >"$T_TMP/$name.diff"; then
        note "$name: isolationtester exited $rc; diff against expected/$name.out:"
        cat "$T_TMP/$name.diff" >&2
        failed+=("$name")
    else
        note "$name: ok"
        rm -f "$keep/$name.out"
        continue
    fi
    mkdir -p "$keep"
    cp "$out" "$keep/$name.out"
done
[ ${#failed[@]} -eq 0 ] || fail "isolation specs differ: ${failed[*]} (outputs in $keep)"
echo "ok (${#specs[@]} specs)"
