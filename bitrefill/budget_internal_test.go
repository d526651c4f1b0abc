package bitrefill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// testClock is a clock the test moves by hand; timers fire when it passes them.
type testClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*testTimer
}

type testTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &testTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves the clock and runs the timers that came due, in order.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	for {
		var due *testTimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(c.now) && (due == nil || t.at.Before(due.at)) {
				due = t
			}
		}
		if due == nil {
			break
		}
		due.stopped = true
		c.mu.Unlock()
		due.f()
		c.mu.Lock()
	}
	c.timers = slices.DeleteFunc(c.timers, func(t *testTimer) bool { return t.stopped })
	c.mu.Unlock()
}

func newTestBudget(t *testing.T, l Limits) (*budget, *testClock) {
	t.Helper()
	clk := newTestClock()
	return newBudget(l, DefaultLimitMargin, clk.Now, clk.AfterFunc), clk
}

// take tries to spend a token now for p.
func take(b *budget, c Class, p Priority) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tryTake(c, p, 0, b.now())
}

// waitFor waits until cond holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBudgetBurstAndBackgroundLeftovers(t *testing.T) {
	// 60 per 10 minutes: a burst of 2. Background leaves half of it, so a
	// user arriving after background work finds a request at once; users
	// may spend all of it. There is no reserve held back: a paid fetch
	// goes first in the queue instead (TestBudgetPaidGoesBeforeQueuedUsers).
	b, _ := newTestBudget(t, DefaultLimits())
	var got []string
	for _, p := range []Priority{Background, Background, Interactive, Interactive, Paid} {
		if ok, _ := take(b, ClassGeneral, p); ok {
			got = append(got, p.String())
		} else {
			got = append(got, "no "+p.String())
		}
	}
	want := []string{"background", "no background", "interactive", "no interactive", "no paid"}
	if !slices.Equal(got, want) {
		t.Errorf("granted %v\nwant    %v", got, want)
	}
	// Other classes have budgets of their own.
	if ok, _ := take(b, ClassProducts, Interactive); !ok {
		t.Error("a product request was held back by the general budget")
	}
}

// tok is the documented general budget's token spacing: 58 tokens over
// 10 minutes and the 2 s margin.
const tok = 602 * time.Second / 58

func near(got, want time.Duration) bool {
	return got >= want-time.Millisecond && got <= want+time.Millisecond
}

func TestBudgetEstimates(t *testing.T) {
	b, clk := newTestBudget(t, DefaultLimits())
	for range 2 {
		take(b, ClassGeneral, Paid)
	}
	if got := b.period(ClassGeneral); !near(got, tok) {
		t.Errorf("period %v, want %v", got, tok)
	}
	// With nobody waiting, paid and interactive requests wait for the next
	// token; background for two, as it leaves one in the bucket.
	for _, tc := range []struct {
		p    Priority
		want time.Duration
	}{{Paid, tok}, {Interactive, tok}, {Background, 2 * tok}} {
		if got := b.delay(ClassGeneral, tc.p); !near(got, tc.want) {
			t.Errorf("%v waits %v, want %v", tc.p, got, tc.want)
		}
	}
	d := b.delay(ClassGeneral, Interactive)
	clk.Advance(d - time.Millisecond)
	if ok, _ := take(b, ClassGeneral, Interactive); ok {
		t.Errorf("interactive let through before its estimate %v", d)
	}
	clk.Advance(time.Millisecond)
	if ok, _ := take(b, ClassGeneral, Interactive); !ok {
		t.Errorf("interactive refused at its estimate %v", d)
	}
}

// Paid first, without a reserve: with new invoices queued for the budget, a
// paid fetch's turn is the next token, theirs after it.
func TestBudgetPaidGoesBeforeQueuedUsers(t *testing.T) {
	b, clk := newTestBudget(t, DefaultLimits())
	for range 2 {
		take(b, ClassGeneral, Interactive)
	}
	q := &queueTest{t: t, b: b}
	q.start("invoice 1", WithPriority(context.Background(), Interactive))
	q.start("invoice 2", WithPriority(context.Background(), Interactive))
	if got := b.delay(ClassGeneral, Paid); !near(got, tok) {
		t.Errorf("a paid fetch behind 2 queued invoices would wait %v, want one token, %v", got, tok)
	}
	if got := b.delay(ClassGeneral, Interactive); !near(got, 3*tok) {
		t.Errorf("a third invoice would wait %v, want %v", got, 3*tok)
	}
	q.start("paid", WithPriority(context.Background(), Paid))
	for i := range 3 {
		clk.Advance(tok + time.Millisecond)
		q.grants(i + 1)
	}
	q.wg.Wait()
	if order, want := q.order, []string{"paid", "invoice 1", "invoice 2"}; !slices.Equal(order, want) {
		t.Errorf("served %v, want %v", order, want)
	}
}

func TestBudgetNeverOverfillsAWindow(t *testing.T) {
	// A caller taking every token it can for two hours, at 100 ms steps:
	// no sliding 10-minute window holds more than 60 requests, even
	// widened by the margin (requests reaching Bitrefill up to 2 s closer
	// together than sent), and the pace is close to the limit.
	for _, l := range []struct {
		name   string
		limits Limits
		class  Class
		window time.Duration
		n      int
	}{
		{"general", DefaultLimits(), ClassGeneral, 10 * time.Minute, 60},
		{"products per minute", mustLimits(t, "products=60/1m"), ClassProducts, time.Minute, 60},
		{"products per hour", DefaultLimits(), ClassProducts, time.Hour, 1000},
		{"ping", DefaultLimits(), ClassPing, 3 * time.Second, 1},
		{"raised", mustLimits(t, "general=600/10m"), ClassGeneral, 10 * time.Minute, 600},
	} {
		t.Run(l.name, func(t *testing.T) {
			b, clk := newTestBudget(t, l.limits)
			var at []time.Time
			for range 2 * 36000 {
				for {
					ok, _ := take(b, l.class, Paid)
					if !ok {
						break
					}
					at = append(at, clk.Now())
				}
				clk.Advance(100 * time.Millisecond)
			}
			worst := 0
			widened := l.window + min(DefaultLimitMargin, l.window/10)
			for i := range at {
				j, _ := slices.BinarySearchFunc(at, at[i].Add(widened), func(a, t time.Time) int { return a.Compare(t) })
				worst = max(worst, j-i)
			}
			if worst > l.n {
				t.Errorf("%d requests in one window of %v, limit %d", worst, widened, l.n)
			}
			perWindow := float64(len(at)) / (2 * float64(time.Hour) / float64(l.window))
			if perWindow < 0.85*float64(l.n) {
				t.Errorf("only %.1f requests per %v, limit %d", perWindow, l.window, l.n)
			}
		})
	}
}

func TestSharedBudgetKeepsEachReplicaToItsShare(t *testing.T) {
	// n replicas of one account, each with ShareBudget(n): a replica taking
	// every token it can for two hours never puts more than limit/n in a
	// window, so n of them together stay within the limit, and its pace is
	// close to its share.
	for _, l := range []struct {
		name   string
		limits Limits
		class  Class
		window time.Duration
		n      int
	}{
		{"general", DefaultLimits(), ClassGeneral, 10 * time.Minute, 60},
		{"products per hour", DefaultLimits(), ClassProducts, time.Hour, 1000},
		{"raised", mustLimits(t, "general=600/10m"), ClassGeneral, 10 * time.Minute, 600},
	} {
		for _, replicas := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/%d replicas", l.name, replicas), func(t *testing.T) {
				b, clk := newTestBudget(t, l.limits)
				b.share(replicas)
				var at []time.Time
				for range 2 * 36000 {
					for {
						ok, _ := take(b, l.class, Paid)
						if !ok {
							break
						}
						at = append(at, clk.Now())
					}
					clk.Advance(100 * time.Millisecond)
				}
				share := float64(l.n) / float64(replicas)
				worst := 0
				for i := range at {
					j, _ := slices.BinarySearchFunc(at, at[i].Add(l.window), func(a, t time.Time) int { return a.Compare(t) })
					worst = max(worst, j-i)
				}
				if float64(worst) > share {
					t.Errorf("%d requests in one window of %v, share %.1f", worst, l.window, share)
				}
				perWindow := float64(len(at)) / (2 * float64(time.Hour) / float64(l.window))
				if perWindow < 0.85*share {
					t.Errorf("only %.1f requests per %v, share %.1f", perWindow, l.window, share)
				}
			})
		}
	}
}

func TestSharedBudgetShrinksAFullBucketAndGrowsBack(t *testing.T) {
	// A replica of an account allowed 600 per 10 minutes that started alone
	// holds a full burst of 10; when a second joins, at most its share's
	// burst of 5 is left to spend at once, and when the other leaves, the
	// full rate comes back.
	b, clk := newTestBudget(t, mustLimits(t, "general=600/10m"))
	b.share(2)
	burst := 0
	for {
		if ok, _ := take(b, ClassGeneral, Paid); !ok {
			break
		}
		burst++
	}
	if burst != 5 {
		t.Errorf("burst after sharing with 2: %d, want 5", burst)
	}
	_, half := take(b, ClassGeneral, Paid)
	b.share(1)
	_, whole := take(b, ClassGeneral, Paid)
	if whole >= half {
		t.Errorf("wait alone %v, not shorter than shared %v", whole, half)
	}
	clk.Advance(time.Hour)
	burst = 0
	for {
		if ok, _ := take(b, ClassGeneral, Paid); !ok {
			break
		}
		burst++
	}
	if burst != 10 {
		t.Errorf("burst alone again: %d, want 10", burst)
	}
}

func mustLimits(t *testing.T, s string) Limits {
	t.Helper()
	l, err := ParseLimits(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestBudgetQueueGrantsByPriorityThenArrival(t *testing.T) {
	b, clk := newTestBudget(t, mustLimits(t, "general=10/10m"))
	// A burst of 1: spend it so everyone queues.
	if ok, _ := take(b, ClassGeneral, Paid); !ok {
		t.Fatal("first request refused")
	}
	q := &queueTest{t: t, b: b}
	q.start("background 1", WithPriority(context.Background(), Background))
	q.start("interactive 1", WithPriority(context.Background(), Interactive))
	q.start("background 2", WithPriority(context.Background(), Background))
	q.start("paid", WithPriority(context.Background(), Paid))
	q.start("interactive 2", WithPriority(context.Background(), Interactive))
	// One token every 67 s: at most one grant per minute, and each is
	// recorded before the clock moves on, so the order is the grant order.
	for range 100 {
		clk.Advance(time.Minute)
		b.mu.Lock()
		granted := q.n - len(b.classes[ClassGeneral].waiters)
		b.mu.Unlock()
		q.grants(granted)
	}
	q.wg.Wait()
	order := q.order
	want := []string{"paid", "interactive 1", "interactive 2", "background 1", "background 2"}
	if !slices.Equal(order, want) {
		t.Errorf("served %v\nwant   %v", order, want)
	}
}

func TestBudgetMaxWaitAndDeadlineRefuseAtOnce(t *testing.T) {
	b, _ := newTestBudget(t, DefaultLimits())
	for range 2 {
		take(b, ClassGeneral, Paid)
	}
	ctx := WithMaxWait(context.Background(), 5*time.Second)
	eta, err := b.acquire(ctx, ClassGeneral)
	if !errors.Is(err, ErrBudgetSpent) || !near(eta, tok) {
		t.Errorf("acquire = %v, %v; want ErrBudgetSpent with about %v", eta, err, tok)
	}
	// A deadline the turn would miss: refused at once too. (The test clock
	// is behind the real one, so a deadline a few seconds out is "now".)
	dctx, cancel := context.WithDeadline(context.Background(), b.now().Add(time.Second))
	defer cancel()
	if _, err := b.acquire(dctx, ClassGeneral); !errors.Is(err, ErrBudgetSpent) {
		t.Errorf("with a near deadline: %v", err)
	}
	if n := len(b.classes[ClassGeneral].waiters); n != 0 {
		t.Errorf("%d refused requests left queued", n)
	}
}

func TestBudgetCanceledWaiterLeavesTheQueue(t *testing.T) {
	b, clk := newTestBudget(t, mustLimits(t, "general=10/10m"))
	take(b, ClassGeneral, Paid)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.acquire(WithPriority(ctx, Paid), ClassGeneral)
		done <- err
	}()
	waitFor(t, "the paid request queued", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.classes[ClassGeneral].waiters) == 1
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait returned %v", err)
	}
	clk.Advance(2 * time.Minute)
	if ok, _ := take(b, ClassGeneral, Interactive); !ok {
		t.Error("the canceled request's turn was not freed")
	}
}

func TestBudgetPauseHoldsEveryPriority(t *testing.T) {
	for _, limits := range []Limits{nil, DefaultLimits()} {
		b, clk := newTestBudget(t, limits)
		b.pause(ClassGeneral, clk.Now().Add(90*time.Second))
		for _, p := range []Priority{Paid, Interactive, Background} {
			if ok, d := take(b, ClassGeneral, p); ok || d != 90*time.Second {
				t.Errorf("limits %v: %v during a pause: %v, %v", limits, p, ok, d)
			}
		}
		if ok, _ := take(b, ClassProducts, Interactive); !ok {
			t.Errorf("limits %v: a pause of one class held another", limits)
		}
		clk.Advance(90 * time.Second)
		if ok, _ := take(b, ClassGeneral, Interactive); !ok {
			t.Errorf("limits %v: still held after the pause", limits)
		}
	}
}

func TestBudgetBackgroundTakesAtMostHalf(t *testing.T) {
	// Background work alone, greedy, for two hours: never more than half
	// the documented rate, so a user arriving finds the budget nearly full.
	b, clk := newTestBudget(t, DefaultLimits())
	n := 0
	for range 2 * 36000 {
		for {
			ok, _ := take(b, ClassGeneral, Background)
			if !ok {
				break
			}
			n++
		}
		clk.Advance(100 * time.Millisecond)
	}
	if per10 := float64(n) / 12; per10 > 30 {
		t.Errorf("background took %.1f requests per 10 minutes, want at most half of 60", per10)
	}
	if ok, _ := take(b, ClassGeneral, Interactive); !ok {
		t.Error("a user after two hours of background work found no room")
	}
}

// queueTest runs acquires in goroutines and records the order they are
// granted in.
type queueTest struct {
	t     *testing.T
	b     *budget
	mu    sync.Mutex
	order []string
	wg    sync.WaitGroup
	n     int
}

func (q *queueTest) start(name string, ctx context.Context) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		if _, err := q.b.acquire(ctx, ClassGeneral); err != nil {
			q.t.Errorf("%s: %v", name, err)
			return
		}
		q.mu.Lock()
		q.order = append(q.order, name)
		q.mu.Unlock()
	}()
	q.n++
	n := q.n - q.granted()
	waitFor(q.t, name+" queued", func() bool {
		q.b.mu.Lock()
		defer q.b.mu.Unlock()
		return len(q.b.classes[ClassGeneral].waiters) == n
	})
}

func (q *queueTest) granted() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// nextGrant moves clk a token at a time until one more request is granted,
// and returns the order so far.
func (q *queueTest) nextGrant(clk *testClock) []string {
	want := q.granted() + 1
	for range 100 {
		q.b.mu.Lock()
		left := len(q.b.classes[ClassGeneral].waiters)
		q.b.mu.Unlock()
		if q.n-left >= want {
			return q.grants(want)
		}
		clk.Advance(tok + time.Millisecond)
	}
	q.t.Fatal("no grant")
	return nil
}

// grants waits until n requests in all have been granted and returns their order.
func (q *queueTest) grants(n int) []string {
	waitFor(q.t, "grants", func() bool { return q.granted() == n })
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.order)
}

func TestBudgetGiveWay(t *testing.T) {
	paidGivingWay := func(d time.Duration) context.Context {
		return WithGiveWay(WithPriority(context.Background(), Paid), d)
	}
	t.Run("budget idle: at once", func(t *testing.T) {
		b, _ := newTestBudget(t, DefaultLimits())
		if _, err := b.acquire(paidGivingWay(time.Hour), ClassGeneral); err != nil {
			t.Fatal(err)
		}
		if n := len(b.classes[ClassGeneral].waiters); n != 0 {
			t.Errorf("%d waiting, want the request granted at once", n)
		}
	})
	t.Run("users queued: after them until its time, then first", func(t *testing.T) {
		b, clk := newTestBudget(t, DefaultLimits())
		take(b, ClassGeneral, Interactive)
		take(b, ClassGeneral, Interactive)
		q := &queueTest{t: t, b: b}
		interactive := WithPriority(context.Background(), Interactive)
		q.start("invoice 1", interactive)
		q.start("invoice 2", interactive)
		q.start("paid, giving way 25s", paidGivingWay(25*time.Second))
		q.start("invoice 3", interactive)
		q.start("background", WithPriority(context.Background(), Background))
		q.start("invoice 4", interactive)
		// Tokens at 10.2, 20.4, 30.6 s: the first two to the invoices queued
		// before; at 25 s the paid fetch stops giving way and takes the third.
		start := clk.Now()
		var got []string
		for range 3 {
			got = q.nextGrant(clk)
		}
		want := []string{"invoice 1", "invoice 2", "paid, giving way 25s"}
		if !slices.Equal(got, want) {
			t.Errorf("served %v, want %v", got, want)
		}
		if waited := clk.Now().Sub(start); waited > 25*time.Second+tok {
			t.Errorf("the paid fetch waited %v, more than its 25 s and one token", waited)
		}
		for range 3 {
			got = q.nextGrant(clk)
		}
		q.wg.Wait()
		if !slices.Equal(got[3:], []string{"invoice 3", "invoice 4", "background"}) {
			t.Errorf("then %v", got[3:])
		}
	})
	t.Run("queue drains: it goes once the budget has a token to spare", func(t *testing.T) {
		b, clk := newTestBudget(t, DefaultLimits())
		take(b, ClassGeneral, Interactive)
		take(b, ClassGeneral, Interactive)
		q := &queueTest{t: t, b: b}
		q.start("invoice", WithPriority(context.Background(), Interactive))
		q.start("paid, giving way 10m", paidGivingWay(10*time.Minute))
		start := clk.Now()
		q.nextGrant(clk)
		if got := q.nextGrant(clk); got[1] != "paid, giving way 10m" {
			t.Errorf("served %v", got)
		}
		// The invoice takes the token at 1 tok; the bucket of 2 is full
		// again, with one to spare, at 3 tok.
		if waited := clk.Now().Sub(start); waited > 3*tok+time.Second {
			t.Errorf("with nobody left waiting, the paid fetch still waited %v", waited)
		}
		q.wg.Wait()
	})
}
