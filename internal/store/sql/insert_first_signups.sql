-- The first signups of addresses that have no lead, whole, in one
-- statement and so in one transaction: each one's pending lead, with the id
-- reserved for it ($1) and its confirmation mail already marked as queued,
-- its confirmation mail, its ledger entry and its link's token. One array
-- element per signup. $1–$7 are the lead ($7 its time, which is also when
-- its mail counts as queued); $8–$15 the ledger entry, of kind 'signup'
-- ($9 its time, also the mail's and the token's); $16–$22 the mail, whose
-- bytes come as one bytea ($19) at offsets ($20, from 1) with lengths ($21),
-- as in record_signups, written as claimed by node $26 until its lease
-- ($22) when it has one; $23–$25 the token's hash, expiry and what the
-- signup said about the person; $27–$29 the entry's tracking answer ('true',
-- 'false', or '' where the signup did not ask) and the words it answered.
--
-- An address that has a lead already, or that a concurrent transaction
-- inserts, is skipped by ON CONFLICT DO NOTHING, and with it everything of
-- its signup: the caller writes that signup as a repeat. The ledger entry
-- and the token take their lead, and the token its entry, from this
-- statement's own rows, which is why no foreign key checks them (0019).
-- It returns the id of each mail written by its Message-ID; the signups
-- whose mail is missing wrote nothing.
WITH s AS (
    SELECT *, NULLIF(s.lease, '')::timestamptz AS lease_until
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::timestamptz[],
                $8::bytea[], $9::timestamptz[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                $16::text[], $17::text[], $18::text[], $20::int[], $21::int[], $22::text[],
                $23::bytea[], $24::timestamptz[], $25::jsonb[], $27::text[], $28::text[], $29::text[])
        AS s (id, email, first_name, last_name, lead_source, attributes, lead_at,
              email_hash, at, ip, user_agent, consent_text, consent_version, source, source_url,
              mid, sender, recipient, off, len, lease,
              token_hash, expires, lead_data, tracking, tracking_text, tracking_version)
), l AS (
    INSERT INTO leads (id, email, first_name, last_name, status, source, attributes, created_at, updated_at, confirm_mailed_at)
    SELECT s.id, s.email, s.first_name, s.last_name, 'pending', s.lead_source, s.attributes, s.lead_at, s.lead_at, s.lead_at
    FROM s ORDER BY s.email
    ON CONFLICT (email) DO NOTHING
    RETURNING id
), x AS (
    SELECT s.* FROM s JOIN l ON l.id = s.id
), m AS (
    INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, attempts, locked_until, claimed_by, run_at, created_at)
    SELECT 'confirmation', x.id, x.mid, x.sender, x.recipient,
        CASE WHEN x.lease_until IS NULL THEN 'queued' ELSE 'sending' END,
        CASE WHEN x.lease_until IS NULL THEN 0 ELSE 1 END,
        x.lease_until, CASE WHEN x.lease_until IS NULL THEN NULL ELSE $26::bigint END, x.at, x.at
    FROM x
    RETURNING id, message_id, lead_id
), r AS (
    INSERT INTO message_raw (message_id, raw)
    SELECT m.id, substring($19::bytea FROM x.off FOR x.len) FROM m JOIN x ON x.id = m.lead_id
), e AS (
    INSERT INTO consent_events (lead_id, email_hash, kind, at, ip, user_agent, consent_text, consent_version, source, source_url, message_id,
        tracking, tracking_text, tracking_version)
    SELECT x.id, x.email_hash, 'signup', x.at, x.ip, x.user_agent, x.consent_text, x.consent_version, x.source, x.source_url, m.id,
        NULLIF(x.tracking, '')::boolean, x.tracking_text, x.tracking_version
    FROM x JOIN m ON m.lead_id = x.id
    RETURNING id, lead_id
), t AS (
    INSERT INTO confirm_tokens (hash, lead_id, signup_event_id, created_at, expires_at, lead_data)
    SELECT x.token_hash, e.lead_id, e.id, x.at, x.expires, x.lead_data
    FROM x JOIN e ON e.lead_id = x.id
)
SELECT id, message_id FROM m
