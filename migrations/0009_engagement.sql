-- +goose Up

-- What the leads' engagement, scores, stages and handoffs to sales are made
-- of. Later migrations of the same issue extend these tables; this one lays
-- out their shape so that tracking, scoring and the handoff agree on it.

-- A lead is tracked (open pixel, rewritten links) only when the signup it
-- confirmed agreed to it, or when NURTURE_TRACKING=all. fit, engagement and
-- score are the current figures of scoring.yaml as of score_at (score is
-- fit + engagement); temperature is engagement's band. recycled_at is when
-- sales last sent the lead back: it becomes an MQL again only on engagement
-- earned after it.
ALTER TABLE leads
    ADD COLUMN tracking    BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN fit         INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN engagement  INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN temperature TEXT NOT NULL DEFAULT 'cold' CHECK (temperature IN ('cold', 'warm', 'hot')),
    ADD COLUMN score_at    TIMESTAMPTZ,
    ADD COLUMN stage_at    TIMESTAMPTZ,
    ADD COLUMN recycled_at TIMESTAMPTZ;

-- The consent ledger records the tracking choice: what a signup said
-- (tracking on its signup row; NULL where it was not asked), and every
-- later grant or withdrawal as an entry of its own.
ALTER TABLE consent_events ADD COLUMN tracking BOOLEAN;
ALTER TABLE consent_events DROP CONSTRAINT consent_events_kind_check;
ALTER TABLE consent_events ADD CONSTRAINT consent_events_kind_check CHECK (kind IN
    ('signup', 'confirmation', 'unsubscribe', 'erasure', 'resend', 'tracking_granted', 'tracking_withdrawn'));

-- The links of a step's mail, stored once per distinct set: a click token
-- names its message and the link's index, and the redirect reads the target
-- from here, never from the request. A set is never changed or deleted, so
-- a step edited since still leads where its mail led. messages refers to it
-- without a foreign key, sparing the outbox's insert a check.
CREATE TABLE link_sets (
    id     BIGSERIAL PRIMARY KEY,
    digest BYTEA NOT NULL UNIQUE,  -- SHA-256 of links
    links  JSONB NOT NULL          -- [{"url": …, "text": …}], by tracking.Link.Index
);
ALTER TABLE messages ADD COLUMN link_set_id BIGINT;

-- Every event keeps its verdict and a reason a person can read. Only human
-- and image_proxy events count. No raw IP is stored: ip_prefix is the /24
-- or /48. message_id and link name the mail and link an open or click came
-- from; source system is what Nurture itself records, such as a
-- confirmation. scored_at is NULL until scoring has taken the event.
ALTER TABLE events
    ADD COLUMN source          TEXT NOT NULL DEFAULT 'api' CHECK (source IN ('pixel', 'click', 'api', 'site', 'system')),
    ADD COLUMN message_id      BIGINT,
    ADD COLUMN link            INTEGER,
    ADD COLUMN verdict         TEXT NOT NULL DEFAULT 'human'
        CHECK (verdict IN ('human', 'apple_mpp', 'image_proxy', 'scanner', 'prefetch')),
    ADD COLUMN reason          TEXT NOT NULL DEFAULT '',
    ADD COLUMN ip_prefix       TEXT NOT NULL DEFAULT '',
    ADD COLUMN user_agent      TEXT NOT NULL DEFAULT '',
    ADD COLUMN idempotency_key TEXT,
    ADD COLUMN scored_at       TIMESTAMPTZ;
CREATE UNIQUE INDEX events_idempotency_idx ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_unscored_idx ON events (id) WHERE scored_at IS NULL;
CREATE INDEX events_message_idx ON events (message_id, at) WHERE message_id IS NOT NULL;

-- What conditions ask of a lead, kept small: one row per lead and counted
-- signal (kind open or click with the step key, url with the address,
-- event with the type). The dispatcher reads these, never the events, so
-- its cost per batch does not grow with the events table.
CREATE TABLE lead_facts (
    lead_id  BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('open', 'click', 'url', 'event')),
    key      TEXT NOT NULL,
    first_at TIMESTAMPTZ NOT NULL,
    last_at  TIMESTAMPTZ NOT NULL,
    count    INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (lead_id, kind, key)
);

-- The score ledger: every change of a lead's score and its reason.
CREATE TABLE score_entries (
    id         BIGSERIAL PRIMARY KEY,
    lead_id    BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    at         TIMESTAMPTZ NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('fit', 'engagement')),
    rule       TEXT NOT NULL,             -- scoring.Reason.Rule
    line       INTEGER NOT NULL DEFAULT 0,
    signal     TEXT NOT NULL DEFAULT '',
    ref        TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    event_id   BIGINT,
    points     INTEGER NOT NULL
);
CREATE INDEX score_entries_lead_idx ON score_entries (lead_id, at, id);

-- Every stage change, who made it and why.
CREATE TABLE stage_changes (
    id         BIGSERIAL PRIMARY KEY,
    lead_id    BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    at         TIMESTAMPTZ NOT NULL,
    from_stage TEXT NOT NULL,
    to_stage   TEXT NOT NULL,
    actor      TEXT NOT NULL,   -- "scoring", "api" or the address of the person in sales
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stage_changes_lead_idx ON stage_changes (lead_id, at);

-- A handoff is one time a lead entered MQL, given to one owner. At most
-- one per lead is undecided (open) or accepted and not yet qualified.
CREATE TABLE handoffs (
    id          BIGSERIAL PRIMARY KEY,
    lead_id     BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    route       INTEGER NOT NULL,      -- index of the handoff.routes entry
    owner       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected', 'qualified')),
    reason      TEXT NOT NULL DEFAULT '',
    score       INTEGER NOT NULL,
    fit         INTEGER NOT NULL,
    engagement  INTEGER NOT NULL,
    decided_at  TIMESTAMPTZ,
    decided_by  TEXT NOT NULL DEFAULT '',
    webhook     TEXT NOT NULL DEFAULT 'none' CHECK (webhook IN ('none', 'pending', 'delivered', 'failed', 'gone'))
);
CREATE UNIQUE INDEX handoffs_one_live_idx ON handoffs (lead_id) WHERE status IN ('open', 'accepted');
CREATE INDEX handoffs_owner_idx ON handoffs (owner, status);

-- Whose turn it is in each route: kept here so turns are fair across nodes
-- and restarts.
CREATE TABLE route_turns (
    route TEXT PRIMARY KEY,   -- the route's owners, joined, so an edit starts anew
    turn  BIGINT NOT NULL
);

-- Every attempt to deliver a handoff's webhook.
CREATE TABLE webhook_attempts (
    id          BIGSERIAL PRIMARY KEY,
    handoff_id  BIGINT NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    url         TEXT NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,   -- the HTTP status; 0 when none came
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_handoff_idx ON webhook_attempts (handoff_id, at);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE route_turns;
DROP TABLE handoffs;
DROP TABLE stage_changes;
DROP TABLE score_entries;
DROP TABLE lead_facts;
DROP INDEX events_message_idx;
DROP INDEX events_unscored_idx;
DROP INDEX events_idempotency_idx;
ALTER TABLE events DROP COLUMN source, DROP COLUMN message_id, DROP COLUMN link, DROP COLUMN verdict,
    DROP COLUMN reason, DROP COLUMN ip_prefix, DROP COLUMN user_agent, DROP COLUMN idempotency_key,
    DROP COLUMN scored_at;
ALTER TABLE messages DROP COLUMN link_set_id;
DROP TABLE link_sets;
ALTER TABLE consent_events DROP CONSTRAINT consent_events_kind_check;
ALTER TABLE consent_events ADD CONSTRAINT consent_events_kind_check CHECK (kind IN
    ('signup', 'confirmation', 'unsubscribe', 'erasure', 'resend'));
ALTER TABLE consent_events DROP COLUMN tracking;
ALTER TABLE leads DROP COLUMN tracking, DROP COLUMN fit, DROP COLUMN engagement, DROP COLUMN temperature,
    DROP COLUMN score_at, DROP COLUMN stage_at, DROP COLUMN recycled_at;
