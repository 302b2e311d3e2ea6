package main

import (
	"strings"
	"testing"

	"github.com/nurture/nurture/internal/pgtest"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
	if res := h.do("GET", "/readyz", "", nil); res.status != 200 || !strings.Contains(res.body, "ready") {
		t.Fatalf("readyz %d %s", res.status, res.body)
	}
}

// A node whose schema is behind the binary is not ready: a load balancer
// must not send it traffic, though the process is up.
func TestReadyz_503WhileMigrationsArePending(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	if _, err := h.db().Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	res := h.do("GET", "/readyz", "", nil)
	if res.status != 503 || !strings.Contains(res.body, "database migrations are not current") {
		t.Fatalf("readyz %d %s", res.status, res.body)
	}
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
}

// The database goes away under a running node: readyz says so.
func TestReadyz_503WhenTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	pgtest.Block(t, h.db())
	res := h.do("GET", "/readyz", "", nil)
	if res.status != 503 || !strings.Contains(res.body, "database unreachable") {
		t.Fatalf("readyz %d %s", res.status, res.body)
	}
	if res := h.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Fatalf("healthz %d", res.status)
	}
}
