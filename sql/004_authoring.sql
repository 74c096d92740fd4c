-- 004_authoring: creating and editing campaigns, test sends and A/B results.
--
--   * campaign_save() creates a campaign (a draft at revision 1) or saves an
--     edit as a NEW revision (old revisions are never rewritten), in one
--     short transaction: a compare-and-set on version, an audit row keyed by
--     the client's request id, and (by the trigger of 001) a NOTIFY. Edits
--     are allowed in draft, scheduled and paused only: an active campaign is
--     paused first (campaign_act), then saved.
--   * campaign_clone() makes a new draft from a campaign's current revision.
--   * campaign_promote_winner() ends an A/B test: a new revision whose
--     content is the winning variant's, with no variants left, so the rest of
--     the audience gets the winner. Deliveries already made keep their
--     variant (and their revision). A single 100% variant was the other
--     choice; it was not taken because a split of one variant is not an A/B
--     test and the pre-flight check rightly refuses it.
--   * test_deliveries is the ledger of test sends. It never touches
--     deliveries or campaign_stats; campaign_test_send() queues one and
--     NOTIFYs 'marketing_test_send', which the backend LISTENs for.
--   * campaign_ab_results() counts sent, opened and clicked per variant.
--
-- The fields of a campaign travel as one jsonb object (the format of
-- `marketing campaign create --from-file`, see the README):
--   name, type, segment_id, from, subject, body, variants, rate_limit_per_minute, send_at
-- campaign_fields_problems() says what is wrong with one, field by field.
-- Outcomes are campaign_act()'s: applied, replayed, conflict, invalid, not_found.

-- What is wrong with a campaign's fields: one "field: problem" per entry,
-- none when all is well. Existence of the segment is checked by the caller.
CREATE FUNCTION campaign_fields_problems(p jsonb) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    probs   text[] := '{}';
    k       text;
    v       jsonb;
    t       text;
    i       integer := 0;
    n       integer;
    sum     integer := 0;
    pct     integer;
    letters text[] := '{}';
    letter  text;
BEGIN
    IF p IS NULL OR jsonb_typeof(p) <> 'object' THEN
        RETURN ARRAY['fields: not a JSON object'];
    END IF;
    FOR k IN SELECT jsonb_object_keys(p) LOOP
        IF k NOT IN ('name', 'type', 'segment_id', 'from', 'subject', 'body', 'variants',
                     'rate_limit_per_minute', 'send_at') THEN
            probs := probs || format('%s: unknown field', left(k, 64));
        END IF;
    END LOOP;
    -- required strings
    FOREACH k IN ARRAY ARRAY['name', 'segment_id', 'from', 'subject', 'body'] LOOP
        v := p -> k;
        IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
            IF k <> 'subject' OR coalesce(p ->> 'type', 'email') = 'email' THEN
                probs := probs || format('%s: missing', k);
            END IF;
        ELSIF jsonb_typeof(v) <> 'string' THEN
            probs := probs || format('%s: must be a string, not %s', k, jsonb_typeof(v));
        ELSIF btrim(v #>> '{}') = '' AND (k <> 'subject' OR coalesce(p ->> 'type', 'email') = 'email') THEN
            probs := probs || format('%s: empty', k);
        END IF;
    END LOOP;
    IF jsonb_typeof(p -> 'name') = 'string' AND length(p ->> 'name') > 200 THEN
        probs := probs || format('name: %s characters, at most 200', length(p ->> 'name'));
    END IF;
    v := p -> 'type';
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
        IF jsonb_typeof(v) <> 'string' THEN
            probs := probs || format('type: must be a string, not %s', jsonb_typeof(v));
        ELSIF (v #>> '{}') NOT IN ('email', 'sms', 'push') THEN
            probs := probs || format('type: "%s" is not email, sms or push', left(v #>> '{}', 32));
        END IF;
    END IF;
    v := p -> 'rate_limit_per_minute';
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
        IF jsonb_typeof(v) <> 'number' OR (v #>> '{}') !~ '^-?[0-9]+$' THEN
            probs := probs || 'rate_limit_per_minute: must be a whole number'::text;
        ELSIF (v #>> '{}')::numeric NOT BETWEEN 1 AND 10000000 THEN
            probs := probs || format('rate_limit_per_minute: %s is outside 1 to 10000000', v #>> '{}');
        END IF;
    END IF;
    v := p -> 'send_at';
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
        IF jsonb_typeof(v) <> 'string' THEN
            probs := probs || format('send_at: must be a string, not %s', jsonb_typeof(v));
        ELSIF (v #>> '{}') !~ '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?| UTC| [A-Za-z_]+/[A-Za-z_/+-]+)$' THEN
            probs := probs || 'send_at: needs a time zone ("2026-12-01 09:00 Europe/Berlin", "...+01:00" or "...Z")'::text;
        ELSE
            BEGIN
                PERFORM (v #>> '{}')::timestamptz;
            EXCEPTION WHEN others THEN
                probs := probs || format('send_at: "%s" is not a time', left(v #>> '{}', 64));
            END;
        END IF;
    END IF;
    v := p -> 'variants';
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
        IF jsonb_typeof(v) <> 'array' THEN
            probs := probs || format('variants: must be an array, not %s', jsonb_typeof(v));
            RETURN probs;
        END IF;
        n := jsonb_array_length(v);
        IF n = 1 OR n > 4 THEN
            probs := probs || format('variants: %s given; an A/B test has 2 to 4 (or none)', n);
        END IF;
        FOR i IN 0 .. n - 1 LOOP
            IF jsonb_typeof(v -> i) <> 'object' THEN
                probs := probs || format('variants[%s]: must be an object', i);
                CONTINUE;
            END IF;
            FOR k IN SELECT jsonb_object_keys(v -> i) LOOP
                IF k NOT IN ('variant', 'split_percent', 'subject', 'body') THEN
                    probs := probs || format('variants[%s].%s: unknown field', i, left(k, 64));
                END IF;
            END LOOP;
            letter := CASE WHEN jsonb_typeof(v -> i -> 'variant') = 'string' THEN v -> i ->> 'variant' END;
            IF letter IS NULL OR letter !~ '^[A-D]$' THEN
                probs := probs || format('variants[%s].variant: must be one of "A" to "D"', i);
            ELSIF letter = ANY (letters) THEN
                probs := probs || format('variants[%s].variant: %s appears twice', i, letter);
            ELSE
                letters := letters || letter;
            END IF;
            t := jsonb_typeof(v -> i -> 'split_percent');
            IF t IS DISTINCT FROM 'number' OR (v -> i ->> 'split_percent') !~ '^[0-9]+$' THEN
                probs := probs || format('variants[%s].split_percent: must be a whole number', i);
            ELSE
                pct := least((v -> i ->> 'split_percent')::numeric, 1000)::integer;
                IF pct < 1 OR pct > 100 THEN
                    probs := probs || format('variants[%s].split_percent: %s is outside 1 to 100', i, pct);
                END IF;
                sum := sum + pct;
            END IF;
            FOREACH k IN ARRAY ARRAY['subject', 'body'] LOOP
                t := jsonb_typeof(v -> i -> k);
                IF t IS NOT NULL AND t NOT IN ('string', 'null') THEN
                    probs := probs || format('variants[%s].%s: must be a string, not %s', i, k, t);
                END IF;
            END LOOP;
        END LOOP;
        IF n >= 2 AND sum <> 100 THEN
            probs := probs || format('variants: splits add up to %s, not 100', sum);
        END IF;
    END IF;
    RETURN probs;
END $$;

-- The statuses in which content may change, and why not otherwise.
CREATE FUNCTION campaign_edit_refusal(p_status text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_status IN ('draft', 'scheduled', 'paused') THEN NULL
        WHEN p_status = 'active' THEN 'it is active: pause it first'
        ELSE format('it is %s: it can no longer be edited', p_status) END
$$;

-- The result row of the functions below, as campaign_act() answers.
CREATE FUNCTION campaign_answer(p_outcome text, c campaigns, p_detail jsonb)
RETURNS TABLE (outcome text, campaign_id text, status text, version integer, revision integer,
               changed_by text, changed_at timestamptz, detail jsonb)
LANGUAGE sql STABLE AS $$
    SELECT p_outcome, c.id, c.status, c.version, c.current_revision, l.changed_by, l.changed_at,
           coalesce(p_detail, '{}'::jsonb)
      FROM campaign_last_change(c.id, c.version) l
$$;

-- An audit row's answer: what a request did, for a replay.
CREATE FUNCTION campaign_replay(a audit_log)
RETURNS TABLE (outcome text, campaign_id text, status text, version integer, revision integer,
               changed_by text, changed_at timestamptz, detail jsonb)
LANGUAGE sql STABLE AS $$
    SELECT 'replayed'::text, a.campaign_id, a.to_status, a.to_version, a.revision, audit_who(a),
           a.created_at, coalesce(a.details, '{}'::jsonb)
$$;

-- Writes a revision (and its variants) of campaign p_id from fields p.
CREATE FUNCTION campaign_write_revision(p_id text, p_revision integer, p jsonb, p_note text,
                                        p_restored_from integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body, note, restored_from)
    VALUES (p_id, p_revision, p ->> 'from', coalesce(p ->> 'subject', ''), p ->> 'body', p_note,
            p_restored_from);
    INSERT INTO campaign_variants (campaign_id, revision, variant, split_percent, subject, body)
    SELECT p_id, p_revision, x ->> 'variant', (x ->> 'split_percent')::integer, x ->> 'subject', x ->> 'body'
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p -> 'variants') = 'array'
                                     THEN p -> 'variants' ELSE '[]'::jsonb END) AS x;
$$;

-- A campaign's current fields, in the jsonb shape campaign_save() takes.
CREATE FUNCTION campaign_fields(p_campaign_id text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'name', c.name, 'type', c.type, 'segment_id', c.segment_id,
               'from', r.from_address, 'subject', r.subject, 'body', r.body,
               'rate_limit_per_minute', c.rate_limit_per_minute,
               'send_at', to_char(c.send_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'variants', coalesce((SELECT jsonb_agg(jsonb_build_object('variant', v.variant,
                                                'split_percent', v.split_percent,
                                                'subject', v.subject, 'body', v.body) ORDER BY v.variant)
                                       FROM campaign_variants v
                                      WHERE v.campaign_id = c.id AND v.revision = c.current_revision),
                                    '[]'::jsonb))
      FROM campaigns c
      LEFT JOIN campaign_revisions r ON r.campaign_id = c.id AND r.revision = c.current_revision
     WHERE c.id = p_campaign_id
$$;

-- Fields as campaign_fields() gives them: defaults filled in, send_at in
-- UTC, variants in letter order with every key. Valid fields only.
CREATE FUNCTION campaign_fields_normalize(p jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'name', p ->> 'name', 'type', coalesce(p ->> 'type', 'email'),
               'segment_id', p ->> 'segment_id', 'from', p ->> 'from',
               'subject', coalesce(p ->> 'subject', ''), 'body', p ->> 'body',
               'rate_limit_per_minute', coalesce((p ->> 'rate_limit_per_minute')::integer, 600),
               'send_at', to_char((p ->> 'send_at')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'variants', coalesce((SELECT jsonb_agg(jsonb_build_object('variant', x ->> 'variant',
                                                'split_percent', (x ->> 'split_percent')::integer,
                                                'subject', x ->> 'subject', 'body', x ->> 'body')
                                                ORDER BY x ->> 'variant')
                                       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p -> 'variants') = 'array'
                                                                      THEN p -> 'variants' ELSE '[]'::jsonb END) x),
                                    '[]'::jsonb))
$$;

CREATE FUNCTION campaign_save(
    p_request_id        uuid,
    p_campaign_id       text,      -- NULL: create
    p_expected_version  integer,   -- edit: the version the operator saw (NULL: any)
    p_fields            jsonb,
    p_os_user           text,
    p_ssh_client        text,
    p_tty               text,
    p_note              text)
RETURNS TABLE (outcome text, campaign_id text, status text, version integer, revision integer,
               changed_by text, changed_at timestamptz, detail jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c        campaigns%ROWTYPE;
    a        audit_log%ROWTYPE;
    probs    text[];
    old      jsonb;
    changed  text[];
    new_rev  integer;
    info     jsonb;
    k        text;
BEGIN
    IF p_campaign_id IS NULL THEN
        -- No row to lock yet: requests with the same id take turns here, so
        -- a retry that raced its first attempt sees that attempt's row.
        PERFORM pg_advisory_xact_lock(hashtext('marketing.campaign_save'), hashtext(p_request_id::text));
        SELECT * INTO a FROM audit_log l WHERE l.request_id = p_request_id ORDER BY l.id LIMIT 1;
        IF FOUND THEN
            RETURN QUERY SELECT * FROM campaign_replay(a);
            RETURN;
        END IF;
    ELSE
        SELECT * INTO c FROM campaigns x WHERE x.id = p_campaign_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found'::text, p_campaign_id, NULL::text, NULL::integer, NULL::integer,
                                NULL::text, NULL::timestamptz, '{}'::jsonb;
            RETURN;
        END IF;
        SELECT * INTO a FROM audit_log l WHERE l.request_id = p_request_id AND l.campaign_id = p_campaign_id;
        IF FOUND THEN
            RETURN QUERY SELECT * FROM campaign_replay(a);
            RETURN;
        END IF;
        IF p_expected_version IS NOT NULL AND c.version <> p_expected_version THEN
            RETURN QUERY SELECT * FROM campaign_answer('conflict', c,
                                    jsonb_build_object('expected_version', p_expected_version));
            RETURN;
        END IF;
        IF campaign_edit_refusal(c.status) IS NOT NULL THEN
            RETURN QUERY SELECT * FROM campaign_answer('invalid', c,
                                    jsonb_build_object('reason', campaign_edit_refusal(c.status)));
            RETURN;
        END IF;
    END IF;

    probs := campaign_fields_problems(p_fields);
    IF cardinality(probs) = 0 AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = p_fields ->> 'segment_id') THEN
        probs := probs || format('segment_id: there is no segment %s', left(p_fields ->> 'segment_id', 64));
    END IF;
    IF cardinality(probs) = 0 AND c.status = 'scheduled' AND jsonb_typeof(p_fields -> 'send_at') IS DISTINCT FROM 'string' THEN
        probs := probs || 'send_at: a scheduled campaign needs one (cancel it to unschedule)'::text;
    END IF;
    IF cardinality(probs) > 0 THEN
        info := jsonb_build_object('reason', probs[1], 'problems', to_jsonb(probs));
        IF p_campaign_id IS NULL THEN
            RETURN QUERY SELECT 'invalid'::text, NULL::text, NULL::text, NULL::integer, NULL::integer,
                                NULL::text, NULL::timestamptz, info;
        ELSE
            RETURN QUERY SELECT * FROM campaign_answer('invalid', c, info);
        END IF;
        RETURN;
    END IF;

    IF p_campaign_id IS NULL THEN
        INSERT INTO campaigns (name, type, segment_id, status, version, current_revision,
                               rate_limit_per_minute, send_at)
        VALUES (p_fields ->> 'name', coalesce(p_fields ->> 'type', 'email'), p_fields ->> 'segment_id',
                'draft', 1, 1, coalesce((p_fields ->> 'rate_limit_per_minute')::integer, 600),
                (p_fields ->> 'send_at')::timestamptz)
        RETURNING * INTO c;
        PERFORM campaign_write_revision(c.id, 1, p_fields, p_note, NULL);
        info := jsonb_build_object('created', true);
        INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status, from_version,
                               to_version, revision, os_user, ssh_client, tty, note, details)
        VALUES (p_request_id, 'create', c.id, NULL, 'draft', NULL, 1, 1, p_os_user, p_ssh_client, p_tty,
                p_note, info)
        RETURNING * INTO a;
        RETURN QUERY SELECT 'applied'::text, c.id, 'draft'::text, 1, 1, audit_who(a), a.created_at, info;
        RETURN;
    END IF;

    -- an edit: a new revision, whatever changed
    old := campaign_fields(c.id);
    SELECT coalesce(array_agg(f.key ORDER BY f.key), '{}') INTO changed
      FROM jsonb_each(campaign_fields_normalize(p_fields)) f
     WHERE f.value IS DISTINCT FROM old -> f.key;
    SELECT max(r.revision) + 1 INTO new_rev FROM campaign_revisions r WHERE r.campaign_id = c.id;
    new_rev := coalesce(new_rev, 1);
    PERFORM campaign_write_revision(c.id, new_rev, p_fields, p_note, NULL);
    UPDATE campaigns x
       SET name = p_fields ->> 'name', type = coalesce(p_fields ->> 'type', 'email'),
           segment_id = p_fields ->> 'segment_id',
           rate_limit_per_minute = coalesce((p_fields ->> 'rate_limit_per_minute')::integer, 600),
           send_at = (p_fields ->> 'send_at')::timestamptz,
           current_revision = new_rev, version = x.version + 1, updated_at = now()
     WHERE x.id = c.id;
    info := jsonb_build_object('previous_revision', c.current_revision, 'changed', to_jsonb(changed));
    INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status, from_version,
                           to_version, revision, os_user, ssh_client, tty, note, details)
    VALUES (p_request_id, 'edit', c.id, c.status, c.status, c.version, c.version + 1, new_rev,
            p_os_user, p_ssh_client, p_tty, p_note, info)
    RETURNING * INTO a;
    RETURN QUERY SELECT 'applied'::text, c.id, c.status, c.version + 1, new_rev, audit_who(a),
                        a.created_at, info;
END $$;

-- A new draft from a campaign's current revision (content, variants,
-- segment, rate limit; not its schedule). p_name NULL: "Copy of NAME".
CREATE FUNCTION campaign_clone(p_request_id uuid, p_campaign_id text, p_name text, p_os_user text,
                               p_ssh_client text, p_tty text, p_note text)
RETURNS TABLE (outcome text, campaign_id text, status text, version integer, revision integer,
               changed_by text, changed_at timestamptz, detail jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    src   campaigns%ROWTYPE;
    c     campaigns%ROWTYPE;
    a     audit_log%ROWTYPE;
    f     jsonb;
    probs text[];
    info  jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('marketing.campaign_save'), hashtext(p_request_id::text));
    SELECT * INTO a FROM audit_log l WHERE l.request_id = p_request_id ORDER BY l.id LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT * FROM campaign_replay(a);
        RETURN;
    END IF;
    SELECT * INTO src FROM campaigns x WHERE x.id = p_campaign_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, p_campaign_id, NULL::text, NULL::integer, NULL::integer,
                            NULL::text, NULL::timestamptz, '{}'::jsonb;
        RETURN;
    END IF;
    IF src.current_revision IS NULL THEN
        RETURN QUERY SELECT * FROM campaign_answer('invalid', src,
                                jsonb_build_object('reason', 'it has no content yet'));
        RETURN;
    END IF;
    f := campaign_fields(src.id) - 'send_at'
         || jsonb_build_object('name', coalesce(p_name, left('Copy of ' || src.name, 200)));
    probs := campaign_fields_problems(f);
    IF cardinality(probs) > 0 THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::text, NULL::text, NULL::integer, NULL::integer,
                            NULL::text, NULL::timestamptz,
                            jsonb_build_object('reason', probs[1], 'problems', to_jsonb(probs));
        RETURN;
    END IF;
    INSERT INTO campaigns (name, type, segment_id, status, version, current_revision, rate_limit_per_minute)
    VALUES (f ->> 'name', src.type, src.segment_id, 'draft', 1, 1, src.rate_limit_per_minute)
    RETURNING * INTO c;
    PERFORM campaign_write_revision(c.id, 1, f, p_note, NULL);
    info := jsonb_build_object('cloned_from', src.id, 'cloned_revision', src.current_revision);
    INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status, from_version,
                           to_version, revision, os_user, ssh_client, tty, note, details)
    VALUES (p_request_id, 'clone', c.id, NULL, 'draft', NULL, 1, 1, p_os_user, p_ssh_client, p_tty,
            p_note, info)
    RETURNING * INTO a;
    RETURN QUERY SELECT 'applied'::text, c.id, 'draft'::text, 1, 1, audit_who(a), a.created_at, info;
END $$;

-- The winner of an A/B test gets the rest of the audience: a new revision
-- whose subject and body are the variant's (the revision's where the
-- variant has none), without variants. Allowed wherever the campaign still
-- has an audience to reach (draft, scheduled, active, paused); its status
-- does not change, and an active campaign sends the winner from its next
-- batch.
CREATE FUNCTION campaign_promote_winner(p_request_id uuid, p_campaign_id text, p_expected_version integer,
                                        p_variant text, p_os_user text, p_ssh_client text, p_tty text,
                                        p_note text)
RETURNS TABLE (outcome text, campaign_id text, status text, version integer, revision integer,
               changed_by text, changed_at timestamptz, detail jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c       campaigns%ROWTYPE;
    a       audit_log%ROWTYPE;
    new_rev integer;
    info    jsonb;
BEGIN
    SELECT * INTO c FROM campaigns x WHERE x.id = p_campaign_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, p_campaign_id, NULL::text, NULL::integer, NULL::integer,
                            NULL::text, NULL::timestamptz, '{}'::jsonb;
        RETURN;
    END IF;
    SELECT * INTO a FROM audit_log l WHERE l.request_id = p_request_id AND l.campaign_id = p_campaign_id;
    IF FOUND THEN
        RETURN QUERY SELECT * FROM campaign_replay(a);
        RETURN;
    END IF;
    IF p_expected_version IS NOT NULL AND c.version <> p_expected_version THEN
        RETURN QUERY SELECT * FROM campaign_answer('conflict', c,
                                jsonb_build_object('expected_version', p_expected_version));
        RETURN;
    END IF;
    IF c.status NOT IN ('draft', 'scheduled', 'active', 'paused') THEN
        RETURN QUERY SELECT * FROM campaign_answer('invalid', c,
                                jsonb_build_object('reason', format('it is %s: nobody is left to send to', c.status)));
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM campaign_variants v
                    WHERE v.campaign_id = c.id AND v.revision = c.current_revision AND v.variant = p_variant) THEN
        RETURN QUERY SELECT * FROM campaign_answer('invalid', c,
                                jsonb_build_object('reason',
                                    CASE WHEN EXISTS (SELECT 1 FROM campaign_variants v
                                                       WHERE v.campaign_id = c.id AND v.revision = c.current_revision)
                                         THEN format('revision %s has no variant %s', c.current_revision, left(p_variant, 8))
                                         ELSE format('revision %s is not an A/B test', c.current_revision) END));
        RETURN;
    END IF;
    SELECT max(r.revision) + 1 INTO new_rev FROM campaign_revisions r WHERE r.campaign_id = c.id;
    INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body, note)
    SELECT r.campaign_id, new_rev, r.from_address, coalesce(v.subject, r.subject), coalesce(v.body, r.body),
           coalesce(p_note, format('variant %s of revision %s promoted', p_variant, c.current_revision))
      FROM campaign_revisions r
      JOIN campaign_variants v ON v.campaign_id = r.campaign_id AND v.revision = r.revision AND v.variant = p_variant
     WHERE r.campaign_id = c.id AND r.revision = c.current_revision;
    UPDATE campaigns x SET version = x.version + 1, updated_at = now(), current_revision = new_rev
     WHERE x.id = c.id;
    info := jsonb_build_object('promoted', p_variant, 'previous_revision', c.current_revision);
    INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status, from_version,
                           to_version, revision, os_user, ssh_client, tty, note, details)
    VALUES (p_request_id, 'promote', c.id, c.status, c.status, c.version, c.version + 1, new_rev,
            p_os_user, p_ssh_client, p_tty, p_note, info)
    RETURNING * INTO a;
    RETURN QUERY SELECT 'applied'::text, c.id, c.status, c.version + 1, new_rev, audit_who(a),
                        a.created_at, info;
END $$;

-- Sent, opened and clicked per variant over all of a campaign's deliveries
-- (every revision: a variant keeps its letter across edits). Deliveries
-- without a variant (before or after a test) count under variant NULL.
CREATE FUNCTION campaign_ab_results(p_campaign_id text)
RETURNS TABLE (variant text, sent bigint, opened bigint, clicked bigint)
LANGUAGE sql STABLE AS $$
    SELECT d.variant,
           count(*) FILTER (WHERE d.status = 'sent'),
           count(*) FILTER (WHERE d.status = 'sent' AND d.opened_at IS NOT NULL),
           count(*) FILTER (WHERE d.status = 'sent' AND d.clicked_at IS NOT NULL)
      FROM deliveries d
     WHERE d.campaign_id = p_campaign_id
     GROUP BY d.variant
     ORDER BY d.variant NULLS LAST
$$;

-- Test sends: a ledger of their own, never deliveries or campaign_stats.
CREATE TABLE test_deliveries (
    id            bigserial   PRIMARY KEY,
    request_id    uuid        NOT NULL UNIQUE,
    campaign_id   text        NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    revision      integer     NOT NULL,
    variant       text        CHECK (variant ~ '^[A-Z]$'),
    address       text        NOT NULL CHECK (length(address) BETWEEN 3 AND 320 AND address ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    requested_by  text        NOT NULL DEFAULT session_user,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    status        text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    error         text,
    FOREIGN KEY (campaign_id, revision) REFERENCES campaign_revisions (campaign_id, revision),
    CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
COMMENT ON TABLE test_deliveries IS 'test sends: rendered and sent like a delivery, counted nowhere else';
CREATE INDEX test_deliveries_queued_idx ON test_deliveries (id) WHERE status = 'queued';
CREATE INDEX test_deliveries_campaign_idx ON test_deliveries (campaign_id, requested_at DESC);

-- Queues a test send of the campaign's current revision (or one of its
-- variants) to an address. The backend renders it for the contact with
-- that address, or with empty attributes when there is none.
CREATE FUNCTION campaign_test_send(p_request_id uuid, p_campaign_id text, p_address text, p_variant text,
                                   p_os_user text, p_ssh_client text, p_tty text, p_note text)
RETURNS TABLE (outcome text, test_delivery_id bigint, campaign_id text, revision integer, variant text,
               address text, reason text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c  campaigns%ROWTYPE;
    t  test_deliveries%ROWTYPE;
BEGIN
    SELECT * INTO c FROM campaigns x WHERE x.id = p_campaign_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::bigint, p_campaign_id, NULL::integer, NULL::text,
                            p_address, NULL::text;
        RETURN;
    END IF;
    SELECT * INTO t FROM test_deliveries d WHERE d.request_id = p_request_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'replayed'::text, t.id, t.campaign_id, t.revision, t.variant, t.address, NULL::text;
        RETURN;
    END IF;
    IF c.current_revision IS NULL THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::bigint, c.id, NULL::integer, p_variant, p_address,
                            'it has no content yet'::text;
        RETURN;
    END IF;
    IF p_address IS NULL OR length(p_address) NOT BETWEEN 3 AND 320 OR p_address !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::bigint, c.id, c.current_revision, p_variant, p_address,
                            'to: not an email address'::text;
        RETURN;
    END IF;
    IF p_variant IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM campaign_variants v
            WHERE v.campaign_id = c.id AND v.revision = c.current_revision AND v.variant = p_variant) THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::bigint, c.id, c.current_revision, p_variant, p_address,
                            format('revision %s has no variant %s', c.current_revision, left(p_variant, 8));
        RETURN;
    END IF;
    INSERT INTO test_deliveries (request_id, campaign_id, revision, variant, address)
    VALUES (p_request_id, c.id, c.current_revision, p_variant, p_address)
    RETURNING * INTO t;
    INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status, revision,
                           os_user, ssh_client, tty, note, details)
    VALUES (p_request_id, 'test_send', c.id, c.status, c.status, c.current_revision,
            p_os_user, p_ssh_client, p_tty, p_note,
            jsonb_build_object('test_delivery_id', t.id, 'address', p_address, 'variant', p_variant));
    PERFORM pg_notify('marketing_test_send', t.id::text);
    RETURN QUERY SELECT 'applied'::text, t.id, c.id, t.revision, t.variant, t.address, NULL::text;
END $$;
