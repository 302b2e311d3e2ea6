package devmail

import (
	"context"
	"errors"
	"sync"

	"github.com/mailhog/data"
	"github.com/mailhog/storage"
)

// errNotFound means no caught message has the ID.
var errNotFound = errors.New("devmail: message not found")

func init() {
	// MailHog's data package logs every parsed message body through
	// log.Printf unless a handler is set: at thousands of messages a second
	// that is the catcher's whole cost, and it prints mail to stderr.
	data.LogHandler = func(string, ...any) {}
}

// entry is what the store keeps beside MailHog's record of a message: the
// bytes exactly as received and the decoded view, made on first use.
type entry struct {
	raw    string
	once   sync.Once
	parsed Message
}

// store wraps MailHog's InMemory storage. InMemory locks only some of its
// methods (List, Count, Load and Search race with Store), so every call
// goes through mu. It keeps arrival order; the API lists newest first.
type store struct {
	mu      sync.RWMutex
	mem     *storage.InMemory
	entries map[data.MessageID]*entry
	max     int
	changed chan struct{} // closed and cleared on every change while someone waits
}

func newStore(max int) *store {
	return &store{mem: storage.CreateInMemory(), entries: make(map[data.MessageID]*entry), max: max}
}

func (s *store) add(m *data.Message, raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mem.Messages) >= s.max {
		s.trimLocked()
	}
	s.mem.Store(m)
	s.entries[m.ID] = &entry{raw: raw}
	s.notifyLocked()
}

// trimLocked drops the oldest tenth of the messages in one rebuild:
// InMemory.DeleteOne is linear, so deleting one message per arrival would
// make a full store quadratic.
func (s *store) trimLocked() {
	keep := s.mem.Messages[len(s.mem.Messages)/10+1:]
	for _, m := range s.mem.Messages[:len(s.mem.Messages)-len(keep)] {
		delete(s.entries, m.ID)
	}
	mem := storage.CreateInMemory()
	for _, m := range keep {
		mem.Store(m)
	}
	s.mem = mem
}

func (s *store) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// list returns MailHog records newest first, as MailHog's API does.
func (s *store) list(start, limit int) ([]data.Message, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	total := len(s.mem.Messages)
	// InMemory returns the oldest message for start == total.
	if start >= total {
		return []data.Message{}, total
	}
	msgs, _ := s.mem.List(start, limit)
	return *msgs, total
}

func (s *store) search(kind, query string, start, limit int) ([]data.Message, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	msgs, total, _ := s.mem.Search(kind, query, start, limit)
	if start >= total {
		return []data.Message{}, total
	}
	return *msgs, total
}

func (s *store) load(id string) (data.Message, *entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, _ := s.mem.Load(id)
	if m == nil {
		return data.Message{}, nil, errNotFound
	}
	return *m, s.entries[m.ID], nil
}

func (s *store) delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mem.DeleteOne(id); err != nil {
		return errNotFound
	}
	delete(s.entries, data.MessageID(id))
	s.notifyLocked()
	return nil
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mem = storage.CreateInMemory()
	s.entries = make(map[data.MessageID]*entry)
	s.notifyLocked()
}

// messages returns every caught message, oldest first.
func (s *store) messages() []Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Message, 0, len(s.mem.Messages))
	for _, m := range s.mem.Messages {
		out = append(out, s.entries[m.ID].message(m))
	}
	return out
}

// recent returns up to n messages without their raw bytes, newest first,
// and how many there are in all.
func (s *store) recent(n int) ([]Message, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := s.mem.Messages
	out := make([]Message, 0, min(n, len(all)))
	for i := len(all) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, s.entries[all[i].ID].summary(all[i]))
	}
	return out, len(all)
}

// waitFor blocks until at least n messages are stored or ctx ends.
func (s *store) waitFor(ctx context.Context, n int) ([]Message, error) {
	err := s.waitCount(ctx, n)
	msgs := s.messages()
	if err != nil {
		return msgs, waitErr(ctx, len(msgs), n)
	}
	return msgs, nil
}

// count returns how many messages are stored.
func (s *store) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.mem.Messages)
}

// waitCount blocks until at least n messages are stored or ctx ends,
// without parsing any of them.
func (s *store) waitCount(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		if len(s.mem.Messages) >= n {
			s.mu.Unlock()
			return nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
