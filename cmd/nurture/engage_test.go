package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/config"
	"github.com/nurture/nurture/internal/pgtest"
)

// With NURTURE_APPLE_EGRESS_FILE in Apple's format, an open with Apple
// MPP's user agent says whether it came from one of Apple's ranges.
func TestEngage_AppleEgressFileConfirmsAppleOpens(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "egress-ip-ranges.csv")
	if err := os.WriteFile(file, []byte("172.224.226.0/27,GB,GB-EN,London,\n\n2a02:26f7:b3c0:4000::/64,DE,DE-BE,Berlin,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := start(t, map[string]string{"NURTURE_TRUSTED_PROXIES": "127.0.0.1/32", "NURTURE_APPLE_EGRESS_FILE": file})
	id := h.trackedLead("anna@example.com")
	m := h.sentMail(id, "welcome/01-hello", h.clock.Now().Add(-time.Hour))
	for _, ip := range []string{"172.224.226.9", "198.51.100.7"} {
		if res := h.do("GET", "/o/"+h.signer().Open(m), "", nil, "User-Agent", "Mozilla/5.0", "X-Forwarded-For", ip); res.status != 200 {
			t.Fatalf("open from %s: %d", ip, res.status)
		}
	}
	evs := h.eventsOfMail(m)
	if len(evs) != 2 {
		t.Fatalf("events %+v, want two opens", evs)
	}
	for i, want := range []string{", from Apple's egress range 172.224.226.0/27", ", though not from one of Apple's egress ranges"} {
		if evs[i].Verdict != "apple_mpp" || !strings.HasSuffix(evs[i].Reason, want) {
			t.Errorf("open %d: %s (%s), want apple_mpp ending %q", i, evs[i].Verdict, evs[i].Reason, want)
		}
	}
}

// A missing or malformed egress file stops the server at start, naming the
// setting, the file and the line.
func TestEngage_ABadAppleEgressFileStopsTheStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("172.224.226.0/27,GB,GB-EN,London,\n172.224.226.32/27 GB London\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notNet := filepath.Join(dir, "notnet.csv")
	if err := os.WriteFile(notNet, []byte("172.224.300.0/27,GB,GB-EN,London\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.csv")
	url := pgtest.URL(t)
	for file, want := range map[string]string{
		missing: "NURTURE_APPLE_EGRESS_FILE: open " + missing + ": no such file or directory",
		bad:     "NURTURE_APPLE_EGRESS_FILE: " + bad + `: tracking: apple egress ranges: line 2: want prefix,country,region,city, but got "172.224.226.32/27 GB London"`,
		notNet:  "NURTURE_APPLE_EGRESS_FILE: " + notNet + `: tracking: apple egress ranges: line 1: "172.224.300.0/27" is not an IP network`,
	} {
		settings := map[string]string{
			"NURTURE_DATABASE_URL": url, "NURTURE_SMTP_URL": "smtp://127.0.0.1:1", "NURTURE_BASE_URL": "http://127.0.0.1:1",
			"NURTURE_SECRET": strings.Repeat("k", 32), "NURTURE_FROM": "Acme News <news@acme.example>", "NURTURE_ADMIN_TOKEN": adminToken,
			"NURTURE_CAMPAIGNS": webinarForm(t), "NURTURE_APPLE_EGRESS_FILE": file,
		}
		cfg, err := config.Load(func(n string) string { return settings[n] }, config.ServeNeeds...)
		if err != nil {
			t.Fatal(err)
		}
		a, err := wire(context.Background(), cfg, testLog(t), time.Now)
		if err == nil {
			a.close()
			t.Errorf("%s: the server starts", filepath.Base(file))
			continue
		}
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", filepath.Base(file), err, want)
		}
	}
}
