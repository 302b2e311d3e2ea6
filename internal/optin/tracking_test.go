package optin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/lead"
)

func trackedSignup(email string, yes bool) lead.Signup {
	s := signupOf(email)
	s.Tracking, s.TrackingText, s.TrackingVersion = &yes, "You may see what I open.", "t1"
	return s
}

// The answer travels with the link: a resend's link carries it, and
// confirming that link applies it, with the resend's words in force.
func TestTracking_ResendCarriesTheAnswerToTheConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if err := b.svc.Subscribe(ctx, trackedSignup("ada@example.com", true), lead.Evidence{}); err != nil {
		t.Fatal(err)
	}
	old, _ := tokens(t, b.onlyMail(t, 0))
	b.clock.Advance(72 * time.Hour)
	if err := b.svc.Resend(ctx, old, lead.Evidence{}); err != nil {
		t.Fatal(err)
	}
	fresh, _ := tokens(t, b.onlyMail(t, 1))
	d, kinds := b.lookup(t, "ada@example.com")
	if kinds != "signup resend" || d.Tracking.Consent {
		t.Fatalf("before confirming: %s, %+v", kinds, d.Tracking)
	}
	if r := d.Ledger[1]; r.Tracking == nil || !*r.Tracking || r.TrackingVersion != "t1" {
		t.Errorf("the resend entry records %+v", r.Evidence)
	}
	if _, err := b.svc.Confirm(ctx, fresh, lead.Evidence{}); err != nil {
		t.Fatal(err)
	}
	d, _ = b.lookup(t, "ada@example.com")
	want := TrackingState{Lead: d.ID, Email: "ada@example.com", Consent: true, Tracked: true, Mode: TrackingConsent, Text: "You may see what I open.", Version: "t1"}
	if d.Tracking != want {
		t.Errorf("after confirming: %+v, want %+v", d.Tracking, want)
	}
}

func TestTracking_SetWritesAnEntryOnlyWhenItChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if err := b.svc.Subscribe(ctx, trackedSignup("ada@example.com", false), lead.Evidence{}); err != nil {
		t.Fatal(err)
	}
	tok, _ := tokens(t, b.onlyMail(t, 0))
	d, _ := b.lookup(t, "ada@example.com")
	w := Wording{"You may see what I open.", "t1"}
	if _, _, err := b.svc.SetTracking(ctx, d.ID, true, w, lead.Evidence{}); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("grant before confirming: %v", err)
	}
	if _, err := b.svc.Confirm(ctx, tok, lead.Evidence{}); err != nil {
		t.Fatal(err)
	}
	if st, changed, err := b.svc.SetTracking(ctx, d.ID, false, Wording{}, lead.Evidence{}); err != nil || changed || st.Consent {
		t.Fatalf("withdraw what was never given: %+v %v %v", st, changed, err)
	}
	ev := lead.Evidence{IP: "192.0.2.5", UserAgent: "ua\x00"}
	if st, changed, err := b.svc.SetTracking(ctx, d.ID, true, w, ev); err != nil || !changed || !st.Tracked || st.Version != "t1" {
		t.Fatalf("grant: %+v %v %v", st, changed, err)
	}
	if _, changed, _ := b.svc.SetTracking(ctx, d.ID, true, w, ev); changed {
		t.Fatal("a second grant changed something")
	}
	if _, changed, err := b.svc.SetTracking(ctx, d.ID, false, Wording{}, ev); err != nil || !changed {
		t.Fatalf("withdraw: %v %v", changed, err)
	}
	d, kinds := b.lookup(t, "ada@example.com")
	if kinds != "signup confirmation tracking_granted tracking_withdrawn" {
		t.Fatalf("ledger %s", kinds)
	}
	g, wd := d.Ledger[2], d.Ledger[3]
	if g.IP != "192.0.2.5" || g.UserAgent != "ua\uFFFD" || g.At.IsZero() || !*g.Tracking || g.TrackingText != w.Text {
		t.Errorf("grant entry %+v", g.Evidence)
	}
	// The withdrawal names what it withdraws: the grant's words.
	if *wd.Tracking || wd.TrackingVersion != "t1" || wd.TrackingText != w.Text {
		t.Errorf("withdrawal entry %+v", wd.Evidence)
	}
	if _, _, err := b.svc.SetTracking(ctx, d.ID, true, Wording{"Other words.", "t1"}, ev); err == nil {
		t.Error("a grant of other words under a version kept took")
	}
	if _, _, err := b.svc.SetTracking(ctx, d.ID, true, Wording{}, ev); err == nil {
		t.Error("a grant without words took")
	}
}

func TestTracking_ModeDecidesWhoIsTracked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode             string
		consent, unasked bool
	}{{TrackingConsent, true, false}, {TrackingAll, true, true}, {TrackingOff, false, false}} {
		b := setupWith(t, Options{Tracking: tt.mode})
		ctx := context.Background()
		b.svc.Subscribe(ctx, trackedSignup("yes@example.com", true), lead.Evidence{})
		b.svc.Subscribe(ctx, signupOf("unasked@example.com"), lead.Evidence{})
		for i, m := range b.deliver(t) {
			tok, _ := tokens(t, m)
			if _, err := b.svc.Confirm(ctx, tok, lead.Evidence{}); err != nil {
				t.Fatal(i, err)
			}
		}
		yes, _ := b.lookup(t, "yes@example.com")
		no, _ := b.lookup(t, "unasked@example.com")
		if yes.Tracking.Tracked != tt.consent || no.Tracking.Tracked != tt.unasked || !yes.Tracking.Consent || no.Tracking.Consent {
			t.Errorf("%s: consenting %+v, unasked %+v", tt.mode, yes.Tracking, no.Tracking)
		}
	}
}
