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
