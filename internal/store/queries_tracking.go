package store

import "github.com/jmoiron/sqlx"

// trackingQueries are the queries of the leads' tracking consent (tracking.go).
type trackingQueries struct {
	LeadTracking    *sqlx.Stmt `query:"lead_tracking"`
	LockLead        *sqlx.Stmt `query:"lock_lead"`
	SetLeadTracking *sqlx.Stmt `query:"set_lead_tracking"`
}
