//go:build faults

package faults

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// signupLoad posts signups at a steady rate until stop is closed, and
// keeps every answer.
type signupLoad struct {
	mu      sync.Mutex
	answers []answer
	wg      sync.WaitGroup
}

type answer struct {
	email      string
	at         time.Time // when the answer came
	status     int
	retryAfter string
	err        error
}

func startSignups(base string, perSecond int, stop <-chan struct{}) *signupLoad {
	l := &signupLoad{}
	client := &http.Client{Timeout: 15 * time.Second}
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			email := fmt.Sprintf("signup%d@example.org", i)
			l.wg.Go(func() {
				res, err := post(client, base+"/api/v1/subscribe", `{"email": "`+email+`", "consent_text": "Yes, send me mail.", "consent_version": "v1", "source": "faults"}`)
				a := answer{email: email, at: time.Now(), err: err}
				if err == nil {
					a.status, a.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
				}
				l.mu.Lock()
				l.answers = append(l.answers, a)
				l.mu.Unlock()
			})
		}
	}()
	return l
}

// watchDB returns a function that waits until the database answers a new
// connection again after it has refused one, and returns the time of the
// first answer.
func watchDB(t *testing.T, url string) func() time.Time {
	t.Helper()
	back := make(chan time.Time, 1)
	go func() {
		down := false
		for {
			db, err := sql.Open("postgres", url)
			if err == nil {
				err = db.Ping()
				db.Close()
			}
			switch {
			case err != nil:
				down = true
			case down:
				back <- time.Now()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() time.Time {
		select {
		case at := <-back:
			return at
		case <-time.After(60 * time.Second):
			t.Fatal("the database did not come back within 60 s")
			return time.Time{}
		}
	}
}

// TestPostgresRestart_No500AndEverySignupMailedWithin2s: Postgres restarts
// (pg_ctl restart -m fast) during signups at 50/s and a dispatch. No
// request gets a 500: those that cannot reach the database get a 503 with
// Retry-After. Every signup answered 202 is mailed within 2 s of the
// database's return (or of its answer, if later), and no mail is held
// longer.
func TestPostgresRestart_No500AndEverySignupMailedWithin2s(t *testing.T) {
	const steps = 1000
	w := newWorld(t)
	w.mail.SetRule(delay(time.Millisecond))
	a := startNode(t, "node-a", w.env(w.mail.SMTPAddr()))
	stop := make(chan struct{})
	load := startSignups(a.base, 50, stop)
	time.Sleep(500 * time.Millisecond)
	w.seed(steps, time.Now(), 0)
	if !eventually(30*time.Second, func() bool { return w.mail.Stats().Received >= 200 }) {
		t.Fatalf("node-a sent %d mails in 30 s", w.mail.Stats().Received)
	}

	backAt := watchDB(t, w.dbURL)
	restarted := time.Now()
	if _, err := pgScript("restart"); err != nil {
		t.Fatal(err)
	}
	back := backAt()
	t.Logf("Postgres was away for %v", back.Sub(restarted).Round(time.Millisecond))
	time.Sleep(time.Second)
	close(stop)
	load.wg.Wait()

	// Every mail due before the return is out 2 s after it; a signup
	// answered later is out 2 s after its answer.
	deadline := back.Add(2 * time.Second)
	var acked []answer
	for _, ans := range load.answers {
		switch {
		case ans.err != nil:
			t.Errorf("signup %s: %v", ans.email, ans.err)
		case ans.status == 202:
			acked = append(acked, ans)
			deadline = maxTime(deadline, ans.at.Add(2*time.Second))
		case ans.status == 503 && ans.retryAfter != "":
		default:
			t.Errorf("signup %s: status %d (Retry-After %q), want 202, or 503 with Retry-After", ans.email, ans.status, ans.retryAfter)
		}
	}
	time.Sleep(time.Until(deadline.Add(100 * time.Millisecond)))
	c := catch(w.mail)
	late := 0
	for _, ans := range acked {
		due := maxTime(back, ans.at).Add(2 * time.Second)
		if at, ok := c.first[ans.email]; !ok || at.After(due) {
			late++
			if late <= 5 {
				t.Errorf("signup %s answered 202 at %+v was not mailed by %+v (the times are from the database's return)", ans.email, ans.at.Sub(back).Round(time.Millisecond), due.Sub(back))
			}
		}
	}
	if o := w.outbox(); o.Queued+o.Sending > 0 {
		t.Errorf("2 s after the database's return mail is still held: %+v", o)
	}
	if late > 0 {
		// When they did come, for whoever reads the failure.
		w.allSent(steps+len(acked), 10*time.Second, w.mail)
		c = catch(w.mail)
		var last time.Duration
		for _, ans := range acked {
			if at, ok := c.first[ans.email]; ok {
				last = max(last, at.Sub(back))
			}
		}
		t.Logf("the last acknowledged signup was mailed %+v after the database's return", last.Round(time.Millisecond))
	}
	t.Logf("%d signups answered, %d with 202, %d of those late; outbox %+v", len(load.answers), len(acked), late, w.outbox())
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestPostgresStopped_Every503SaysTryAgain: with Postgres stopped, every
// request that needs it gets a 503 with Retry-After: a page on the HTML
// routes, a JSON error under /api/, each saying to try again. Once
// Postgres is back, the same requests succeed.
func TestPostgresStopped_Every503SaysTryAgain(t *testing.T) {
	w := newWorld(t)
	a := startNode(t, "node-a", w.env(w.mail.SMTPAddr()))
	client := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signup := `{"email": "anna@example.org", "consent_text": "Yes, send me mail.", "consent_version": "v1"}`
	if res, err := post(client, a.base+"/api/v1/subscribe", signup); err != nil || res.StatusCode != 202 {
		t.Fatalf("signup: %v %v", res, err)
	}
	msgs, err := w.mail.WaitFor(timeout(t, 5*time.Second), 1)
	if err != nil {
		t.Fatal(err)
	}
	confirm := confirmPath(t, msgs[0].Text)

	if _, err := pgScript("stop"); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			pgScript("start", "--fast")
		}
	})
	requests := []struct {
		method, path, contentType, body string
		html                            bool
	}{
		{"POST", "/api/v1/subscribe", "application/json", `{"email": "ben@example.org", "consent_text": "Yes, send me mail.", "consent_version": "v1"}`, false},
		{"POST", "/subscribe", "application/x-www-form-urlencoded", "email=carla%40example.org&consent_version=v1", true}, // as the form's page posts
		{"GET", confirm, "", "", true},
		{"POST", confirm, "application/x-www-form-urlencoded", "", true},
		{"GET", "/api/v1/leads/anna@example.org", "", "", false},
		{"GET", "/readyz", "", "", false},
	}
	for _, rq := range requests {
		req, _ := http.NewRequest(rq.method, a.base+rq.path, strings.NewReader(rq.body))
		if rq.contentType != "" {
			req.Header.Set("Content-Type", rq.contentType)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", rq.method, rq.path, err)
			continue
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ct := res.Header.Get("Content-Type")
		switch {
		case res.StatusCode != 503 || res.Header.Get("Retry-After") == "":
			t.Errorf("%s %s: %d, Retry-After %q; want 503 with Retry-After:\n%s", rq.method, rq.path, res.StatusCode, res.Header.Get("Retry-After"), body)
		case rq.html && (!strings.HasPrefix(ct, "text/html") || !strings.Contains(string(body), "try again")):
			t.Errorf("%s %s: %s, want a page that says to try again:\n%s", rq.method, rq.path, ct, body)
		case !rq.html && !strings.HasPrefix(ct, "application/json"):
			t.Errorf("%s %s: %s, want JSON:\n%s", rq.method, rq.path, ct, body)
		case !rq.html && rq.path != "/readyz" && !strings.Contains(string(body), "try again"):
			t.Errorf("%s %s: want an error that says to try again:\n%s", rq.method, rq.path, body)
		}
	}

	if _, err := pgScript("start", "--fast"); err != nil {
		t.Fatal(err)
	}
	restarted = true
	back := time.Now()
	ok := eventually(5*time.Second, func() bool {
		res, err := post(client, a.base+confirm, "")
		return err == nil && res.StatusCode == 200
	})
	if !ok {
		t.Fatalf("5 s after Postgres came back the confirmation still failed")
	}
	t.Logf("the confirmation worked %v after Postgres came back", time.Since(back).Round(time.Millisecond))
}

func confirmPath(t *testing.T, text string) string {
	t.Helper()
	i := strings.Index(text, "/confirm/")
	if i < 0 {
		t.Fatalf("no confirmation link in:\n%s", text)
	}
	end := strings.IndexAny(text[i:], " \r\n\"<>")
	if end < 0 {
		end = len(text) - i
	}
	return text[i : i+end]
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
