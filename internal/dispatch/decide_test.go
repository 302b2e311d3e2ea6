package dispatch

import (
	"testing"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/schedule"
)

// These are the engine's pure rules, tested without a database: which step
// a lead goes on with, and when it may go out.

func TestNextIndex_FollowsTheStepsIdentity(t *testing.T) {
	t.Parallel()
	// The sequence as it is now: "intro" was inserted, "old" deleted, and
	// "tips" moved from 02 to 03.
	q := &campaign.Sequence{}
	for i, s := range []struct {
		n    int
		slug string
	}{{1, "welcome"}, {2, "intro"}, {3, "tips"}, {5, "offer"}} {
		q.Steps = append(q.Steps, &campaign.Step{Slug: s.slug, Number: s.n, Index: i})
	}
	tests := []struct {
		name   string
		passed []string
		last   int
		want   string
	}{
		{"a new lead starts at the first step", nil, 0, "welcome"},
		{"the next step follows", []string{"welcome", "intro"}, 2, "tips"},
		{"a step inserted before the lead's position is never sent", []string{"welcome", "tips"}, 2, "offer"},
		{"a deleted last step continues by number", []string{"welcome", "old"}, 4, "offer"},
		{"only deleted steps passed continues by number", []string{"gone"}, 2, "tips"},
		{"after the last step the sequence is done", []string{"welcome", "intro", "tips", "offer"}, 5, ""},
		{"a step moved behind the lead is not sent twice", []string{"welcome", "offer", "intro"}, 2, "tips"},
	}
	for _, tt := range tests {
		got := ""
		if i := nextIndex(q, tt.passed, tt.last); i < len(q.Steps) {
			got = q.Steps[i].Slug
		}
		if got != tt.want {
			t.Errorf("%s: nextIndex(%v, %d) = %q, want %q", tt.name, tt.passed, tt.last, got, tt.want)
		}
	}
}

func TestSendAt_DelayThenWindowAndNeverBeforeNow(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	office, err := schedule.ParseWindow("Mon-Fri 09:00-17:00")
	if err != nil {
		t.Fatal(err)
	}
	q := &campaign.Sequence{Window: office}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	step := func(delay string, own *schedule.Window) *campaign.Step {
		d, err := schedule.ParseDelay(delay)
		if err != nil {
			t.Fatal(err)
		}
		return &campaign.Step{Delay: d, Window: own}
	}
	tests := []struct {
		name            string
		st              *campaign.Step
		base, now, want string
		fast            bool
	}{
		{"inside the window the delay alone counts", step("2h", nil), "2026-11-02 10:00", "2026-11-02 10:00", "2026-11-02 12:00", false},
		{"after hours waits for the next morning", step("8h", nil), "2026-11-02 10:00", "2026-11-02 10:00", "2026-11-03 09:00", false},
		{"a Friday evening waits for Monday", step("0", nil), "2026-11-06 21:30", "2026-11-06 21:30", "2026-11-09 09:00", false},
		{"a step's own window any goes at once", step("0", &schedule.Window{}), "2026-11-06 21:30", "2026-11-06 21:30", "2026-11-06 21:30", false},
		{"days are calendar days across the autumn change", step("1d", &schedule.Window{}), "2026-10-24 10:00", "2026-10-24 10:00", "2026-10-25 10:00", false},
		{"a dispatcher that fell behind sends now, not in the past", step("1d", nil), "2026-11-02 10:00", "2026-11-05 11:00", "2026-11-05 11:00", false},
		{"fell behind into the night waits for the window", step("1d", nil), "2026-11-02 10:00", "2026-11-05 20:00", "2026-11-06 09:00", false},
		{"fast mode shortens the delay and ignores the window", step("1d", nil), "2026-11-06 21:30", "2026-11-06 21:30", "2026-11-06 21:30", true},
	}
	for _, tt := range tests {
		d := &Dispatcher{cfg: Config{Fast: tt.fast}}
		want := at(tt.want)
		if tt.fast {
			want = want.Add(24 * time.Hour / FastFactor)
		}
		if got := d.sendAt(q, tt.st, at(tt.base), berlin, at(tt.now)); !got.Equal(want) {
			t.Errorf("%s: sendAt = %s, want %s", tt.name, got.In(berlin), want.In(berlin))
		}
	}
}
