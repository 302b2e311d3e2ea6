-- +goose Up

-- An open or click is the hottest write there is, and each one checked two
-- foreign keys, events.lead_id and lead_facts.lead_id, each check a query
-- of its own that locks the lead's row (FOR KEY SHARE): together as much
-- of Postgres's time as the event's row and indexes. The statements that
-- write events find their lead in the same statement (insert_hits,
-- insert_events), and lead_facts are written only beside an event written,
-- so what the keys still did is erase: this trigger erases a lead's events
-- and facts with it, as ON DELETE CASCADE did. An event whose lead is
-- deleted while the event is being written can outlive it; scoring deletes
-- such events, and the facts of their lead, when it takes them.
ALTER TABLE events DROP CONSTRAINT events_lead_id_fkey;
ALTER TABLE lead_facts DROP CONSTRAINT lead_facts_lead_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION erase_lead_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE lead_id IN (SELECT id FROM gone);
    DELETE FROM lead_facts WHERE lead_id IN (SELECT id FROM gone);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER leads_erase_events AFTER DELETE ON leads
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION erase_lead_events();

-- +goose Down
DROP TRIGGER leads_erase_events ON leads;
DROP FUNCTION erase_lead_events();
DELETE FROM events e WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = e.lead_id);
DELETE FROM lead_facts f WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = f.lead_id);
ALTER TABLE events ADD CONSTRAINT events_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE;
ALTER TABLE lead_facts ADD CONSTRAINT lead_facts_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE;
