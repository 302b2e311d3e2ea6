-- +goose Up

-- A first signup writes its lead, mail, ledger entry and token in one
-- statement, and of the six foreign keys it checked, each check a query of
-- its own that locks the row it finds (FOR KEY SHARE), three guarded
-- nothing the writes do not guarantee already:
--
-- * consent_events.lead_id: every statement that appends to the ledger
--   either inserts the lead in the same statement (insert_first_signups) or
--   runs in a transaction that holds the lead's row lock (FOR NO KEY UPDATE:
--   the signup batch, resend, confirm, unsubscribe, tracking), which a
--   DELETE of the lead waits for; a deleted lead is found by none of them.
-- * confirm_tokens.lead_id and confirm_tokens.signup_event_id: a token is
--   written only in the statement that writes its ledger entry, whose id
--   and lead it takes from that entry (insert_first_signups, record_signups).
--
-- What the keys still did is erase: this trigger erases a lead's tokens and
-- ledger entries with it, as ON DELETE CASCADE did (ledger entries go only
-- with their lead, so a token's entry goes with its lead too). The entries'
-- message_id keeps its key: it is set NULL if a mail is ever deleted alone.
-- Triggers of one event fire in the order of their names: this one,
-- leads_erase_consent, comes before leads_erase_messages (0018), so the
-- entries are gone before their mails are and the append-only ledger is
-- never asked to set a message_id NULL. A test erases a lead with mail and
-- ledger entries (TestDeleteLead_ErasesItsLedgerAndTokensOnly).
ALTER TABLE confirm_tokens DROP CONSTRAINT confirm_tokens_lead_id_fkey;
ALTER TABLE confirm_tokens DROP CONSTRAINT confirm_tokens_signup_event_id_fkey;
ALTER TABLE consent_events DROP CONSTRAINT consent_events_lead_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION erase_lead_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM confirm_tokens WHERE lead_id IN (SELECT id FROM gone);
    DELETE FROM consent_events WHERE lead_id IN (SELECT id FROM gone);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER leads_erase_consent AFTER DELETE ON leads
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION erase_lead_consent();

-- +goose Down
DROP TRIGGER leads_erase_consent ON leads;
DROP FUNCTION erase_lead_consent();
DELETE FROM confirm_tokens t WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = t.lead_id)
    OR NOT EXISTS (SELECT 1 FROM consent_events e WHERE e.id = t.signup_event_id);
DELETE FROM consent_events e WHERE e.lead_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = e.lead_id);
ALTER TABLE consent_events ADD CONSTRAINT consent_events_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE;
ALTER TABLE confirm_tokens ADD CONSTRAINT confirm_tokens_signup_event_id_fkey FOREIGN KEY (signup_event_id) REFERENCES consent_events (id) ON DELETE CASCADE;
ALTER TABLE confirm_tokens ADD CONSTRAINT confirm_tokens_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE;
