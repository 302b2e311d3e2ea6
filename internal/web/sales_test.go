package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/handoff"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/optin"
	"github.com/nurture/nurture/internal/store"
)

// fakeSales is the handoff service as the sales API and pages see it.
type fakeSales struct {
	mu        sync.Mutex
	filters   []string // owner/status of each list
	decisions []string // "lead action reason actor"
	links     []string // "GET|POST action token reason"
	list      []store.HandoffLead
	view      handoff.LinkView
	res       handoff.Result
	err       error
}

func (f *fakeSales) Handoffs(ctx context.Context, owner, status string) ([]store.HandoffLead, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, owner+"/"+status)
	return f.list, f.err
}

func (f *fakeSales) Decide(ctx context.Context, id int64, d handoff.Decision) (handoff.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decisions = append(f.decisions, strings.Join([]string{itoa(id), string(d.Action), d.Reason, d.Actor}, " "))
	r := f.res
	r.Lead, r.Action = id, d.Action
	return r, f.err
}

func (f *fakeSales) CheckLink(ctx context.Context, a handoff.Action, tok string) (handoff.LinkView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = append(f.links, "GET "+string(a)+" "+tok)
	v := f.view
	v.Action, v.Token = a, tok
	return v, f.err
}

func (f *fakeSales) DecideLink(ctx context.Context, a handoff.Action, tok, reason string) (handoff.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = append(f.links, "POST "+string(a)+" "+tok+" "+reason)
	r := f.res
	r.Action = a
	return r, f.err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const salesTestToken = "sales-token-0123456789"

func setupSales(t *testing.T) (*handlerBundle, *fakeSales) {
	t.Helper()
	f := &fakeSales{}
	b := setupHandlers(t, func(c *Config) { c.Sales, c.SalesToken = f, salesTestToken })
	b.optin.leads["anna@example.com"] = &optin.Detail{Lead: &lead.Lead{ID: 7, Email: "anna@example.com"}}
	return b, f
}

func TestSalesAPI_TakesTheSalesOrTheAdminToken(t *testing.T) {
	t.Parallel()
	b, _ := setupSales(t)
	for tok, want := range map[string]int{"": 401, "wrong-token-0123456789": 401, salesTestToken: 200, testToken: 200} {
		res, body := b.do(t, "GET", "/api/v1/handoffs", "", "", "Authorization", "Bearer "+tok)
		if res.StatusCode != want {
			t.Errorf("token %q: %d %s, want %d", tok, res.StatusCode, body, want)
		}
	}
	if res, _ := b.do(t, "POST", "/api/v1/leads/anna@example.com/accept", "", ""); res.StatusCode != 401 {
		t.Errorf("accept without a token: %d", res.StatusCode)
	}
}

func TestSalesAPI_ListPassesTheFiltersAndAnswersItsOwnShape(t *testing.T) {
	t.Parallel()
	b, f := setupSales(t)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	f.list = []store.HandoffLead{{
		Handoff: store.Handoff{ID: 3, LeadID: 7, CreatedAt: at, Owner: "anna@sales.example", Status: "open", Score: 70, Webhook: "pending"},
		Email:   "lea@example.com", FirstName: "Lea", LastName: "Bauer", Stage: lead.StageMQL, WebhookAttempts: 2,
	}}
	res, body := b.do(t, "GET", "/api/v1/handoffs?owner=anna@sales.example&status=open", "", "", "Authorization", "Bearer "+salesTestToken)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if len(f.filters) != 1 || f.filters[0] != "anna@sales.example/open" {
		t.Fatalf("filters %v", f.filters)
	}
	var got struct {
		Handoffs []map[string]any `json:"handoffs"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	h := got.Handoffs[0]
	l, _ := h["lead"].(map[string]any)
	if h["id"] != 3.0 || l["email"] != "lea@example.com" || l["name"] != "Lea Bauer" || l["stage"] != "mql" || h["webhook_attempts"] != 2.0 {
		t.Fatalf("handoff %v", h)
	}
	if _, ok := h["lead_id"]; ok {
		t.Fatalf("the answer is a store row: %v", h)
	}
}

// An owner filter that no address can be (a NUL, bytes that are not
// UTF-8) is the client's error, not the database's.
func TestSalesAPI_ListRefusesAnOwnerThatIsNoText(t *testing.T) {
	t.Parallel()
	b, f := setupSales(t)
	for _, q := range []string{"owner=a%00b", "owner=%ff%fe"} {
		res, body := b.do(t, "GET", "/api/v1/handoffs?"+q, "", "", "Authorization", "Bearer "+salesTestToken)
		if res.StatusCode != 400 || !strings.Contains(body, "owner must be an address") {
			t.Errorf("%s: %d %s", q, res.StatusCode, body)
		}
	}
	if len(f.filters) != 0 {
		t.Errorf("the list was asked for with %v", f.filters)
	}
}

func TestSalesAPI_DecisionsAndTheirErrors(t *testing.T) {
	t.Parallel()
	b, f := setupSales(t)
	auth := []string{"Authorization", "Bearer " + salesTestToken}
	res, body := b.do(t, "POST", "/api/v1/leads/anna@example.com/reject", "application/json", `{"reason": "no_budget"}`, auth...)
	if res.StatusCode != 200 || len(f.decisions) != 1 || f.decisions[0] != "7 reject no_budget api" {
		t.Fatalf("reject: %d %s %v", res.StatusCode, body, f.decisions)
	}
	cases := []struct {
		path, body string
		err        error
		status     int
		says       string
	}{
		{"/api/v1/leads/anna@example.com/qualify", "", &handoff.ConflictError{Lead: 7, Action: handoff.Qualify, Stage: lead.StageMQL, Status: "open"}, 409, "qualify needs an accepted handoff"},
		{"/api/v1/leads/anna@example.com/reject", `{"reason": "x"}`, &handoff.ReasonError{Reason: "x", Allowed: []string{"no_budget", "bad_fit"}}, 400, "reason must be one of no_budget, bad_fit"},
		{"/api/v1/leads/anna@example.com/reject", `{"reason": 3}`, nil, 400, "reason"},
		{"/api/v1/leads/nobody@example.com/accept", "", nil, 404, "not found"},
	}
	for _, c := range cases {
		f.err = c.err
		res, body := b.do(t, "POST", c.path, "application/json", c.body, auth...)
		if res.StatusCode != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%s %s: %d %s, want %d saying %q", c.path, c.body, res.StatusCode, body, c.status, c.says)
		}
	}
}

func TestSalesLinks_GETShowsThePagePOSTActs(t *testing.T) {
	t.Parallel()
	b, f := setupSales(t)
	f.view = handoff.LinkView{Handoff: store.HandoffLead{Handoff: store.Handoff{Status: "open", Owner: "anna@sales.example"}, Email: "lea@example.com", Stage: lead.StageMQL},
		Reasons: []string{"no_budget", "bad_fit"}}
	res, body := b.do(t, "GET", "/sales/reject/1.2.mac", "", "")
	if res.StatusCode != 200 || !strings.Contains(body, `action="/sales/reject/1.2.mac"`) || !strings.Contains(body, `<option value="bad_fit">`) {
		t.Fatalf("GET: %d %s", res.StatusCode, body)
	}
	if len(f.links) != 1 || f.links[0] != "GET reject 1.2.mac" {
		t.Fatalf("GET asked %v", f.links)
	}
	f.res = handoff.Result{Email: "lea@example.com", Stage: lead.StageLead, Reason: "bad_fit"}
	res, body = b.do(t, "POST", "/sales/reject/1.2.mac", "application/x-www-form-urlencoded", "reason=bad_fit")
	if res.StatusCode != 200 || !strings.Contains(body, "lea@example.com") || f.links[1] != "POST reject 1.2.mac bad_fit" {
		t.Fatalf("POST: %d %s %v", res.StatusCode, body, f.links)
	}
	// a page whose action the handoff no longer allows has no button
	f.view.Handoff.Status = "rejected"
	if _, body := b.do(t, "GET", "/sales/accept/1.2.mac", "", ""); strings.Contains(body, "<form") || !strings.Contains(body, "This lead was rejected and went back to nurturing") {
		t.Fatalf("GET of a decided handoff: %s", body)
	}
	// a step out of order says what comes first, with its link
	f.view.Handoff.Status, f.view.Handoff.Stage = "open", lead.StageMQL
	f.view.Why, f.view.Then, f.view.Next = "Accept this lead first: qualifying comes after accepting.", handoff.Accept, "http://nurture.test/sales/accept/1.3.mac"
	if _, body := b.do(t, "GET", "/sales/qualify/1.2.mac", "", ""); strings.Contains(body, "<form") ||
		!strings.Contains(body, "Accept this lead first") || !strings.Contains(body, `<a href="http://nurture.test/sales/accept/1.3.mac">Accept this lead</a>`) {
		t.Fatalf("GET of qualify before accept: %s", body)
	}
	f.err = &handoff.ConflictError{Lead: 7, Action: handoff.Qualify, Stage: lead.StageMQL, Status: "open"}
	if res, body := b.do(t, "POST", "/sales/qualify/1.2.mac", "application/x-www-form-urlencoded", ""); res.StatusCode != 409 ||
		!strings.Contains(body, "Accept this lead first") || strings.Contains(body, "needs an accepted handoff") {
		t.Fatalf("POST of qualify before accept: %d %s", res.StatusCode, body)
	}
	f.err = nil
	for err, want := range map[error]int{handoff.ErrInvalidLink: 404, handoff.ErrLinkExpired: 410, &handoff.ConflictError{Action: handoff.Accept}: 409} {
		f.err = err
		for _, m := range []string{"GET", "POST"} {
			if res, _ := b.do(t, m, "/sales/accept/1.2.mac", "application/x-www-form-urlencoded", ""); res.StatusCode != want {
				t.Errorf("%s with %v: %d, want %d", m, err, res.StatusCode, want)
			}
		}
	}
	if res, _ := b.do(t, "GET", "/sales/delete/1.2.mac", "", ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown action: %d", res.StatusCode)
	}
}
