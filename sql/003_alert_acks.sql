-- 003_alert_acks: acknowledging and snoozing alerts, shared by every console.
--
--   * An ack targets one alert rule and a set of labels: {} is the whole
--     rule; {"instance": "db1:9187"} is that series of it (and any alert of
--     the rule whose labels include instance="db1:9187"). Matching an alert
--     against the acks is the console's (src/alertack.c): every label of
--     the ack must equal the alert's; the most specific ack (most labels)
--     wins, then the newest.
--   * kind 'ack': acknowledged until the alert resolves or the expiry,
--     whichever comes first. "Until it resolves" needs no writer: an ack
--     covers only an alert that was already active when the ack was made,
--     so a new firing after a resolve is not covered (the console compares
--     the alert's active-since with created_at).
--     kind 'snooze': hidden until the expiry, whatever the alert does.
--   * Every ack expires: expires_at is required, in the future at creation
--     and at most 30 days after it. A comment is required, non-blank, at
--     most 500 characters. The table's CHECKs say so, whoever writes.
--   * alert_ack() and alert_unack() are the only code that changes acks;
--     each call is one short transaction: the change, an audit_log row
--     (action alert.ack, alert.snooze or alert.unack, keyed by the
--     client's request id, so a retried request applies once) and, by the
--     trigger below, a NOTIFY on channel 'alert_acks'.
--   * A second ack of the same target (same rule, same labels) replaces the
--     first: the newest wins, and the old row stays, cleared, with
--     cleared_reason 'superseded' and superseded_by naming the new one. An
--     ack of a more or less specific target does not replace anything: both
--     stay in force, and the console picks the most specific.
--   * alert_unack() clears an ack early (cleared_reason 'unack'). Rows are
--     never deleted: the table is its own history.
--   * alert_acks_in_force is what every console shows: not cleared, not
--     expired, one per target (the newest, should a hand-written INSERT
--     have made two).

-- Audit actions of this migration have a dot: alert.ack.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action ~ '^[a-z_]+(\.[a-z_]+)?$' AND length(action) <= 32);

-- 001 made an alert_acks table that nothing ever wrote. An empty one goes;
-- one with rows (written by hand) is kept, renamed, for whoever wants them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM alert_acks) THEN
        ALTER TABLE alert_acks RENAME TO alert_acks_001;
        ALTER TABLE alert_acks_001 RENAME CONSTRAINT alert_acks_pkey TO alert_acks_001_pkey;
        ALTER TABLE alert_acks_001 RENAME CONSTRAINT alert_acks_request_id_key TO alert_acks_001_request_id_key;
        ALTER SEQUENCE alert_acks_id_seq RENAME TO alert_acks_001_id_seq;
        ALTER INDEX alert_acks_alert_idx RENAME TO alert_acks_001_alert_idx;
        COMMENT ON TABLE alert_acks_001 IS 'acks of schema 001, kept by 003_alert_acks; not read by the console';
    ELSE
        DROP TABLE alert_acks;
    END IF;
END $$;

-- Labels of an ack: a JSON object of at most 16 string values, whose keys
-- are Prometheus label names (alertname is the rule, not a label here).
CREATE FUNCTION alert_labels_valid(l jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(l) = 'object'
       AND (SELECT count(*) <= 16
                   AND coalesce(bool_and(k ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$' AND k <> 'alertname'
                                         AND jsonb_typeof(v) = 'string'
                                         AND length(v #>> '{}') BETWEEN 1 AND 256), true)
              FROM jsonb_each(l) AS e(k, v))
$$;

CREATE TABLE alert_acks (
    id              bigserial   PRIMARY KEY,
    request_id      uuid        NOT NULL UNIQUE,
    rule            text        NOT NULL CHECK (rule ~ '^[A-Za-z_:][A-Za-z0-9_:]{0,199}$'),
    labels          jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (alert_labels_valid(labels)),
    kind            text        NOT NULL CHECK (kind IN ('ack', 'snooze')),
    comment         text        NOT NULL
                    CHECK (btrim(comment, E' \t\r\n\f\v') <> '' AND length(comment) <= 500),
    expires_at      timestamptz NOT NULL,
    db_user         text        NOT NULL DEFAULT session_user,
    application_name text       NOT NULL DEFAULT current_setting('application_name'),
    client_addr     inet        DEFAULT inet_client_addr(),
    os_user         text,
    ssh_client      text,
    tty             text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    cleared_at      timestamptz,
    cleared_by      text,
    cleared_reason  text        CHECK (cleared_reason IN ('unack', 'superseded')),
    superseded_by   bigint      REFERENCES alert_acks (id),
    CHECK (expires_at > created_at AND expires_at <= created_at + interval '30 days'),
    CHECK ((cleared_at IS NULL) = (cleared_reason IS NULL)),
    CHECK ((cleared_reason = 'superseded') = (superseded_by IS NOT NULL))
);
COMMENT ON TABLE alert_acks IS 'acknowledged and snoozed alerts; see sql/003_alert_acks.sql';
COMMENT ON COLUMN alert_acks.labels IS 'the labels an alert must have for this to apply; {}: the whole rule';
COMMENT ON COLUMN alert_acks.kind IS 'ack: until the alert resolves or expires_at; snooze: until expires_at';
COMMENT ON COLUMN alert_acks.cleared_by IS 'who cleared it early (as audit_who says), or the ack that superseded it';
CREATE INDEX alert_acks_open_idx ON alert_acks (rule, labels, created_at DESC) WHERE cleared_at IS NULL;
CREATE INDEX alert_acks_expires_idx ON alert_acks (expires_at) WHERE cleared_at IS NULL;

-- Who made an ack, in audit_who's words.
CREATE FUNCTION alert_ack_who(a alert_acks) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(a.os_user || ' as ' || a.db_user, a.db_user)
           || coalesce(' from ' || host(a.client_addr), '')
           || coalesce(' (ssh ' || nullif(split_part(a.ssh_client, ' ', 1), '') || ')', '')
$$;

-- Every change is heard by every LISTENing console, whoever made it.
CREATE FUNCTION alert_acks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    PERFORM pg_notify('alert_acks',
                      json_build_object('id', r.id, 'rule', r.rule, 'op', lower(TG_OP))::text);
    RETURN NULL;
END $$;
CREATE TRIGGER alert_acks_notify AFTER INSERT OR UPDATE OR DELETE ON alert_acks
    FOR EACH ROW EXECUTE FUNCTION alert_acks_notify();

CREATE VIEW alert_acks_in_force AS
    SELECT DISTINCT ON (a.rule, a.labels)
           a.id, a.rule, a.labels, a.kind, a.comment, a.expires_at, a.created_at,
           alert_ack_who(a) AS who, a.os_user, a.db_user, a.ssh_client
      FROM alert_acks a
     WHERE a.cleared_at IS NULL AND a.expires_at > now()
     ORDER BY a.rule, a.labels, a.created_at DESC, a.id DESC;
COMMENT ON VIEW alert_acks_in_force IS 'acks neither cleared nor expired, the newest per rule and labels';

-- Outcomes of alert_ack() and alert_unack():
--   applied    done now
--   replayed   this request id was applied before: its result again
--   already    unack only: the ack was cleared or had expired already
--   not_found  unack only: no such ack
-- Bad input (an unknown kind, a blank comment, an expiry out of bounds,
-- invalid labels) raises invalid_parameter_value (22023) naming the problem.

-- Acks or snoozes rule/labels for p_for from now (server time: client
-- clocks do not matter). A newer ack of the same target replaces the one
-- in force (see above); details of the audit row name it as superseded.
CREATE FUNCTION alert_ack(
    p_request_id  uuid,
    p_kind        text,        -- 'ack' or 'snooze'
    p_rule        text,
    p_labels      jsonb,       -- NULL: {}
    p_comment     text,
    p_for         interval,
    p_os_user     text,
    p_ssh_client  text,
    p_tty         text)
RETURNS TABLE (outcome text, id bigint, kind text, expires_at timestamptz, created_at timestamptz,
               who text, superseded bigint[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    lbl   jsonb := coalesce(p_labels, '{}'::jsonb);
    a     alert_acks%ROWTYPE;
    l     audit_log%ROWTYPE;
    old   bigint[];
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('ack', 'snooze') THEN
        RAISE EXCEPTION 'unknown kind "%" (ack or snooze)', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_rule IS NULL OR p_rule !~ '^[A-Za-z_:][A-Za-z0-9_:]{0,199}$' THEN
        RAISE EXCEPTION 'the rule name is not an alert name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT alert_labels_valid(lbl) THEN
        RAISE EXCEPTION 'labels must be at most 16 label names with values of 1 to 256 characters'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_comment IS NULL OR btrim(p_comment, E' \t\r\n\f\v') = '' THEN
        RAISE EXCEPTION 'a comment is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF length(p_comment) > 500 THEN
        RAISE EXCEPTION 'the comment is longer than 500 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_for IS NULL OR p_for <= interval '0' OR now() + p_for > now() + interval '30 days' THEN
        RAISE EXCEPTION 'the expiry must be in the future and at most 30 days away'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- Acks of one target take turns, so the newest wins cleanly and a
    -- retry waits for its first attempt and then sees it.
    PERFORM pg_advisory_xact_lock(hashtext('marketing.alert_ack'), hashtext(p_rule || lbl::text));

    SELECT * INTO l FROM audit_log x WHERE x.request_id = p_request_id AND x.campaign_id IS NULL
                                             AND x.action LIKE 'alert.%';
    IF FOUND THEN
        SELECT * INTO a FROM alert_acks x WHERE x.request_id = p_request_id;
        RETURN QUERY SELECT 'replayed'::text, a.id, a.kind, a.expires_at, a.created_at, alert_ack_who(a),
                            ARRAY(SELECT jsonb_array_elements_text(coalesce(l.details -> 'superseded', '[]'))::bigint);
        RETURN;
    END IF;

    INSERT INTO alert_acks (request_id, rule, labels, kind, comment, expires_at, os_user, ssh_client, tty)
    VALUES (p_request_id, p_rule, lbl, p_kind, p_comment, now() + p_for, p_os_user, p_ssh_client, p_tty)
    RETURNING * INTO a;

    WITH s AS (
        UPDATE alert_acks x
           SET cleared_at = now(), cleared_reason = 'superseded', superseded_by = a.id,
               cleared_by = alert_ack_who(a)
         WHERE x.rule = p_rule AND x.labels = lbl AND x.id <> a.id
           AND x.cleared_at IS NULL AND x.expires_at > now()
        RETURNING x.id)
    SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO old FROM s;

    INSERT INTO audit_log (request_id, action, os_user, ssh_client, tty, note, details)
    VALUES (p_request_id, 'alert.' || p_kind, p_os_user, p_ssh_client, p_tty, p_comment,
            jsonb_build_object('ack_id', a.id, 'rule', p_rule, 'labels', lbl, 'kind', p_kind,
                               'expires_at', a.expires_at, 'superseded', to_jsonb(old)));

    RETURN QUERY SELECT 'applied'::text, a.id, a.kind, a.expires_at, a.created_at, alert_ack_who(a), old;
END $$;

-- Clears ack p_id early. p_comment (optional) goes to the audit row.
CREATE FUNCTION alert_unack(
    p_request_id  uuid,
    p_id          bigint,
    p_comment     text,
    p_os_user     text,
    p_ssh_client  text,
    p_tty         text)
RETURNS TABLE (outcome text, id bigint, rule text, labels jsonb, kind text, cleared_at timestamptz,
               cleared_by text, cleared_reason text, expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    a     alert_acks%ROWTYPE;
    l     audit_log%ROWTYPE;
    who   text;
BEGIN
    IF p_comment IS NOT NULL AND length(p_comment) > 500 THEN
        RAISE EXCEPTION 'the comment is longer than 500 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO a FROM alert_acks x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, p_id, NULL::text, NULL::jsonb, NULL::text,
                            NULL::timestamptz, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO l FROM audit_log x WHERE x.request_id = p_request_id AND x.campaign_id IS NULL
                                             AND x.action LIKE 'alert.%';
    IF FOUND THEN
        RETURN QUERY SELECT 'replayed'::text, a.id, a.rule, a.labels, a.kind, a.cleared_at, a.cleared_by,
                            a.cleared_reason, a.expires_at;
        RETURN;
    END IF;
    IF a.cleared_at IS NOT NULL OR a.expires_at <= now() THEN
        RETURN QUERY SELECT 'already'::text, a.id, a.rule, a.labels, a.kind, a.cleared_at, a.cleared_by,
                            a.cleared_reason, a.expires_at;
        RETURN;
    END IF;

    INSERT INTO audit_log (request_id, action, os_user, ssh_client, tty, note, details)
    VALUES (p_request_id, 'alert.unack', p_os_user, p_ssh_client, p_tty, p_comment,
            jsonb_build_object('ack_id', a.id, 'rule', a.rule, 'labels', a.labels, 'kind', a.kind,
                               'expires_at', a.expires_at))
    RETURNING * INTO l;
    who := audit_who(l);
    UPDATE alert_acks x SET cleared_at = now(), cleared_by = who, cleared_reason = 'unack'
     WHERE x.id = a.id;

    RETURN QUERY SELECT 'applied'::text, a.id, a.rule, a.labels, a.kind, now(), who, 'unack'::text,
                        a.expires_at;
END $$;
