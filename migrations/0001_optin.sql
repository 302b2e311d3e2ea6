-- +goose Up

-- A lead is one address that signed up. Pending leads are purged after the
-- retention period; everything else stays until erased.
CREATE TABLE leads (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced')),
    stage           TEXT NOT NULL DEFAULT 'lead',
    source          TEXT NOT NULL DEFAULT '',
    attributes      JSONB NOT NULL DEFAULT '{}',
    score           INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    confirmed_at    TIMESTAMPTZ,
    unsubscribed_at TIMESTAMPTZ,
    -- when the last confirmation mail was queued; enforces one mail per address per window
    confirm_mailed_at TIMESTAMPTZ
);
CREATE INDEX leads_pending_created_idx ON leads (created_at) WHERE status = 'pending';

-- The outbox: every mail Nurture sends is a row here first, written in the
-- transaction that caused it. raw holds the exact bytes handed to SMTP.
CREATE TABLE messages (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    lead_id      BIGINT REFERENCES leads (id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL UNIQUE,
    sender       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    raw          BYTEA NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- how many times the message was handed to SMTP again after a crash mid-send
    repeats      INTEGER NOT NULL DEFAULT 0,
    run_at       TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    smtp_reply   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ
);
CREATE INDEX messages_queued_idx ON messages (run_at) WHERE status = 'queued';
CREATE INDEX messages_sending_idx ON messages (locked_until) WHERE status = 'sending';
CREATE INDEX messages_lead_idx ON messages (lead_id);

-- The consent ledger is append-only: UPDATE is refused by a trigger. Rows go
-- away only with their lead (purge of unconfirmed leads, erasure); an erasure
-- leaves an entry of its own that holds only the address hash.
CREATE TABLE consent_events (
    id              BIGSERIAL PRIMARY KEY,
    lead_id         BIGINT REFERENCES leads (id) ON DELETE CASCADE,
    email_hash      BYTEA NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('signup', 'confirmation', 'unsubscribe', 'erasure', 'resend')),
    at              TIMESTAMPTZ NOT NULL,
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    consent_text    TEXT NOT NULL DEFAULT '',
    consent_version TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL DEFAULT '',
    source_url      TEXT NOT NULL DEFAULT '',
    message_id      BIGINT REFERENCES messages (id) ON DELETE SET NULL
);
CREATE INDEX consent_events_lead_idx ON consent_events (lead_id, at);

-- +goose StatementBegin
CREATE FUNCTION consent_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent_events is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

-- Confirmation tokens are stored as SHA-256 hashes only.
CREATE TABLE confirm_tokens (
    hash       BYTEA PRIMARY KEY,
    lead_id    BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    -- the signup whose consent text and version a confirmation confirms
    signup_event_id BIGINT NOT NULL REFERENCES consent_events (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX confirm_tokens_lead_idx ON confirm_tokens (lead_id);

-- Unsubscribed and bounced addresses, stored as SHA-256 of the normalised address.
CREATE TABLE suppressions (
    email_hash BYTEA PRIMARY KEY,
    reason     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- What the purge leaves behind: anonymous counts only.
CREATE TABLE purge_counts (
    day     DATE NOT NULL,
    source  TEXT NOT NULL,
    purged  BIGINT NOT NULL,
    PRIMARY KEY (day, source)
);

-- +goose Down
DROP TABLE purge_counts;
DROP TABLE suppressions;
DROP TABLE confirm_tokens;
DROP TABLE consent_events;
DROP FUNCTION consent_events_append_only;
DROP TABLE messages;
DROP TABLE leads;
