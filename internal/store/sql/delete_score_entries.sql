DELETE FROM score_entries WHERE lead_id = $1
