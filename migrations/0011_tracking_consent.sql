-- +goose Up

-- The words of the tracking question an entry answers, beside its choice
-- (consent_events.tracking, from 0009): a signup's checkbox, or what a
-- later grant or withdrawal grants or withdraws. They are kept as the
-- consent's are: the version names the wording, for good, in
-- consent_versions, which holds consent and tracking wordings alike.
ALTER TABLE consent_events
    ADD COLUMN tracking_text    TEXT NOT NULL DEFAULT '',
    ADD COLUMN tracking_version TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE consent_events DROP COLUMN tracking_text, DROP COLUMN tracking_version;
