-- The latest digest slot sent, NULL when none was.
SELECT max(slot) FROM handoff_digests
