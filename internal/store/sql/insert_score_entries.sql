-- Appends ledger rows, one per element of the arrays.
INSERT INTO score_entries (lead_id, at, kind, rule, line, signal, ref, note, event_id, points)
SELECT u.lead_id, u.at, u.kind, u.rule, u.line, u.signal, u.ref, u.note, NULLIF(u.event_id, 0), u.points
FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::int[])
    AS u(lead_id, at, kind, rule, line, signal, ref, note, event_id, points)
