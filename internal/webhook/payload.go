package webhook

import (
	"context"
	"errors"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// EventType is the type of the message a handoff's webhook posts.
const EventType = "handoff.created"

// Payload is the body of a handoff's webhook: the Standard Webhooks
// envelope of type, timestamp and data.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"` // when the handoff was made
	Data      Data      `json:"data"`
}

// Data is the handoff and its lead as they stand at delivery.
type Data struct {
	Handoff     Handoff    `json:"handoff"`
	Lead        Lead       `json:"lead"`
	Score       int        `json:"score"`
	Fit         int        `json:"fit"`
	Engagement  int        `json:"engagement"`
	Temperature string     `json:"temperature"`
	Stage       lead.Stage `json:"stage"`
	Owner       string     `json:"owner"`
	Consent     Consent    `json:"consent"`
	Activity    []Activity `json:"activity"` // counted events, newest first
}

// Handoff is the handoff row: the figures as they were when it was made.
type Handoff struct {
	ID         int64     `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	Status     string    `json:"status"`
	Route      int       `json:"route"`
	Score      int       `json:"score"`
	Fit        int       `json:"fit"`
	Engagement int       `json:"engagement"`
}

// Lead is who the handoff is about.
type Lead struct {
	ID         int64           `json:"id"`
	Email      string          `json:"email"`
	FirstName  string          `json:"first_name"`
	LastName   string          `json:"last_name"`
	Status     lead.Status     `json:"status"`
	Source     string          `json:"source"`
	Attributes lead.Attributes `json:"attributes"`
}

// Consent says whether, when and through which form the lead confirmed,
// so that sales knows it may call or write.
type Consent struct {
	Confirmed      bool       `json:"confirmed"`
	ConfirmedAt    *time.Time `json:"confirmed_at,omitempty"`
	Source         string     `json:"source,omitempty"` // the form or signup source
	SourceURL      string     `json:"source_url,omitempty"`
	ConsentVersion string     `json:"consent_version,omitempty"`
	Tracking       bool       `json:"tracking"`
}

// Activity is one counted event.
type Activity struct {
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	Source string    `json:"source"`
	Step   string    `json:"step,omitempty"`
	URL    string    `json:"url,omitempty"`
}

// payload builds the body of handoff w's webhook from the database.
func (s *Service) payload(ctx context.Context, w *store.WebhookSubject) (*Payload, error) {
	c := Consent{Tracking: w.Tracking}
	conf, err := s.st.Confirmation(ctx, w.LeadID)
	switch {
	case err == nil:
		at := conf.At.UTC()
		c.Confirmed, c.ConfirmedAt = w.LeadStatus == lead.StatusConfirmed, &at
		c.Source, c.SourceURL, c.ConsentVersion = conf.Source, conf.SourceURL, conf.ConsentVersion
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	acts, err := s.st.RecentActivity(ctx, w.LeadID, s.cfg.Activity)
	if err != nil {
		return nil, err
	}
	activity := make([]Activity, 0, len(acts))
	for _, a := range acts {
		activity = append(activity, Activity{At: a.At.UTC(), Type: a.Type, Source: a.Source, Step: a.StepKey, URL: a.URL})
	}
	attrs := w.Attributes
	if attrs == nil {
		attrs = lead.Attributes{}
	}
	return &Payload{
		Type:      EventType,
		Timestamp: w.CreatedAt.UTC(),
		Data: Data{
			Handoff: Handoff{ID: w.ID, CreatedAt: w.CreatedAt.UTC(), Status: w.Status, Route: w.Route,
				Score: w.Score, Fit: w.Fit, Engagement: w.Engagement},
			Lead: Lead{ID: w.LeadID, Email: w.Email, FirstName: w.FirstName, LastName: w.LastName,
				Status: w.LeadStatus, Source: w.Source, Attributes: attrs},
			Score: w.LeadScore, Fit: w.LeadFit, Engagement: w.LeadEngagement,
			Temperature: w.Temperature, Stage: w.Stage, Owner: w.Owner,
			Consent: c, Activity: activity,
		},
	}, nil
}
