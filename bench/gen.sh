#!/usr/bin/env bash
# Benchmark of the demo data generator: a private PostgreSQL cluster, the
# schema, then marketing-demo-gen at 1M contacts / 10 segments / 100
# campaigns, timed. Prints the rows per table and the seconds; removes the
# cluster whatever happens.
#
#   bench/gen.sh [extra generator flags, e.g. --keep-indexes]
#
# Sizes come from BENCH_CONTACTS, BENCH_SEGMENTS, BENCH_CAMPAIGNS, BENCH_SEED.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${MARKETING_BUILD:-$top/build}
gen=$bin/marketing-demo-gen
[ -x "$gen" ] || { echo "bench: $gen is missing; run 'make build/marketing-demo-gen'" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/marketing-bench.XXXXXX")
chmod 755 "$tmp" # the server runs as 'postgres' when we are root
trap '"$top/demo/stack.sh" pg-down "$tmp/pg" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

"$top/demo/stack.sh" pg-up "$tmp/pg"
dsn=$(cat "$tmp/pg/dsn")
psql -X -q -v ON_ERROR_STOP=1 -1 -d "$dsn" -f "$top/sql/001_init.sql" >/dev/null

contacts=${BENCH_CONTACTS:-1000000}
segments=${BENCH_SEGMENTS:-10}
campaigns=${BENCH_CAMPAIGNS:-100}
echo "bench: marketing-demo-gen --contacts $contacts --segments $segments --campaigns $campaigns $*" >&2
start=$(date +%s%N)
"$gen" --dsn "$dsn" --contacts "$contacts" --segments "$segments" --campaigns "$campaigns" \
    --seed "${BENCH_SEED:-42}" "$@"
ms=$((($(date +%s%N) - start) / 1000000))

psql -X -q -At -F ' ' -d "$dsn" -c "
    SELECT t, n FROM (VALUES
        (1, 'contacts', (SELECT count(*) FROM contacts)),
        (2, 'segments', (SELECT count(*) FROM segments)),
        (3, 'segment_members', (SELECT count(*) FROM segment_members)),
        (4, 'campaigns', (SELECT count(*) FROM campaigns)),
        (5, 'campaign_revisions', (SELECT count(*) FROM campaign_revisions)),
        (6, 'campaign_variants', (SELECT count(*) FROM campaign_variants)),
        (7, 'deliveries', (SELECT count(*) FROM deliveries)),
        (8, 'campaign_stats', (SELECT count(*) FROM campaign_stats)),
        (9, 'audit_log', (SELECT count(*) FROM audit_log)),
        (10, 'conversions', (SELECT count(*) FROM conversions))) AS v (i, t, n)
     ORDER BY i" | awk '{ printf "%-20s %12d rows\n", $1, $2; total += $2 } END { printf "%-20s %12d rows\n", "total", total }'
printf '%-20s %12d.%03d s\n' elapsed $((ms / 1000)) $((ms % 1000))
gen_rows=$(psql -X -q -At -d "$dsn" -c "SELECT (SELECT count(*) FROM contacts) + (SELECT count(*) FROM segment_members)
    + (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM conversions) + (SELECT count(*) FROM audit_log)")

# The peer, in the same run on the same server: pgbench's own bulk load of
# 1,000,000 accounts (client-side COPY, then its primary key), in a second
# database. The ratio of rows per second is what to compare across machines.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
psql -X -q -d "$dsn" -c "CREATE DATABASE peer" >/dev/null
peer_dsn=${dsn/dbname=marketing/dbname=peer}
start=$(date +%s%N)
"$pgbin/pgbench" -i -q -s 10 "$peer_dsn" >/dev/null 2>&1
pms=$((($(date +%s%N) - start) / 1000000))
printf '%-20s %12d.%03d s  (pgbench -i -s 10: 1000000 rows)\n' peer $((pms / 1000)) $((pms % 1000))
awk -v g="$gen_rows" -v gms="$ms" -v pms="$pms" 'BEGIN {
    gr = g / (gms / 1000); pr = 1000000 / (pms / 1000)
    printf "%-20s %12.0f rows/s\n%-20s %12.0f rows/s\n%-20s %12.2f (ours / pgbench, rows per second)\n",
        "generator", gr, "pgbench", pr, "ratio", gr / pr }'
printf '%-20s %12s\n' database "$(psql -X -q -At -d "$dsn" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
