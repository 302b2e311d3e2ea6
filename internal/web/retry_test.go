package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/nurture/nurture/templates"
)

// A request that runs out of time gets http.TimeoutHandler's 503, which
// says nothing of when to come back unless the server adds it.
func TestHandler_TimedOutRequestIs503WithRetryAfter(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("http://127.0.0.1")
	srv, err := New(nil, Config{
		BaseURL:   base,
		Templates: templates.FS,
		Timeout:   50 * time.Millisecond,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready: func(ctx context.Context) error {
			<-ctx.Done() // a database that does not answer
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	res, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "5" {
		t.Fatalf("%d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// An answer that is no 429 or 503 gets none.
	res, err = http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Retry-After") != "" {
		t.Fatalf("healthz: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// The signup routes bound their own wait, without http.TimeoutHandler: a
// signup that runs out of time is still a 503 with Retry-After.
func TestSignup_OutOfTimeIs503WithRetryAfter(t *testing.T) {
	t.Parallel()
	b := setupHandlers(t, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	b.optin.hang = true
	for _, tt := range []struct{ path, contentType, body string }{
		{"/api/v1/subscribe", "application/json", `{"email": "anna@example.com", "form": "news"}`},
		{"/api/v1/subscribe", "application/json", `{"email": "anna@example.com", "consent_text": "Mail me.", "consent_version": "app-1"}`},
		{"/subscribe/news", "application/x-www-form-urlencoded", "email=anna%40example.com&consent=on&consent_version=n1"},
	} {
		res, body := b.do(t, "POST", tt.path, tt.contentType, tt.body)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "5" {
			t.Errorf("%s %s: %d, Retry-After %q: %s", tt.path, tt.body, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	}
}
