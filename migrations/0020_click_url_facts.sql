-- +goose Up

-- A click wrote two lead facts: its step's click and its link's address
-- (kind url). Each upsert of a fact is a probe of the key, a speculative
-- heap insert, an index entry and a confirmation, with their WAL: the
-- second fact was a sixth of Postgres's time for a click (timed by batch
-- of 32 clicks, 5–10 µs of 40–45). A click now writes one fact that
-- names both, its step as key and its link's address as url; kind url
-- stays for the pages a lead viewed on the marketer's site (page_view).
-- Conditions read a step's clicks by key, as before, and the addresses
-- clicked from the url of click facts and the key of url facts.
--
-- The facts are the sum of the counted events that made them (events are
-- deleted only with their lead), so the click and url facts are built
-- anew from the events, as insert_hits and insert_events write them.
ALTER TABLE lead_facts ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE lead_facts DROP CONSTRAINT lead_facts_pkey;
DELETE FROM lead_facts WHERE kind IN ('click', 'url');
INSERT INTO lead_facts (lead_id, kind, key, url, first_at, last_at, count)
SELECT lead_id, 'click', COALESCE(step_key, ''), COALESCE(url, ''), min(at), max(at), count(*)
FROM events
WHERE type = 'click' AND verdict IN ('human', 'image_proxy') AND (step_key <> '' OR url <> '')
GROUP BY 1, 3, 4;
INSERT INTO lead_facts (lead_id, kind, key, url, first_at, last_at, count)
SELECT lead_id, 'url', url, '', min(at), max(at), count(*)
FROM events
WHERE type = 'page_view' AND url <> ''
GROUP BY 1, 3;
ALTER TABLE lead_facts ADD PRIMARY KEY (lead_id, kind, key, url);

-- +goose Down
ALTER TABLE lead_facts DROP CONSTRAINT lead_facts_pkey;
DELETE FROM lead_facts WHERE kind IN ('click', 'url');
INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at, count)
SELECT lead_id, 'click', step_key, min(at), max(at), count(*)
FROM events
WHERE type = 'click' AND verdict IN ('human', 'image_proxy') AND step_key <> ''
GROUP BY 1, 3;
INSERT INTO lead_facts (lead_id, kind, key, first_at, last_at, count)
SELECT lead_id, 'url', url, min(at), max(at), count(*)
FROM events
WHERE (type = 'page_view' OR (type = 'click' AND verdict IN ('human', 'image_proxy'))) AND url <> ''
GROUP BY 1, 3;
ALTER TABLE lead_facts DROP COLUMN url;
ALTER TABLE lead_facts ADD PRIMARY KEY (lead_id, kind, key);
