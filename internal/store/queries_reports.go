package store

import "github.com/jmoiron/sqlx"

// reportQueries are the queries of the reports (reports.go).
type reportQueries struct {
	EngagementSteps *sqlx.Stmt `query:"engagement_steps"`
	EngagementLinks *sqlx.Stmt `query:"engagement_links"`
}
