package store

import "time"

// Handoff is one time a lead entered MQL, given to one owner in sales: a
// row of handoffs.
type Handoff struct {
	ID         int64      `db:"id" json:"id"`
	LeadID     int64      `db:"lead_id" json:"lead"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	Route      int        `db:"route" json:"route"` // index of the handoff.routes entry
	Owner      string     `db:"owner" json:"owner"`
	Status     string     `db:"status" json:"status"` // open, accepted, rejected, qualified
	Reason     string     `db:"reason" json:"reason,omitempty"`
	Score      int        `db:"score" json:"score"`
	Fit        int        `db:"fit" json:"fit"`
	Engagement int        `db:"engagement" json:"engagement"`
	DecidedAt  *time.Time `db:"decided_at" json:"decided_at,omitempty"`
	DecidedBy  string     `db:"decided_by" json:"decided_by,omitempty"`
	Webhook    string     `db:"webhook" json:"webhook"` // none, pending, delivered, failed, gone
}

// The statuses of a handoff.
const (
	HandoffOpen      = "open"
	HandoffAccepted  = "accepted"
	HandoffRejected  = "rejected"
	HandoffQualified = "qualified"
)
