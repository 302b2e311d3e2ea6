package engage

import (
	"testing"

	"github.com/nurture/nurture/internal/store"
)

// The cache keeps the newest mails: a full generation becomes the older,
// whose mails still redirect until the next one fills, and the sets that
// clicks brought are the known ones, not those Warm read.
func TestMessageCache_KeepsTheNewestMails(t *testing.T) {
	var c messageCache
	links := []store.Link{{URL: "https://acme.example/a"}}
	var mails []store.LinkMail
	for id := int64(1); id <= 2*maxCached+1; id++ {
		mails = append(mails, store.LinkMail{ID: id, LeadID: 100 + id, LinkSet: 7})
	}
	c.warm(mails, map[int64][]store.Link{7: links})
	for _, tc := range []struct {
		id   int64
		kept bool
	}{{1, false}, {maxCached, false}, {maxCached + 1, true}, {2 * maxCached, true}, {2*maxCached + 1, true}} {
		lead, got, ok := c.links(tc.id)
		if ok != tc.kept || (ok && (lead != 100+tc.id || len(got) != 1)) {
			t.Errorf("mail %d: lead %d, links %v, kept %v; want kept %v", tc.id, lead, got, ok, tc.kept)
		}
	}
	if len(c.knownSets()) != 0 {
		t.Errorf("known sets %v before any click; want none", c.knownSets())
	}
	c.put(5, 105, 7, nil) // a click of a mail whose set Warm read
	if k := c.knownSets(); len(k) != 1 || k[0] != 7 {
		t.Errorf("known sets %v after a click; want [7]", k)
	}
}

// Links that differ per lead make a set per mail: past maxSets the cache
// lets go of the older mails and their sets, and keeps the newest.
func TestMessageCache_ASetPerMailKeepsTheNewest(t *testing.T) {
	var c messageCache
	n := int64(3 * maxSets)
	mails := make([]store.LinkMail, 0, n)
	sets := map[int64][]store.Link{}
	for id := int64(1); id <= n; id++ {
		mails = append(mails, store.LinkMail{ID: id, LeadID: id, LinkSet: 1000 + id})
		sets[1000+id] = []store.Link{{URL: "https://acme.example/?lead=" + string(rune('a'+id%26))}}
	}
	c.warm(mails, sets)
	if len(c.sets) > maxSets {
		t.Errorf("%d sets kept, want at most %d", len(c.sets), maxSets)
	}
	if _, links, ok := c.links(n); !ok || len(links) != 1 {
		t.Errorf("the newest mail: links %v, kept %v; want kept with its link", links, ok)
	}
	if _, _, ok := c.links(1); ok {
		t.Error("the oldest mail is still kept")
	}
}
