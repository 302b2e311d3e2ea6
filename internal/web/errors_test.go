package web

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/nurture/nurture/templates"
)

// What a signup's store write returns while Postgres restarts.
var errDatabaseAway = fmt.Errorf("optin: signup: %w", fmt.Errorf("store: begin: %w", &pq.Error{Code: "57P03", Message: "the database system is shutting down"}))

func TestAPIError_DatabaseAwayIs503WithRetryAfterAndJSON(t *testing.T) {
	t.Parallel()
	s := testServer(t)
	rec := httptest.NewRecorder()
	s.apiError(rec, httptest.NewRequest("POST", "/api/v1/subscribe", nil), errDatabaseAway)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error, "try again") {
		t.Errorf("body %q (%v): want a JSON error that says to try again", rec.Body, err)
	}
	if strings.Contains(rec.Body.String(), "57P03") || strings.Contains(rec.Body.String(), "shutting down") {
		t.Errorf("the body repeats the database's error: %s", rec.Body)
	}
}

func TestFail_DatabaseAwayIs503PageWithRetryAfter(t *testing.T) {
	t.Parallel()
	s := testServer(t)
	rec := httptest.NewRecorder()
	s.fail(rec, httptest.NewRequest("POST", "/subscribe", nil), errDatabaseAway)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(rec.Body.String(), "try again") {
		t.Errorf("Content-Type %q, body:\n%s\nwant a page that says to try again", ct, rec.Body)
	}
}

func TestStatusOf_OnlyUnreachableDatabaseIs503(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want int
	}{
		{errDatabaseAway, 503},
		{fmt.Errorf("store: commit: %w", io.ErrUnexpectedEOF), 503},
		{&pq.Error{Code: "57P01"}, 503},
		{&pq.Error{Code: "23505"}, 500},
		{fmt.Errorf("render: %w", io.ErrShortWrite), 500},
	} {
		if got := statusOf(tt.err); got != tt.want {
			t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func testServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(nil, Config{
		BaseURL:   &url.URL{Scheme: "http", Host: "127.0.0.1"},
		Templates: templates.FS,
		Log:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
