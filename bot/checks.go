package bot

import (
	"sync"
	"time"
)

// checks is the poller's and the webhooks' shared memory of invoice checks,
// under its own lock: which checks are running, when each invoice is next
// due and what its last fetch showed. (The request budget, and the pauses
// Bitrefill asks for, are the client's: bitrefill.Client.)
// It is kept in memory only: after a restart every open invoice is checked
// once, which is what a restart wants anyway.
//
// Concurrent checks of one invoice (the poller, a webhook, a duplicate
// webhook) collapse into one running check plus, if news arrived while it
// ran, one more: never two at once, never a hint lost.
type checks struct {
	mu      sync.Mutex
	running map[string]bool
	more    map[string]bool
	next    map[string]time.Time
	seen    map[string]string // invoice id -> fingerprint of the last fetch
}

// start claims the check of id; false means one is running, and it will run
// once more when done (again).
func (c *checks) start(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running == nil {
		c.running, c.more = map[string]bool{}, map[string]bool{}
	}
	if c.running[id] {
		c.more[id] = true
		return false
	}
	c.running[id] = true
	return true
}

// again reports whether news arrived for id while its check ran, and
// consumes it.
func (c *checks) again(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	more := c.more[id]
	delete(c.more, id)
	return more
}

// end releases the check of id.
func (c *checks) end(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.running, id)
	delete(c.more, id)
}

// nextCheck is when t is due: what this process decided, else the store's.
func (c *checks) nextCheck(t Tracked) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.next[t.InvoiceID]; ok {
		return at
	}
	return t.NextCheck
}

func (c *checks) setNextCheck(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[string]time.Time{}
	}
	c.next[id] = at
}

// seenAs is the fingerprint of id's last fetch the session took in.
func (c *checks) seenAs(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

func (c *checks) setSeen(id, print string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]string{}
	}
	c.seen[id] = print
}

// rota hands out turns over a list whose length may change between runs, so
// that a job doing at most n items a run reaches every item in turn.
type rota struct {
	mu     sync.Mutex
	cursor int
}

// next returns where this run starts and how many items it takes.
func (r *rota) next(total, n int) (start, take int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start = r.cursor % total
	take = min(n, total)
	r.cursor = start + take
	return start, take
}
