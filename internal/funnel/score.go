package funnel

import (
	"context"
	"strconv"
	"strings"

	"github.com/nurture/nurture/internal/scoring"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/tracking"
)

// rules returns the live scoring rules, or nil.
func (s *Service) rules() *scoring.Rules {
	if s.cfg.Rules == nil {
		return nil
	}
	return s.cfg.Rules()
}

// ScoreDue scores every event that is due, in batches, and returns how
// many it took. Without scoring rules it takes none: the events wait for a
// scoring.yaml.
func (s *Service) ScoreDue(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.scoreBatch(ctx)
		total += n
		if err != nil || n < s.cfg.Batch {
			return total, err
		}
	}
}

// scoreBatch claims one batch of events and scores them, each lead locked,
// in one transaction.
func (s *Service) scoreBatch(ctx context.Context) (int, error) {
	rules := s.rules()
	if rules == nil {
		return 0, nil
	}
	now := s.now()
	var n int
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		evs, err := tx.ClaimUnscored(ctx, now.Add(-s.cfg.Settle), s.cfg.Batch)
		if err != nil || len(evs) == 0 {
			return err
		}
		n = len(evs)
		byLead := map[int64][]store.ScoreEvent{}
		var leadIDs, eventIDs []int64
		for _, ev := range evs {
			if byLead[ev.LeadID] == nil {
				leadIDs = append(leadIDs, ev.LeadID)
			}
			byLead[ev.LeadID] = append(byLead[ev.LeadID], ev)
			eventIDs = append(eventIDs, ev.ID)
		}
		leads, err := tx.LeadsForScoring(ctx, leadIDs)
		if err != nil {
			return err
		}
		if len(leads) < len(leadIDs) { // an event written while its lead was erased
			if err := tx.DeleteGoneEvents(ctx, leadIDs); err != nil {
				return err
			}
		}
		for i := range leads {
			lg, err := openLedger(ctx, tx, &leads[i], byLead[leads[i].ID])
			if err != nil {
				return err
			}
			for _, ev := range byLead[leads[i].ID] {
				lg.apply(rules, ev)
			}
			if err := s.settle(ctx, tx, rules, lg, now); err != nil {
				return err
			}
		}
		return tx.MarkScored(ctx, eventIDs, now)
	})
	return n, err
}

// ledger is one lead's score ledger while scoring works on it: the rows it
// has, the rows scoring adds, and which mails and links earned points
// already.
type ledger struct {
	lead    *store.ScoreLead
	entries []store.ScoreEntry // what is written and what is added
	added   []store.ScoreEntry
	opened  map[int64]bool    // by message id
	clicked map[[2]int64]bool // by message id and link
}

func newLedger(l *store.ScoreLead) *ledger {
	return &ledger{lead: l, opened: map[int64]bool{}, clicked: map[[2]int64]bool{}}
}

// openLedger reads a locked lead's ledger, and the opens and clicks taken
// before of the mails evs come from.
func openLedger(ctx context.Context, tx *store.Tx, l *store.ScoreLead, evs []store.ScoreEvent) (*ledger, error) {
	lg := newLedger(l)
	var err error
	if lg.entries, err = tx.ScoreEntries(ctx, l.ID); err != nil {
		return nil, err
	}
	var mails []int64
	for _, ev := range evs {
		if ev.MessageID != 0 {
			mails = append(mails, ev.MessageID)
		}
	}
	seen, err := tx.EngagedMail(ctx, l.ID, mails)
	if err != nil {
		return nil, err
	}
	for _, e := range seen {
		lg.opened[e.MessageID] = true // a click counted as its mail's open
		if e.Source == "click" {
			lg.clicked[[2]int64{e.MessageID, int64(e.Link)}] = true
		}
	}
	return lg, nil
}

// apply adds the points of one event, if its verdict counts, under the
// caps of its day as the ledger has them.
func (lg *ledger) apply(rules *scoring.Rules, ev store.ScoreEvent) {
	if !tracking.Verdict(ev.Verdict).Counts() {
		return
	}
	sig := lg.signal(ev)
	a := rules.SignalPoints(sig, lg.today(sig))
	for _, r := range a.Reasons {
		// A link's extra points and a click's open name the mail; the
		// signal names the address already. A click names its address and
		// its mail, as a link's extra points do.
		switch {
		case r.Rule == "points.urls" || (r.Rule == "points.open" && sig.Kind == scoring.SignalClick):
			r.Ref = ""
			if ev.Source == "click" {
				r.Ref = mailRef(ev)
			}
		case r.Rule == "points.click" && ev.Source == "click":
			r.Ref = strings.TrimSpace(r.Ref + " " + mailRef(ev))
		}
		lg.add(store.ScoreEntry{
			LeadID: lg.lead.ID, At: ev.At, Kind: store.EntryEngagement, EventID: ev.ID,
			Rule: r.Rule, Line: r.Line, Signal: r.Signal, Ref: r.Ref, Note: r.Note, Points: r.Points,
		})
	}
}

func (lg *ledger) add(e store.ScoreEntry) {
	lg.entries = append(lg.entries, e)
	lg.added = append(lg.added, e)
}

// signal is what an event is to scoring. An open earns once per mail, a
// click once per link of a mail, and a click of a mail with no open counts
// as its open, once.
func (lg *ledger) signal(ev store.ScoreEvent) scoring.Signal {
	sig := scoring.Signal{At: ev.At, URL: ev.URL, Ref: ev.URL}
	switch {
	case ev.Source == "pixel":
		sig.Kind, sig.Ref, sig.URL = scoring.SignalOpen, mailRef(ev), ""
		sig.Repeat = ev.MessageID != 0 && lg.opened[ev.MessageID]
		lg.opened[ev.MessageID] = true
	case ev.Source == "click":
		sig.Kind = scoring.SignalClick
		link := [2]int64{ev.MessageID, int64(ev.Link)}
		sig.Repeat = ev.MessageID != 0 && lg.clicked[link]
		sig.Unopened = ev.MessageID == 0 || !lg.opened[ev.MessageID]
		lg.opened[ev.MessageID], lg.clicked[link] = true, true
	case ev.Source == "system" && ev.Type == string(scoring.SignalConfirmed):
		sig.Kind, sig.Ref = scoring.SignalConfirmed, ""
	default:
		sig.Kind, sig.Type = scoring.SignalEvent, ev.Type
	}
	return sig
}

// mailRef names the mail of an open: its step, or its message.
func mailRef(ev store.ScoreEvent) string {
	if ev.StepKey != "" {
		return ev.StepKey
	}
	return "message " + strconv.FormatInt(ev.MessageID, 10)
}

// today is what the lead earned on the signal's day, by cap.
func (lg *ledger) today(sig scoring.Signal) scoring.Today {
	day := scoring.Day(sig.At)
	var a scoring.Award
	for _, e := range lg.entries {
		if e.Kind == store.EntryEngagement && scoring.Day(e.At).Equal(day) {
			a.Reasons = append(a.Reasons, scoring.Reason{Rule: e.Rule, Points: e.Points})
		}
	}
	t := scoring.Today{}
	t.Add(a)
	return t
}

// engagement is the ledger's engagement entries earned after since (all
// when since is nil), for decay.
func (lg *ledger) engagement(since *store.ScoreLead) []scoring.Entry {
	var out []scoring.Entry
	for _, e := range lg.entries {
		if e.Kind != store.EntryEngagement {
			continue
		}
		if since != nil && since.RecycledAt != nil && !e.At.After(*since.RecycledAt) {
			continue
		}
		out = append(out, scoring.Entry{At: e.At, Points: e.Points})
	}
	return out
}
