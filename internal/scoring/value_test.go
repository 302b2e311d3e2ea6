package scoring

import (
	"testing"
	"time"
)

func TestText_ReadsAttributesAsText(t *testing.T) {
	for _, tt := range []struct {
		v    any
		text string
	}{
		{nil, ""},
		{" 2.5 ", " 2.5 "},
		{250.0, "250"},
		{1e21, "1000000000000000000000"},
		{7, "7"},
		{true, "true"},
		{[]string{"a"}, "[a]"},
	} {
		if got := text(tt.v); got != tt.text {
			t.Errorf("text(%#v) = %q, want %q", tt.v, got, tt.text)
		}
	}
}

func TestFormatDuration_UsesTheLargestWholeUnit(t *testing.T) {
	for d, want := range map[time.Duration]string{
		14 * 24 * time.Hour: "2w",
		3 * 24 * time.Hour:  "3d",
		5 * time.Hour:       "5h",
		90 * time.Minute:    "1h30m0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
