package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type handoffList struct {
	Handoffs []struct {
		ID     int64  `json:"id"`
		Owner  string `json:"owner"`
		Status string `json:"status"`
		Lead   struct {
			Email string `json:"email"`
			Stage string `json:"stage"`
		} `json:"lead"`
	} `json:"handoffs"`
}

func TestHandoff_SalesAPIFiltersDecidesAndNeedsItsToken(t *testing.T) {
	t.Parallel()
	h := startSales(t)
	id, _ := handOffAnna(t, h, "anna@sales.example", 2)
	get := func(q, tok string) (int, handoffList) {
		t.Helper()
		res := h.do("GET", "/api/v1/handoffs"+q, "", nil, "Authorization", "Bearer "+tok)
		var l handoffList
		if res.status == 200 {
			if err := json.Unmarshal([]byte(res.body), &l); err != nil {
				t.Fatal(err)
			}
		}
		return res.status, l
	}
	if st, _ := get("", "wrong-token-0123456789"); st != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", st)
	}
	if st, l := get("?owner=anna@sales.example&status=open", salesToken); st != 200 || len(l.Handoffs) != 1 || l.Handoffs[0].Lead.Email != "anna@example.com" || l.Handoffs[0].Lead.Stage != "mql" {
		t.Fatalf("sales token, anna's open: %d %+v", st, l)
	}
	if st, l := get("?owner=ben@sales.example", adminToken); st != 200 || len(l.Handoffs) != 0 {
		t.Fatalf("admin token, ben's: %d %+v", st, l)
	}
	if res := h.do("GET", "/api/v1/handoffs?status=maybe", "", nil, "Authorization", "Bearer "+salesToken); res.status != http.StatusBadRequest {
		t.Fatalf("bad status filter: %d %s", res.status, res.body)
	}
	post := func(path, body string) response {
		return h.do("POST", path, "application/json", strings.NewReader(body), "Authorization", "Bearer "+salesToken)
	}
	if res := h.do("POST", "/api/v1/leads/anna@example.com/accept", "", nil); res.status != http.StatusUnauthorized {
		t.Fatalf("accept without token: %d", res.status)
	}
	if res := post("/api/v1/leads/anna@example.com/qualify", ""); res.status != http.StatusConflict || !strings.Contains(res.body, "stage mql") {
		t.Fatalf("qualify an mql: %d %s", res.status, res.body)
	}
	if res := post("/api/v1/leads/anna@example.com/reject", `{"reason": "meh"}`); res.status != http.StatusBadRequest || !strings.Contains(res.body, `"no_budget"`) {
		t.Fatalf("reject, unknown reason: %d %s", res.status, res.body)
	}
	if res := post("/api/v1/leads/nobody@example.com/accept", ""); res.status != http.StatusNotFound {
		t.Fatalf("accept unknown lead: %d %s", res.status, res.body)
	}
	res := post("/api/v1/leads/anna@example.com/accept", "")
	if res.status != 200 || !strings.Contains(res.body, `"stage": "sal"`) {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	if st, l := get("?status=accepted", salesToken); st != 200 || len(l.Handoffs) != 1 {
		t.Fatalf("accepted: %d %+v", st, l)
	}
	if res := post("/api/v1/leads/anna@example.com/reject", `{"reason": "bad_fit"}`); res.status != 200 || !strings.Contains(res.body, `"stage": "lead"`) {
		t.Fatalf("reject an sal: %d %s", res.status, res.body)
	}
	var actor string
	if err := h.db().Get(&actor, `SELECT actor FROM stage_changes WHERE lead_id = $1 ORDER BY id DESC LIMIT 1`, id); err != nil || actor != "api" {
		t.Fatalf("actor %q, %v", actor, err)
	}
	if res := post("/api/v1/leads/anna@example.com/accept", ""); res.status != http.StatusConflict || !strings.Contains(res.body, "no open or accepted handoff") {
		t.Fatalf("accept with none live: %d %s", res.status, res.body)
	}
}

// The admin API's stage moves keep the handoff in step: a lead set to mql
// by hand is handed to the owner whose turn it is, as scoring would hand
// it; set back to lead, its handoff is withdrawn, so that the next time
// it is an MQL it gets a handoff of its own, to the next owner; at sal
// and sql the live handoff is accepted and qualified.
func TestHandoff_StageSetByHandKeepsTheHandoffInStep(t *testing.T) {
	t.Parallel()
	h := startSales(t)
	h.confirmAnna(1)
	id := h.lead("anna@example.com").ID
	put := func(stage string) {
		t.Helper()
		res := h.do("PUT", "/api/v1/leads/anna@example.com/stage", "application/json", strings.NewReader(`{"stage": "`+stage+`"}`),
			"Authorization", "Bearer "+adminToken)
		if res.status != 200 {
			t.Fatalf("PUT stage %s: %d %s", stage, res.status, res.body)
		}
	}
	handoffs := func() string {
		t.Helper()
		var rows []string
		if err := h.db().Select(&rows, `SELECT owner || ' ' || status FROM handoffs WHERE lead_id = $1 ORDER BY id`, id); err != nil {
			t.Fatal(err)
		}
		return strings.Join(rows, ", ")
	}
	put("mql")
	if m := h.waitMail(2); strings.Join(m.To, ",") != "anna@sales.example" || !strings.Contains(m.Text, "anna@example.com") {
		t.Fatalf("owner mail to %v:\n%s", m.To, m.Text)
	}
	if got := handoffs(); got != "anna@sales.example open" {
		t.Fatalf("after mql: %s", got)
	}
	put("lead")
	if got := handoffs(); got != "anna@sales.example withdrawn" {
		t.Fatalf("after lead: %s", got)
	}
	var recycled bool
	if err := h.db().Get(&recycled, `SELECT recycled_at IS NOT NULL FROM leads WHERE id = $1`, id); err != nil || !recycled {
		t.Errorf("back at lead: recycled %v (%v); want recycled, so that only new engagement makes it an MQL again", recycled, err)
	}
	put("mql")
	if m := h.waitMail(3); strings.Join(m.To, ",") != "ben@sales.example" {
		t.Fatalf("second owner mail to %v", m.To)
	}
	put("sal")
	if got := handoffs(); got != "anna@sales.example withdrawn, ben@sales.example accepted" {
		t.Fatalf("after sal: %s", got)
	}
	put("mql") // back: the accepted handoff is open and undecided again
	var undecided bool
	if err := h.db().Get(&undecided, `SELECT decided_at IS NULL AND decided_by = '' FROM handoffs WHERE lead_id = $1 AND status = 'open'`, id); err != nil || !undecided {
		t.Fatalf("back at mql: handoffs %s, undecided %v (%v)", handoffs(), undecided, err)
	}
	put("sal")
	put("sql")
	if got := handoffs(); got != "anna@sales.example withdrawn, ben@sales.example qualified" {
		t.Fatalf("after sql: %s", got)
	}
	var reasons []string
	if err := h.db().Select(&reasons, `SELECT actor || ': ' || reason FROM stage_changes WHERE lead_id = $1 ORDER BY id`, id); err != nil {
		t.Fatal(err)
	}
	for _, r := range reasons {
		if r != "api: set through the API" {
			t.Errorf("stage change %q, want api: set through the API", r)
		}
	}
	if len(reasons) != 7 {
		t.Errorf("%d stage changes, want 7: %v", len(reasons), reasons)
	}
}
