package store

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Story is what sales is told of a lead handed to it: why it stands where
// it does, what it read and did, and what it consented to.
type Story struct {
	Figures  ScoreFigures
	Reasons  []ScoreReason  // the score ledger summed by rule
	Activity []Activity     // oldest first
	Consent  []ConsentEntry // oldest first
}

// ScoreFigures are a lead's current score figures.
type ScoreFigures struct {
	Fit         int        `db:"fit"`
	Engagement  int        `db:"engagement"`
	Score       int        `db:"score"`
	Temperature string     `db:"temperature"`
	RecycledAt  *time.Time `db:"recycled_at"`
}

// ScoreReason is one rule's share of a lead's score.
type ScoreReason struct {
	Kind   string    `db:"kind"` // fit or engagement
	Rule   string    `db:"rule"`
	Signal string    `db:"signal"`
	Note   string    `db:"note"`
	Points int       `db:"points"`
	Times  int       `db:"times"`
	LastAt time.Time `db:"last_at"`
}

// Activity is one counted event of a lead.
type Activity struct {
	ID       int64     `db:"id"`
	At       time.Time `db:"at"`
	Type     string    `db:"type"`
	Source   string    `db:"source"` // pixel, click, api, site or system
	StepKey  string    `db:"step_key"`
	URL      string    `db:"url"`
	LinkText string    `db:"link_text"`
	// Head is the header block of the mail an open or click came from, as
	// it was sent; Subject is its subject, "" when there is none.
	Head    []byte `db:"mail_head"`
	Subject string `db:"-"`
}

// ConsentEntry is one entry of the consent ledger, without its mail.
type ConsentEntry struct {
	Kind           string    `db:"kind"`
	At             time.Time `db:"at"`
	Source         string    `db:"source"`
	SourceURL      string    `db:"source_url"`
	ConsentVersion string    `db:"consent_version"`
	Tracking       *bool     `db:"tracking"`
}

// Story reads a lead's story in the transaction, with its latest
// activities (at most limit), oldest first.
func (t *Tx) Story(ctx context.Context, leadID int64, limit int) (*Story, error) {
	var s Story
	if err := t.stmt(t.q.LeadScoreFigures).GetContext(ctx, &s.Figures, leadID); err != nil {
		return nil, fmt.Errorf("store: score of lead %d: %w", leadID, notFound(err))
	}
	s.Reasons, s.Activity, s.Consent = []ScoreReason{}, []Activity{}, []ConsentEntry{}
	if err := t.stmt(t.q.ScoreSummaryOfLead).SelectContext(ctx, &s.Reasons, leadID); err != nil {
		return nil, fmt.Errorf("store: score ledger of lead %d: %w", leadID, err)
	}
	if err := t.stmt(t.q.LeadActivity).SelectContext(ctx, &s.Activity, leadID, limit); err != nil {
		return nil, fmt.Errorf("store: activity of lead %d: %w", leadID, err)
	}
	slices.Reverse(s.Activity)
	for i := range s.Activity {
		s.Activity[i].Subject = subjectOf(s.Activity[i].Head)
	}
	if err := t.stmt(t.q.LeadConsentSummary).SelectContext(ctx, &s.Consent, leadID); err != nil {
		return nil, fmt.Errorf("store: consent of lead %d: %w", leadID, err)
	}
	return &s, nil
}

// subjectOf is the decoded Subject of a mail's header block, or "": the
// subject the lead saw, whatever the step file says today.
func subjectOf(head []byte) string {
	if len(head) == 0 {
		return ""
	}
	m, err := mail.ReadMessage(bytes.NewReader(append(bytes.Clone(head), "\r\n\r\n"...)))
	if err != nil {
		return ""
	}
	raw := m.Header.Get("Subject")
	s, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		s = raw
	}
	return strings.TrimSpace(s)
}
