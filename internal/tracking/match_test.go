package tracking

import "testing"

func TestMatchURL_StarSpansAnyRunSlashesIncluded(t *testing.T) {
	for _, tt := range []struct {
		pattern, url string
		want         bool
	}{
		{"https://acme.example/pricing", "https://acme.example/pricing", true},
		{"https://acme.example/pricing", "https://acme.example/pricing/x", false},
		{"https://acme.example/*", "https://acme.example/a/b?c=d", true},
		{"*/pricing*", "https://acme.example/pricing?plan=pro", true},
		{"*/pricing", "https://acme.example/about", false},
		{"https://*.example/*/demo", "https://www.acme.example/de/demo", true},
		{"a*b*c", "a-x-b-y-c", true},
		{"a*b*c", "a-x-c-y-b", false},
		{"**", "", true},
		{"", "x", false},
		{"x", "", false},
	} {
		if got := MatchURL(tt.pattern, tt.url); got != tt.want {
			t.Errorf("MatchURL(%q, %q) = %v, want %v", tt.pattern, tt.url, got, tt.want)
		}
	}
}
