#!/usr/bin/env bash
# Runs the cmocka program test_control against a private cluster with a
# small fixture: the state machine's outcomes, verification and pre-flight.
. "$(dirname "$0")/../lib.sh"
pg_up
"$MKT" --dsn "$PGDSN" db migrate >/dev/null
sql "INSERT INTO contacts (email, attributes, status) VALUES
       ('a@example.com', '{\"first_name\": \"Ann\"}', 'active'),
       ('b@example.com', '{\"first_name\": \"Bo\"}', 'active'),
       ('c@example.com', '{\"first_name\": \"Cy\"}', 'active'),
       ('d@example.com', '{}', 'active'),
       ('e@example.com', '{}', 'unsubscribed');
     INSERT INTO segments (name, rule, size, reachable) VALUES ('Everyone', 'all', 5, 4);
     INSERT INTO segment_members (segment_id, contact_id) SELECT 'seg_1', id FROM contacts;
     BEGIN;
     INSERT INTO campaigns (id, name, segment_id, current_revision) VALUES ('cmp_1', 'draft one', 'seg_1', 1);
     INSERT INTO campaigns (id, name, segment_id, current_revision, status, launched_at)
       VALUES ('cmp_2', 'active one', 'seg_1', 2, 'active', now());
     INSERT INTO campaigns (id, name, segment_id, current_revision) VALUES ('cmp_3', 'broken', 'seg_1', 1);
     INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body) VALUES
       ('cmp_1', 1, 'a@example.com', 'Hello', 'Hi {{ email }}'),
       ('cmp_2', 1, 'a@example.com', 'First', 'b'), ('cmp_2', 2, 'a@example.com', 'Second', 'b'),
       ('cmp_3', 1, 'a@example.com', '{{first_name}}, hello', 'Dear {{nope}}');
     INSERT INTO campaign_variants (campaign_id, revision, variant, split_percent) VALUES
       ('cmp_3', 1, 'A', 50), ('cmp_3', 1, 'B', 40);
     COMMIT;
     INSERT INTO deliveries (campaign_id, contact_id, revision, status, sent_at)
       SELECT 'cmp_2', id, 2, 'sent', now() FROM contacts WHERE id <= 3;" >/dev/null
PGDSN=$PGDSN "$T_BUILD/itests/test_control"
