package store

import "github.com/jmoiron/sqlx"

// eventQueries are the queries of recorded events and the lead facts they keep (events.go).
type eventQueries struct {
	TrackedMessages *sqlx.Stmt `query:"tracked_messages"`
	InsertHits      *sqlx.Stmt `query:"insert_hits"`
	InsertEvents    *sqlx.Stmt `query:"insert_events"`
	EventsByKey     *sqlx.Stmt `query:"events_by_key"`
	RemarkClicks    *sqlx.Stmt `query:"remark_clicks"`
	UpsertFacts     *sqlx.Stmt `query:"upsert_facts"`
	RetractFacts    *sqlx.Stmt `query:"retract_facts"`
	LeadRefs        *sqlx.Stmt `query:"lead_refs"`
}
