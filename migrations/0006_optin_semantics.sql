-- +goose Up

-- What a signup said about the person (first and last name, source,
-- attributes) belongs to that signup: its link carries it, and confirming
-- the link applies exactly that to the lead. A repeated signup no longer
-- overwrites the lead. Links issued before this migration carry what their
-- lead holds now, which is what confirming them applied until now.
ALTER TABLE confirm_tokens ADD COLUMN lead_data JSONB;
UPDATE confirm_tokens t
SET lead_data = jsonb_build_object(
    'first_name', l.first_name, 'last_name', l.last_name, 'source', l.source, 'attributes', l.attributes)
FROM leads l WHERE l.id = t.lead_id;
ALTER TABLE confirm_tokens ALTER COLUMN lead_data SET NOT NULL;

-- When the lead last unsubscribed or bounced. Unlike unsubscribed_at it
-- stays when the lead confirms again: only a link issued after it may
-- confirm. A bounce's time was not kept; updated_at is never earlier, so a
-- link issued before the bounce is refused, and at worst one issued just
-- after it is too (the person signs up again).
ALTER TABLE leads ADD COLUMN opted_out_at TIMESTAMPTZ;
UPDATE leads SET opted_out_at = unsubscribed_at WHERE status = 'unsubscribed';
UPDATE leads SET opted_out_at = updated_at WHERE status = 'bounced';

-- The purge deletes leads that never confirmed once their first signup and
-- their last confirmation mail are both older than the retention. It walks
-- this index from the oldest, so its cost follows what it deletes, not how
-- many leads wait for confirmation. GREATEST skips a NULL confirm_mailed_at.
DROP INDEX leads_pending_created_idx;
CREATE INDEX leads_unconfirmed_idx ON leads (GREATEST(created_at, confirm_mailed_at))
    WHERE confirmed_at IS NULL;

-- +goose Down
DROP INDEX leads_unconfirmed_idx;
CREATE INDEX leads_pending_created_idx ON leads (created_at) WHERE status = 'pending';
ALTER TABLE leads DROP COLUMN opted_out_at;
ALTER TABLE confirm_tokens DROP COLUMN lead_data;
