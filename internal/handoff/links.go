package handoff

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Action is what sales does with a handoff.
type Action string

// The actions of sales.
const (
	Accept  Action = "accept"  // mql → sal
	Reject  Action = "reject"  // mql or sal → lead, recycled
	Qualify Action = "qualify" // sal → sql
)

// Actions are the actions, in the order the mail lists them.
var Actions = []Action{Accept, Reject, Qualify}

// ParseAction returns the action named s.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions {
		if string(a) == s {
			return a, nil
		}
	}
	return "", ErrInvalidLink
}

// Sentinel outcomes callers act on.
var (
	// ErrInvalidLink is an action link that is malformed, tampered with or
	// made for another action.
	ErrInvalidLink = errors.New("handoff: invalid action link")
	// ErrLinkExpired is an action link past its time.
	ErrLinkExpired = errors.New("handoff: action link expired")
)

// purpose binds a link's signature to its action: an accept link is
// worthless as a reject link.
func purpose(a Action) string { return "handoff-" + string(a) }

// linkToken is the token of an action link on handoff id that works until
// exp: "id.expiry.mac", the MAC over "id.expiry".
func (s *Service) linkToken(a Action, id int64, exp time.Time) string {
	payload := strconv.FormatInt(id, 10) + "." + strconv.FormatInt(exp.Unix(), 10)
	return payload + "." + s.opts.Signer.SignText(purpose(a), payload)
}

// linkURL is the address of an action link.
func (s *Service) linkURL(a Action, id int64, exp time.Time) string {
	return strings.TrimRight(s.opts.BaseURL.String(), "/") + "/sales/" + string(a) + "/" + s.linkToken(a, id, exp)
}

// verifyLink returns the handoff an action link names, checking its
// signature first and its time second, so a forged expiry says invalid.
func (s *Service) verifyLink(a Action, tok string, now time.Time) (int64, error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return 0, ErrInvalidLink
	}
	payload, mac := tok[:i], tok[i+1:]
	if !s.opts.Signer.VerifyText(purpose(a), payload, mac) {
		return 0, ErrInvalidLink
	}
	idText, expText, ok := strings.Cut(payload, ".")
	id, err1 := strconv.ParseInt(idText, 10, 64)
	exp, err2 := strconv.ParseInt(expText, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, ErrInvalidLink
	}
	if !now.Before(time.Unix(exp, 0)) {
		return 0, fmt.Errorf("%w (it worked until %s)", ErrLinkExpired, time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return id, nil
}
