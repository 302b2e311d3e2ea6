-- +goose Up

-- Every consent version that was ever live, with its wording: one version
-- names one wording, for good. A form whose version is known here with
-- other words is refused, and an API signup likewise. The versions the
-- ledger holds already are kept with the first wording it recorded.
CREATE TABLE consent_versions (
    version       TEXT PRIMARY KEY,
    wording       TEXT NOT NULL,
    first_source  TEXT NOT NULL DEFAULT '', -- the form's source, or the API signup's, that first used it
    first_live_at TIMESTAMPTZ NOT NULL
);

INSERT INTO consent_versions (version, wording, first_source, first_live_at)
SELECT DISTINCT ON (consent_version) consent_version, consent_text, source, at
FROM consent_events
WHERE kind IN ('signup', 'resend') AND consent_version <> ''
ORDER BY consent_version, at, id;

-- +goose Down
DROP TABLE consent_versions;
