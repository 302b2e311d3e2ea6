package devmail

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/mailhog/data"
)

// MailHog's list defaults: 50 per page, at most 250; v1 lists up to 1000.
const (
	apiDefaultLimit = 50
	apiMaxLimit     = 250
	apiV1Limit      = 1000
)

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /messages/{id}", s.show)
	mux.HandleFunc("GET /messages/{id}/html", s.showHTML)
	mux.HandleFunc("POST /messages/{id}/delete", s.deleteForm)
	mux.HandleFunc("POST /messages/delete", s.deleteAllForm)

	// MailHog's API, so MailHog scripts work against devmail.
	for _, p := range []string{"/api/v2/messages", "/api/v2/messages/{$}"} {
		mux.HandleFunc("GET "+p, s.apiV2Messages)
	}
	for _, p := range []string{"/api/v2/search", "/api/v2/search/{$}"} {
		mux.HandleFunc("GET "+p, s.apiV2Search)
	}
	for _, p := range []string{"/api/v1/messages", "/api/v1/messages/{$}"} {
		mux.HandleFunc("GET "+p, s.apiV1Messages)
		mux.HandleFunc("DELETE "+p, s.apiDeleteAll)
	}
	mux.HandleFunc("GET /api/v1/messages/{id}", s.apiV1Message)
	mux.HandleFunc("DELETE /api/v1/messages/{id}", s.apiDelete)
	mux.HandleFunc("GET /api/v1/messages/{id}/download", s.apiDownload)

	var h http.Handler = mux
	// The forms and DELETE change state; refuse them from other sites.
	h = http.NewCrossOriginProtection().Handler(h)
	h = http.TimeoutHandler(h, 10*time.Second, "devmail: timeout\n")
	return http.MaxBytesHandler(h, 64<<10)
}

// apiList is MailHog's v2 list envelope.
type apiList struct {
	Total int            `json:"total"`
	Count int            `json:"count"`
	Start int            `json:"start"`
	Items []data.Message `json:"items"`
}

func startLimit(r *http.Request) (start, limit int) {
	start, limit = 0, apiDefaultLimit
	if n, err := strconv.Atoi(r.URL.Query().Get("start")); err == nil && n > 0 {
		start = n
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, apiMaxLimit)
	}
	return start, limit
}

func (s *Server) apiV2Messages(w http.ResponseWriter, r *http.Request) {
	start, limit := startLimit(r)
	items, total := s.store.list(start, limit)
	writeJSON(w, http.StatusOK, apiList{Total: total, Count: len(items), Start: start, Items: items})
}

func (s *Server) apiV2Search(w http.ResponseWriter, r *http.Request) {
	kind, query := r.URL.Query().Get("kind"), r.URL.Query().Get("query")
	if kind != "from" && kind != "to" && kind != "containing" {
		http.Error(w, "devmail: kind must be from, to or containing", http.StatusBadRequest)
		return
	}
	if query == "" {
		http.Error(w, "devmail: query missing", http.StatusBadRequest)
		return
	}
	start, limit := startLimit(r)
	items, total := s.store.search(kind, query, start, limit)
	writeJSON(w, http.StatusOK, apiList{Total: total, Count: len(items), Start: start, Items: items})
}

func (s *Server) apiV1Messages(w http.ResponseWriter, r *http.Request) {
	items, _ := s.store.list(0, apiV1Limit)
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) apiV1Message(w http.ResponseWriter, r *http.Request) {
	m, _, err := s.store.load(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiDownload(w http.ResponseWriter, r *http.Request) {
	_, e, err := s.store.load(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="message.eml"`)
	w.Write([]byte(e.raw))
}

func (s *Server) apiDeleteAll(w http.ResponseWriter, r *http.Request) {
	s.store.reset()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) apiDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.store.delete(r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	if errors.Is(err, errNotFound) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	http.Error(w, err.Error(), http.StatusInternalServerError)
}
