// Package webhook owns the handoff webhook: it queues a delivery in the
// transaction that opens a handoff, and posts the handoff to the receiver
// that scoring.yaml names, signed as the Standard Webhooks specification
// says (webhook-id, webhook-timestamp, webhook-signature).
//
// Deliveries are River jobs, the queue of jobs that are not mail. A
// delivery counts only on a 2xx. Other answers are retried with backoff
// and jitter for at least a day (Retry); a Retry-After on 429 or 503 is
// honoured; a 410 stops deliveries to that receiver: its URL is marked
// gone (webhook_endpoints), and handoffs are not posted to it until an
// operator redelivers one or scoring.yaml names another URL. Every attempt
// is a webhook_attempts row. Private, loopback, link-local, unspecified
// and multicast addresses are refused when the connection is dialled,
// unless the operator allows them (NURTURE_WEBHOOK_ALLOW_PRIVATE).
//
// It does not decide when a handoff is made (funnel) or mail its owner
// (handoff), and it never reads the events table except for the bounded
// recent activity of one lead at delivery time.
package webhook
