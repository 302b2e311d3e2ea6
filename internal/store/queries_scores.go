package store

import "github.com/jmoiron/sqlx"

// scoreQueries are the queries of the score ledger and stages (scores.go).
type scoreQueries struct {
	ClaimUnscoredEvents *sqlx.Stmt `query:"claim_unscored_events"`
	MarkEventsScored    *sqlx.Stmt `query:"mark_events_scored"`
	DeleteGoneEvents    *sqlx.Stmt `query:"delete_gone_lead_events"`
	InsertSystemEvent   *sqlx.Stmt `query:"insert_system_event"`
	LeadsForScoring     *sqlx.Stmt `query:"leads_for_scoring"`
	ScoreLeadByEmail    *sqlx.Stmt `query:"score_lead_by_email"`
	ScoreEntriesOfLead  *sqlx.Stmt `query:"score_entries_of_lead"`
	InsertScoreEntries  *sqlx.Stmt `query:"insert_score_entries"`
	DeleteScoreEntries  *sqlx.Stmt `query:"delete_score_entries"`
	SaveLeadScore       *sqlx.Stmt `query:"save_lead_score"`
	LeadEventTypes      *sqlx.Stmt `query:"lead_event_types"`
	EngagedMail         *sqlx.Stmt `query:"engaged_mail"`
	ScoredEventsOfLead  *sqlx.Stmt `query:"scored_events_of_lead"`
	StaleScores         *sqlx.Stmt `query:"stale_scores"`
	LeadIDsAfter        *sqlx.Stmt `query:"lead_ids_after"`
	NextRouteTurn       *sqlx.Stmt `query:"next_route_turn"`
	InsertHandoff       *sqlx.Stmt `query:"insert_handoff"`
	StageChangesOfLead  *sqlx.Stmt `query:"stage_changes_of_lead"`
}
