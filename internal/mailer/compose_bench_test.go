package mailer

import (
	"strings"
	"testing"
)

// BenchmarkCompose composes a step-sized mail (text and HTML parts,
// one-click unsubscribe, a step header), unsigned.
func BenchmarkCompose(b *testing.B) {
	c, err := NewComposer(Config{})
	if err != nil {
		b.Fatal(err)
	}
	m := sample()
	m.Text = strings.Repeat("Hello Anna, this month we shipped three things: faster sync, a new API.\n", 20)
	m.HTML = "<html><body>" + strings.Repeat("<p>Hello <b>Anna</b>, this month we shipped <a href=\"https://acme.example/news\">three things</a>.</p>\n", 30) + "</body></html>"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Compose(m); err != nil {
			b.Fatal(err)
		}
	}
}
