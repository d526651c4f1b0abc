package bitrefill

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Priority says who is waiting for a request, and so who goes first when the
// request budget is short. Callers set it on the context with WithPriority.
type Priority int

const (
	// Interactive is a user waiting on a screen: a search, a product card,
	// creating an invoice, opening an order. It is the default.
	Interactive Priority = iota
	// Paid fetches what a buyer has already paid for: the orders and codes
	// of a paid invoice. It goes first and may spend the reserve that
	// Interactive requests leave untouched, so a paid buyer never waits for
	// the budget because new invoices used it up.
	Paid
	// Background is work nobody is watching: polling for overdue invoices,
	// reminders, catalogue refreshes. It only takes what the others leave and
	// never the last requests of a window.
	Background
)

func (p Priority) String() string {
	switch p {
	case Paid:
		return "paid"
	case Background:
		return "background"
	}
	return "interactive"
}

// rank orders priorities: lower goes first.
func (p Priority) rank() int {
	switch p {
	case Paid:
		return 0
	case Background:
		return 2
	}
	return 1
}

type priorityKey struct{}
type maxWaitKey struct{}
type beforeSendKey struct{}

// WithBeforeSend has every request made with ctx call f once its turn in
// the budget has come, just before it is sent; an error from f stops the
// request unsent (the error is returned, wrapped). A checkout that waited
// minutes for its turn uses it to check that the buyer still wants it.
func WithBeforeSend(ctx context.Context, f func() error) context.Context {
	return context.WithValue(ctx, beforeSendKey{}, f)
}

// WithPriority marks every Bitrefill request made with ctx as p's.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityOf returns the priority set by WithPriority, or Interactive.
func PriorityOf(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok {
		return p
	}
	return Interactive
}

// WithMaxWait bounds how long a request made with ctx may wait for its turn
// in the budget. A request whose turn is further away is not sent: it fails
// at once with an error matching ErrBudgetSpent whose RetryAfter says when
// its turn would have come, so the caller can tell a user "about N minutes"
// or reschedule. Without it a request waits up to the context's deadline
// (failing at once when its turn is beyond that), or until it is canceled.
func WithMaxWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, maxWaitKey{}, max(d, 0))
}

// ErrBudgetSpent marks a request the client did not send because the
// request budget would have refused it (see WithMaxWait). Nothing reached
// Bitrefill: even a POST may be sent again. Test with errors.Is.
var ErrBudgetSpent = errors.New("request budget spent, request not sent")

// budget is the one gate every request passes: a token bucket per
// documented rate (golang.org/x/time/rate), a queue of waiting requests per
// class ordered by priority, and a pause per class after a 429.
//
// Each rate "N per W" becomes a bucket of burst B = N/10 (at least 1)
// refilled at (N−B)/W, stretched by 2 % for clock skew: then no window of
// length W, sliding or fixed, sees more than N requests, whichever way
// Bitrefill counts. Priorities are floors in each bucket: Interactive
// requests leave a third of the burst for Paid ones, Background requests
// leave two thirds, and Background requests also pass a bucket of their own
// at half the rate, so that steady background work never holds more than
// half the budget. A waiting request is granted only when it is the first
// in its class's queue, so a late Paid request overtakes waiting
// Interactive ones and nothing overtakes within a priority.
type budget struct {
	mu        sync.Mutex
	now       func() time.Time
	afterFunc func(time.Duration, func()) (stop func() bool)
	classes   [numClasses]*classBudget
	seq       uint64
}

type bucket struct {
	n      int // the documented rate: n per window
	window time.Duration
	lim    *rate.Limiter
	floor  [3]float64 // by rank: tokens a request must leave in the bucket
	per    time.Duration
	// bg caps Background requests at half the rate, so idle polling never
	// keeps the bucket low for the next user.
	bg *rate.Limiter
}

type classBudget struct {
	buckets     []bucket
	pausedUntil time.Time
	waiters     []*waiter // by rank, then arrival
	stopTimer   func() bool
}

type waiter struct {
	rank    int
	seq     uint64
	ready   chan struct{}
	granted bool
}

// clockSkew stretches every period so that requests paced exactly at the
// limit still fit when they reach Bitrefill a little closer together.
const clockSkew = 50 // 1/50 = 2 %

func newBudget(l Limits, now func() time.Time, afterFunc func(time.Duration, func()) func() bool) *budget {
	b := &budget{now: now, afterFunc: afterFunc}
	for c := range numClasses {
		cb := &classBudget{}
		for _, r := range l[c] {
			if r.N <= 0 || r.Per <= 0 {
				continue
			}
			limit, burst := shape(float64(r.N), r.Per)
			bk := bucket{
				n:      r.N,
				window: r.Per,
				lim:    rate.NewLimiter(limit, burst), // starts full
				bg:     rate.NewLimiter(limit/2, max(burst/3, 1)),
				per:    r.Per / time.Duration(r.N),
			}
			bk.floor = floors(burst)
			cb.buckets = append(cb.buckets, bk)
		}
		b.classes[c] = cb
	}
	return b
}

// shape is the bucket that lets at most total requests through in any
// window: a burst of a tenth (at least 1), refilled with the rest over the
// window stretched for clock skew, or, when the burst is all of it, one
// request per stretched window/total.
func shape(total float64, window time.Duration) (rate.Limit, int) {
	span := window + window/clockSkew
	burst := max(int(total/10), 1)
	refill := total - float64(burst)
	if refill <= 0 {
		refill = total // one per period: spacing alone keeps the window
	}
	return rate.Limit(refill / span.Seconds()), burst
}

// floors are the tokens each rank leaves in a bucket of burst: Interactive
// a third, Background two thirds.
func floors(burst int) [3]float64 {
	return [3]float64{0, math.Floor(float64(burst) / 3), math.Floor(float64(burst) * 2 / 3)}
}

// share makes this budget 1/n of the configured one (n < 1 counts as 1):
// every bucket's rate and burst are rescaled, tokens above the new burst
// are dropped, and waiting requests are timed again.
func (b *budget) share(n int) {
	n = max(n, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for c, cb := range b.classes {
		for i := range cb.buckets {
			bk := &cb.buckets[i]
			limit, burst := shape(float64(bk.n)/float64(n), bk.window)
			bk.lim.SetLimitAt(now, limit)
			bk.lim.SetBurstAt(now, burst)
			bk.bg.SetLimitAt(now, limit/2)
			bk.bg.SetBurstAt(now, max(burst/3, 1))
			bk.floor = floors(burst)
			bk.per = bk.window * time.Duration(n) / time.Duration(bk.n)
		}
		b.pump(Class(c), now)
	}
}

// wait is how long until a request of the given rank, with ahead requests
// queued before it, could take a token from every bucket; 0 means now.
func (cb *classBudget) wait(now time.Time, rank, ahead int) time.Duration {
	var d time.Duration
	if now.Before(cb.pausedUntil) {
		d = cb.pausedUntil.Sub(now)
	}
	for _, bk := range cb.buckets {
		need := bk.floor[rank] + 1 + float64(ahead)
		d = max(d, tokenWait(bk.lim, now, need))
		if rank == Background.rank() {
			d = max(d, tokenWait(bk.bg, now, 1+float64(ahead)))
		}
	}
	return d
}

// tokenWait is how long until lim holds need tokens, if nobody takes any.
func tokenWait(lim *rate.Limiter, now time.Time, need float64) time.Duration {
	have := lim.TokensAt(now)
	if have >= need {
		return 0
	}
	secs := (need - have) / float64(lim.Limit())
	return time.Duration(math.Ceil(secs * float64(time.Second)))
}

func (cb *classBudget) take(now time.Time, rank int) {
	for _, bk := range cb.buckets {
		bk.lim.AllowN(now, 1)
		if rank == Background.rank() {
			bk.bg.AllowN(now, 1)
		}
	}
}

// ahead counts queued requests that go before one of rank.
func (cb *classBudget) ahead(rank int) int {
	n := 0
	for _, w := range cb.waiters {
		if w.rank <= rank {
			n++
		}
	}
	return n
}

// pump grants queued requests in order while the budget allows, then sets a
// timer for when the first one left could go. Called with b.mu held.
func (b *budget) pump(c Class, now time.Time) {
	cb := b.classes[c]
	if cb.stopTimer != nil {
		cb.stopTimer()
		cb.stopTimer = nil
	}
	for len(cb.waiters) > 0 {
		w := cb.waiters[0]
		if d := cb.wait(now, w.rank, 0); d > 0 {
			cb.stopTimer = b.afterFunc(d, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.pump(c, b.now())
			})
			return
		}
		cb.take(now, w.rank)
		w.granted = true
		close(w.ready)
		cb.waiters = cb.waiters[1:]
	}
}

// tryTake spends a token now if a request of priority p may go at once;
// otherwise it says about how long until its turn.
func (b *budget) tryTake(c Class, p Priority, now time.Time) (bool, time.Duration) {
	cb := b.classes[c]
	rank := p.rank()
	ahead := cb.ahead(rank)
	d := cb.wait(now, rank, ahead)
	if ahead == 0 && d == 0 {
		cb.take(now, rank)
		return true, 0
	}
	return false, d
}

// delay estimates how long a request of priority p would wait now.
func (b *budget) delay(c Class, p Priority) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := b.classes[c]
	rank := p.rank()
	return cb.wait(b.now(), rank, cb.ahead(rank))
}

// acquire waits for a request's turn. It returns ErrBudgetSpent with the
// estimated wait when the turn is further away than ctx allows, and the
// context's error when ctx ends while waiting.
func (b *budget) acquire(ctx context.Context, c Class) (time.Duration, error) {
	p := PriorityOf(ctx)
	b.mu.Lock()
	now := b.now()
	ok, eta := b.tryTake(c, p, now)
	if ok {
		b.mu.Unlock()
		return 0, nil
	}
	if mw, set := ctx.Value(maxWaitKey{}).(time.Duration); set && eta > mw {
		b.mu.Unlock()
		return eta, ErrBudgetSpent
	}
	if dl, set := ctx.Deadline(); set && now.Add(eta).After(dl) {
		b.mu.Unlock()
		return eta, ErrBudgetSpent
	}
	cb := b.classes[c]
	b.seq++
	w := &waiter{rank: p.rank(), seq: b.seq, ready: make(chan struct{})}
	i, _ := slices.BinarySearchFunc(cb.waiters, w, func(a, t *waiter) int {
		if a.rank != t.rank {
			return a.rank - t.rank
		}
		return int(a.seq - t.seq)
	})
	cb.waiters = slices.Insert(cb.waiters, i, w)
	b.pump(c, now)
	b.mu.Unlock()

	select {
	case <-w.ready:
		return 0, nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		if !w.granted {
			cb.waiters = slices.DeleteFunc(cb.waiters, func(x *waiter) bool { return x == w })
			b.pump(c, b.now())
		}
		return 0, ctx.Err()
	}
}

// pause holds every request of class c until until: Bitrefill said so, with
// a 429 or a rate-limit header reporting nothing left.
func (b *budget) pause(c Class, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := b.classes[c]
	if until.After(cb.pausedUntil) {
		cb.pausedUntil = until
		b.pump(c, b.now())
	}
}

// minPause is how long a class rests after a 429 that named no time: one
// request's share of the tightest period, at least a second.
func (b *budget) minPause(c Class) time.Duration {
	d := time.Second
	for _, bk := range b.classes[c].buckets {
		d = max(d, bk.per)
	}
	return d
}

func realAfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
