package telegram

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Update is one Telegram update as received: its update_id and its JSON.
type Update struct {
	ID  int64
	Raw []byte
}

// Inbox keeps the updates received and not yet handled, so that the
// adapter can confirm them to Telegram at once (long polling: the next
// getUpdates offset; webhook: the 200 answer) and still lose none when the
// process dies before handling them.
type Inbox interface {
	// PutUpdates stores the updates of batch and returns those it had not
	// seen, in batch order; it returns only once they are durable. An
	// update seen in the last 24 hours — pending or done — is left out:
	// Telegram hands an update again when its confirmation was lost, and
	// keeps undelivered updates for 24 hours.
	PutUpdates(batch []Update) (fresh []Update, err error)
	// PendingUpdates returns the updates stored and not yet done, by
	// update_id.
	PendingUpdates() ([]Update, error)
	// DoneUpdate records that an update has been handled: it is not
	// pending any more, and is still seen by PutUpdates.
	DoneUpdate(id int64) error
}

// seenFor is how long an inbox remembers an update it was given: Telegram
// keeps an undelivered update for 24 hours, so it cannot come again later.
const seenFor = 25 * time.Hour

// memoryInbox is the Inbox of an adapter given none: it confirms updates
// at once like a durable one, but loses those not yet handled when the
// process dies. Production wiring passes the store.
type memoryInbox struct {
	mu      sync.Mutex
	now     func() time.Time
	pending map[int64][]byte
	done    map[int64]time.Time
	pruned  time.Time
}

// NewMemoryInbox is an Inbox in memory, for tests and tools: updates not
// yet handled are lost with the process.
func NewMemoryInbox() Inbox {
	return &memoryInbox{now: time.Now, pending: map[int64][]byte{}, done: map[int64]time.Time{}}
}

func (m *memoryInbox) PutUpdates(batch []Update) ([]Update, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := m.now(); now.Sub(m.pruned) > time.Minute {
		for id, at := range m.done {
			if now.Sub(at) > seenFor {
				delete(m.done, id)
			}
		}
		m.pruned = now
	}
	var fresh []Update
	for _, u := range batch {
		if _, ok := m.pending[u.ID]; ok {
			continue
		}
		if _, ok := m.done[u.ID]; ok {
			continue
		}
		m.pending[u.ID] = slices.Clone(u.Raw)
		fresh = append(fresh, u)
	}
	return fresh, nil
}

func (m *memoryInbox) PendingUpdates() ([]Update, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Update, 0, len(m.pending))
	for id, raw := range m.pending {
		out = append(out, Update{ID: id, Raw: slices.Clone(raw)})
	}
	slices.SortFunc(out, func(a, b Update) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memoryInbox) DoneUpdate(id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	m.done[id] = m.now()
	return nil
}
