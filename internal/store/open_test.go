package store_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

// lib/pq's parse errors quote the whole URL; Open's never hold the password.
func TestOpen_ErrorsNeverHoldThePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range []string{
		"postgres://u:s3cretpw@127.0.0.1:x5432/nurture",             // does not parse
		"postgres://u:s3cr/etpw@127.0.0.1:5432/nurture",             // a '/' in the password
		"host=127.0.0.1 password=s3cretpw sslmode=sometimes",        // a bad value
		"postgres://u:s3cretpw@127.0.0.1:1/nurture?sslmode=disable", // nothing listens
	} {
		db, err := store.Open(ctx, u)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "store: connect: ") || strings.Contains(msg, "s3cr") || strings.Contains(msg, "etpw") {
			t.Errorf("Open(%q) = %q", u, msg)
		}
	}
}

// Opens and clicks go in binary, which lib/pq sends only with
// binary_parameters: a URL that turns it off is refused at once, not
// failed at the first open.
func TestOpen_RefusesBinaryParametersOff(t *testing.T) {
	for _, u := range []string{
		"postgres://u@127.0.0.1:5432/nurture?binary_parameters=no",
		"host=127.0.0.1 binary_parameters=off",
	} {
		db, err := store.Open(context.Background(), u)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if !strings.Contains(err.Error(), "binary_parameters must be yes") {
			t.Errorf("Open(%q) = %q", u, err)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.RunParallel(m, 8)) }
