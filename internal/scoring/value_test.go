package scoring

import (
	"testing"
	"time"
)

func TestNumberAndText_ReadAttributesForgivingly(t *testing.T) {
	for _, tt := range []struct {
		v    any
		num  float64
		text string
	}{
		{nil, 0, ""},
		{"250", 250, "250"},
		{" 2.5 ", 2.5, " 2.5 "},
		{"many", 0, "many"},
		{250.0, 250, "250"},
		{0.5, 0.5, "0.5"},
		{7, 7, "7"},
		{int64(8), 8, "8"},
		{true, 1, "true"},
		{false, 0, "false"},
		{[]string{"a"}, 0, "[a]"},
	} {
		if got := number(tt.v); got != tt.num {
			t.Errorf("number(%#v) = %v, want %v", tt.v, got, tt.num)
		}
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
