package engage

import (
	"net/url"
	"strings"
	"sync"

	"github.com/nurture/nurture/internal/store"
)

// maxCached is how many mails the cache holds before it starts anew.
const maxCached = 1 << 16

// messageCache keeps the mails that opens and clicks named: a mail's lead,
// step, delivery and links never change once it was delivered (a link set
// is never edited), so a click is redirected without a query, and still
// while the database is down.
type messageCache struct {
	mu sync.RWMutex
	m  map[int64]*store.TrackedMessage
}

func (c *messageCache) get(id int64) *store.TrackedMessage {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[id]
}

// put keeps a delivered mail; one not yet delivered is looked up again.
func (c *messageCache) put(m *store.TrackedMessage) {
	if m.SentAt == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[int64]*store.TrackedMessage)
	}
	c.m[m.ID] = m
}

// target is where link i (tracking.Link.Index) of mail m leads: the URL
// the mail had, with the signed lead reference nt added for a host of the
// marketer's own site.
func (s *Service) target(m *store.TrackedMessage, i int) (string, bool) {
	l, ok := m.Link(i)
	if !ok {
		return "", false
	}
	raw := l.URL
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	if !s.siteHost(u) {
		return raw, true
	}
	q := u.Query()
	q.Set("nt", s.cfg.Signer.Site(m.LeadID))
	u.RawQuery = q.Encode()
	return u.String(), true
}

func (s *Service) siteHost(u *url.URL) bool {
	for _, h := range s.cfg.SiteHosts {
		if strings.EqualFold(u.Host, h) || strings.EqualFold(u.Hostname(), h) {
			return true
		}
	}
	return false
}

// clean makes request text storable: valid UTF-8 without NUL, at most max
// bytes.
func clean(s string, max int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}
