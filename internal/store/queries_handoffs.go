package store

import "github.com/jmoiron/sqlx"

// handoffQueries are the queries of handoffs, routing turns and webhook attempts (handoffs.go).
type handoffQueries struct {
	ListHandoffs         *sqlx.Stmt `query:"list_handoffs"`
	HandoffByID          *sqlx.Stmt `query:"handoff_by_id"`
	HandoffForUpdate     *sqlx.Stmt `query:"handoff_for_update"`
	LiveHandoffForUpdate *sqlx.Stmt `query:"live_handoff_for_update"`
	DecideHandoff        *sqlx.Stmt `query:"decide_handoff"`
	ReopenHandoff        *sqlx.Stmt `query:"reopen_handoff"`
	RecycleLead          *sqlx.Stmt `query:"recycle_lead"`
	LeadScoreFigures     *sqlx.Stmt `query:"lead_score_figures"`
	ScoreSummaryOfLead   *sqlx.Stmt `query:"score_summary_of_lead"`
	LeadActivity         *sqlx.Stmt `query:"lead_activity"`
	LeadConsentSummary   *sqlx.Stmt `query:"lead_consent_summary"`
	ClaimDigestSlot      *sqlx.Stmt `query:"claim_digest_slot"`
	LastDigestSlot       *sqlx.Stmt `query:"last_digest_slot"`
}
