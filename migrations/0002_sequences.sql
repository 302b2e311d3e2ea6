-- +goose Up

-- An enrolment is one lead walking through one sequence. due_at says when
-- the dispatcher next looks at it; only active enrolments are ever due, and
-- the partial index keeps the claim's cost proportional to the due work.
-- A dispatcher claims rows with FOR UPDATE SKIP LOCKED and writes its
-- outcome in the same transaction, so the row lock is the lease: there is no
-- locked_until, and a crash rolls the claim back.
CREATE TABLE enrolments (
    id           BIGSERIAL PRIMARY KEY,
    lead_id      BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    sequence     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('active', 'completed', 'exited', 'stopped')),
    -- slugs of the steps sent or skipped, in the order they were passed
    steps_done   TEXT[] NOT NULL DEFAULT '{}',
    -- the NN of the last step passed, for when that step's file is gone
    last_order   INTEGER NOT NULL DEFAULT 0,
    due_at       TIMESTAMPTZ NOT NULL,
    enrolled_at  TIMESTAMPTZ NOT NULL,
    last_sent_at TIMESTAMPTZ,
    -- when the last step was sent or skipped: the next step's delay runs from here
    last_passed_at TIMESTAMPTZ,
    ended_at     TIMESTAMPTZ,
    ended_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX enrolments_due_idx ON enrolments (due_at) WHERE state = 'active';
CREATE UNIQUE INDEX enrolments_one_active_idx ON enrolments (lead_id, sequence) WHERE state = 'active';
CREATE INDEX enrolments_lead_idx ON enrolments (lead_id, sequence);

-- Engagement (open, click) and custom events (demo_booked, …) of leads.
-- Conditions and exits read them.
CREATE TABLE events (
    id       BIGSERIAL PRIMARY KEY,
    lead_id  BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    type     TEXT NOT NULL,
    -- sequence/slug of the mail an open or click came from
    step_key TEXT,
    url      TEXT,
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_lead_idx ON events (lead_id, at);

-- A step's mail records which enrolment and step it belongs to.
ALTER TABLE messages
    ADD COLUMN enrolment_id BIGINT REFERENCES enrolments (id) ON DELETE SET NULL,
    ADD COLUMN step_key TEXT;
CREATE INDEX messages_enrolment_idx ON messages (enrolment_id) WHERE enrolment_id IS NOT NULL;

-- +goose Down
ALTER TABLE messages DROP COLUMN step_key, DROP COLUMN enrolment_id;
DROP TABLE events;
DROP TABLE enrolments;
