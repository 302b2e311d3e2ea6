package condition

import (
	"errors"
	"testing"
)

func TestCompile_ChecksTheStepsOpenedAndClickedName(t *testing.T) {
	t.Parallel()
	steps := Steps{Sequence: "s", Slugs: []string{"welcome", "guide", "offer"}, Self: 1}
	for _, tt := range []struct{ src, want string }{
		{`opened("welcom")`, `opened("welcom"): there is no step "welcom" in this sequence; did you mean "welcome"?`},
		{`clicked("pricing")`, `clicked("pricing"): there is no step "pricing" in this sequence (steps: welcome, guide, offer)`},
		{`opened("guide")`, `opened("guide"): a step cannot ask about itself; it has not been sent yet`},
		{`clicked("offer")`, `clicked("offer"): that step comes later, so it has not been sent when this one is due`},
		{`opened(welcome)`, `opened(welcome): write the step's name in quotes, such as opened("welcome"), or previous`},
		{`opened(1)`, `opened() takes a step's name in quotes, such as opened("welcome"), or previous`},
		{`clicked("welcome", "guide")`, `clicked() takes one step: its name in quotes, such as clicked("welcome"), or previous`},
		{`previous == "welcome"`, `previous only works inside opened() or clicked()`},
	} {
		_, err := Compile(tt.src, steps)
		var ce *Error
		if !errors.As(err, &ce) || ce.Msg != tt.want || ce.Line != 1 || err.Error() != tt.want {
			t.Errorf("%s: %v, want %q", tt.src, err, tt.want)
		}
	}
	first := Steps{Sequence: "s", Slugs: []string{"welcome"}, Self: 0}
	if _, err := Compile("opened(previous)", first); err == nil || err.Error() != "opened(previous): the first step has no previous step" {
		t.Errorf("previous of the first step: %v", err)
	}
	if c, err := Compile(`opened("welcome") and clicked(previous)`, steps); err != nil || c.Mistyped {
		t.Errorf("earlier steps: %v", err)
	}
}
