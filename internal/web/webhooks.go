package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/nurture/nurture/internal/store"
)

// Webhooks is the handoff webhook as the sales API uses it;
// *webhook.Service is one.
type Webhooks interface {
	Redeliver(ctx context.Context, handoffID int64) error
	Attempts(ctx context.Context, handoffID int64) ([]store.WebhookAttempt, error)
}

// webhookRoutes are sales routes (see salesRoutes).
func (s *Server) webhookRoutes() []route {
	if s.cfg.Webhooks == nil {
		return nil
	}
	return []route{
		{"POST", "/api/v1/handoffs/{id}/redeliver", s.redeliver, true},
		{"GET", "/api/v1/handoffs/{id}/attempts", s.webhookAttempts, true},
	}
}

// redeliver queues a new delivery of the handoff's webhook now.
func (s *Server) redeliver(w http.ResponseWriter, r *http.Request) {
	id, err := handoffID(r)
	if err == nil {
		err = s.cfg.Webhooks.Redeliver(r.Context(), id)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"handoff": id, "webhook": store.WebhookPending})
}

// webhookAttempts lists every attempt to deliver the handoff's webhook.
func (s *Server) webhookAttempts(w http.ResponseWriter, r *http.Request) {
	id, err := handoffID(r)
	var as []store.WebhookAttempt
	if err == nil {
		as, err = s.cfg.Webhooks.Attempts(r.Context(), id)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"handoff": id, "attempts": as})
}

func handoffID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("a handoff id is a number, such as /api/v1/handoffs/42/redeliver")
	}
	return id, nil
}
