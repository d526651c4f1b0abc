package catalog

import (
	"sync"
	"time"
)

// limiter is a sliding-window log of request times checked against several
// windows at once (so many a minute and so many an hour). Time is always
// given, never read, so tests drive it with any clock.
type limiter struct {
	mu    sync.Mutex
	rules []rule
	log   []time.Time // oldest first, trimmed to the longest window
}

type rule struct {
	n   int
	per time.Duration
}

func newLimiter(rules ...rule) *limiter { return &limiter{rules: rules} }

// take records a request at now if every window has room, and otherwise
// reports the earliest time one would.
func (l *limiter) take(now time.Time) (ok bool, retry time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var longest time.Duration
	for _, r := range l.rules {
		longest = max(longest, r.per)
	}
	drop := 0
	for drop < len(l.log) && !l.log[drop].After(now.Add(-longest)) {
		drop++
	}
	l.log = append(l.log[:0], l.log[drop:]...)
	for _, r := range l.rules {
		if r.n <= 0 {
			return false, time.Time{}
		}
		// Requests inside (now-per, now]: the newest r.n of them decide.
		in := 0
		for i := len(l.log) - 1; i >= 0 && l.log[i].After(now.Add(-r.per)); i-- {
			in++
		}
		if in >= r.n {
			oldest := l.log[len(l.log)-r.n]
			retry = later(retry, oldest.Add(r.per))
		}
	}
	if !retry.IsZero() {
		return false, retry
	}
	l.log = append(l.log, now)
	return true, time.Time{}
}

// charge records n requests made at now that were not asked for one by one.
func (l *limiter) charge(now time.Time, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		l.log = append(l.log, now)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
