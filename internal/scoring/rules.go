package scoring

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/nurture/nurture/internal/problem"
)

// Rules is a valid scoring.yaml. It is never changed after Parse returns,
// so any number of goroutines may use it.
type Rules struct {
	Path     string
	MQL      *Expr // nil: no lead becomes an MQL
	Points   Points
	Caps     map[string]Cap // by signal: confirmed, open, click, urls or an event type
	Fit      []FitRule
	HalfLife time.Duration // 0: engagement does not decay
	Bands    Bands
	Handoff  *Handoff // nil: no handoff section
	Warnings []problem.Problem
}

// Points are the engagement points of each signal.
type Points struct {
	Confirmed int
	Open      int // once per mail
	Click     int // once per link of a mail
	URLs      []URLPoints
	Events    map[string]EventPoints // by event type

	lines map[string]int // of confirmed, open and click
}

// URLPoints are extra points for a clicked link or viewed page whose
// address matches Pattern, where * is any text.
type URLPoints struct {
	Pattern string
	Points  int
	Line    int
}

// EventPoints are the points of one event type.
type EventPoints struct {
	Points int
	Line   int
}

// Cap is the most points one signal earns a lead in a day.
type Cap struct {
	Max  int
	Line int
}

// FitRule gives points to a lead whose data fits.
type FitRule struct {
	If     *Expr
	Points int
	Line   int
}

// Temperature is a band of the engagement score.
type Temperature string

const (
	Cold Temperature = "cold"
	Warm Temperature = "warm"
	Hot  Temperature = "hot"
)

// Bands are the engagement scores from which a lead is warm and hot.
type Bands struct {
	Warm, Hot int
}

// DefaultBands apply when the file has no bands.
var DefaultBands = Bands{Warm: 20, Hot: 50}

// Of returns the band of an engagement score.
func (b Bands) Of(engagement int) Temperature {
	switch {
	case engagement >= b.Hot:
		return Hot
	case engagement >= b.Warm:
		return Warm
	}
	return Cold
}

// Handoff is how an MQL goes to sales.
type Handoff struct {
	RejectReasons []string
	Routes        []Route // the last has no condition: the default team
	Webhook       *Webhook
	DigestSpec    string        // as written, such as "0 8 * * 1-5"
	Digest        cron.Schedule // nil without a digest
	Line          int
}

// Route sends the leads its condition holds for to a team of owners, who
// take turns.
type Route struct {
	If   *Expr // nil: every lead
	To   []string
	Line int
}

// Webhook is where handoffs are posted.
type Webhook struct {
	URL       string
	SecretEnv string // the environment variable that holds the secret
	Line      int
}

// ErrNoSecret means the webhook's environment variable is not set.
var ErrNoSecret = errors.New("scoring: webhook secret not set")

// Secret looks the webhook's secret up with getenv, such as os.Getenv.
func (w *Webhook) Secret(getenv func(string) string) (string, error) {
	s := getenv(w.SecretEnv)
	if s == "" {
		return "", fmt.Errorf("%w: the environment variable %s is empty", ErrNoSecret, w.SecretEnv)
	}
	return s, nil
}
