package lead

import "testing"

func TestNumber_ReadsAttributesForgivingly(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want float64
	}{
		{nil, 0},
		{"250", 250},
		{" 2.5 ", 2.5},
		{"many", 0},
		{250.0, 250},
		{7, 7},
		{int64(8), 8},
		{true, 1},
		{false, 0},
		{[]string{"a"}, 0},
	} {
		if got := Number(tt.v); got != tt.want {
			t.Errorf("Number(%#v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
