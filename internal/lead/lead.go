package lead

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Status is where a lead stands in the double opt-in.
type Status string

const (
	StatusPending      Status = "pending"
	StatusConfirmed    Status = "confirmed"
	StatusUnsubscribed Status = "unsubscribed"
	StatusBounced      Status = "bounced"
)

// Mailable reports whether any mail but a confirmation may go to the lead.
func (s Status) Mailable() bool { return s == StatusConfirmed }

// Stage is the lead's place in the sales funnel.
type Stage string

const (
	StageLead Stage = "lead"
	StageMQL  Stage = "mql"
	StageSAL  Stage = "sal"
	StageSQL  Stage = "sql"
)

// Stages are the stages in funnel order.
var Stages = []Stage{StageLead, StageMQL, StageSAL, StageSQL}

// Valid reports whether s is one of Stages.
func (s Stage) Valid() bool { return slices.Contains(Stages, s) }

// Rank is s's place in the funnel, from 0 for lead; -1 for no stage.
func (s Stage) Rank() int { return slices.Index(Stages, s) }

// StageNames lists the stages in funnel order, for messages: "lead, mql, sal, sql".
func StageNames() string {
	names := make([]string, len(Stages))
	for i, st := range Stages {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// Lead is one address that signed up.
type Lead struct {
	ID         int64      `db:"id" json:"id"`
	Email      string     `db:"email" json:"email"`
	FirstName  string     `db:"first_name" json:"first_name"`
	LastName   string     `db:"last_name" json:"last_name"`
	Status     Status     `db:"status" json:"status"`
	Stage      Stage      `db:"stage" json:"stage"`
	Source     string     `db:"source" json:"source"`
	Attributes Attributes `db:"attributes" json:"attributes"`
	Score      int        `db:"score" json:"score"`
	// Fit and Engagement are the two parts of Score; Temperature is
	// Engagement's band (cold, warm or hot), as scoring last wrote them at
	// ScoreAt (nil before it first did). Engagement decays from then on;
	// scoring.Rules.Current works out the figures of a later time.
	Fit         int        `db:"fit" json:"fit"`
	Engagement  int        `db:"engagement" json:"engagement"`
	Temperature string     `db:"temperature" json:"temperature"`
	ScoreAt     *time.Time `db:"score_at" json:"score_at,omitempty"`
	// Tracking is the lead's consent to open and click tracking.
	Tracking       bool       `db:"tracking" json:"tracking"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	ConfirmedAt    *time.Time `db:"confirmed_at" json:"confirmed_at,omitempty"`
	UnsubscribedAt *time.Time `db:"unsubscribed_at" json:"unsubscribed_at,omitempty"`
}

// Attr returns one attribute as text, or "" when it is not set.
func (l *Lead) Attr(name string) string { return l.Attributes.String(name) }

// Timezone is the lead's IANA time zone from its attributes, or "".
func (l *Lead) Timezone() string { return l.Attributes.String("timezone") }

// EmailHash is the SHA-256 of a normalised address: what the suppression list
// and an erased lead's ledger keep instead of the address.
func EmailHash(normalised string) []byte {
	sum := sha256.Sum256([]byte(normalised))
	return sum[:]
}

// EventKind names an entry in the consent ledger.
type EventKind string

const (
	EventSignup       EventKind = "signup"
	EventConfirmation EventKind = "confirmation"
	EventResend       EventKind = "resend"
	EventUnsubscribe  EventKind = "unsubscribe"
	EventErasure      EventKind = "erasure"
	// A grant or withdrawal of consent to open and click tracking, after
	// the signup that first answered it.
	EventTrackingGranted   EventKind = "tracking_granted"
	EventTrackingWithdrawn EventKind = "tracking_withdrawn"
)

// Evidence is what the server saw of a request that changed consent.
type Evidence struct {
	At             time.Time `db:"at" json:"at"`
	IP             string    `db:"ip" json:"ip"`
	UserAgent      string    `db:"user_agent" json:"user_agent"`
	ConsentText    string    `db:"consent_text" json:"consent_text"`
	ConsentVersion string    `db:"consent_version" json:"consent_version"`
	Source         string    `db:"source" json:"source"`
	SourceURL      string    `db:"source_url" json:"source_url"`
	// Tracking is the choice about open and click tracking an entry
	// records: a signup's answer (nil where it was not asked), or what a
	// later grant or withdrawal set. TrackingText and TrackingVersion are
	// the words of the question, as consent_text and consent_version are
	// the consent's.
	Tracking        *bool  `db:"tracking" json:"tracking,omitempty"`
	TrackingText    string `db:"tracking_text" json:"tracking_text,omitempty"`
	TrackingVersion string `db:"tracking_version" json:"tracking_version,omitempty"`
}

// ConsentEvent is one entry of the append-only consent ledger.
type ConsentEvent struct {
	ID        int64     `db:"id" json:"id"`
	LeadID    *int64    `db:"lead_id" json:"-"`
	Kind      EventKind `db:"kind" json:"kind"`
	MessageID *int64    `db:"message_id" json:"-"`
	// MailMessageID is the Message-ID of the confirmation mail the entry
	// refers to: the one a signup or resend caused, or the one whose link a
	// confirmation confirmed.
	MailMessageID *string `db:"mail_message_id" json:"-"`
	// Mail is the confirmation mail exactly as it was handed to SMTP, when
	// the entry caused one.
	Mail *string `db:"mail" json:"mail,omitempty"`
	Evidence
}

// MarshalJSON writes the evidence fields flat beside the kind.
func (e ConsentEvent) MarshalJSON() ([]byte, error) {
	type flat struct {
		Kind EventKind `json:"kind"`
		Evidence
		At        string  `json:"at"`
		MessageID *string `json:"message_id,omitempty"`
		Mail      *string `json:"mail,omitempty"`
	}
	return json.Marshal(flat{Kind: e.Kind, Evidence: e.Evidence, At: e.At.UTC().Format("2006-01-02T15:04:05.000Z"),
		MessageID: e.MailMessageID, Mail: e.Mail})
}
