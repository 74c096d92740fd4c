-- 002_control: the campaign state machine, in one place.
--
--   * campaign_actions is the table of what an operator may do from which
--     status, and to what. campaign_act() is the only code that applies an
--     action; the console, its subcommands and the isolation tests all call
--     it. One call is one short transaction: a compare-and-set on version,
--     an audit row keyed by the client's request id, and (by the trigger of
--     001) a NOTIFY.
--   * campaign_status_pairs is every status change any writer may make (the
--     backend completes campaigns and promotes scheduled ones too). A
--     trigger refuses any other pair, and any update that does not add
--     exactly one to version, whoever runs it.
--
-- Outcomes of campaign_act():
--   applied    the action was applied now
--   replayed   this request id was applied before: its result again
--   already    the campaign is already where the action leads (a second
--              operator, or a double press with a new request id)
--   conflict   the campaign changed since the operator looked at it
--   invalid    the action is not allowed from the campaign's status
--   not_found  no such campaign

ALTER TABLE audit_log ADD COLUMN details jsonb;
COMMENT ON COLUMN audit_log.details IS 'what the action found or did: audience at launch, rollback target, requeued count';

CREATE TABLE campaign_actions (
    action       text NOT NULL CHECK (action IN ('launch', 'pause', 'resume', 'cancel', 'rollback', 'retry_failed')),
    from_status  text NOT NULL CHECK (from_status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')),
    to_status    text NOT NULL CHECK (to_status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')),
    PRIMARY KEY (action, from_status)
);
COMMENT ON TABLE campaign_actions IS
    'what an operator may do from which status; launch from draft goes to scheduled while send_at is in the future';

INSERT INTO campaign_actions (action, from_status, to_status) VALUES
    ('launch', 'draft', 'active'),
    ('launch', 'scheduled', 'active'),
    ('pause', 'active', 'paused'),
    ('resume', 'paused', 'active'),
    ('cancel', 'draft', 'cancelled'),
    ('cancel', 'scheduled', 'cancelled'),
    ('cancel', 'active', 'cancelled'),
    ('cancel', 'paused', 'cancelled'),
    ('rollback', 'draft', 'draft'),
    ('rollback', 'scheduled', 'scheduled'),
    ('rollback', 'active', 'paused'),
    ('rollback', 'paused', 'paused'),
    ('rollback', 'completed', 'completed'),
    ('retry_failed', 'active', 'active'),
    ('retry_failed', 'paused', 'paused');

CREATE TABLE campaign_status_pairs (
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
COMMENT ON TABLE campaign_status_pairs IS 'every status change any writer may make';

INSERT INTO campaign_status_pairs
    SELECT DISTINCT from_status, to_status FROM campaign_actions WHERE from_status <> to_status;
INSERT INTO campaign_status_pairs VALUES
    ('draft', 'scheduled'),      -- launch while send_at is in the future
    ('active', 'completed')      -- the backend, when every member has a delivery
    ON CONFLICT DO NOTHING;

CREATE FUNCTION campaigns_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version <> OLD.version + 1 THEN
        RAISE EXCEPTION 'campaign % changed without adding one to its version (% to %)',
                        OLD.id, OLD.version, NEW.version
              USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status <> OLD.status AND NOT EXISTS (
           SELECT 1 FROM campaign_status_pairs p
            WHERE p.from_status = OLD.status AND p.to_status = NEW.status) THEN
        RAISE EXCEPTION 'campaign % cannot go from % to %', OLD.id, OLD.status, NEW.status
              USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER campaigns_guard BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_guard();

-- Who made an audited change, in one line: "alice as marketing_ops from
-- 10.0.0.5 (ssh 10.1.2.3)": what the client said, then what the server saw.
CREATE FUNCTION audit_who(a audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(a.os_user || ' as ' || a.db_user, a.db_user)
           || coalesce(' from ' || host(a.client_addr), '')
           || coalesce(' (ssh ' || nullif(split_part(a.ssh_client, ' ', 1), '') || ')', '')
$$;

-- Who made the campaign what it is now (its version p_version): the audit
-- row that produced that version. A change without one (SQL typed by hand)
-- gives no name, and the time of the row's last update.
CREATE FUNCTION campaign_last_change(p_campaign_id text, p_version integer,
                                     OUT changed_by text, OUT changed_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT (SELECT audit_who(a) FROM audit_log a
             WHERE a.campaign_id = p_campaign_id AND a.to_version = p_version
             ORDER BY a.id DESC LIMIT 1),
           coalesce((SELECT a.created_at FROM audit_log a
                      WHERE a.campaign_id = p_campaign_id AND a.to_version = p_version
                      ORDER BY a.id DESC LIMIT 1),
                    (SELECT c.updated_at FROM campaigns c WHERE c.id = p_campaign_id))
$$;

CREATE FUNCTION campaign_act(
    p_request_id        uuid,
    p_action            text,
    p_campaign_id       text,
    p_expected_version  integer,   -- NULL: whatever version the campaign has now
    p_to_revision       integer,   -- rollback only; NULL: the previous revision
    p_os_user           text,
    p_ssh_client        text,
    p_tty               text,
    p_note              text)
RETURNS TABLE (outcome text, campaign_id text, status text, version integer, revision integer,
               changed_by text, changed_at timestamptz, detail jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c          campaigns%ROWTYPE;
    a          audit_log%ROWTYPE;
    want       text;
    new_status text;
    new_rev    integer;
    target     integer;
    n          bigint;
    info       jsonb := '{}'::jsonb;
BEGIN
    IF p_action IS NULL OR NOT EXISTS (SELECT 1 FROM campaign_actions ca WHERE ca.action = p_action) THEN
        RAISE EXCEPTION 'unknown action "%"', p_action USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- The row as it is now, locked: the compare-and-set happens on it.
    SELECT * INTO c FROM campaigns x WHERE x.id = p_campaign_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, p_campaign_id, NULL::text, NULL::integer, NULL::integer,
                            NULL::text, NULL::timestamptz, '{}'::jsonb;
        RETURN;
    END IF;

    -- A request applied before (a retry after a lost connection, a double
    -- press): report what it did, do nothing. Looked up after the lock, so
    -- a retry that waited for the first attempt's lock sees its row.
    SELECT * INTO a FROM audit_log l WHERE l.request_id = p_request_id AND l.campaign_id = p_campaign_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'replayed'::text, a.campaign_id, a.to_status, a.to_version, a.revision,
                            audit_who(a), a.created_at,
                            coalesce(a.details, '{}'::jsonb);
        RETURN;
    END IF;

    SELECT ca.to_status INTO want FROM campaign_actions ca
     WHERE ca.action = p_action AND ca.from_status = c.status;
    IF p_expected_version IS NOT NULL AND c.version <> p_expected_version THEN
        -- Someone else was first. Where they took it is where we meant
        -- to go: that is success, not a conflict.
        IF (p_action = 'pause' AND c.status = 'paused')
           OR (p_action = 'resume' AND c.status = 'active')
           OR (p_action = 'cancel' AND c.status = 'cancelled')
           OR (p_action = 'launch' AND c.status IN ('active', 'scheduled')) THEN
            RETURN QUERY SELECT 'already'::text, c.id, c.status, c.version, c.current_revision, l.*, '{}'::jsonb
                           FROM campaign_last_change(c.id, c.version) l;
        ELSE
            RETURN QUERY SELECT 'conflict'::text, c.id, c.status, c.version, c.current_revision, l.*,
                                jsonb_build_object('expected_version', p_expected_version)
                           FROM campaign_last_change(c.id, c.version) l;
        END IF;
        RETURN;
    END IF;
    IF want IS NULL THEN
        IF (p_action = 'pause' AND c.status = 'paused')
           OR (p_action = 'resume' AND c.status = 'active')
           OR (p_action = 'cancel' AND c.status = 'cancelled')
           OR (p_action = 'launch' AND c.status = 'active') THEN
            RETURN QUERY SELECT 'already'::text, c.id, c.status, c.version, c.current_revision, l.*, '{}'::jsonb
                           FROM campaign_last_change(c.id, c.version) l;
        ELSE
            RETURN QUERY SELECT 'invalid'::text, c.id, c.status, c.version, c.current_revision, l.*, '{}'::jsonb
                           FROM campaign_last_change(c.id, c.version) l;
        END IF;
        RETURN;
    END IF;

    new_status := want;
    new_rev := c.current_revision;
    IF p_action = 'launch' THEN
        IF c.current_revision IS NULL THEN
            RETURN QUERY SELECT 'invalid'::text, c.id, c.status, c.version, c.current_revision, NULL::text,
                                NULL::timestamptz, jsonb_build_object('reason', 'it has no content yet');
            RETURN;
        END IF;
        IF c.status = 'draft' AND c.send_at > now() THEN
            new_status := 'scheduled';
        END IF;
        SELECT count(*) INTO n FROM segment_members m JOIN contacts k ON k.id = m.contact_id
         WHERE m.segment_id = c.segment_id AND k.status = 'active';
        info := jsonb_build_object('audience', n, 'send_at', c.send_at);
        UPDATE campaigns x SET status = new_status, version = x.version + 1, updated_at = now(),
               audience = n,
               launched_at = CASE WHEN new_status = 'active' THEN coalesce(x.launched_at, now()) ELSE x.launched_at END
         WHERE x.id = c.id;
    ELSIF p_action = 'rollback' THEN
        target := coalesce(p_to_revision, c.current_revision - 1);
        IF target IS NULL OR target < 1 OR target = c.current_revision
           OR NOT EXISTS (SELECT 1 FROM campaign_revisions r WHERE r.campaign_id = c.id AND r.revision = target) THEN
            RETURN QUERY SELECT 'invalid'::text, c.id, c.status, c.version, c.current_revision, NULL::text,
                                NULL::timestamptz,
                                jsonb_build_object('reason',
                                    CASE WHEN p_to_revision IS NULL AND coalesce(c.current_revision, 1) <= 1
                                         THEN 'there is no previous revision'
                                         WHEN target = c.current_revision
                                         THEN format('revision %s is the current one', target)
                                         ELSE format('there is no revision %s', target) END);
            RETURN;
        END IF;
        SELECT max(r.revision) + 1 INTO new_rev FROM campaign_revisions r WHERE r.campaign_id = c.id;
        INSERT INTO campaign_revisions (campaign_id, revision, from_address, subject, body, note, restored_from)
            SELECT r.campaign_id, new_rev, r.from_address, r.subject, r.body,
                   coalesce(p_note, format('rollback to revision %s', target)), target
              FROM campaign_revisions r WHERE r.campaign_id = c.id AND r.revision = target;
        INSERT INTO campaign_variants (campaign_id, revision, variant, split_percent, subject, body)
            SELECT v.campaign_id, new_rev, v.variant, v.split_percent, v.subject, v.body
              FROM campaign_variants v WHERE v.campaign_id = c.id AND v.revision = target;
        -- Sent mail cannot be recalled: count who got other content.
        SELECT count(*) INTO n FROM deliveries d
         WHERE d.campaign_id = c.id AND d.revision <> target AND d.status IN ('sent', 'bounced');
        info := jsonb_build_object('restored_from', target, 'superseded_revision', c.current_revision,
                                   'recipients_of_other_content', n);
        UPDATE campaigns x SET status = new_status, version = x.version + 1, updated_at = now(),
               current_revision = new_rev,
               paused_at = CASE WHEN c.status = 'active' THEN now() ELSE x.paused_at END
         WHERE x.id = c.id;
    ELSIF p_action = 'retry_failed' THEN
        UPDATE deliveries d SET status = 'queued', error = NULL
         WHERE d.campaign_id = c.id AND d.status = 'failed';
        GET DIAGNOSTICS n = ROW_COUNT;
        info := jsonb_build_object('requeued', n);
        UPDATE campaigns x SET version = x.version + 1, updated_at = now() WHERE x.id = c.id;
    ELSE
        UPDATE campaigns x SET status = new_status, version = x.version + 1, updated_at = now(),
               paused_at = CASE WHEN new_status = 'paused' THEN now() ELSE x.paused_at END,
               cancelled_at = CASE WHEN new_status = 'cancelled' THEN now() ELSE x.cancelled_at END
         WHERE x.id = c.id;
    END IF;

    INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status, from_version,
                           to_version, revision, os_user, ssh_client, tty, note, details)
    VALUES (p_request_id, p_action, c.id, c.status, new_status, c.version, c.version + 1, new_rev,
            p_os_user, p_ssh_client, p_tty, p_note, info)
    RETURNING * INTO a;

    RETURN QUERY SELECT 'applied'::text, c.id, new_status, c.version + 1, new_rev,
                        audit_who(a), a.created_at, info;
END $$;

-- Stop all sending: every active campaign paused in one transaction, one
-- audit row each under the same request id. Stop-alls take turns (an
-- advisory lock), so a retry of the same request sees the first one's rows;
-- campaigns are locked in id order, so a stop-all and single pauses never
-- deadlock; and it goes round again until nothing is active, so a campaign
-- resumed while it waited for a lock is paused too.
CREATE FUNCTION campaign_stop_all(p_request_id uuid, p_os_user text, p_ssh_client text, p_tty text,
                                  p_note text)
RETURNS TABLE (outcome text, campaign_id text, status text, version integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c     campaigns%ROWTYPE;
    n     integer := 0;
    round integer := 0;
    more  boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('marketing.campaign_stop_all'));
    IF EXISTS (SELECT 1 FROM audit_log l WHERE l.request_id = p_request_id) THEN
        RETURN QUERY SELECT 'replayed'::text, l.campaign_id, l.to_status, l.to_version
                       FROM audit_log l WHERE l.request_id = p_request_id ORDER BY l.campaign_id;
        RETURN;
    END IF;
    LOOP
        more := false;
        round := round + 1;
        FOR c IN SELECT * FROM campaigns x WHERE x.status = 'active' ORDER BY x.id FOR UPDATE LOOP
            -- locked after waiting: it may have changed meanwhile
            CONTINUE WHEN c.status <> 'active';
            more := true;
            n := n + 1;
            UPDATE campaigns x SET status = 'paused', version = x.version + 1, updated_at = now(),
                   paused_at = now()
             WHERE x.id = c.id;
            INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status, from_version,
                                   to_version, revision, os_user, ssh_client, tty, note)
            VALUES (p_request_id, 'stop_all', c.id, 'active', 'paused', c.version, c.version + 1,
                    c.current_revision, p_os_user, p_ssh_client, p_tty, p_note);
            RETURN QUERY SELECT 'applied'::text, c.id, 'paused'::text, c.version + 1;
        END LOOP;
        EXIT WHEN NOT more OR round >= 10;
    END LOOP;
    IF n = 0 THEN
        -- nothing was active: still a decision worth a trail
        INSERT INTO audit_log (request_id, action, campaign_id, os_user, ssh_client, tty, note)
        VALUES (p_request_id, 'stop_all', NULL, p_os_user, p_ssh_client, p_tty,
                coalesce(p_note, 'nothing was active'));
    END IF;
END $$;

-- Deliveries of a campaign whose content is not the current revision's
-- (sent before a rollback): who got what, for the operator to follow up.
CREATE FUNCTION campaign_superseded_recipients(p_campaign_id text)
RETURNS TABLE (contact_id bigint, email text, revision integer, status text, sent_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT d.contact_id, k.email, d.revision, d.status, d.sent_at
      FROM campaigns c
      JOIN campaign_revisions cur ON cur.campaign_id = c.id AND cur.revision = c.current_revision
      JOIN deliveries d ON d.campaign_id = c.id
      JOIN contacts k ON k.id = d.contact_id
     WHERE c.id = p_campaign_id
       AND d.revision <> c.current_revision
       AND d.revision <> coalesce(cur.restored_from, 0)
       AND d.status IN ('sent', 'bounced')
     ORDER BY d.sent_at, d.contact_id
$$;

-- Retried deliveries wait as 'queued' until the backend sends them again.
CREATE INDEX deliveries_queued_idx ON deliveries (campaign_id, contact_id) WHERE status = 'queued';
