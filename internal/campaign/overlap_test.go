package campaign

import (
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/lead"
)

func TestSameLeads(t *testing.T) {
	t.Parallel()
	confirmed := func(srcs ...string) Trigger { return Trigger{Kind: TriggerConfirmed, Sources: srcs} }
	for _, tt := range []struct {
		name string
		a, b Trigger
		want bool
	}{
		{"confirmed from the same source", confirmed("newsletter"), confirmed("newsletter"), true},
		{"sources in another order and case", confirmed("webinar", "newsletter"), confirmed("Newsletter"), true},
		{"other sources", confirmed("newsletter"), confirmed("ebook-datensicherheit"), false},
		{"both from any source", confirmed(), confirmed(), true},
		{"any source beside one source", confirmed(), confirmed("newsletter"), false},
		{"the same event, in other capitals", Trigger{Kind: TriggerEvent, Event: "webinar_attended"}, Trigger{Kind: TriggerEvent, Event: "Webinar_Attended"}, true},
		{"other events", Trigger{Kind: TriggerEvent, Event: "webinar_attended"}, Trigger{Kind: TriggerEvent, Event: "demo_booked"}, false},
		{"the same stage", Trigger{Kind: TriggerStage, Stage: lead.StageMQL}, Trigger{Kind: TriggerStage, Stage: lead.StageMQL}, true},
		{"other stages", Trigger{Kind: TriggerStage, Stage: lead.StageMQL}, Trigger{Kind: TriggerStage, Stage: lead.StageSAL}, false},
		{"manual enrols no one by itself", Trigger{Kind: TriggerManual}, Trigger{Kind: TriggerManual}, false},
		{"other kinds", confirmed(), Trigger{Kind: TriggerManual}, false},
		{"both recycled", Trigger{Kind: TriggerRecycled}, Trigger{Kind: TriggerRecycled}, true},
		{"recycled beside the stage lead", Trigger{Kind: TriggerRecycled}, Trigger{Kind: TriggerStage, Stage: lead.StageLead}, false},
	} {
		if got := sameLeads(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: sameLeads = %v, want %v", tt.name, got, tt.want)
		}
		if got := sameLeads(tt.b, tt.a); got != tt.want {
			t.Errorf("%s, the other way round: sameLeads = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// cp -r campaigns/welcome campaigns/webinar: the copy has welcome's
// trigger and sources, so every newsletter signup would get both.
func TestLoad_WarnsOfACopyWithTheSameTrigger(t *testing.T) {
	t.Parallel()
	welcome := "---\nname: Welcome\ntrigger: confirmed\nsources: [newsletter]\n---\n"
	step := "---\nsubject: Hi\ndelay: 0\n---\nHi.\n"
	got := problemsOf(t, map[string]string{
		"welcome/sequence.md":  welcome,
		"welcome/01-hi.md":     step,
		"webinar/sequence.md":  welcome,
		"webinar/01-hi.md":     step,
		"ebook/sequence.md":    "---\ntrigger: confirmed\nsources: [ebook]\n---\n",
		"ebook/01-hi.md":       step,
		"followup/sequence.md": "---\ntrigger: manual\n---\n",
		"followup/01-hi.md":    step,
		"manual/sequence.md":   "---\ntrigger: manual\n---\n",
		"manual/01-hi.md":      step,
	}, testLayouts)
	want := `welcome/sequence.md:3: warning: trigger confirmed, from newsletter: webinar enrols the same leads, so each of them gets both sequences at once; give one its own trigger or sources (a copy belongs in _drafts/ until it has them)`
	if strings.Join(got, "\n") != want {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestLoad_RecycledIsATriggerOfItsOwn(t *testing.T) {
	t.Parallel()
	step := "---\nsubject: Hi\ndelay: 0\n---\nHi.\n"
	set := loadFiles(t, map[string]string{
		"winback/sequence.md": "---\ntrigger: recycled\nreenroll: true\n---\n",
		"winback/01-hi.md":    step,
		"other/sequence.md":   "---\ntrigger:\n  stage: lead\n---\n",
		"other/01-hi.md":      step,
	})
	got := set.OnRecycled()
	if len(got) != 1 || got[0].ID != "winback" || got[0].Trigger.String() != "recycled" {
		t.Fatalf("OnRecycled = %v", got)
	}
	if misspelt := problemsOf(t, map[string]string{"w/sequence.md": "---\ntrigger: recycle\n---\n", "w/01-hi.md": step}, testLayouts); !strings.Contains(strings.Join(misspelt, "\n"), "did you mean recycled?") {
		t.Errorf("trigger: recycle says %v", misspelt)
	}
}
