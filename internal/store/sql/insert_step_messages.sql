-- Queues a batch of step mails at $1 in one statement; the bytes go to
-- message_raw, joined back by the Message-ID (160 random bits: unique, and
-- not indexed, see migrations/0021). They come as one bytea ($6), each mail
-- at its offset ($9, from 1) with its length ($10): a bytea[] would go as hex
-- text and cost more to parse than the insert. With a lease ($11) the mails
-- are written as claimed by the sender that will be handed them after commit,
-- on node $12, and their bytes are not stored: the sender has them, stores
-- them if it must retry, and a step mail found leased after a crash is
-- composed again from its step and lead. Without a lease they are queued. A
-- mail's id is $13's where one was reserved (not 0), and $14 is its set of
-- links, for a tracked mail (0 for none). It returns each mail's id by its
-- Message-ID. The sequence is looked up once, in a subquery: as nextval's
-- argument it would be looked up again for every row.
WITH u AS (
    SELECT u.lead_id, u.message_id, u.sender, u.recipient, substring($6::bytea FROM u.off FOR u.len) AS raw,
        u.enrolment_id, u.step_key, u.id, u.link_set_id
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $7::bigint[], $8::text[], $9::int[], $10::int[],
            $13::bigint[], $14::bigint[])
        AS u(lead_id, message_id, sender, recipient, enrolment_id, step_key, off, len, id, link_set_id)
), m AS (
    INSERT INTO messages (id, link_set_id, kind, lead_id, message_id, sender, recipient, status, attempts, locked_until, claimed_by, run_at, created_at, enrolment_id, step_key)
    SELECT COALESCE(NULLIF(u.id, 0), nextval((SELECT pg_get_serial_sequence('messages', 'id')::regclass))), NULLIF(u.link_set_id, 0),
        'step', u.lead_id, u.message_id, u.sender, u.recipient,
        CASE WHEN $11::timestamptz IS NULL THEN 'queued' ELSE 'sending' END,
        CASE WHEN $11::timestamptz IS NULL THEN 0 ELSE 1 END,
        $11::timestamptz, CASE WHEN $11::timestamptz IS NULL THEN NULL ELSE $12::bigint END, $1, $1, u.enrolment_id, u.step_key
    FROM u
    RETURNING id, message_id
), r AS (
    INSERT INTO message_raw (message_id, raw)
    SELECT m.id, u.raw FROM m JOIN u ON u.message_id = m.message_id
    WHERE $11::timestamptz IS NULL
)
SELECT id, message_id FROM m
