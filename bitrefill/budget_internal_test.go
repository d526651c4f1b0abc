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
	return newBudget(l, clk.Now, clk.AfterFunc), clk
}

// take tries to spend a token now for p.
func take(b *budget, c Class, p Priority) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tryTake(c, p, b.now())
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

func TestBudgetPaidReserveAndBackgroundLeftovers(t *testing.T) {
	// 60 per 10 minutes: a burst of 6. Background leaves 4 behind, an
	// interactive request 2 (the paid reserve), a paid request nothing.
	b, _ := newTestBudget(t, DefaultLimits())
	var got []string
	for _, p := range []Priority{Background, Background, Background, Interactive, Interactive, Interactive, Paid, Paid, Paid} {
		if ok, _ := take(b, ClassGeneral, p); ok {
			got = append(got, p.String())
		} else {
			got = append(got, "no "+p.String())
		}
	}
	want := []string{"background", "background", "no background", "interactive", "interactive", "no interactive", "paid", "paid", "no paid"}
	if !slices.Equal(got, want) {
		t.Errorf("granted %v\nwant    %v", got, want)
	}
	// Other classes have budgets of their own.
	if ok, _ := take(b, ClassProducts, Interactive); !ok {
		t.Error("a product request was held back by the general budget")
	}
}

func TestBudgetEstimates(t *testing.T) {
	b, clk := newTestBudget(t, DefaultLimits())
	for range 6 {
		take(b, ClassGeneral, Paid)
	}
	// A token comes every 612 s / 54 = 11.33 s. Paid needs 1, interactive 3
	// (it leaves the reserve of 2), background 5.
	tok := 612 * time.Second / 54
	for _, tc := range []struct {
		p    Priority
		want time.Duration
	}{{Paid, tok}, {Interactive, 3 * tok}, {Background, 5 * tok}} {
		if got := b.delay(ClassGeneral, tc.p); got < tc.want-time.Millisecond || got > tc.want+time.Millisecond {
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

func TestBudgetNeverOverfillsAWindow(t *testing.T) {
	// A caller taking every token it can for two hours, at 100 ms steps:
	// no sliding 10-minute window holds more than 60 requests, and the
	// pace is close to the limit.
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
			for i := range at {
				j, _ := slices.BinarySearchFunc(at, at[i].Add(l.window), func(a, t time.Time) int { return a.Compare(t) })
				worst = max(worst, j-i)
			}
			if worst > l.n {
				t.Errorf("%d requests in one window of %v, limit %d", worst, l.window, l.n)
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
	// A replica that started alone holds a full burst of 6; when a second
	// joins, at most its share's burst of 3 is left to spend at once, and
	// when the other leaves, the full rate comes back.
	b, clk := newTestBudget(t, DefaultLimits())
	b.share(2)
	burst := 0
	for {
		if ok, _ := take(b, ClassGeneral, Paid); !ok {
			break
		}
		burst++
	}
	if burst != 3 {
		t.Errorf("burst after sharing with 2: %d, want 3", burst)
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
	if burst != 6 {
		t.Errorf("burst alone again: %d, want 6", burst)
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
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	queued := 0
	start := func(name string, p Priority) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.acquire(WithPriority(context.Background(), p), ClassGeneral); err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
		}()
		queued++
		n := queued
		waitFor(t, name+" queued", func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return len(b.classes[ClassGeneral].waiters) == n
		})
	}
	start("background 1", Background)
	start("interactive 1", Interactive)
	start("background 2", Background)
	start("paid", Paid)
	start("interactive 2", Interactive)
	// One token every 68 s: at most one grant per minute, and each is
	// recorded before the clock moves on, so the order is the grant order.
	for range 100 {
		clk.Advance(time.Minute)
		b.mu.Lock()
		granted := queued - len(b.classes[ClassGeneral].waiters)
		b.mu.Unlock()
		waitFor(t, "grants recorded", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(order) == granted
		})
	}
	wg.Wait()
	want := []string{"paid", "interactive 1", "interactive 2", "background 1", "background 2"}
	if !slices.Equal(order, want) {
		t.Errorf("served %v\nwant   %v", order, want)
	}
}

func TestBudgetMaxWaitAndDeadlineRefuseAtOnce(t *testing.T) {
	b, _ := newTestBudget(t, DefaultLimits())
	for range 6 {
		take(b, ClassGeneral, Paid)
	}
	ctx := WithMaxWait(context.Background(), 5*time.Second)
	eta, err := b.acquire(ctx, ClassGeneral)
	if !errors.Is(err, ErrBudgetSpent) || eta < 30*time.Second || eta > 40*time.Second {
		t.Errorf("acquire = %v, %v; want ErrBudgetSpent with about 34s", eta, err)
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
