package campaign

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/schedule"
)

func TestLoad_BrokenFixtureReportsEveryProblemAtItsLine(t *testing.T) {
	t.Parallel()
	set, ps := Load("testdata/broken", testLayouts)
	if set != nil {
		t.Error("Load returned a Set for files with errors")
	}
	want := []string{
		`testdata/broken/bad/01-welcome.md:1: subject is missing: every mail needs a subject: line`,
		`testdata/broken/bad/01-welcome.md:2: unknown key "subjet": did you mean "subject"?`,
		`testdata/broken/bad/01-welcome.md:3: delay "3 days": write a whole number and a unit (s, m, h, d or w), such as 45s, 30m, 2h, 3d, 1w or 1d12h`,
		`testdata/broken/bad/01-welcome.md:7: link "/pricing" is not a full address: write it with https:// and the domain, such as https://example.com/pricing`,
		`testdata/broken/bad/02-follow-up.md:2: subject: {{ .Lead.FirstNam }}: can't evaluate field FirstNam in type *lead.Lead; did you mean FirstName?`,
		`testdata/broken/bad/02-follow-up.md:4: if: clicked("welcom"): there is no step "welcom" in this sequence; did you mean "welcome"?`,
		`testdata/broken/bad/02-follow-up.md:5: layout "fancy" does not exist: the templates have no email/layouts/fancy.html`,
		`testdata/broken/bad/02-follow-up.md:9: link "javascript:alert(1)" is not allowed: a link must start with https:// or http://`,
		`testdata/broken/bad/02-reminder.md:1: step number 02 is also used by 02-follow-up.md: each step needs its own number, which sets the order`,
		`testdata/broken/bad/03-welcome.md:1: step name "welcome" is also used by 01-welcome.md: the name is the step's identity, so it must be unique in the sequence`,
		`testdata/broken/bad/04-case-study.md:2: subject is empty`,
		`testdata/broken/bad/04-case-study.md:4: if: the condition ends too early (column 7)`,
		`testdata/broken/bad/04-case-study.md:5: layout must be text, not a list`,
		`testdata/broken/bad/04-case-study.md:9: {{ if .Lead.FirstName }} has no {{ end }}`,
		`testdata/broken/bad/05-Offer.md:1: step name "Offer": use lower-case letters, digits and hyphens after the number, such as 01-welcome.md`,
		`testdata/broken/bad/06-html.md:4: delay is set twice (first on line 3)`,
		`testdata/broken/bad/06-html.md:5: if: clicked("later"): that step comes later, so it has not been sent when this one is due`,
		`testdata/broken/bad/06-html.md:9: HTML is not allowed in a mail's text: write Markdown instead`,
		`testdata/broken/bad/07-no-front-matter.md:1: missing front matter: the file must start with a line ---, the settings, and another line ---`,
		`testdata/broken/bad/08-yaml.md:6: front matter is not valid YAML: mapping values are not allowed in this context; check the indentation, and put quotes around a value with a colon and a space in it`,
		`testdata/broken/bad/09-later.md:2: subject: unexpected "}" in operand`,
		`testdata/broken/bad/09-later.md:4: if: unknown name opend; did you mean opened? (column 1)`,
		`testdata/broken/bad/09-later.md:6: {{ .Lead.Compnay }}: can't evaluate field Compnay in type *lead.Lead; for a signup form's field write {{ .Lead.Attr "compnay" }}`,
		`testdata/broken/bad/10-no-delay.md:1: warning: no delay: this mail goes out as soon as the previous one is sent; write delay: 0 to say so`,
		`testdata/broken/bad/11-flow.md:3: front matter is not valid YAML: did not find expected ',' or '}'; a value that starts with { or [ is read as YAML structure: put the whole value in quotes`,
		// 12-no-quotes.md is fine: text keys need no quotes.
		`testdata/broken/bad/notes.md:1: warning: ignored: a step's file name is a number, a hyphen and a name, such as 01-welcome.md`,
		`testdata/broken/bad/sequence.md:3: trigger "confirmd" is unknown: did you mean confirmed?`,
		`testdata/broken/bad/sequence.md:4: send window "Mon-Fry 09:00-17:00": "fry" is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun, daily, weekdays or weekends`,
		`testdata/broken/bad/sequence.md:5: timezone "Europe/Berln": write lead (each lead's own zone) or a zone name such as Europe/Berlin`,
		`testdata/broken/bad/sequence.md:7: exit stage: "won" is not a stage: use lead, mql, sal, sql`,
		`testdata/broken/bad/sequence.md:8: unknown key "evnt" in exit: did you mean "event"?`,
		`testdata/broken/bad/sequence.md:9: exit clicked_url "/pricing*": write a full address, with * for any text, such as https://example.com/pricing*`,
		`testdata/broken/bad/sequence.md:10: reenroll must be true or false`,
		`testdata/broken/bad/sequence.md:11: unknown key "colour": use one of name, trigger, sources, exit, send_window, timezone, reenroll`,
		`testdata/broken/no-sequence/sequence.md:1: missing: every sequence folder needs a sequence.md that says what enrols a lead`,
		`testdata/broken/scoring.yaml:1: not valid YAML: did not find expected ',' or ']'`,
	}
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.String()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// problemsOf loads files and returns the problems, with paths relative to
// the campaigns folder.
func problemsOf(t *testing.T, files map[string]string, templates fstest.MapFS) []string {
	t.Helper()
	dir := writeFiles(t, files)
	_, ps := Load(dir, templates)
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.TrimPrefix(p.String(), dir+string(filepath.Separator))
	}
	return out
}

func TestLoad_ReportsEachProblemWithItsLine(t *testing.T) {
	t.Parallel()
	step := func(fm, body string) string { return "---\n" + fm + "\n---\n" + body }
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "a sources list needs the confirmed trigger",
			files: map[string]string{
				"s/sequence.md": "---\ntrigger:\n  event: webinar_attended\nsources: [newsletter]\n---\n",
				"s/01-a.md":     step("subject: A", "Hi."),
			},
			want: []string{"s/sequence.md:4: sources only works with trigger: confirmed"},
		},
		{
			name: "a trigger stage must be a stage",
			files: map[string]string{
				"s/sequence.md": "---\ntrigger:\n  stage: customer\n---\n",
				"s/01-a.md":     step("subject: A", "Hi."),
			},
			want: []string{`s/sequence.md:3: trigger stage: "customer" is not a stage: use lead, mql, sal, sql`},
		},
		{
			name: "a trigger event needs its type below it",
			files: map[string]string{
				"s/sequence.md": "---\ntrigger: event\n---\n",
				"s/01-a.md":     step("subject: A", "Hi."),
			},
			want: []string{"s/sequence.md:2: trigger event needs a value on the next line, such as\n  trigger:\n    event: webinar_attended"},
		},
		{
			name:  "a trigger is required",
			files: map[string]string{"s/sequence.md": "---\nname: No trigger\n---\n", "s/01-a.md": step("subject: A", "Hi.")},
			want:  []string{"s/sequence.md:1: trigger is missing: say what enrols a lead, such as trigger: confirmed"},
		},
		{
			name:  "a sequence without steps is only a warning",
			files: map[string]string{"s/sequence.md": testSequence},
			want:  []string{"s/sequence.md:1: warning: the sequence has no steps yet: add files such as 01-welcome.md beside sequence.md"},
		},
		{
			name: "a step's own send window is checked like the sequence's",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A\nsend_window: Sat-Son 10:00-14:00", "Hi."),
				"s/02-b.md":     step("subject: B\ndelay: 1d\nsend_window: anytime", "Hi."),
				"s/03-c.md":     step("subject: C\ndelay: 1d\nsend_window: Any", "Hi."),
			},
			want: []string{
				`s/01-a.md:3: send window "Sat-Son 10:00-14:00": "son" is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun, daily, weekdays or weekends; or write any for no window`,
				`s/02-b.md:4: send window "anytime": write days and hours, such as Mon-Fri 09:00-17:00; or write any for no window`,
			},
		},
		{
			name: "previous only works inside opened and clicked",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A", "Hi."),
				"s/02-b.md":     step("subject: B\ndelay: 1d\nif: previous == \"a\"", "Hi."),
			},
			want: []string{"s/02-b.md:4: if: previous only works inside opened() or clicked()"},
		},
		{
			name: "the first step has no previous step",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A\nif: opened(previous)", "Hi."),
			},
			want: []string{"s/01-a.md:3: if: opened(previous): the first step has no previous step"},
		},
		{
			name: "a step cannot ask about itself",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A\nif: not clicked(\"a\")", "Hi."),
			},
			want: []string{`s/01-a.md:3: if: clicked("a"): a step cannot ask about itself; it has not been sent yet`},
		},
		{
			name: "a step name must be in quotes",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A", "Hi."),
				"s/02-b.md":     step("subject: B\ndelay: 1d\nif: opened(a)", "Hi."),
			},
			want: []string{`s/02-b.md:4: if: opened(a): write the step's name in quotes, such as opened("a"), or previous`},
		},
		{
			name: "a condition must be true or false",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A\nif: score + 1", "Hi."),
			},
			want: []string{`s/01-a.md:3: if: the condition must be true or false, but score + 1 is a number: compare it, such as score > 20 or stage == "mql"`},
		},
		{
			name: "a condition's types are checked",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A\nif: stage > 3", "Hi."),
			},
			want: []string{"s/01-a.md:3: if: stage > 3 compares text with a number, which is never true: compare like with like (column 7)"},
		},
		{
			name: "a condition failing for the sample lead is a warning",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A\nif: attr.company + 1 > 3", "Hi."),
			},
			want: []string{`s/01-a.md:3: warning: if: fails for the sample lead: attr.company + 1 needs two numbers, but gets text and a number: for a form field write number(attr.NAME) (column 14)`},
		},
		{
			name: "a subject on several lines",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: |\n  One\n  Two", "Hi."),
			},
			want: []string{"s/01-a.md:2: subject must be one line"},
		},
		{
			name: "a template error in the body names its line",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A", "Line one.\n\nLine three {{ .Lead.FirstName | nosuchfunc }}."),
			},
			want: []string{`s/01-a.md:6: function "nosuchfunc" not defined`},
		},
		{
			name: "a placeholder lost by Markdown is an error",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A", "Hello.\n\n[unused]: {{ .BaseURL }}/x\n"),
			},
			want: []string{"s/01-a.md:6: this placeholder is where Markdown drops text (such as an unused link definition); move it into the text"},
		},
		{
			name: "a relative image",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A", "Hi.\n\n![logo](logo.png)"),
			},
			want: []string{`s/01-a.md:6: image "logo.png" is not a full address: write it with https:// and the domain, such as https://example.com/logo.png`},
		},
		{
			name: "an inline HTML tag",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A", "Hi,\nthis is <b>bold</b>."),
			},
			want: []string{`s/01-a.md:5: HTML is not allowed in a mail's text: write Markdown instead (a < followed by a letter starts HTML; write \< for the character)`},
		},
		{
			name: "a folder name that cannot name a sequence",
			files: map[string]string{
				"Welcome Mails/sequence.md": testSequence,
			},
			want: []string{`Welcome Mails:1: folder name "Welcome Mails" cannot name a sequence: use lower-case letters, digits, - and _`},
		},
		{
			name: "a link with a placeholder after the domain is fine, before it is not",
			files: map[string]string{
				"s/sequence.md": testSequence,
				"s/01-a.md":     step("subject: A", "[ok](https://example.com/?e={{ .Lead.Email }}) [bad](/p/{{ .Lead.Email }})"),
			},
			want: []string{`s/01-a.md:4: link "/p/{{…}}" is not a full address: write it with https:// and the domain, such as https://example.com/p/`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problemsOf(t, tt.files, testLayouts)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoad_BrokenLayoutIsReportedAtTheLayoutFile(t *testing.T) {
	t.Parallel()
	layouts := fstest.MapFS{
		"email/layouts/default.html": {Data: []byte("<html>\n<body>\n{{ .Content }\n</body></html>")},
		"email/layouts/default.txt":  {Data: []byte("{{ .Content }}")},
	}
	got := problemsOf(t, map[string]string{
		"s/sequence.md": testSequence,
		"s/01-a.md":     "---\nsubject: A\n---\nHi.",
		"s/02-b.md":     "---\nsubject: B\ndelay: 1d\n---\nHi.",
	}, layouts)
	want := []string{
		`s/01-a.md:1: layout "default" has errors (see templates/email/layouts/default)`,
		`s/02-b.md:1: layout "default" has errors (see templates/email/layouts/default)`,
		`templates/email/layouts/default.html:3: unexpected "}" in operand`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoad_ReadsSequencesAndSteps(t *testing.T) {
	t.Parallel()
	set := loadFiles(t, map[string]string{
		"README.md":           "# Not a sequence",
		"_drafts/sequence.md": "broken",
		"nurture/sequence.md": `---
name: E-book nurture
trigger: confirmed
sources: [ebook, Webinar]
exit:
  stage: sal
  event: [demo_booked, meeting_booked]
  clicked_url: https://example.com/pricing*
send_window: Mon-Fri 09:00-17:00
timezone: Europe/Berlin
reenroll: true
---
For people who downloaded the e-book.
`,
		"nurture/10-case-study.md": "---\nsubject: Case\ndelay: 1w\nif: number(attr.company_size) >= 200\n---\nRead [the case](https://example.com/case).",
		"nurture/02-guide.md":      "---\nsubject: Guide\ndelay: 2d\n---\nSee https://example.com/guide and [home]({{ .BaseURL }}/).",
		"nurture/01-welcome.md":    "---\nsubject: Welcome\ndelay: 0\npreheader: Your copy\n---\nHello.",
		"other/sequence.md":        "---\ntrigger:\n  stage: mql\n---\n",
		"other/01-x.md":            "---\nsubject: X\n---\nHello.",
	})
	if got := set.ids(); !slices.Equal(got, []string{"nurture", "other"}) {
		t.Fatalf("sequences = %v", got)
	}
	q := set.Sequence("nurture")
	if q.Name != "E-book nurture" || q.Description != "For people who downloaded the e-book." || !q.Reenroll || q.Timezone != "Europe/Berlin" {
		t.Errorf("sequence = %+v", q)
	}
	if q.Trigger.Kind != TriggerConfirmed || !slices.Equal(q.Trigger.Sources, []string{"ebook", "Webinar"}) {
		t.Errorf("trigger = %+v", q.Trigger)
	}
	if q.Window.String() != "Mon-Fri 09:00-17:00" {
		t.Errorf("window = %s", q.Window)
	}
	wantExit := Exit{Stages: []lead.Stage{lead.StageSAL}, Events: []string{"demo_booked", "meeting_booked"}, ClickedURLs: []string{"https://example.com/pricing*"}}
	if q.Exit.String() != wantExit.String() {
		t.Errorf("exit = %s, want %s", q.Exit, wantExit)
	}
	var keys []string
	for i, st := range q.Steps {
		keys = append(keys, st.Key())
		if st.Index != i {
			t.Errorf("%s: Index = %d, want %d", st.Key(), st.Index, i)
		}
		if set.Step(st.Key()) != st {
			t.Errorf("Set.Step(%q) is not the step", st.Key())
		}
	}
	if want := []string{"nurture/welcome", "nurture/guide", "nurture/case-study"}; !slices.Equal(keys, want) {
		t.Errorf("steps = %v, want %v", keys, want)
	}
	cs := q.Step("case-study")
	if cs.Number != 10 || cs.Delay != (schedule.Delay{Days: 7}) || cs.Condition != "number(attr.company_size) >= 200" || cs.Layout != "default" {
		t.Errorf("case-study = %+v", cs)
	}
	if cs.Lines["if"] != 4 || cs.Line("subject") != 2 || cs.Line("layout") != 1 || cs.BodyLine != 6 {
		t.Errorf("case-study lines = %v, body at %d", cs.Lines, cs.BodyLine)
	}
	if g := q.Step("guide"); !slices.Equal(g.Links, []string{"https://example.com/guide"}) {
		t.Errorf("guide links = %v", g.Links)
	}
	if w := q.Step("welcome"); w.Preheader != "Your copy" || len(w.Version) != 16 {
		t.Errorf("welcome = %+v", w)
	}
	if got := set.OnConfirmed("webinar"); len(got) != 1 || got[0] != q {
		t.Errorf("OnConfirmed(webinar) = %v", got)
	}
	if got := set.OnStage(lead.StageMQL); len(got) != 1 || got[0].ID != "other" {
		t.Errorf("OnStage(mql) = %v", got)
	}
	if got := set.OnConfirmed("newsletter"); len(got) != 0 {
		t.Errorf("OnConfirmed(newsletter) = %v", got)
	}
	if len(set.Warnings) != 0 {
		t.Errorf("warnings: %v", set.Warnings)
	}
	if !slices.Equal(q.Exit.ClickedURLs, []string{"https://example.com/pricing*"}) {
		t.Errorf("exit clicked_url = %v", q.Exit.ClickedURLs)
	}
}

func TestStep_VersionChangesWithTheFileOnly(t *testing.T) {
	t.Parallel()
	files := map[string]string{"s/sequence.md": testSequence, "s/01-a.md": "---\nsubject: A\n---\nHello."}
	v1 := loadFiles(t, files).Step("s/a").Version
	if v := loadFiles(t, files).Step("s/a").Version; v != v1 {
		t.Errorf("the same file has versions %s and %s", v1, v)
	}
	files["s/01-a.md"] += " Edited."
	if v := loadFiles(t, files).Step("s/a").Version; v == v1 {
		t.Error("an edit kept the version")
	}
}

func TestSet_LookupAcceptsSlugFileNameOrNumber(t *testing.T) {
	t.Parallel()
	set := loadFiles(t, map[string]string{
		"welcome/sequence.md": testSequence,
		"welcome/01-hello.md": "---\nsubject: Hello\n---\nHi.",
		"welcome/02-tips.md":  "---\nsubject: Tips\ndelay: 1d\n---\nHi.",
	})
	for _, ref := range []string{"welcome/tips", "welcome/02-tips", "welcome/02-tips.md", "welcome/02", "welcome/2", "/welcome/tips/"} {
		st, err := set.Lookup(ref)
		if err != nil || st.Key() != "welcome/tips" {
			t.Errorf("Lookup(%q) = %v, %v", ref, st, err)
		}
	}
	// Each error says each thing once, to the person who typed the name.
	for ref, msg := range map[string]string{
		"welcome":       "name one step of welcome, such as welcome/01-hello",
		"nurture":       "name a step as SEQUENCE/STEP, such as welcome/01-hello",
		"nurture/hello": `no sequence "nurture": the sequences are welcome`,
		"welcom/hello":  `no sequence "welcom": did you mean welcome?`,
		"welcome/bye":   `welcome has no step "bye": its steps are 01-hello and 02-tips`,
		"welcome/tipps": `welcome has no step "tipps": did you mean 02-tips?`,
		"welcome/03":    `welcome has no step "03": its steps are 01-hello and 02-tips`,
	} {
		if _, err := set.Lookup(ref); err == nil || err.Error() != msg {
			t.Errorf("Lookup(%q) error = %v, want %q", ref, err, msg)
		}
	}
}

func TestExit_EndsOnLaterStagesEventsAndMatchingClicks(t *testing.T) {
	t.Parallel()
	x := Exit{Stages: []lead.Stage{lead.StageSAL}, Events: []string{"demo_booked"}, ClickedURLs: []string{"https://example.com/pricing*", "https://example.com/demo"}}
	for _, tt := range []struct {
		what string
		got  bool
		want bool
	}{
		{"stage lead", x.OnStage(lead.StageLead), false},
		{"stage mql", x.OnStage(lead.StageMQL), false},
		{"stage sal", x.OnStage(lead.StageSAL), true},
		{"stage sql is past sal", x.OnStage(lead.StageSQL), true},
		{"event demo_booked", x.OnEvent("demo_booked"), true},
		{"event webinar_attended", x.OnEvent("webinar_attended"), false},
		{"click on pricing", x.OnClick("https://example.com/pricing"), true},
		{"click on a pricing page", x.OnClick("https://example.com/pricing/enterprise?x=1"), true},
		{"click on the exact demo page", x.OnClick("https://example.com/demo"), true},
		{"click on a demo sub page", x.OnClick("https://example.com/demo/x"), false},
		{"click elsewhere", x.OnClick("https://example.com/blog"), false},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}

func TestEventTypes_TriggersAndExitsIgnoreCapitals(t *testing.T) {
	t.Parallel()
	set := loadFiles(t, map[string]string{
		"webinar/sequence.md": "---\ntrigger:\n  event: webinar_attended\nexit:\n  event: Demo_Booked\n---\n",
		"webinar/01-a.md":     "---\nsubject: A\n---\nHi.",
	})
	q := set.Sequence("webinar")
	for _, typ := range []string{"webinar_attended", "Webinar_Attended", "WEBINAR_ATTENDED"} {
		if !q.Trigger.OnEvent(typ) || len(set.OnEvent(typ)) != 1 {
			t.Errorf("event %q does not trigger %s", typ, q.Trigger)
		}
	}
	if q.Trigger.OnEvent("webinar_attended_late") {
		t.Error("another event type triggers")
	}
	for _, typ := range []string{"demo_booked", "Demo_Booked"} {
		if !q.Exit.OnEvent(typ) {
			t.Errorf("event %q does not exit by %s", typ, q.Exit)
		}
	}
}

func TestSequence_LocationPrefersTheSequencesZoneThenTheLeads(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	tokyo := mustZone(t, "Asia/Tokyo")
	leadIn := func(tz string) *lead.Lead { return &lead.Lead{Attributes: lead.Attributes{"timezone": tz}} }
	fixed := &Sequence{Timezone: "Asia/Tokyo", loc: tokyo}
	own := &Sequence{Timezone: "lead"}
	for _, tt := range []struct {
		name string
		got  *time.Location
		want string
	}{
		{"fixed zone wins", fixed.Location(leadIn("Europe/Berlin"), berlin), "Asia/Tokyo"},
		{"the lead's zone", own.Location(leadIn("America/New_York"), berlin), "America/New_York"},
		{"no zone falls back", own.Location(leadIn(""), berlin), "Europe/Berlin"},
		{"an unknown zone falls back", own.Location(leadIn("Mars/Olympus"), berlin), "Europe/Berlin"},
		{"no fallback is UTC", own.Location(nil, nil), "UTC"},
	} {
		if tt.got.String() != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestLoad_TextKeysNeedNoQuotes(t *testing.T) {
	t.Parallel()
	set := loadFiles(t, map[string]string{
		"s/sequence.md": "---\nname: Webinar: follow-up\ntrigger: confirmed\n---\n",
		"s/01-a.md":     "---\nsubject: A\n---\nHi.",
		"s/02-b.md": `---
subject: {{ .Lead.FirstName }}: "quotes" aren't needed here
delay: 1d
if: "webinar_attended" in events
preheader: [Guide] Five checks: one afternoon
---
Hi.`,
		"s/03-c.md": "---\nsubject: \"Quoted\" still works\ndelay: 1d\nif: 'opened(\"a\")'\npreheader: 2026\n---\nHi.",
		"s/04-d.md": "---\nsubject: Tip #3 # of 5\ndelay: 1d\npreheader: \"Quoted # kept\" # a comment\n---\nHi.",
	})
	q := set.Sequence("s")
	b, c, d := q.Step("b"), q.Step("c"), q.Step("d")
	for _, tt := range []struct{ got, want string }{
		{q.Name, "Webinar: follow-up"},
		{b.Subject, `{{ .Lead.FirstName }}: "quotes" aren't needed here`},
		{b.Condition, `"webinar_attended" in events`},
		{b.Preheader, "[Guide] Five checks: one afternoon"},
		{c.Subject, `"Quoted" still works`},
		{c.Condition, `opened("a")`},
		{c.Preheader, "2026"},
		{d.Subject, "Tip #3 # of 5"},
		{d.Preheader, "Quoted # kept"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
