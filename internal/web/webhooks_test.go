package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/store"
	"github.com/nurture/nurture/internal/webhook"
)

// fakeWebhooks records redeliveries and answers attempts from a map; a
// handoff missing from it does not exist.
type fakeWebhooks struct {
	mu          sync.Mutex
	redelivered []int64
	attempts    map[int64][]store.WebhookAttempt
	err         error // Redeliver's answer for a handoff that exists
}

func (f *fakeWebhooks) Redeliver(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.attempts[id]; !ok {
		return fmt.Errorf("webhook: %w", store.ErrNotFound)
	}
	if f.err != nil {
		return f.err
	}
	f.redelivered = append(f.redelivered, id)
	return nil
}

func (f *fakeWebhooks) Attempts(ctx context.Context, id int64) ([]store.WebhookAttempt, error) {
	as, ok := f.attempts[id]
	if !ok {
		return nil, fmt.Errorf("webhook: %w", store.ErrNotFound)
	}
	return as, nil
}

const salesToken = "sales-token-0123456789"

func setupWebhooks(t *testing.T) (*handlerBundle, *fakeWebhooks) {
	t.Helper()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f := &fakeWebhooks{attempts: map[int64][]store.WebhookAttempt{
		42: {
			{ID: 1, HandoffID: 42, At: at, URL: "https://crm.example/hooks", Status: 500, Error: "down", DurationMS: 12},
			{ID: 2, HandoffID: 42, At: at.Add(30 * time.Second), URL: "https://crm.example/hooks", Status: 204, DurationMS: 9},
		},
	}}
	b := setupHandlers(t, func(c *Config) { c.Webhooks, c.SalesToken = f, salesToken })
	return b, f
}

func TestRedeliver_QueuesADeliveryForSalesOrAdmin(t *testing.T) {
	t.Parallel()
	b, f := setupWebhooks(t)
	for _, tok := range []string{salesToken, testToken} {
		res, body := b.do(t, "POST", "/api/v1/handoffs/42/redeliver", "", "", "Authorization", "Bearer "+tok)
		if res.StatusCode != 202 || !strings.Contains(body, `"webhook": "pending"`) {
			t.Errorf("redeliver = %d %s, want 202 pending", res.StatusCode, body)
		}
	}
	if len(f.redelivered) != 2 || f.redelivered[0] != 42 {
		t.Errorf("redelivered %v, want 42 twice", f.redelivered)
	}
}

func TestRedeliver_NeedsTheSalesOrAdminToken(t *testing.T) {
	t.Parallel()
	b, f := setupWebhooks(t)
	for _, auth := range []string{"", "Bearer wrong", "Bearer ", "Basic " + salesToken, salesToken} {
		for _, path := range []string{"/api/v1/handoffs/42/redeliver", "/api/v1/handoffs/42/attempts"} {
			method := map[bool]string{true: "POST", false: "GET"}[strings.HasSuffix(path, "redeliver")]
			res, _ := b.do(t, method, path, "", "", "Authorization", auth)
			if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %q = %d, want 401", method, path, auth, res.StatusCode)
			}
		}
	}
	if len(f.redelivered) != 0 {
		t.Errorf("redelivered %v without a token", f.redelivered)
	}
	// Without a sales token set, an empty bearer is not it.
	none := setupHandlers(t, func(c *Config) { c.Webhooks = f })
	if res, _ := none.do(t, "POST", "/api/v1/handoffs/42/redeliver", "", "", "Authorization", "Bearer "); res.StatusCode != 401 {
		t.Errorf("with no sales token set, an empty one passed: %d", res.StatusCode)
	}
}

func TestRedeliver_SaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	b, f := setupWebhooks(t)
	auth := []string{"Authorization", "Bearer " + salesToken}
	for path, want := range map[string]int{
		"/api/v1/handoffs/7/redeliver":    404,
		"/api/v1/handoffs/abc/redeliver":  400,
		"/api/v1/handoffs/-1/redeliver":   400,
		"/api/v1/handoffs/7/attempts":     404,
		"/api/v1/handoffs/1e3/attempts":   400,
		"/api/v1/handoffs/42/redelivery":  404,
		"/api/v1/handoffs/42/attempts/1":  404,
		"/api/v1/handoffs/42/attempts/x/": 404,
	} {
		method := "POST"
		if strings.Contains(path, "attempts") {
			method = "GET"
		}
		if res, body := b.do(t, method, path, "", "", auth...); res.StatusCode != want {
			t.Errorf("%s %s = %d %s, want %d", method, path, res.StatusCode, body, want)
		}
	}
	f.err = fmt.Errorf("wrapped: %w", webhook.ErrNoWebhook)
	res, body := b.do(t, "POST", "/api/v1/handoffs/42/redeliver", "", "", auth...)
	if res.StatusCode != 409 || !strings.Contains(body, "no handoff webhook") {
		t.Errorf("without a webhook: %d %s, want 409 that says so", res.StatusCode, body)
	}
}

func TestAttempts_ListsEveryAttempt(t *testing.T) {
	t.Parallel()
	b, _ := setupWebhooks(t)
	res, body := b.do(t, "GET", "/api/v1/handoffs/42/attempts", "", "", "Authorization", "Bearer "+salesToken)
	if res.StatusCode != 200 {
		t.Fatalf("attempts = %d %s", res.StatusCode, body)
	}
	var got struct {
		Handoff  int64 `json:"handoff"`
		Attempts []struct {
			Status     int    `json:"status"`
			Error      string `json:"error"`
			URL        string `json:"url"`
			DurationMS int    `json:"duration_ms"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Handoff != 42 || len(got.Attempts) != 2 || got.Attempts[0].Status != 500 || got.Attempts[0].Error != "down" ||
		got.Attempts[1].Status != 204 || got.Attempts[1].URL != "https://crm.example/hooks" || got.Attempts[1].DurationMS != 9 {
		t.Errorf("attempts = %+v", got)
	}
}

// The API index lists the sales routes as needing a token, the sales one
// included.
func TestAPIIndex_ListsTheSalesRoutes(t *testing.T) {
	t.Parallel()
	b, _ := setupWebhooks(t)
	_, body := b.do(t, "GET", "/api/v1", "", "")
	var index struct {
		Endpoints []struct {
			Method, Path string
			Admin, Sales bool
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(body), &index); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range index.Endpoints {
		if strings.HasPrefix(e.Path, "/api/v1/handoffs/{id}/") {
			found++
			if !e.Admin || !e.Sales {
				t.Errorf("%s %s: admin %v sales %v, want both", e.Method, e.Path, e.Admin, e.Sales)
			}
		}
	}
	if found != 2 {
		t.Errorf("the index lists %d handoff webhook routes, want 2", found)
	}
}
