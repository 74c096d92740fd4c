#!/usr/bin/env bash
# Runs the cmocka program test_dbworker against a private cluster, stopping
# and starting the server when the program asks (through $T_CTL/req).
. "$(dirname "$0")/../lib.sh"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null
sql "INSERT INTO contacts (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 5) g;
     INSERT INTO segments (name, rule, size, reachable) VALUES ('Everyone', 'all', 5, 5);
     BEGIN;
     INSERT INTO campaigns (id, name, segment_id, current_revision) VALUES ('cmp_1', 'draft one', 'seg_1', 1);
     INSERT INTO campaigns (id, name, segment_id, current_revision, status, launched_at)
       VALUES ('cmp_2', 'active one', 'seg_1', 1, 'active', now());
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body)
       VALUES ('cmp_1', 1, 'a@example.com', 's', 'b'), ('cmp_2', 1, 'a@example.com', 's', 'b');
     COMMIT;
     INSERT INTO deliveries (campaign_id, contact_id, revision, status, sent_at)
       SELECT 'cmp_2', id, 1, 'sent', now() FROM contacts WHERE id <= 3;
     INSERT INTO segment_members (segment_id, contact_id) SELECT 'seg_1', id FROM contacts;
     UPDATE contacts SET last_opened_at = now() WHERE id = 2;" >/dev/null

# a role that may read everything and write nothing
sql "CREATE ROLE mkt_ro LOGIN;
     GRANT USAGE ON SCHEMA public TO mkt_ro;
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO mkt_ro;" >/dev/null
RO_DSN=${PGDSN/user=postgres/user=mkt_ro}
[ "$RO_DSN" != "$PGDSN" ] || fail "cannot make a DSN for another role from '$PGDSN'"
export RO_DSN

export T_CTL=$T_TMP/ctl
mkdir -p "$T_CTL"
pgdir=$T_TMP/pg
pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
(
    while :; do
        if [ -s "$T_CTL/req" ]; then
            case $(cat "$T_CTL/req") in
                stop) as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null ;;
                start) as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w \
                           -o "-c listen_addresses='' -k $pgdir/run" start >/dev/null ;;
            esac
            rm -f "$T_CTL/req"
            touch "$T_CTL/done"
        fi
        sleep 0.1
    done
) &
defer "kill $!"
"$T_BUILD/itests/test_dbworker"
