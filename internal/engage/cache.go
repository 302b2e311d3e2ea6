package engage

import (
	"net/url"
	"strings"
	"sync"

	"github.com/nurture/nurture/internal/store"
)

// maxCached is how many mails the cache holds before it starts anew.
const maxCached = 1 << 16

// messageCache keeps the lead and links of the mails that clicks named,
// so that a link of a mail clicked before still redirects while the
// database is down: a mail's lead and link set never change, nor does a
// link set. A mail is two numbers, in a map the garbage collector need not
// scan; the links are kept once per set, which the mails of a step share.
type messageCache struct {
	mu    sync.RWMutex
	mails map[int64]cachedMail
	sets  map[int64][]store.Link
	ids   []int64 // the keys of sets, made anew when one is added
}

type cachedMail struct{ lead, set int64 }

// links returns mail id's lead and links, ok false for a mail not kept.
func (c *messageCache) links(id int64) (lead int64, links []store.Link, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.mails[id]
	return m.lead, c.sets[m.set], ok
}

// knownSets are the link sets kept, for InsertHits's KnownSets; the slice
// is never changed.
func (c *messageCache) knownSets() []int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ids
}

// put keeps mail id's lead and link set (0 for none), with the set's links
// unless they are nil: a set kept already.
func (c *messageCache) put(id, lead, set int64, links []store.Link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mails == nil || len(c.mails) >= maxCached {
		c.mails, c.sets, c.ids = make(map[int64]cachedMail), make(map[int64][]store.Link), nil
	}
	if _, ok := c.sets[set]; !ok {
		if links == nil {
			return // a set let go meanwhile: the next click brings it again
		}
		c.sets[set] = links
		c.ids = append(c.ids[:len(c.ids):len(c.ids)], set)
	}
	c.mails[id] = cachedMail{lead, set}
}

// linkTarget is where link i (tracking.Link.Index, from 1) of a lead's
// mail with these links leads.
func (s *Service) linkTarget(lead int64, links []store.Link, i int) (string, bool) {
	if i < 1 || i > len(links) {
		return "", false
	}
	return s.target(lead, links[i-1].URL)
}

// target is where a link of a lead's mail leads: its URL as the mail had
// it, with the signed lead reference nt added for a host of the marketer's
// own site.
func (s *Service) target(lead int64, raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	if !s.siteHost(u) {
		return raw, true
	}
	q := u.Query()
	q.Set("nt", s.cfg.Signer.Site(lead))
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
