package web

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/nurture/nurture/internal/report"
)

// Reports is the reports as the admin API serves them; *report.Service is
// one.
type Reports interface {
	Engagement(ctx context.Context, f report.Filter) (*report.Engagement, error)
}

// reportRoutes are the admin API's reports.
func (s *Server) reportRoutes() []route {
	if s.cfg.Reports == nil {
		return nil
	}
	return []route{{"GET", "/api/v1/reports/engagement", s.engagementReport, true}}
}

// The engagement report's answer: every figure of opens and clicks comes
// raw (every hit recorded) beside counted (the verdicts in
// counted_verdicts).
type (
	engagementJSON struct {
		Sequence        string         `json:"sequence,omitempty"`
		Since           *time.Time     `json:"since,omitempty"`
		CountedVerdicts []string       `json:"counted_verdicts"`
		Sequences       []sequenceJSON `json:"sequences"`
	}
	sequenceJSON struct {
		Name  string     `json:"name"`
		Steps []stepJSON `json:"steps"`
	}
	stepJSON struct {
		Step           string       `json:"step"`
		Sent           int64        `json:"sent"`
		Opens          countJSON    `json:"opens"`
		Clicks         countJSON    `json:"clicks"`
		UniqueOpeners  int64        `json:"unique_openers"`
		UniqueClickers int64        `json:"unique_clickers"`
		RawByVerdict   verdictsJSON `json:"raw_by_verdict"`
		Links          []linkJSON   `json:"links"`
	}
	countJSON struct {
		Raw     int64 `json:"raw"`
		Counted int64 `json:"counted"`
	}
	verdictsJSON struct {
		Human      int64 `json:"human"`
		ImageProxy int64 `json:"image_proxy"`
		AppleMPP   int64 `json:"apple_mpp"`
		Scanner    int64 `json:"scanner"`
		Prefetch   int64 `json:"prefetch"`
	}
	linkJSON struct {
		URL      string    `json:"url,omitempty"`
		Text     string    `json:"text,omitempty"`
		Honeypot bool      `json:"honeypot,omitempty"`
		Clicks   countJSON `json:"clicks"`
	}
)

// sequenceParam is what a sequence's ID (its folder's name) may be.
var sequenceParam = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// engagementReport is GET /api/v1/reports/engagement?sequence=&since=.
func (s *Server) engagementReport(w http.ResponseWriter, r *http.Request) {
	f, err := reportFilter(r)
	var e *report.Engagement
	if err == nil {
		e, err = s.cfg.Reports.Engagement(r.Context(), f)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, engagementOf(e))
}

// reportFilter reads sequence= and since= (a day, 2026-11-01, taken in
// UTC, or an RFC 3339 time).
func reportFilter(r *http.Request) (report.Filter, error) {
	q := r.URL.Query()
	f := report.Filter{Sequence: q.Get("sequence")}
	if f.Sequence != "" && !sequenceParam.MatchString(f.Sequence) {
		return f, badRequest("sequence: not a sequence's name (its folder in campaigns/), such as ebook-datensicherheit")
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			t, err = time.Parse(time.RFC3339, v)
		}
		if err != nil {
			return f, badRequest("since: a day such as 2026-11-01 (UTC) or a time such as 2026-11-01T09:00:00+01:00")
		}
		f.Since = t.UTC()
	}
	return f, nil
}

func engagementOf(e *report.Engagement) engagementJSON {
	out := engagementJSON{Sequence: e.Filter.Sequence, CountedVerdicts: []string{"human", "image_proxy"},
		Sequences: []sequenceJSON{}}
	if !e.Filter.Since.IsZero() {
		since := e.Filter.Since.UTC()
		out.Since = &since
	}
	for _, q := range e.Sequences {
		sq := sequenceJSON{Name: q.Name, Steps: []stepJSON{}}
		for _, st := range q.Steps {
			js := stepJSON{
				Step: st.Key, Sent: st.Sent,
				Opens:          countJSON(st.Opens),
				Clicks:         countJSON(st.Clicks),
				UniqueOpeners:  st.Openers,
				UniqueClickers: st.Clickers,
				RawByVerdict:   verdictsJSON(st.Verdicts),
				Links:          []linkJSON{},
			}
			for _, l := range st.Links {
				js.Links = append(js.Links, linkJSON{URL: l.URL, Text: l.Text, Honeypot: l.Honeypot, Clicks: countJSON(l.Clicks)})
			}
			sq.Steps = append(sq.Steps, js)
		}
		out.Sequences = append(out.Sequences, sq)
	}
	return out
}
