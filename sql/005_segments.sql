-- 005_segments: segments as the console creates and refreshes them.
--
--   * A segment's rule is stored as the operator wrote it; the console
--     compiles it (src/segrule.c) to a parameterized condition over
--     contacts. Refreshing materializes segment_members, size, reachable
--     and refreshed_at in one transaction under
--     pg_try_advisory_xact_lock(hashtext('marketing.segment_refresh'),
--     hashtext(id)): a second operator is told who holds it, without
--     waiting (pg_locks, classid/objid, objsubid 2).
--   * Creating and refreshing a segment writes an audit row (action
--     segment_create / segment_refresh) naming the segment in segment_id.
--   * Every change to a segment row NOTIFYs 'marketing_segment', whoever
--     makes it, as campaigns do on 'marketing_campaign'.

ALTER TABLE audit_log ADD COLUMN segment_id text REFERENCES segments (id) ON DELETE SET NULL;
COMMENT ON COLUMN audit_log.segment_id IS 'the segment a segment_create or segment_refresh row is about';
CREATE INDEX audit_log_segment_idx ON audit_log (segment_id, created_at DESC) WHERE segment_id IS NOT NULL;

CREATE FUNCTION segment_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    PERFORM pg_notify('marketing_segment',
                      json_build_object('id', r.id, 'size', r.size, 'reachable', r.reachable,
                                        'op', lower(TG_OP))::text);
    RETURN NULL;
END $$;
CREATE TRIGGER segments_notify AFTER INSERT OR UPDATE OR DELETE ON segments
    FOR EACH ROW EXECUTE FUNCTION segment_notify();
