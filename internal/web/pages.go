package web

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/nurture/nurture/internal/optin"
)

// fail renders an error page with the status the error maps to.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	retryHint(w, err)
	status := statusOf(err)
	s.logFailure(r, status, err)
	switch {
	case status == http.StatusNotFound:
		s.page(w, status, "notfound.html", nil)
	case errors.Is(err, optin.ErrRevoked):
		// Gone like an expired link, but with nothing to renew.
		s.page(w, status, "revoked.html", nil)
	case status == http.StatusGone:
		s.page(w, status, "expired.html", map[string]string{"Token": r.PathValue("token")})
	default:
		s.page(w, status, "error.html", map[string]any{"Status": status, "Message": message(err)})
	}
}

func (s *Server) page(w http.ResponseWriter, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.cfg.Log.Error("web: no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		s.cfg.Log.Error("web: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.write(w, status, name, buf.Bytes())
}

// write sends a rendered page, named name for its referrer policy.
func (s *Server) write(w http.ResponseWriter, status int, name string, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", referrerPolicy(name))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors *")
	w.WriteHeader(status)
	w.Write(page)
}

// referrerPolicy keeps token-bearing URLs (confirm, unsubscribe) out of
// Referer headers. The signup page holds no secret: it lets the browser send
// its own URL with the same-origin form post, and that URL goes into the
// consent ledger as the signup's source URL.
func referrerPolicy(page string) string {
	if page == "subscribe" {
		return "same-origin"
	}
	return "no-referrer"
}

// bodyError tells an oversized body from a malformed one.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	return badRequest("the request body could not be read: " + err.Error())
}
