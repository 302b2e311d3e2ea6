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
