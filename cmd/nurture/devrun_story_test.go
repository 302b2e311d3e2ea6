package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// caughtMail is what the run's catcher holds (its MailHog API), raw with
// quoted-printable line breaks undone.
func caughtMail(t *testing.T, web string) []string {
	t.Helper()
	res, err := http.Get("http://" + web + "/api/v2/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Items []struct {
			Raw struct{ Data string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range list.Items {
		out = append(out, strings.ReplaceAll(m.Raw.Data, "=\r\n", ""))
	}
	return out
}

// waitCaught waits for a caught mail that matches re and returns the match.
func waitCaught(t *testing.T, r *devRun, web string, re *regexp.Regexp) []string {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		for _, m := range caughtMail(t, web) {
			if got := re.FindStringSubmatch(m); got != nil {
				return got
			}
		}
	}
	t.Fatalf("no caught mail matches %s; scripts/run wrote:\n%s", re, r.stderr)
	return nil
}

// The guide that make run prints is true: its form exists, and its curl,
// pasted with the address of a confirmed Head of IT at a company of 250,
// makes the lead an MQL whose owner's mail the catcher then shows.
func TestRun_TheStoryItPrintsHandsTheLeadToSales(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1)")
	}
	t.Parallel()
	env, listen, _, web := runEnv(t, t.TempDir())
	r := startRun(t, env, "--fast")
	r.waitReady(listen)
	out := r.stderr.String()
	form := "http://" + listen + "/subscribe/ebook-datensicherheit"
	for _, want := range []string{"Try the story", "1. Sign up at " + form, "2. In http://" + web + " open", "to\n       sales@example.com, is in http://" + web} {
		if !strings.Contains(out, want) {
			t.Fatalf("the guide lacks %q:\n%s", want, out)
		}
	}
	if res, err := http.Get(form); err != nil || res.StatusCode != 200 {
		t.Fatalf("the guide's form %s: %v %v", form, res, err)
	}
	curl := regexp.MustCompile(`curl -H "Authorization: Bearer [0-9a-f]+" .*\\\n\s+-d '\{"lead": "ADDRESS", "type": "demo_booked"\}' http://` +
		regexp.QuoteMeta(listen) + `/api/v1/events`).FindString(out)
	if curl == "" {
		t.Fatalf("the guide has no curl for the demo event:\n%s", out)
	}

	const email = "hanna@elbwerk.example"
	body := fmt.Sprintf(`{"form": "ebook-datensicherheit", "email": %q, "attributes": {"company": "Elbwerk GmbH", "job_title": "Head of IT", "company_size": "250"}}`, email)
	res, err := http.Post("http://"+listen+"/api/v1/subscribe", "application/json", strings.NewReader(body))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("signup: %v %v", res, err)
	}
	link := waitCaught(t, r, web, regexp.MustCompile(`http://[^\s"<>]+/confirm/[A-Za-z0-9_-]+`))[0]
	if res, err := http.Post(link, "application/x-www-form-urlencoded", nil); err != nil || res.StatusCode != 200 {
		t.Fatalf("confirm: %v %v", res, err)
	}
	pasted := exec.Command("bash", "-c", strings.ReplaceAll(curl, "ADDRESS", email)+" --silent --fail")
	if b, err := pasted.CombinedOutput(); err != nil || !strings.Contains(string(b), `"lead"`) {
		t.Fatalf("the guide's curl: %v\n%s", err, b)
	}
	waitCaught(t, r, web, regexp.MustCompile(`(?s)\nSubject: New lead for you: [^\n]*`+regexp.QuoteMeta(email)+`.*?\nTo: <sales@example\.com>`))

	syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT)
	if code := r.exit(2 * time.Minute); code != 0 {
		t.Fatalf("Ctrl-C: exit status %d; it wrote:\n%s", code, r.stderr)
	}
}
