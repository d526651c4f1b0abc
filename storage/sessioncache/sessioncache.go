package sessioncache

import (
	"bytes"
	"sync"

	"refillbot/conversation"
)

// DefaultBudget bounds the stored bytes a cache keeps (the decoded states
// take about as much again): a couple of hundred busy sessions at 2–10 KB.
const DefaultBudget = 2 << 20

// Cache maps a session to the state last committed for it and the bytes
// that were written. The zero Cache is not usable; call New. It is safe for
// concurrent use.
type Cache struct {
	mu     sync.Mutex
	m      map[conversation.SessionKey]entry
	size   int // bytes of raw held
	budget int
}

type entry struct {
	raw   []byte
	state conversation.State
}

// New returns a cache holding at most budget bytes of stored records
// (DefaultBudget when budget <= 0).
func New(budget int) *Cache {
	if budget <= 0 {
		budget = DefaultBudget
	}
	return &Cache{m: make(map[conversation.SessionKey]entry), budget: budget}
}

// Put records that raw, durably written for key, is the encoding of st. It
// keeps a copy of st, so the caller may go on changing its own; raw must not
// be changed afterwards. Call it only once the write is durable: until then
// the stored bytes are the old ones, and a reader decodes them.
func (c *Cache) Put(key conversation.SessionKey, raw []byte, st conversation.State) {
	if c == nil || len(raw) > c.budget/4 {
		return // one outsized session must not empty the cache for the others
	}
	e := entry{raw: raw, state: st.Clone()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.size -= len(old.raw)
	}
	for k, old := range c.m { // random order: an arbitrary victim
		if c.size+len(raw) <= c.budget {
			break
		}
		delete(c.m, k)
		c.size -= len(old.raw)
	}
	c.m[key] = e
	c.size += len(raw)
}

// Take returns the state put for key if raw, the bytes just read from the
// store, are the bytes put with it; the entry is then gone, and the state
// the caller's own. Otherwise (another writer, nothing put) it returns
// false, and the caller decodes raw. raw is only compared, never kept: it
// may be memory the store reclaims afterwards (a bbolt page).
func (c *Cache) Take(key conversation.SessionKey, raw []byte) (conversation.State, bool) {
	if c == nil {
		return conversation.State{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return conversation.State{}, false
	}
	delete(c.m, key)
	c.size -= len(e.raw)
	if !bytes.Equal(e.raw, raw) {
		return conversation.State{}, false
	}
	return e.state, true
}

// Len is the number of sessions held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
