-- +goose Up

-- Every step mail checked two foreign keys as it was written,
-- messages.lead_id and messages.enrolment_id: each check a query of its
-- own, and the one on leads locked the lead's row (FOR KEY SHARE), a write
-- to the lead's page and its WAL for every mail. What they guarded is held
-- already by the transactions that write messages with a lead:
--   - the dispatcher writes a step mail for an enrolment it holds FOR
--     UPDATE (claim_enrolments), with that enrolment's lead; deleting the
--     lead deletes its enrolments, so it waits until the dispatcher's
--     transaction has ended, and deleting the enrolment waits as well;
--   - a first signup's mail is written in the statement that writes its
--     lead (insert_first_signups); any other confirmation mail in a
--     transaction that has locked its lead (leads_for_update_batch,
--     lead_for_update).
-- So what the keys still did is clean up: these triggers erase a lead's
-- messages with it, as ON DELETE CASCADE did, and forget a deleted
-- enrolment in its messages, as ON DELETE SET NULL did. They run once per
-- statement, after the deletes the statement's own keys cascade to (a
-- lead's enrolments among them), each query with a snapshot of its own:
-- a mail committed by the dispatcher that the delete waited for is seen,
-- and erased. The lead's ledger entries are gone by then (their key
-- cascades), so none is left to point at its erased mail: the append-only
-- ledger is never updated by an erasure.
--
-- No query reads a message by its enrolment: messages_enrolment_idx served
-- only the key's ON DELETE SET NULL, and cost every step mail an entry as
-- it was written, claimed and recorded. A step mail's lead is its
-- enrolment's (the dispatcher writes both from the enrolment it holds), so
-- the trigger finds the mail of a deleted enrolment by its lead.
ALTER TABLE messages DROP CONSTRAINT messages_lead_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_enrolment_id_fkey;
DROP INDEX messages_enrolment_idx;

-- +goose StatementBegin
CREATE FUNCTION erase_lead_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM messages WHERE lead_id IN (SELECT id FROM gone);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION forget_enrolment_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messages m SET enrolment_id = NULL FROM gone g WHERE m.lead_id = g.lead_id AND m.enrolment_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER leads_erase_messages AFTER DELETE ON leads
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION erase_lead_messages();

CREATE TRIGGER enrolments_forget_messages AFTER DELETE ON enrolments
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION forget_enrolment_messages();

-- The relay writes a round every few mails (start_smtp.sql), and planning
-- the round's UPDATE cost as much as a third of running it. As a prepared
-- statement it would be planned once, but for the table as it was then: a
-- hash join over a sequential scan while messages is small, kept as it
-- grows. Inside this function it is planned once per connection, for the
-- primary key whatever the table's size: the generic plan is forced, and
-- with sequential scans, hash and merge joins off the only plan left is a
-- lookup of each message of the round by its id. Its arguments are
-- start_smtp.sql's; see there for what it writes.
-- +goose StatementBegin
CREATE FUNCTION record_round(bigint[], int[], timestamptz, int[], text[])
RETURNS TABLE (message bigint, done int) LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
BEGIN
    RETURN QUERY
    WITH w AS (
        UPDATE messages m
        SET status = CASE r.act WHEN 1 THEN 'sent' WHEN 2 THEN 'queued' ELSE m.status END,
            sent_at = CASE WHEN r.act = 1 THEN $3 ELSE m.sent_at END,
            smtp_reply = CASE WHEN r.act = 1 THEN r.reply ELSE m.smtp_reply END,
            run_at = CASE WHEN r.act = 2 THEN $3 ELSE m.run_at END,
            locked_until = CASE WHEN r.act = 0 THEN m.locked_until ELSE NULL END,
            claimed_by = CASE WHEN r.act = 2 THEN NULL ELSE m.claimed_by END,
            smtp_started_at = CASE r.act WHEN 0 THEN $3 WHEN 2 THEN NULL ELSE m.smtp_started_at END
        FROM unnest($1, $2, $4, $5) AS r (id, attempts, act, reply)
        WHERE m.id = r.id AND (r.act = 1 OR (m.attempts = r.attempts AND m.status = 'sending'))
        RETURNING m.id, r.act
    )
    SELECT w.id, w.act FROM w;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION record_round(bigint[], int[], timestamptz, int[], text[]);
DROP TRIGGER enrolments_forget_messages ON enrolments;
DROP TRIGGER leads_erase_messages ON leads;
DROP FUNCTION forget_enrolment_messages();
DROP FUNCTION erase_lead_messages();
DELETE FROM messages m WHERE m.lead_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = m.lead_id);
UPDATE messages m SET enrolment_id = NULL
WHERE m.enrolment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.id = m.enrolment_id);
CREATE INDEX messages_enrolment_idx ON messages (enrolment_id) WHERE enrolment_id IS NOT NULL;
ALTER TABLE messages ADD CONSTRAINT messages_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE;
ALTER TABLE messages ADD CONSTRAINT messages_enrolment_id_fkey FOREIGN KEY (enrolment_id) REFERENCES enrolments (id) ON DELETE SET NULL;
