package dispatch_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/campaign"
	"github.com/nurture/nurture/internal/devmail"
	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/templates"
)

// monday is Monday 2 November 2026, 09:30 UTC.
var monday = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

const day = 24 * time.Hour

func step(subject, delay, extra, body string) string {
	return "---\nsubject: " + subject + "\ndelay: " + delay + "\n" + extra + "---\n" + body + "\n"
}

// sequence writes the sequence in dir, its sequence.md and its steps
// (file name to text), and loads the campaigns.
func (b *bundle) sequence(dir, sequenceMD string, steps map[string]string) {
	b.t.Helper()
	b.write(dir+"/sequence.md", sequenceMD)
	for name, text := range steps {
		b.write(dir+"/"+name, text)
	}
	b.load()
}

// wantNoMore advances a month and wants the mails sent so far, subjects
// in order, and no more.
func (b *bundle) wantNoMore(subjects ...string) {
	b.t.Helper()
	b.advance(30 * day)
	b.wantSubjects(subjects...)
}

// started is a bundle at monday with threeSteps(seqExtra) and one lead,
// first at email, whose first step has run.
func started(t *testing.T, seqExtra, email, first string) (*bundle, int64) {
	t.Helper()
	b := setup(t, monday)
	b.threeSteps(seqExtra)
	id := b.lead(email, first, nil)
	b.run()
	return b, id
}

// threeSteps writes the sequence "welcome": at once, after 2 days, after a
// week.
func (b *bundle) threeSteps(seqExtra string) {
	b.sequence("welcome", "---\nname: Welcome\ntrigger: confirmed\n"+seqExtra+"---\nThe welcome series.\n", map[string]string{
		"01-hello.md": step("Hello {{ .Lead.FirstName }}", "0", "", "Welcome aboard, {{ or .Lead.FirstName \"there\" }}!"),
		"02-tips.md":  step("Three tips", "2d", "", "Here are [three tips](https://acme.example/tips)."),
		"03-offer.md": step("An offer", "1w", "", "A good offer."),
	})
}

// dripABC writes the sequence "drip": steps A, B and C numbered 10, 20
// and 30, a day apart.
func (b *bundle) dripABC() {
	b.t.Helper()
	b.sequence("drip", "---\ntrigger: confirmed\n---\n", map[string]string{
		"10-a.md": step("A", "0", "", "a"),
		"20-b.md": step("B", "1d", "", "b"),
		"30-c.md": step("C", "1d", "", "c"),
	})
}

func TestSequence_ThreeStepsGoOutAfterTheirDelays(t *testing.T) {
	t.Parallel()
	b, id := started(t, "", "anna@example.com", "Anna")
	b.wantSubjects("Hello Anna")
	b.advance(2*day - time.Minute)
	b.wantSubjects("Hello Anna")
	b.advance(time.Minute)
	b.wantSubjects("Hello Anna", "Three tips")
	b.advance(7*day - time.Second)
	b.wantSubjects("Hello Anna", "Three tips")
	b.advance(time.Second)
	b.wantSubjects("Hello Anna", "Three tips", "An offer")

	e := b.enrolment(id)
	if e.State != lead.EnrolmentCompleted || strings.Join(e.StepsDone, ",") != "hello,tips,offer" {
		t.Fatalf("enrolment at the end: %+v", e)
	}
	b.wantNoMore("Hello Anna", "Three tips", "An offer")
}

func TestStep_FalseConditionIsSkippedAndTheLeadMovesOn(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	b.tipsForReaders()
	reader := b.lead("reader@example.com", "Rita", nil)
	clicker := b.lead("clicker@example.com", "Cleo", nil) // images blocked: a click and no open
	skipper := b.lead("skipper@example.com", "Sam", nil)
	b.run()
	b.opened(reader, "welcome/hello")
	b.clicked(clicker, "welcome/hello", "https://acme.example/")

	b.advance(2 * day)
	got := b.subjectsTo()
	if strings.Join(got["reader@example.com"], "|") != "Hello Rita|Three tips" || strings.Join(got["clicker@example.com"], "|") != "Hello Cleo|Three tips" ||
		strings.Join(got["skipper@example.com"], "|") != "Hello Sam" {
		t.Fatalf("after 2 days: %v", got)
	}
	if e := b.enrolment(skipper); strings.Join(e.StepsDone, ",") != "hello,tips" || e.State != lead.EnrolmentActive {
		t.Fatalf("skipped step not passed: %+v", e)
	}
	// The offer waits a week from when the skipped step was due, as
	// `campaigns timeline` shows, for both leads alike.
	b.advance(7*day - time.Minute)
	if n := len(b.mail.Messages()); n != 5 {
		t.Fatalf("the offer went out early: %d mails", n)
	}
	b.advance(time.Minute)
	if n := len(b.mail.Messages()); n != 8 {
		t.Fatalf("after 9 days: %d mails, want 8", n)
	}
}

// wantDue wants the lead's enrolment due at want; what names the step.
func (b *bundle) wantDue(id int64, want time.Time, what string) {
	b.t.Helper()
	if e := b.enrolment(id); !e.DueAt.Equal(want) {
		b.t.Fatalf("%s is due %s, want %s", what, e.DueAt.UTC(), want)
	}
}

// wantHelloThenTipsTwoDaysLater runs at first and wants the welcome of
// threeSteps, then wants the tips two days later and not a second
// before.
func (b *bundle) wantHelloThenTipsTwoDaysLater(first time.Time, hello string) {
	b.t.Helper()
	b.runAt(first, hello)
	b.runAt(first.Add(2*day-time.Second), hello)
	b.runAt(first.Add(2*day), hello, "Three tips")
}

func TestWindow_EuropeBerlinAcrossTheSpringDSTChange(t *testing.T) {
	t.Parallel()
	// Friday 27 March 2026, 17:30 in Berlin (CET, UTC+1): after the window.
	// Clocks go forward on Sunday 29 March, so Monday 09:00 is 07:00 UTC.
	b := setup(t, time.Date(2026, 3, 27, 16, 30, 0, 0, time.UTC))
	b.threeSteps("send_window: Mon-Fri 09:00-17:00\ntimezone: lead\n")
	id := b.lead("berlin@example.com", "Bea", lead.Attributes{"timezone": "Europe/Berlin"})

	b.run()
	b.wantSubjects()
	want := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)
	b.wantDue(id, want, "first step (Monday 09:00 CEST)")
	b.runAt(want.Add(-time.Minute))
	// 2 days later is Wednesday 09:00 CEST, inside the window.
	b.wantHelloThenTipsTwoDaysLater(want, "Hello Bea")
}

func TestWindow_AutumnDSTChangeInBerlin(t *testing.T) {
	t.Parallel()
	// Saturday 24 October 2026 10:00 UTC; clocks go back on Sunday 25
	// October, so Monday 09:00 in Berlin is 08:00 UTC.
	b := setup(t, time.Date(2026, 10, 24, 10, 0, 0, 0, time.UTC))
	b.threeSteps("send_window: Mon-Fri 09:00-17:00\ntimezone: Europe/Berlin\n")
	id := b.lead("herbst@example.com", "Hans", nil)
	want := time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)
	b.wantDue(id, want, "first step (Monday 09:00 CET)")
	b.run()
	b.wantSubjects()
	// 07:00 UTC would be 09:00 at the summer offset the lead confirmed in.
	b.runAt(time.Date(2026, 10, 26, 7, 0, 0, 0, time.UTC))
	b.runAt(want.Add(-time.Second))
	// Two calendar days later, Wednesday 09:00 CET, inside the window.
	b.wantHelloThenTipsTwoDaysLater(want, "Hello Hans")
}

func TestWindow_TheRepeatedAutumnHourCountsBothTimes(t *testing.T) {
	t.Parallel()
	// Sunday 25 October 2026 in Berlin: 02:00-03:00 happens first in CEST
	// (00:00-01:00 UTC), then again in CET (01:00-02:00 UTC).
	b := setup(t, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC))
	b.sequence("night", "---\ntrigger: confirmed\nsend_window: daily 02:00-03:00\ntimezone: Europe/Berlin\n---\n", map[string]string{
		"01-first.md":  step("First pass", "0", "", "a"),
		"02-second.md": step("Second pass", "45m", "", "b"),
		"03-after.md":  step("After", "30m", "", "c"),
	})
	b.lead("night@example.com", "Nina", nil)
	b.run()
	b.wantSubjects("First pass")
	// 45 minutes later it is 02:15 again, now in CET: still inside.
	b.advance(45*time.Minute - time.Second)
	b.wantSubjects("First pass")
	b.advance(time.Second)
	b.wantSubjects("First pass", "Second pass")
	// 30 minutes later it is 02:45 CET.
	b.advance(30 * time.Minute)
	b.wantSubjects("First pass", "Second pass", "After")
}

func TestExit_OnEventEndsTheEnrolment(t *testing.T) {
	t.Parallel()
	b, id := started(t, "exit:\n  event: demo_booked\n", "demo@example.com", "Dora")
	b.event(id, "demo_booked")
	b.wantNoMore("Hello Dora")
	if e := b.enrolment(id); e.State != lead.EnrolmentExited || !strings.Contains(e.EndedReason, "demo_booked") {
		t.Fatalf("enrolment: %+v", e)
	}
}

func TestExit_OnClickedURL(t *testing.T) {
	t.Parallel()
	b, id := started(t, "exit:\n  clicked_url: https://acme.example/pricing*\n", "click@example.com", "Cleo")
	b.clicked(id, "welcome/hello", "https://acme.example/pricing?plan=team")
	b.wantNoMore("Hello Cleo")
	b.wantState(id, lead.EnrolmentExited)
}

func TestExit_OnClickedURLOfAPageViewed(t *testing.T) {
	t.Parallel()
	b, id := started(t, "exit:\n  clicked_url: https://acme.example/pricing*\n", "view@example.com", "Vera")
	b.viewed(id, "https://acme.example/pricing")
	b.wantNoMore("Hello Vera")
	b.wantState(id, lead.EnrolmentExited)
}

func TestEdits_WhileEnrolled_EditAppliesInsertIsNeverSentDeleteIsSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.dripABC()
	old := b.lead("old@example.com", "Olga", nil)
	b.run()
	b.advance(day)
	b.wantSubjects("A", "B")

	// Edited text applies to what is sent from now on; a step inserted
	// before the lead's position is never sent to it; a deleted step is
	// skipped.
	b.write("drip/20-b.md", step("B edited", "1d", "", "b, better"))
	b.write("drip/15-early.md", step("Early", "0", "", "inserted"))
	b.write("drip/30-c.md", "")
	b.write("drip/40-d.md", step("D", "1d", "", "d"))
	b.write("drip/50-e.md", step("E {{ .Lead.FirstName }}", "1d", "", "e"))
	b.load()
	b.advance(day)
	b.wantSubjects("A", "B", "D")
	b.advance(day)
	b.wantSubjects("A", "B", "D", "E Olga")
	if e := b.enrolment(old); e.State != lead.EnrolmentCompleted || strings.Join(e.StepsDone, ",") != "a,b,d,e" {
		t.Fatalf("old lead: %+v", e)
	}

	// A lead enrolled now walks the new version, edits included.
	b.mail.Reset()
	b.lead("new@example.com", "Nina", nil)
	b.run()
	b.advance(day)
	b.wantSubjectsAnyOrder("A", "Early", "B edited")
}

func TestEdits_LastPassedStepDeleted_LeadGoesOnAfterItsNumber(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.sequence("drip", "---\ntrigger: confirmed\n---\n", map[string]string{
		"01-a.md": step("A", "0", "", "a"),
		"02-b.md": step("B", "1d", "", "b"),
	})
	b.lead("x@example.com", "X", nil)
	b.run()
	b.write("drip/01-a.md", "")
	b.write("drip/01-z.md", step("Z", "0", "", "z"))
	b.load()
	b.advance(day)
	b.wantSubjects("A", "B")
}

func TestEdits_LastPassedStepDeleted_StepsInsertedBeforeItAreNotSent(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.dripABC()
	b.lead("x@example.com", "X", nil)
	b.run()
	b.advance(day)
	b.wantSubjects("A", "B")
	// The lead stands at 20. B goes, and a step is inserted at 15, before
	// that position: the lead goes on with C.
	b.write("drip/20-b.md", "")
	b.write("drip/15-early.md", step("Early", "0", "", "inserted"))
	b.load()
	b.advance(day)
	b.wantSubjects("A", "B", "C")
}

func TestSequenceRemoved_EnrolmentsStop(t *testing.T) {
	t.Parallel()
	b, id := started(t, "", "gone@example.com", "Gus")
	b.write("other/sequence.md", "---\ntrigger: manual\n---\n")
	b.write("other/01-x.md", step("X", "0", "", "x"))
	if err := os.RemoveAll(filepath.Join(b.dir, "welcome")); err != nil {
		t.Fatal(err)
	}
	b.load()
	b.wantNoMore("Hello Gus")
	b.wantState(id, lead.EnrolmentStopped)
}

func TestSMTP4xx_IsRetriedAndSentOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	b.mail.SetRule(devmail.Fail(devmail.AtRcpt, devmail.Reply{Code: 451, Enhanced: "4.3.0", Text: "try later"}))
	b.lead("grey@example.com", "Greta", nil)
	b.run()
	b.wantSubjects()
	b.advance(time.Minute)
	b.wantSubjects()
	if s := b.relay.Stats(); s.Retried != 2 || s.Bounced != 0 {
		t.Fatalf("relay stats: %+v", s)
	}
	b.mail.SetRule(nil)
	b.advance(time.Minute)
	b.wantSubjects("Hello Greta")
	b.advance(2 * day)
	b.wantSubjects("Hello Greta", "Three tips")
}

func TestSMTP5xx_BouncesTheLeadAndStopsItsEnrolments(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	b.mail.SetRule(devmail.Fail(devmail.AtRcpt, devmail.Reply{Code: 550, Enhanced: "5.1.1", Text: "no such user"}, "nobody@example.com"))
	gone := b.lead("nobody@example.com", "Nobody", nil)
	b.lead("fine@example.com", "Fine", nil)
	b.run()
	b.advance(2 * day)
	b.advance(7 * day)
	b.wantSubjects("Hello Fine", "Three tips", "An offer")
	l, err := b.store.LeadByID(b.ctx, gone)
	if err != nil || l.Status != lead.StatusBounced {
		t.Fatalf("lead: %+v %v", l, err)
	}
	b.wantStopped(gone, "bounced")
}

func TestSMTPDownThenUp_NothingIsLost(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	if err := b.mail.StopSMTP(); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		b.lead(e, "Pat", nil)
	}
	b.run()
	b.advance(time.Minute)
	if len(b.mail.Messages()) != 0 {
		t.Fatal("mail caught while SMTP was down")
	}
	if err := b.mail.StartSMTP(); err != nil {
		t.Fatal(err)
	}
	b.advance(time.Minute)
	if n := len(b.mail.Messages()); n != 3 {
		t.Fatalf("after SMTP came back: %d mails, want 3", n)
	}
	b.advance(2 * day)
	if n := len(b.mail.Messages()); n != 6 {
		t.Fatalf("next step: %d mails, want 6", n)
	}
}

func TestMarkupInName_ShowsLiterallyInHTMLAndText(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	name := `<b>x</b> [win](http://evil.example)`
	b.lead("markup@example.com", name, nil)
	b.run()
	msgs := b.mail.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails", len(msgs))
	}
	m := msgs[0]
	if strings.Contains(m.HTML, "<b>x") || strings.Contains(m.HTML, `href="http://evil.example`) {
		t.Fatalf("markup from the name reached the HTML:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;b&gt;x&lt;/b&gt; [win](http://evil.example)") {
		t.Fatalf("the name is not shown as text in the HTML:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "Welcome aboard, "+name+"!") {
		t.Fatalf("the name is not literal in the text:\n%s", m.Text)
	}
	if m.Subject != "Hello "+name {
		t.Fatalf("subject %q", m.Subject)
	}
}

func TestUnsubscribedLead_GetsNothingMore(t *testing.T) {
	t.Parallel()
	b, id := started(t, "", "bye@example.com", "Bye")
	b.inTx(func(tx *store.Tx) error {
		_, err := tx.UnsubscribeLead(b.ctx, id, b.clock.Now())
		return err
	})
	b.wantNoMore("Hello Bye")
	b.wantStopped(id, "unsubscribed")
}

func TestReload_InvalidEditIsRejectedAndTheLastGoodVersionKeepsSending(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("")
	lib, err := campaign.NewLibrary(b.dir, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	lib.OnChange(func(s *campaign.Set) { b.set.Store(s) })
	b.set.Store(lib.Set())
	b.lead("hot@example.com", "Hannah", nil)
	b.run()

	b.write("welcome/02-tips.md", step("Broken tips", "2 days", "", "Broken."))
	err = lib.Reload()
	var inv *campaign.InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), filepath.Join(b.dir, "welcome/02-tips.md")+":3:") {
		t.Fatalf("reload of a broken edit: %v", err)
	}
	b.advance(2 * day)
	b.wantSubjects("Hello Hannah", "Three tips")

	b.write("welcome/03-offer.md", step("A better offer", "1w", "", "Better."))
	b.write("welcome/02-tips.md", step("Three tips", "2d", "", "Fixed."))
	if err := lib.Reload(); err != nil {
		t.Fatal(err)
	}
	b.advance(7 * day)
	b.wantSubjects("Hello Hannah", "Three tips", "A better offer")
}

// A reload may add a sequence, and a lead confirm into it, at any moment
// of a tick: right after the tick read the campaigns, say. The tick then
// claims that enrolment, and must decide it with the campaigns as they
// are once it has claimed it, not as they were (which stopped it as
// "sequence removed"). Here the campaigns are read through a function
// that lets that happen right after its first call.
func TestReload_ASequenceAddedDuringATickIsSentNotStopped(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	var id int64
	var once sync.Once
	reloadAndConfirm := func() {
		once.Do(func() {
			b.sequence("welcome", "---\ntrigger: confirmed\n---\n", map[string]string{
				"01-hello.md": step("Hello {{ .Lead.FirstName }}", "0", "", "Hi."),
			})
			id = b.lead("anna@example.com", "Anna", nil)
		})
	}
	d, err := dispatch.New(b.store, func() *campaign.Set {
		defer reloadAndConfirm()
		return b.set.Load()
	}, b.composer, b.links, slog.New(slog.DiscardHandler), b.clock.Now, b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first tick may have found nothing due yet
		if _, err := d.Tick(b.ctx); err != nil {
			t.Fatal(err)
		}
		reloadAndConfirm()
	}
	if _, err := b.relay.Drain(b.ctx); err != nil {
		t.Fatal(err)
	}
	b.wantSubjects("Hello Anna")
	b.wantState(id, lead.EnrolmentCompleted)
}

func TestFastMode_ShortensDelaysAndIgnoresWindows(t *testing.T) {
	t.Parallel()
	saturdayNight := time.Date(2026, 11, 7, 23, 0, 0, 0, time.UTC)
	b := setupWith(t, saturdayNight, dispatch.Config{Fast: true})
	b.threeSteps("send_window: Mon-Fri 09:00-17:00\n")
	b.lead("fast@example.com", "Finn", nil)
	b.run()
	b.wantSubjects("Hello Finn")
	twoDays := 2 * day / dispatch.FastFactor
	b.advance(twoDays - time.Second)
	b.wantSubjects("Hello Finn")
	b.advance(time.Second)
	b.wantSubjects("Hello Finn", "Three tips")
	b.advance(7 * day / dispatch.FastFactor)
	b.wantSubjects("Hello Finn", "Three tips", "An offer")
}

func TestStageTrigger_EnrolsWhenTheStageIsReached(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.sequence("mql", "---\ntrigger:\n  stage: mql\n---\n", map[string]string{
		"01-call.md": step("Shall we talk?", "0", "", "Book a call."),
	})
	id := b.lead("warm@example.com", "Wanda", nil)
	b.run()
	b.wantSubjects()
	b.inTx(func(tx *store.Tx) error {
		return b.disp.OnStage(b.ctx, tx, id, lead.StageMQL, b.clock.Now())
	})
	b.run()
	b.wantSubjects("Shall we talk?")
}

func TestStepMail_CarriesThePreheaderOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.sequence("welcome", "---\ntrigger: confirmed\n---\n", map[string]string{
		"01-hello.md": step("Hello", "0", "preheader: Three chapters to read first\n", "Welcome aboard."),
	})
	b.lead("pre@example.com", "Pia", nil)
	b.run()
	msgs := b.mail.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want 1", len(msgs))
	}
	if n := strings.Count(msgs[0].HTML, "Three chapters to read first"); n != 1 {
		t.Fatalf("the preheader is %d times in the HTML, want once:\n%s", n, msgs[0].HTML)
	}
}

func TestWindow_AStepsOwnWindowOverridesTheSequences(t *testing.T) {
	t.Parallel()
	// Friday 6 November 2026, 21:30 in Berlin (CET): after office hours.
	friday := time.Date(2026, 11, 6, 20, 30, 0, 0, time.UTC)
	b := setup(t, friday)
	b.sequence("ebook", "---\ntrigger: confirmed\nsend_window: Mon-Fri 09:00-17:00\ntimezone: Europe/Berlin\n---\n", map[string]string{
		"01-your-copy.md":     step("Your copy", "0", "send_window: any\n", "Here it is."),
		"02-restore-check.md": step("Restore check", "0", "", "A check."),
		"03-weekend.md":       step("Weekend read", "0", "send_window: Sat-Sun 10:00-14:00\n", "For Sunday."),
	})
	id := b.lead("download@example.com", "Dana", nil)
	b.run()
	b.wantSubjects("Your copy")
	monday := time.Date(2026, 11, 9, 8, 0, 0, 0, time.UTC) // 09:00 CET
	b.wantDue(id, monday, "the next step (Monday 09:00 in Berlin)")
	b.runAt(monday.Add(-time.Second), "Your copy")
	b.runAt(monday, "Your copy", "Restore check")
	// The weekend step keeps to its own window: Saturday 10:00 in Berlin.
	saturday := time.Date(2026, 11, 14, 9, 0, 0, 0, time.UTC)
	b.wantDue(id, saturday, "the weekend step")
	b.runAt(saturday, "Your copy", "Restore check", "Weekend read")
}

func TestConditions_ClickedAndClickedURLReadTheLeadFacts(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.sequence("drip", "---\ntrigger: confirmed\n---\n", map[string]string{
		"01-guide.md":    step("Guide", "0", "", "Read [the guide](https://acme.example/guide)."),
		"02-more.md":     step("More for clickers", "1d", "if: clicked(previous)\n", "More."),
		"03-pricing.md":  step("About pricing", "1d", `if: clicked_url("https://acme.example/pricing*")`+"\n", "Pricing."),
		"04-reminder.md": step("Guide reminder", "1d", `if: not clicked("guide")`+"\n", "The guide, again."),
	})
	clicker := b.lead("clicker@example.com", "Cleo", nil)
	pricer := b.lead("pricer@example.com", "Pia", nil)
	opener := b.lead("opener@example.com", "Otto", nil)
	viewer := b.lead("viewer@example.com", "Vera", nil)
	b.lead("quiet@example.com", "Quinn", nil)
	b.run()
	b.clicked(clicker, "drip/guide", "https://acme.example/guide")
	// A click in another sequence's mail counts for clicked_url only.
	b.clicked(pricer, "welcome/hello", "https://acme.example/pricing?plan=team")
	b.opened(opener, "drip/guide")
	// So does a page of the site viewed.
	b.viewed(viewer, "https://acme.example/pricing")
	b.advance(day)
	b.advance(day)
	b.advance(day)

	got := b.subjectsTo()
	for to, want := range map[string]string{
		"clicker@example.com": "Guide|More for clickers",
		"pricer@example.com":  "Guide|About pricing|Guide reminder",
		"opener@example.com":  "Guide|Guide reminder",
		"viewer@example.com":  "Guide|About pricing|Guide reminder",
		"quiet@example.com":   "Guide|Guide reminder",
	} {
		if strings.Join(got[to], "|") != want {
			t.Errorf("%s got %q, want %s", to, got[to], want)
		}
	}
}

func TestSuppressedAddress_GetsNothingWhileItsLeadIsConfirmed(t *testing.T) {
	t.Parallel()
	b, id := started(t, "", "listed@example.com", "Lia")
	// The address goes on the suppression list the way an unsubscribe or
	// an erasure puts it there; the lead itself stays confirmed, so only
	// the dispatcher's own check stands between it and the next step.
	b.inTx(func(tx *store.Tx) error {
		return tx.Suppress(b.ctx, lead.EmailHash("listed@example.com"), "unsubscribe", b.clock.Now())
	})
	b.wantNoMore("Hello Lia")
	b.wantStopped(id, "address suppressed")
}

// Opens, clicks and events count for this enrolment only when they last
// happened since it started: the facts of an earlier walk do not.
func TestConditions_FactsFromBeforeTheEnrolmentDoNotCount(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.threeSteps("exit:\n  event: demo_booked\n")
	b.tipsForReaders()
	old := b.lead("old@example.com", "Olga", nil)
	now := b.lead("now@example.com", "Nora", nil)
	b.factAt(old, store.FactOpen, "welcome/hello", "", monday.Add(-day))
	b.factAt(old, store.FactEvent, "demo_booked", "", monday.Add(-day))
	b.run()
	b.opened(now, "welcome/hello")
	b.advance(2 * day)

	got := b.subjectsTo()
	if strings.Join(got["old@example.com"], "|") != "Hello Olga" || strings.Join(got["now@example.com"], "|") != "Hello Nora|Three tips" {
		t.Fatalf("after 2 days: %v", got)
	}
	if e := b.enrolment(old); e.State != lead.EnrolmentActive {
		t.Fatalf("an event from before the enrolment ended it: %+v", e)
	}
}

// Scoring stores a lead's score when it scores an event, and decay stores
// it again only once a day; conditions and the mails read it as it stands
// at send time. Twenty days into a half-life of thirty, engagement 60 is
// 38 and 40 is 25: only the first lead still passes engagement >= 30, and
// the subject shows each score and temperature of that moment.
func TestConditions_ReadTheScoreDecayedToSendTime(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.write("scoring.yaml", "mql: score >= 1000\npoints:\n  confirmed: 0\ndecay:\n  half_life: 30d\nbands:\n  warm: 20\n  hot: 50\n")
	b.sequence("welcome", "---\ntrigger: confirmed\n---\n", map[string]string{
		"01-hello.md": step("Hello", "0", "", "hello"),
		"02-warm.md":  step("{{ .Lead.FirstName }} {{ .Lead.Score }} {{ .Lead.Engagement }} {{ .Lead.Temperature }}", "20d", "if: engagement >= 30 and score >= 40\n", "still warm"),
	})
	keen := b.lead("keen@example.com", "Kim", nil)
	fading := b.lead("fading@example.com", "Fay", nil)
	b.run()
	scored := b.clock.Now()
	for id, engagement := range map[int64]int{keen: 60, fading: 40} {
		if _, err := b.store.DB().ExecContext(b.ctx, `UPDATE leads SET fit = 5, engagement = $2, score = 5 + $2,
			temperature = CASE WHEN $2 >= 50 THEN 'hot' ELSE 'warm' END, score_at = $3 WHERE id = $1`, id, engagement, scored); err != nil {
			t.Fatal(err)
		}
	}
	b.advance(20 * day)
	got := b.subjectsTo()
	if s := strings.Join(got["keen@example.com"], "|"); s != "Hello|Kim 43 38 warm" {
		t.Errorf("keen lead got %q, want Hello|Kim 43 38 warm", s)
	}
	if s := strings.Join(got["fading@example.com"], "|"); s != "Hello" {
		t.Errorf("fading lead got %q, want only Hello: its engagement is 25 by now", s)
	}
	var stored int
	if err := b.store.DB().GetContext(b.ctx, &stored, `SELECT engagement FROM leads WHERE id = $1`, keen); err != nil || stored != 60 {
		t.Errorf("stored engagement %d (%v), want 60: reading the current score writes nothing", stored, err)
	}
}

// A condition's events are the types in lower case, as triggers, exits and
// scoring match them: an event sent as Demo_Requested passes
// "demo_requested" in events.
func TestConditions_EventsIgnoreCase(t *testing.T) {
	t.Parallel()
	b := setup(t, monday)
	b.sequence("welcome", "---\ntrigger: confirmed\n---\n", map[string]string{
		"01-hello.md": step("Hello", "0", "", "hello"),
		"02-demo.md":  step("Your demo", "1d", "if: '\"demo_requested\" in events'\n", "see you"),
	})
	asked := b.lead("asked@example.com", "Ann", nil)
	b.lead("quiet@example.com", "Quinn", nil)
	b.run()
	b.event(asked, "Demo_Requested")
	b.advance(day)
	got := b.subjectsTo()
	if s := strings.Join(got["asked@example.com"], "|"); s != "Hello|Your demo" {
		t.Errorf("the lead who asked got %q, want Hello|Your demo", s)
	}
	if s := strings.Join(got["quiet@example.com"], "|"); s != "Hello" {
		t.Errorf("the quiet lead got %q, want Hello", s)
	}
}
