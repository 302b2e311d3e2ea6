package engage

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/nurture/nurture/internal/store"
)

// maxCached is how many mails a generation of the cache holds: when one
// is full it becomes the older, and the older is let go, so that the
// newest mails are always kept. maxSets bounds the link sets, which the
// mails of a step share: past it the older generation is let go with the
// sets no kept mail names (links that differ per lead make a set per
// mail, and the cache then keeps the newest maxSets mails).
const (
	maxCached = 1 << 18
	maxSets   = 1 << 14
)

// messageCache keeps the lead and links of the newest tracked mails, those
// clicks named and those Warm read, so that their links still redirect
// while the database is down: a mail's lead never changes, nor does a
// link set, and a mail's set changes only when it is composed again
// before it is sent (a step edited meanwhile), which Warm, reading it
// before it is sent, can miss. A mail is two numbers, in maps the garbage
// collector need not scan; the links are kept once per set.
type messageCache struct {
	mu           sync.RWMutex
	mails, older map[int64]cachedMail
	sets         map[int64][]store.Link
	ids          []int64        // the sets clicks brought, made anew when one is added
	clicked      map[int64]bool // ids as a set
	// warmed are the newest mail ids the last two Warms saw.
	warmed, warmedBefore int64
	warming              sync.Mutex // one Warm at a time
}

type cachedMail struct{ lead, set int64 }

// links returns mail id's lead and links, ok false for a mail not kept.
func (c *messageCache) links(id int64) (lead int64, links []store.Link, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.mails[id]
	if !ok {
		m, ok = c.older[id]
	}
	return m.lead, c.sets[m.set], ok
}

// knownSets are the link sets that clicks brought, for InsertHits's
// KnownSets: the statement then leaves their links out. (Those Warm read
// are not among them, so that the array stays as short as the sets
// clicked.) The slice is never changed.
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
	if _, ok := c.sets[set]; !ok {
		if links == nil {
			return // a set let go meanwhile: the next click brings it again
		}
		c.addSet(set, links)
	}
	if !c.clicked[set] {
		c.clicked[set] = true
		c.ids = append(c.ids[:len(c.ids):len(c.ids)], set)
	}
	c.addMail(id, cachedMail{lead, set})
}

// warm keeps mails, oldest first, each with its set from sets unless the
// set is kept already.
func (c *messageCache) warm(mails []store.LinkMail, sets map[int64][]store.Link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range mails {
		if _, ok := c.sets[m.LinkSet]; !ok {
			links, ok := sets[m.LinkSet]
			if !ok {
				continue
			}
			c.addSet(m.LinkSet, links)
		}
		c.addMail(m.ID, cachedMail{m.LeadID, m.LinkSet})
	}
}

// addSet keeps a set, making room when maxSets are kept; c.mu is held.
func (c *messageCache) addSet(id int64, links []store.Link) {
	if c.sets == nil {
		c.sets, c.clicked = make(map[int64][]store.Link), make(map[int64]bool)
	}
	if len(c.sets) >= maxSets {
		c.shrink()
	}
	c.sets[id] = links
}

// shrink lets go of the older generation and of the sets that no mail
// left names, and of everything if that leaves more than half of maxSets;
// c.mu is held.
func (c *messageCache) shrink() {
	c.older = nil
	named := make(map[int64]bool, len(c.sets))
	for _, m := range c.mails {
		named[m.set] = true
	}
	for id := range c.sets {
		if !named[id] {
			delete(c.sets, id)
		}
	}
	if len(c.sets) > maxSets/2 {
		c.mails, c.sets = nil, make(map[int64][]store.Link)
	}
	ids := make([]int64, 0, len(c.ids))
	for _, id := range c.ids {
		if _, ok := c.sets[id]; ok {
			ids = append(ids, id)
		} else {
			delete(c.clicked, id)
		}
	}
	c.ids = ids
}

// addMail keeps a mail in the newer generation; c.mu is held.
func (c *messageCache) addMail(id int64, m cachedMail) {
	if c.mails == nil || len(c.mails) >= maxCached {
		c.older, c.mails = c.mails, make(map[int64]cachedMail)
	}
	c.mails[id] = m
}

// after is the mail id the next Warm reads from: the newest the Warm before
// last saw, since a mail whose id was reserved before the last Warm may
// have committed after it.
func (c *messageCache) after() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.warmedBefore
}

// sawUpTo records the newest mail id a Warm read. The first Warm, which
// read the newest mails of all, counts as the two last.
func (c *messageCache) sawUpTo(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.warmed == 0 {
		c.warmed = id
	}
	c.warmedBefore, c.warmed = c.warmed, max(id, c.warmed)
}

// missing are the sets of mails that the cache does not keep, once each.
func (c *messageCache) missing(mails []store.LinkMail) []int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []int64
	seen := map[int64]bool{}
	for _, m := range mails {
		if _, ok := c.sets[m.LinkSet]; !ok && !seen[m.LinkSet] {
			seen[m.LinkSet] = true
			out = append(out, m.LinkSet)
		}
	}
	return out
}

// Warm keeps in memory the lead and links of the tracked mails sent since
// the Warm before last, by whichever node (at the first, the newest
// maxCached), so that their links still redirect while the database is
// down, not only those this process followed before. The server runs it at
// start and every minute; it returns how many mails it read.
func (s *Service) Warm(ctx context.Context) (int, error) {
	if !s.cache.warming.TryLock() {
		return 0, nil // the one under way reads what this one would
	}
	defer s.cache.warming.Unlock()
	mails, err := s.st.RecentLinkMails(ctx, s.cache.after(), maxCached)
	if err != nil || len(mails) == 0 {
		return 0, err
	}
	sets, err := s.st.LinkSetsByID(ctx, s.cache.missing(mails))
	if err != nil {
		return 0, err
	}
	slices.Reverse(mails) // oldest first, so that the newest stay kept
	s.cache.warm(mails, sets)
	s.cache.sawUpTo(mails[len(mails)-1].ID)
	return len(mails), nil
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
