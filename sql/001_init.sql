-- 001_init: the marketing system's core tables, as the console works on them.
--
-- Conventions
--   * ids of campaigns and segments are the seed's words: cmp_123, seg_123.
--   * every status column has a CHECK constraint naming its allowed values.
--   * every change to a campaign row NOTIFYs 'marketing_campaign' (trigger
--     below), so every console and the backend hear about it at once.
--   * per-campaign delivery counters live in campaign_stats, maintained by
--     statement-level triggers, so listing 100k campaigns never scans the
--     deliveries ledger.

CREATE SEQUENCE segment_id_seq;
CREATE SEQUENCE campaign_id_seq;

CREATE TABLE contacts (
    id               bigserial   PRIMARY KEY,
    email            text        NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    attributes       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status           text        NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'unsubscribed', 'bounced', 'blocklisted')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    unsubscribed_at  timestamptz,
    last_opened_at   timestamptz,
    last_clicked_at  timestamptz
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (lower(email));
CREATE INDEX contacts_status_idx ON contacts (status) WHERE status <> 'active';

CREATE TABLE segments (
    id            text        PRIMARY KEY DEFAULT 'seg_' || nextval('segment_id_seq')
                  CHECK (id ~ '^seg_[0-9A-Za-z_]+$'),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    rule          text        NOT NULL,
    size          bigint      NOT NULL DEFAULT 0 CHECK (size >= 0),
    reachable     bigint      NOT NULL DEFAULT 0 CHECK (reachable >= 0 AND reachable <= size),
    refreshed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN segments.size IS 'members at refreshed_at';
COMMENT ON COLUMN segments.reachable IS 'members whose contact was active at refreshed_at';

CREATE TABLE segment_members (
    segment_id  text        NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    contact_id  bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (segment_id, contact_id)
);
CREATE INDEX segment_members_contact_idx ON segment_members (contact_id);

CREATE TABLE campaigns (
    id                     text        PRIMARY KEY DEFAULT 'cmp_' || nextval('campaign_id_seq')
                           CHECK (id ~ '^cmp_[0-9A-Za-z_]+$'),
    name                   text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type                   text        NOT NULL DEFAULT 'email' CHECK (type IN ('email', 'sms', 'push')),
    segment_id             text        NOT NULL REFERENCES segments (id),
    status                 text        NOT NULL DEFAULT 'draft'
                           CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')),
    version                integer     NOT NULL DEFAULT 1 CHECK (version > 0),
    current_revision       integer     CHECK (current_revision > 0),
    rate_limit_per_minute  integer     NOT NULL DEFAULT 600 CHECK (rate_limit_per_minute BETWEEN 1 AND 10000000),
    send_at                timestamptz,
    audience               bigint      CHECK (audience >= 0),
    cost                   numeric(14, 2) NOT NULL DEFAULT 0 CHECK (cost >= 0),
    created_by             text        NOT NULL DEFAULT session_user,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    launched_at            timestamptz,
    paused_at              timestamptz,
    completed_at           timestamptz,
    cancelled_at           timestamptz,
    CHECK (status <> 'completed' OR completed_at IS NOT NULL),
    CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL),
    CHECK (status NOT IN ('active', 'paused', 'completed') OR launched_at IS NOT NULL),
    CHECK (status <> 'scheduled' OR send_at IS NOT NULL)
);
COMMENT ON COLUMN campaigns.audience IS 'reachable members when launched (after suppression)';
COMMENT ON COLUMN campaigns.version IS 'compare-and-set token: every change increments it';
CREATE INDEX campaigns_status_idx ON campaigns (status);
CREATE INDEX campaigns_segment_idx ON campaigns (segment_id);
CREATE INDEX campaigns_updated_idx ON campaigns (updated_at DESC);

CREATE TABLE campaign_revisions (
    campaign_id    text        NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    revision       integer     NOT NULL CHECK (revision > 0),
    from_address   text        NOT NULL,
    subject        text        NOT NULL,
    body           text        NOT NULL,
    author         text        NOT NULL DEFAULT session_user,
    note           text,
    restored_from  integer     CHECK (restored_from > 0 AND restored_from < revision),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, revision)
);

ALTER TABLE campaigns
    ADD CONSTRAINT campaigns_current_revision_fkey
    FOREIGN KEY (id, current_revision) REFERENCES campaign_revisions (campaign_id, revision)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE campaign_variants (
    campaign_id    text    NOT NULL,
    revision       integer NOT NULL,
    variant        text    NOT NULL CHECK (variant ~ '^[A-Z]$'),
    split_percent  integer NOT NULL CHECK (split_percent BETWEEN 0 AND 100),
    subject        text,
    body           text,
    PRIMARY KEY (campaign_id, revision, variant),
    FOREIGN KEY (campaign_id, revision) REFERENCES campaign_revisions (campaign_id, revision) ON DELETE CASCADE
);

CREATE TABLE deliveries (
    id           bigserial   PRIMARY KEY,
    campaign_id  text        NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id   bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    revision     integer     NOT NULL,
    variant      text        CHECK (variant ~ '^[A-Z]$'),
    status       text        NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'sent', 'failed', 'bounced')),
    queued_at    timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    opened_at    timestamptz,
    clicked_at   timestamptz,
    error        text,
    UNIQUE (campaign_id, contact_id),
    FOREIGN KEY (campaign_id, revision) REFERENCES campaign_revisions (campaign_id, revision),
    CHECK (status <> 'sent' OR sent_at IS NOT NULL),
    CHECK (opened_at IS NULL OR sent_at IS NOT NULL),
    CHECK (clicked_at IS NULL OR sent_at IS NOT NULL)
);
CREATE INDEX deliveries_revision_idx ON deliveries (campaign_id, revision);
CREATE INDEX deliveries_contact_idx ON deliveries (contact_id);
CREATE INDEX deliveries_failed_idx ON deliveries (campaign_id) WHERE status IN ('failed', 'bounced');

-- Counters per campaign, kept by the triggers below.
CREATE TABLE campaign_stats (
    campaign_id   text        PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    queued        bigint      NOT NULL DEFAULT 0,
    sent          bigint      NOT NULL DEFAULT 0,
    failed        bigint      NOT NULL DEFAULT 0,
    bounced       bigint      NOT NULL DEFAULT 0,
    opened        bigint      NOT NULL DEFAULT 0,
    clicked       bigint      NOT NULL DEFAULT 0,
    last_sent_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION campaign_stats_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_stats AS s (campaign_id, queued, sent, failed, bounced, opened, clicked, last_sent_at)
        SELECT campaign_id,
               count(*) FILTER (WHERE status = 'queued'),
               count(*) FILTER (WHERE status = 'sent'),
               count(*) FILTER (WHERE status = 'failed'),
               count(*) FILTER (WHERE status = 'bounced'),
               count(opened_at), count(clicked_at), max(sent_at)
          FROM new_rows GROUP BY campaign_id
        ON CONFLICT (campaign_id) DO UPDATE
           SET queued = s.queued + excluded.queued,
               sent = s.sent + excluded.sent,
               failed = s.failed + excluded.failed,
               bounced = s.bounced + excluded.bounced,
               opened = s.opened + excluded.opened,
               clicked = s.clicked + excluded.clicked,
               last_sent_at = greatest(s.last_sent_at, excluded.last_sent_at),
               updated_at = now();
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE campaign_stats AS s
           SET queued = s.queued + d.queued, sent = s.sent + d.sent,
               failed = s.failed + d.failed, bounced = s.bounced + d.bounced,
               opened = s.opened + d.opened, clicked = s.clicked + d.clicked,
               last_sent_at = greatest(s.last_sent_at, d.last_sent_at),
               updated_at = now()
          FROM (SELECT campaign_id,
                       sum(q) AS queued, sum(st) AS sent, sum(f) AS failed,
                       sum(b) AS bounced, sum(o) AS opened, sum(c) AS clicked,
                       max(last_sent_at) AS last_sent_at
                  FROM (SELECT campaign_id, (status = 'queued')::int AS q, (status = 'sent')::int AS st,
                               (status = 'failed')::int AS f, (status = 'bounced')::int AS b,
                               (opened_at IS NOT NULL)::int AS o, (clicked_at IS NOT NULL)::int AS c,
                               sent_at AS last_sent_at
                          FROM new_rows
                        UNION ALL
                        SELECT campaign_id, -(status = 'queued')::int, -(status = 'sent')::int,
                               -(status = 'failed')::int, -(status = 'bounced')::int,
                               -(opened_at IS NOT NULL)::int, -(clicked_at IS NOT NULL)::int,
                               NULL
                          FROM old_rows) AS x
                 GROUP BY campaign_id) AS d
         WHERE s.campaign_id = d.campaign_id;
    ELSE
        UPDATE campaign_stats AS s
           SET queued = s.queued - d.queued, sent = s.sent - d.sent,
               failed = s.failed - d.failed, bounced = s.bounced - d.bounced,
               opened = s.opened - d.opened, clicked = s.clicked - d.clicked,
               updated_at = now()
          FROM (SELECT campaign_id,
                       count(*) FILTER (WHERE status = 'queued') AS queued,
                       count(*) FILTER (WHERE status = 'sent') AS sent,
                       count(*) FILTER (WHERE status = 'failed') AS failed,
                       count(*) FILTER (WHERE status = 'bounced') AS bounced,
                       count(opened_at) AS opened, count(clicked_at) AS clicked
                  FROM old_rows GROUP BY campaign_id) AS d
         WHERE s.campaign_id = d.campaign_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_stats_ins AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_stats_apply();
CREATE TRIGGER deliveries_stats_upd AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_stats_apply();
CREATE TRIGGER deliveries_stats_del AFTER DELETE ON deliveries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_stats_apply();

CREATE FUNCTION campaign_stats_init() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_stats (campaign_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_stats_init AFTER INSERT ON campaigns
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_stats_init();

-- Every campaign change is heard by every LISTENing console and the backend,
-- whoever made it (a console, the backend, or SQL typed by hand).
CREATE FUNCTION campaign_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    PERFORM pg_notify('marketing_campaign',
                      json_build_object('id', r.id, 'status', r.status, 'version', r.version,
                                        'op', lower(TG_OP))::text);
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_notify AFTER INSERT OR UPDATE OR DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaign_notify();

CREATE TABLE audit_log (
    id                bigserial   PRIMARY KEY,
    request_id        uuid        NOT NULL,
    action            text        NOT NULL CHECK (action ~ '^[a-z_]{1,32}$'),
    campaign_id       text        REFERENCES campaigns (id) ON DELETE SET NULL,
    from_status       text        CHECK (from_status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')),
    to_status         text        CHECK (to_status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')),
    from_version      integer,
    to_version        integer,
    revision          integer,
    db_user           text        NOT NULL DEFAULT session_user,
    application_name  text        NOT NULL DEFAULT current_setting('application_name'),
    client_addr       inet        DEFAULT inet_client_addr(),
    os_user           text,
    ssh_client        text,
    tty               text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    note              text,
    CHECK (to_version IS NULL OR from_version IS NULL OR to_version > from_version)
);
-- A request id names one operator action; an action over many campaigns
-- (stop-all) writes one row per campaign under the same request id.
CREATE UNIQUE INDEX audit_log_request_key ON audit_log (request_id, coalesce(campaign_id, ''));
CREATE INDEX audit_log_campaign_idx ON audit_log (campaign_id, created_at DESC);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC);

CREATE TABLE alert_acks (
    id           bigserial   PRIMARY KEY,
    request_id   uuid        NOT NULL UNIQUE,
    alert_name   text        NOT NULL,
    fingerprint  text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('ack', 'snooze', 'unack')),
    until        timestamptz,
    db_user      text        NOT NULL DEFAULT session_user,
    os_user      text,
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'snooze' OR until IS NOT NULL)
);
CREATE INDEX alert_acks_alert_idx ON alert_acks (alert_name, fingerprint, created_at DESC);

CREATE TABLE conversions (
    id            bigserial   PRIMARY KEY,
    contact_id    bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id   text        REFERENCES campaigns (id) ON DELETE SET NULL,
    channel       text        NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'organic', 'paid')),
    revenue       numeric(14, 2) NOT NULL CHECK (revenue >= 0),
    converted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversions_campaign_idx ON conversions (campaign_id);
CREATE INDEX conversions_converted_idx ON conversions (converted_at);
