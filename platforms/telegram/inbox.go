package telegram

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"refillbot/bot"
)

// inboxPlatform is the name Telegram's updates are kept under in the
// inbox.
const inboxPlatform = Platform

// UseInbox makes in the adapter's inbox (Options.Inbox), for a store opened
// after the adapter was made; call it before Run and before the webhook
// handler serves.
func (a *Adapter) UseInbox(in bot.Inbox) {
	a.resuming.Lock()
	defer a.resuming.Unlock()
	a.inbox = in
}

// seenFor is how long an inbox remembers an update it was given: Telegram
// keeps an undelivered update for 24 hours, so it cannot come again later.
const seenFor = 25 * time.Hour

// memoryInbox is the bot.Inbox of an adapter given none: it confirms updates
// at once like a durable one, but loses those not yet handled when the
// process dies. Production wiring passes the store.
type memoryInbox struct {
	mu      sync.Mutex
	now     func() time.Time
	pending map[int64][]byte
	done    map[int64]time.Time
	pruned  time.Time
}

// NewMemoryInbox is a bot.Inbox in memory, for tests and tools: updates
// not yet handled are lost with the process. It keeps one platform's
// updates: the platform argument of its methods is not looked at.
func NewMemoryInbox() bot.Inbox {
	return &memoryInbox{now: time.Now, pending: map[int64][]byte{}, done: map[int64]time.Time{}}
}

func (m *memoryInbox) PutUpdates(_ string, batch []bot.InboxUpdate) ([]bot.InboxUpdate, error) {
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
	var fresh []bot.InboxUpdate
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

func (m *memoryInbox) PendingUpdates(string) ([]bot.InboxUpdate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]bot.InboxUpdate, 0, len(m.pending))
	for id, raw := range m.pending {
		out = append(out, bot.InboxUpdate{ID: id, Raw: slices.Clone(raw)})
	}
	slices.SortFunc(out, func(a, b bot.InboxUpdate) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memoryInbox) DoneUpdate(_ string, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, id)
	m.done[id] = m.now()
	return nil
}
