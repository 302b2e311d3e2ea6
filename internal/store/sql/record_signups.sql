-- What signups write besides their leads, in one round trip: the
-- confirmation mails in the outbox, the ledger entries pointing to them, and
-- the token hashes tied to those entries. $1–$11 hold one ledger entry per
-- element; $11 is the Message-ID of the mail the entry caused, or ''.
-- $12–$21 and $23 hold one confirmation mail per element, with its token
-- hash ($18), expiry ($19) and what its signup said about the person ($23),
-- which confirming the link applies to the lead; the entry and the token
-- find their mail by its Message-ID, which is unique, and the token takes
-- its entry's id and lead (no foreign key checks them: see migration 0019).
-- $25–$27 are each entry's tracking answer ('true', 'false', or '' where
-- the signup did not ask) and the words it answered. The mails' bytes come
-- as one bytea ($16), each mail at its offset ($20, from 1) with its length
-- ($21): a bytea[] would go as text, hex-encoded, and take longer to parse
-- than the rest of the statement to run. A mail with a lease ($22, '' for
-- none) is written as claimed by the sender that will be handed it after
-- commit, on node $24; the others are queued. It returns each mail's id by its
-- Message-ID.
WITH x AS (
    SELECT x.mid, x.lead_id, x.sender, x.recipient, substring($16::bytea FROM x.off FOR x.len) AS raw, x.at,
        NULLIF(x.lease, '')::timestamptz AS lease
    FROM unnest($12::text[], $13::bigint[], $14::text[], $15::text[], $17::timestamptz[], $20::int[], $21::int[], $22::text[])
        AS x (mid, lead_id, sender, recipient, at, off, len, lease)
), m AS (
    INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, attempts, locked_until, claimed_by, run_at, created_at)
    SELECT 'confirmation', x.lead_id, x.mid, x.sender, x.recipient,
        CASE WHEN x.lease IS NULL THEN 'queued' ELSE 'sending' END,
        CASE WHEN x.lease IS NULL THEN 0 ELSE 1 END,
        x.lease, CASE WHEN x.lease IS NULL THEN NULL ELSE $24::bigint END, x.at, x.at
    FROM x
    RETURNING id, message_id
), r AS (
    INSERT INTO message_raw (message_id, raw) SELECT m.id, x.raw FROM m JOIN x ON x.mid = m.message_id
), e AS (
    INSERT INTO consent_events (lead_id, email_hash, kind, at, ip, user_agent, consent_text, consent_version, source, source_url, message_id,
        tracking, tracking_text, tracking_version)
    SELECT x.lead_id, x.email_hash, x.kind, x.at, x.ip, x.user_agent, x.consent_text, x.consent_version, x.source, x.source_url, m.id,
        NULLIF(x.tracking, '')::boolean, x.tracking_text, x.tracking_version
    FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                $25::text[], $26::text[], $27::text[])
        AS x (lead_id, email_hash, kind, at, ip, user_agent, consent_text, consent_version, source, source_url, mid,
              tracking, tracking_text, tracking_version)
    LEFT JOIN m ON m.message_id = x.mid
    RETURNING id, lead_id, message_id
), t AS (
    INSERT INTO confirm_tokens (hash, lead_id, signup_event_id, created_at, expires_at, lead_data)
    SELECT x.hash, e.lead_id, e.id, x.at, x.expires, x.lead_data
    FROM unnest($12::text[], $13::bigint[], $17::timestamptz[], $18::bytea[], $19::timestamptz[], $23::jsonb[])
        AS x (mid, lead_id, at, hash, expires, lead_data)
    JOIN m ON m.message_id = x.mid
    JOIN e ON e.message_id = m.id
)
SELECT id, message_id FROM m
