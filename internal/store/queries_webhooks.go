package store

import "github.com/jmoiron/sqlx"

// webhookQueries are the queries of the handoff webhook: what a delivery
// sends, its state on the handoff, its attempts and the receivers that
// answered 410 Gone (webhooks.go).
type webhookQueries struct {
	WebhookSubject       *sqlx.Stmt `query:"webhook_subject"`
	WebhookConsent       *sqlx.Stmt `query:"webhook_consent"`
	WebhookActivity      *sqlx.Stmt `query:"webhook_activity"`
	SetHandoffWebhook    *sqlx.Stmt `query:"set_handoff_webhook"`
	InsertWebhookAttempt *sqlx.Stmt `query:"insert_webhook_attempt"`
	WebhookAttempts      *sqlx.Stmt `query:"webhook_attempts"`
	FirstWebhookAttempt  *sqlx.Stmt `query:"first_webhook_attempt"`
	GoneEndpoint         *sqlx.Stmt `query:"gone_endpoint"`
	MarkEndpointGone     *sqlx.Stmt `query:"mark_endpoint_gone"`
	ClearEndpointGone    *sqlx.Stmt `query:"clear_endpoint_gone"`
}
