package store

import "github.com/jmoiron/sqlx"

// queries are the prepared statements; each field's tag names its file in
// sql/. An embedded struct is a group of them, declared beside the methods
// that use it.
type queries struct {
	// leads and the double opt-in
	LeadForUpdate         *sqlx.Stmt `query:"lead_for_update"`
	LeadByID              *sqlx.Stmt `query:"lead_by_id"`
	LeadByEmail           *sqlx.Stmt `query:"lead_by_email"`
	InsertLead            *sqlx.Stmt `query:"insert_lead"`
	ConfirmLead           *sqlx.Stmt `query:"confirm_lead"`
	UnsubscribeLead       *sqlx.Stmt `query:"unsubscribe_lead"`
	DeleteLead            *sqlx.Stmt `query:"delete_lead"`
	PurgePending          *sqlx.Stmt `query:"purge_pending"`
	ConfirmToken          *sqlx.Stmt `query:"confirm_token"`
	ConfirmTokenForUpdate *sqlx.Stmt `query:"confirm_token_for_update"`
	LeadConsentForUpdate  *sqlx.Stmt `query:"lead_consent_for_update"`

	// signups written in batches
	LeadsForUpdate    *sqlx.Stmt `query:"leads_for_update_batch"`
	InsertLeads       *sqlx.Stmt `query:"insert_leads"`
	RecordSignups     *sqlx.Stmt `query:"record_signups"`
	MarkConfirmMailed *sqlx.Stmt `query:"mark_confirm_mailed"`
	ReserveLeadIDs    *sqlx.Stmt `query:"reserve_lead_ids"`
	InsertFirst       *sqlx.Stmt `query:"insert_first_signups"`

	// the consent ledger and suppression list
	InsertConsentEvent  *sqlx.Stmt `query:"insert_consent_event"`
	ConsentEvent        *sqlx.Stmt `query:"consent_event"`
	ConsentEventsOfLead *sqlx.Stmt `query:"consent_events_of_lead"`
	InsertSuppression   *sqlx.Stmt `query:"insert_suppression"`
	DeleteSuppression   *sqlx.Stmt `query:"delete_suppression"`

	// every consent version that was ever live
	InsertConsentVersion *sqlx.Stmt `query:"insert_consent_version"`
	ConsentVersion       *sqlx.Stmt `query:"consent_version"`

	// the outbox
	InsertMessage  *sqlx.Stmt `query:"insert_message"`
	ClaimMessages  *sqlx.Stmt `query:"claim_messages"`
	StartSMTP      *sqlx.Stmt `query:"start_smtp"`
	RenewLeases    *sqlx.Stmt `query:"renew_leases"`
	MarkRetry      *sqlx.Stmt `query:"mark_retry"`
	MarkFailed     *sqlx.Stmt `query:"mark_failed"`
	BounceLead     *sqlx.Stmt `query:"bounce_lead"`
	NextMessageDue *sqlx.Stmt `query:"next_message_due"`
	OutboxCounts   *sqlx.Stmt `query:"outbox_counts"`
	JoinNode       *sqlx.Stmt `query:"join_node"`
	RenewNode      *sqlx.Stmt `query:"renew_node"`
	LeaveNode      *sqlx.Stmt `query:"leave_node"`

	// sequences: enrolments, events and step mail
	InsertEnrolment    *sqlx.Stmt `query:"insert_enrolment"`
	ClaimEnrolments    *sqlx.Stmt `query:"claim_enrolments"`
	SaveEnrolments     *sqlx.Stmt `query:"save_enrolments"`
	InsertStepMessages *sqlx.Stmt `query:"insert_step_messages"`
	FactsOfLeads       *sqlx.Stmt `query:"facts_of_leads"`
	EnrolmentsOfLead   *sqlx.Stmt `query:"enrolments_of_lead"`
	NextEnrolmentDue   *sqlx.Stmt `query:"next_enrolment_due"`

	// stages of the funnel
	SetLeadStage   *sqlx.Stmt `query:"set_lead_stage"`
	ExitEnrolments *sqlx.Stmt `query:"exit_enrolments"`

	// engagement, scoring and the handoff to sales: a group each, in the
	// file of its own methods
	eventQueries
	linkQueries
	trackingQueries
	scoreQueries
	handoffQueries
	webhookQueries
	reportQueries
}
