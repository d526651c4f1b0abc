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
	// of a paid invoice. It goes first: waiting, it takes the next token
	// before any Interactive request, so a paid buyer never waits behind
	// new invoices.
	Paid
	// Background is work nobody is watching: polling for overdue invoices,
	// reminders, catalogue refreshes. It only takes what the others leave,
	// at most half the rate, and never the last token of the burst.
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

type priorityKey struct{}
type maxWaitKey struct{}
type beforeSendKey struct{}
type giveWayKey struct{}

// WithBeforeSend has every request made with ctx call f once its turn in
// the budget has come, just before it is sent; an error from f stops the
// request unsent (the error is returned, wrapped). A checkout that waited
// minutes for its turn uses it to check that the buyer still wants it; a
// batch of paid order fetches uses it to take in every invoice paid while
// the fetch waited.
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

// WithGiveWay lets every request made with ctx give way, for up to d after
// it starts waiting, to Paid and Interactive requests in its class: meanwhile
// it goes only when the budget has tokens to spare (none of them waits, and
// it can leave half the burst, as Background work does; it goes before
// Background work), and from d on in its own priority's turn. When the
// budget is idle it goes at once, as without it. A batch of paid order
// fetches gives way for a bounded time while the budget is in full use, so
// that more paid invoices share its one request (bot/paid.go).
func WithGiveWay(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, giveWayKey{}, max(d, 0))
}

func giveWayOf(ctx context.Context) time.Duration {
	d, _ := ctx.Value(giveWayKey{}).(time.Duration)
	return d
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

// DefaultLimitMargin is Config.LimitMargin's default: how much closer
// together than they were sent two requests may reach Bitrefill (network
// jitter, a slow connection set-up) without overfilling its window.
const DefaultLimitMargin = 2 * time.Second

// budget is the one gate every request passes: a token bucket per
// documented rate (golang.org/x/time/rate), a queue of waiting requests per
// class ordered by priority, and a pause per class after a 429.
//
// The shape: each rate "N per W" becomes a bucket of burst b = N/60 (at
// least 2, so that background work can leave one for a user, unless N is
// under 20) refilled at
// (N−b)/(W+m), m the margin (Config.LimitMargin, never more than a tenth of
// W). Any window of length W then lets through at most b + (N−b)·W/(W+m) <
// N requests, so Bitrefill never reports the window spent, and no window of
// its, sliding or fixed, overfills even when the network brings requests up
// to m plus one token's spacing closer together than they were sent. At the
// documented 60 per 10 minutes that is a burst of 2 and a request every
// 10.4 s: 57.8 per 10 minutes, where a burst of a tenth of the window left
// 52.9.
//
// Priorities are an order, not held-back tokens: a waiting request is
// granted only when it is first in its class's queue, and the queue is
// ordered Paid, Interactive, giving way (WithGiveWay), Background, then by
// arrival, so a paid buyer's fetch takes the next token before any new
// invoice. Background requests also leave half the burst in the bucket and
// pass a bucket of their own at half the rate, so that steady background
// work never holds more than half the budget nor takes the last token.
type budget struct {
	mu        sync.Mutex
	now       func() time.Time
	afterFunc func(time.Duration, func()) (stop func() bool)
	margin    time.Duration
	classes   [numClasses]*classBudget
	seq       uint64
}

type bucket struct {
	n      int // the documented rate: n per window
	window time.Duration
	lim    *rate.Limiter
	// bgFloor is what a Background request leaves in lim: half the burst.
	bgFloor float64
	// bg caps Background requests at half the rate, so idle polling never
	// keeps the bucket low for the next user.
	bg *rate.Limiter
}

type classBudget struct {
	buckets     []bucket
	pausedUntil time.Time
	waiters     []*waiter // in arrival order; head() picks the next
	stopTimer   func() bool
}

type waiter struct {
	prio    Priority
	until   time.Time // gives way before this (WithGiveWay)
	seq     uint64
	ready   chan struct{}
	granted bool
}

// Queue ranks: lower goes first.
const (
	rankPaid = iota
	rankInteractive
	rankGivingWay
	rankBackground
)

// rank orders priorities in the queue.
func (p Priority) rank() int {
	switch p {
	case Paid:
		return rankPaid
	case Background:
		return rankBackground
	}
	return rankInteractive
}

func (w *waiter) rank(now time.Time) int {
	if r := w.prio.rank(); r < rankGivingWay && now.Before(w.until) {
		return rankGivingWay
	}
	return w.prio.rank()
}

func newBudget(l Limits, margin time.Duration, now func() time.Time, afterFunc func(time.Duration, func()) func() bool) *budget {
	b := &budget{now: now, afterFunc: afterFunc, margin: max(margin, 0)}
	for c := range numClasses {
		cb := &classBudget{}
		for _, r := range l[c] {
			if r.N <= 0 || r.Per <= 0 {
				continue
			}
			limit, burst := shape(float64(r.N), r.Per, b.margin)
			cb.buckets = append(cb.buckets, bucket{
				n:       r.N,
				window:  r.Per,
				lim:     rate.NewLimiter(limit, burst), // starts full
				bgFloor: float64(burst / 2),
				bg:      rate.NewLimiter(limit/2, max(burst/2, 1)),
			})
		}
		b.classes[c] = cb
	}
	return b
}

// shape is the bucket that lets fewer than n requests through in any
// window (n rounded down: a share of a rate may be fractional), with the
// margin cut to a tenth of the window so that a short one (ping's 3 s) is
// not starved: a burst of n/60 (at least 2 from 20 a window on; below, 1,
// which a small rate cannot spare) and the rest over the window plus the
// margin. Two requests or fewer per window, or a share of less, is spacing
// alone: one per (window+margin)/n.
func shape(n float64, window, margin time.Duration) (rate.Limit, int) {
	span := (window + min(margin, window/10)).Seconds()
	whole := math.Floor(n)
	if whole <= 2 {
		return rate.Limit(n / span), 1
	}
	burst := 1
	if whole >= 20 {
		burst = max(int(whole/60), 2)
	}
	return rate.Limit((whole - float64(burst)) / span), burst
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
			limit, burst := shape(float64(bk.n)/float64(n), bk.window, b.margin)
			bk.lim.SetLimitAt(now, limit)
			bk.lim.SetBurstAt(now, burst)
			bk.bg.SetLimitAt(now, limit/2)
			bk.bg.SetBurstAt(now, max(burst/2, 1))
			bk.bgFloor = float64(burst / 2)
		}
		b.pump(Class(c), now)
	}
}

// period is the spacing of class c's requests when its budget is in full
// use: the slowest bucket's time per token; 0 for a class not limited.
func (b *budget) period(c Class) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.periodLocked(c)
}

func (b *budget) periodLocked(c Class) time.Duration {
	var d time.Duration
	for _, bk := range b.classes[c].buckets {
		d = max(d, time.Duration(math.Ceil(float64(time.Second)/float64(bk.lim.Limit()))))
	}
	return d
}

// wait is how long until a request of priority p, in queue rank rank, with
// ahead requests queued before it, could take a token from every bucket; 0
// means now. Background requests and requests giving way leave half the
// burst: they go early only with tokens to spare.
func (cb *classBudget) wait(now time.Time, p Priority, rank, ahead int) time.Duration {
	var d time.Duration
	if now.Before(cb.pausedUntil) {
		d = cb.pausedUntil.Sub(now)
	}
	for _, bk := range cb.buckets {
		need := 1 + float64(ahead)
		if p == Background {
			d = max(d, tokenWait(bk.bg, now, need))
		}
		if rank >= rankGivingWay {
			need += bk.bgFloor
		}
		d = max(d, tokenWait(bk.lim, now, need))
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

func (cb *classBudget) take(now time.Time, p Priority) {
	for _, bk := range cb.buckets {
		bk.lim.AllowN(now, 1)
		if p == Background {
			bk.bg.AllowN(now, 1)
		}
	}
}

// ahead counts queued requests that go before one of the given rank.
func (cb *classBudget) ahead(now time.Time, rank int) int {
	n := 0
	for _, w := range cb.waiters {
		if w.rank(now) <= rank {
			n++
		}
	}
	return n
}

// head is the index of the waiter to serve next: lowest rank, then first
// to arrive.
func (cb *classBudget) head(now time.Time) int {
	best := 0
	for i, w := range cb.waiters[1:] {
		h := cb.waiters[best]
		if r, hr := w.rank(now), h.rank(now); r < hr || r == hr && w.seq < h.seq {
			best = i + 1
		}
	}
	return best
}

// nextRankChange is how long until a waiter stops giving way, if one does.
func (cb *classBudget) nextRankChange(now time.Time) (time.Duration, bool) {
	var d time.Duration
	found := false
	for _, w := range cb.waiters {
		if now.Before(w.until) && (!found || w.until.Sub(now) < d) {
			d, found = w.until.Sub(now), true
		}
	}
	return d, found
}

// pump grants queued requests in order while the budget allows, then sets a
// timer for when the first one left could go, or the queue's order changes.
// Called with b.mu held.
func (b *budget) pump(c Class, now time.Time) {
	cb := b.classes[c]
	if cb.stopTimer != nil {
		cb.stopTimer()
		cb.stopTimer = nil
	}
	for len(cb.waiters) > 0 {
		i := cb.head(now)
		w := cb.waiters[i]
		if d := cb.wait(now, w.prio, w.rank(now), 0); d > 0 {
			if change, ok := cb.nextRankChange(now); ok {
				d = min(d, change)
			}
			cb.stopTimer = b.afterFunc(d, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.pump(c, b.now())
			})
			return
		}
		cb.take(now, w.prio)
		w.granted = true
		close(w.ready)
		cb.waiters = slices.Delete(cb.waiters, i, i+1)
	}
}

// tryTake spends a token now if a request of priority p, giving way for
// giveWay, may go at once; otherwise it says about how long until its turn.
func (b *budget) tryTake(c Class, p Priority, giveWay time.Duration, now time.Time) (bool, time.Duration) {
	cb := b.classes[c]
	rank := p.rank()
	ahead := cb.ahead(now, rank)
	d := cb.wait(now, p, rank, ahead)
	if giveWay > 0 && rank < rankGivingWay {
		// It goes after everyone now waiting in a rank above it, with tokens
		// to spare, or in its own rank's turn once it stops giving way,
		// whichever comes first.
		behind := cb.ahead(now, rankGivingWay)
		d = min(cb.wait(now, p, rankGivingWay, behind), max(d, giveWay))
		ahead = behind
	}
	if ahead == 0 && d == 0 {
		cb.take(now, p)
		return true, 0
	}
	return false, d
}

// delay estimates how long a request of priority p would wait now.
func (b *budget) delay(c Class, p Priority) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := b.classes[c]
	now := b.now()
	return cb.wait(now, p, p.rank(), cb.ahead(now, p.rank()))
}

// acquire waits for a request's turn. It returns ErrBudgetSpent with the
// estimated wait when the turn is further away than ctx allows, and the
// context's error when ctx ends while waiting.
func (b *budget) acquire(ctx context.Context, c Class) (time.Duration, error) {
	p := PriorityOf(ctx)
	giveWay := giveWayOf(ctx)
	b.mu.Lock()
	now := b.now()
	ok, eta := b.tryTake(c, p, giveWay, now)
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
	w := &waiter{prio: p, seq: b.seq, ready: make(chan struct{})}
	if giveWay > 0 {
		w.until = now.Add(giveWay)
	}
	cb.waiters = append(cb.waiters, w)
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
// request's share of the budget, at least a second.
func (b *budget) minPause(c Class) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(time.Second, b.periodLocked(c))
}

func realAfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
