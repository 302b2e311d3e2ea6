package web

import "net/http"

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	state, err := s.optin.CheckConfirm(r.Context(), tok)
	switch {
	case err != nil:
		s.fail(w, r, err)
	case state.Confirmed:
		s.page(w, http.StatusOK, "confirmed.html", map[string]bool{"Already": true})
	default:
		s.page(w, http.StatusOK, "confirm.html", map[string]string{"Token": tok})
	}
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	already, err := s.optin.Confirm(r.Context(), r.PathValue("token"), s.evidence(r, ""))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "confirmed.html", map[string]bool{"Already": already})
}

func (s *Server) resend(w http.ResponseWriter, r *http.Request) {
	if err := s.allowIP(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.optin.Resend(r.Context(), r.PathValue("token"), s.evidence(r, "")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "check-inbox.html", map[string]bool{"Resent": true})
}

func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	email, err := s.optin.CheckUnsubscribe(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "unsubscribe.html", map[string]string{"Token": r.PathValue("token"), "Email": email})
}

// unsubscribe is both the page's button and RFC 8058 one-click: a POST
// without cookies, with body List-Unsubscribe=One-Click, from a mail client.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := s.optin.Unsubscribe(r.Context(), r.PathValue("token"), s.evidence(r, "")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, http.StatusOK, "unsubscribed.html", nil)
}
