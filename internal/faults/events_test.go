//go:build faults

package faults

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/nurture/nurture/internal/tracking"
)

// TestKill9MidEvents_EveryAcknowledgedEventSurvives: opens, clicks and API
// events stream in from many clients when the node dies with SIGKILL.
// Every pixel answered, every redirect and every 201 of the events API was
// answered after its event committed: each is in the database afterwards.
func TestKill9MidEvents_EveryAcknowledgedEventSurvives(t *testing.T) {
	w := newWorld(t)
	leadID, msgID := w.trackedMail()
	signer := tracking.NewSigner([]byte(strings.Repeat("k", 32)))

	a := startNode(t, "node-a", w.env(w.mail.SMTPAddr()))
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var (
		mu          sync.Mutex
		acked       = map[string][]string{} // kind → user agents or keys answered
		failed, seq atomic.Int64
		stop        = make(chan struct{})
		wg          sync.WaitGroup
	)
	send := func(kind string) {
		n := seq.Add(1)
		tag := fmt.Sprintf("faults-%s/%d", kind, n)
		var req *http.Request
		switch kind {
		case "open":
			req, _ = http.NewRequest("GET", a.base+"/o/"+signer.Open(msgID), nil)
		case "click":
			req, _ = http.NewRequest("GET", a.base+"/c/"+signer.Click(msgID, 1), nil)
		case "api":
			body := fmt.Sprintf(`{"lead": %d, "type": "download", "idempotency_key": %q}`, leadID, tag)
			req, _ = http.NewRequest("POST", a.base+"/api/v1/events", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("User-Agent", tag)
		res, err := client.Do(req)
		if err != nil {
			failed.Add(1)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		ok := map[string]int{"open": 200, "click": 302, "api": 201}[kind] == res.StatusCode
		if !ok {
			failed.Add(1)
			return
		}
		mu.Lock()
		acked[kind] = append(acked[kind], tag)
		mu.Unlock()
	}
	for i := range 24 {
		kind := []string{"open", "click", "api"}[i%3]
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					send(kind)
				}
			}
		})
	}
	// Kill once each kind has had a good number answered, mid-stream.
	enough := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked["open"]) >= 200 && len(acked["click"]) >= 200 && len(acked["api"]) >= 200
	}
	if !eventually(30*time.Second, enough) {
		close(stop)
		wg.Wait()
		t.Fatalf("not enough events answered in 30 s: %d opens, %d clicks, %d API", len(acked["open"]), len(acked["click"]), len(acked["api"]))
	}
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed before the kill", n)
	}
	a.kill()
	close(stop)
	wg.Wait()

	for _, kind := range []string{"open", "click", "api"} {
		tags := acked[kind]
		if len(tags) < 20 {
			t.Fatalf("only %d %s events were acknowledged before the kill: the test proves nothing", len(tags), kind)
		}
		col := "user_agent"
		if kind == "api" {
			col = "idempotency_key"
		}
		var missing []string
		must(t, w.db.Select(&missing, `SELECT tag FROM unnest($1::text[]) AS tag
			WHERE NOT EXISTS (SELECT 1 FROM events WHERE `+col+` = tag)`, pq.Array(tags)))
		if len(missing) > 0 {
			t.Errorf("%d of %d acknowledged %s events are not in the database, e.g. %q", len(missing), len(tags), kind, missing[0])
		}
		t.Logf("%s: %d acknowledged, all recorded", kind, len(tags))
	}
	t.Logf("%d requests went unanswered at and after the kill", failed.Load())
}

// trackedMail seeds a tracked lead and a step mail delivered an hour ago
// with one link, https://acme.example/a, as the dispatcher records it.
func (w *world) trackedMail() (leadID, msgID int64) {
	w.t.Helper()
	var setID int64
	must(w.t, w.db.Get(&leadID, `INSERT INTO leads (email, status, created_at, updated_at, confirmed_at, tracking)
		VALUES ('anna@example.com', 'confirmed', now(), now(), now(), true) RETURNING id`))
	links := `[{"url": "https://acme.example/a", "text": "a"}]`
	digest := sha256.Sum256([]byte(links))
	must(w.t, w.db.Get(&setID, `INSERT INTO link_sets (digest, links) VALUES ($1, $2) RETURNING id`, digest[:], links))
	must(w.t, w.db.Get(&msgID, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		VALUES ('step', $1, '<m1@test>', 'news@acme.example', 'anna@example.com', 'sent', now() - interval '1 hour',
		        now() - interval '1 hour', now() - interval '1 hour', 'faults/01-hello', $2) RETURNING id`, leadID, setID))
	return leadID, msgID
}

// TestPostgresStopped_PixelAndRedirectAnswerAndTheLossIsCounted: with
// Postgres stopped, the pixel still answers its GIF, and a link the node
// has followed before still redirects, as does one of a mail sent before
// the node started that nobody followed (the node read the recent mail at
// start); all three events are counted as lost.
func TestPostgresStopped_PixelAndRedirectAnswerAndTheLossIsCounted(t *testing.T) {
	w := newWorld(t)
	_, msgID := w.trackedMail()
	var unclicked int64
	must(t, w.db.Get(&unclicked, `INSERT INTO messages (kind, lead_id, message_id, sender, recipient, status, run_at, created_at, sent_at, step_key, link_set_id)
		SELECT kind, lead_id, '<m2@test>', sender, recipient, status, run_at, created_at, sent_at, 'faults/02-next', link_set_id
		FROM messages WHERE id = $1 RETURNING id`, msgID))
	signer := tracking.NewSigner([]byte(strings.Repeat("k", 32)))
	a := startNode(t, "node-a", w.env(w.mail.SMTPAddr()))
	client := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, auth bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", a.base+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+adminToken)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	click := "/c/" + signer.Click(msgID, 1)
	if res, _ := get(click, false); res.StatusCode != 302 {
		t.Fatalf("click with Postgres up: %d", res.StatusCode)
	}
	if _, err := pgScript("stop"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgScript("start", "--fast") })

	if res, body := get("/o/"+signer.Open(msgID), false); res.StatusCode != 200 || body != tracking.Pixel || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("pixel with Postgres stopped: %d %q", res.StatusCode, body)
	}
	if res, _ := get(click, false); res.StatusCode != 302 || res.Header.Get("Location") != "https://acme.example/a" {
		t.Errorf("click with Postgres stopped: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get("/c/"+signer.Click(unclicked, 1), false); res.StatusCode != 302 || res.Header.Get("Location") != "https://acme.example/a" {
		t.Errorf("never followed before, click with Postgres stopped: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := get("/api/v1/events/stats", true); res.StatusCode != 200 || !strings.Contains(body, `"events_lost": 3`) {
		t.Errorf("stats: %d %s", res.StatusCode, body)
	}
}
