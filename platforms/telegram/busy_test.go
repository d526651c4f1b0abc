package telegram

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// However many chats press at once, no more than the gate's slots are
// handled at the same time while they compute.
func TestBusyGateBounds(t *testing.T) {
	g := newBusyGate(3, time.Hour)
	var now, peak atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			leave := g.enter(context.Background())
			n := now.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			now.Add(-1)
			leave()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("%d updates handled at once, want 1 to 3", p)
	}
}

// An update left waiting (a slow Bitrefill) gives its slot up after the
// lease, so other chats are not held up behind it; and a shutdown never
// waits for a slot.
func TestBusyGateLeaseAndShutdown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lease time.Duration
		ctx   func() context.Context
	}{
		{"lease ends", 5 * time.Millisecond, context.Background},
		{"shutting down", time.Hour, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newBusyGate(1, tc.lease)
			defer g.enter(context.Background())() // the slow update, never done
			entered := make(chan func())
			go func() { entered <- g.enter(tc.ctx()) }()
			select {
			case leave := <-entered:
				leave()
				leave() // a second call is harmless
			case <-time.After(10 * time.Second):
				t.Fatal("the next update is still waiting for the slot")
			}
		})
	}
}

// Without a bound (the default) every update is handled at once.
func TestBusyGateOff(t *testing.T) {
	g := newBusyGate(0, busyLease)
	for range 1000 {
		g.enter(context.Background())
	}
}

// A reply waiting for the message budget holds no slot: with the gate's
// only slot taken by an update whose reply waits, another chat's update
// is handled at once.
func TestBusyGateLeftWhileReplyWaits(t *testing.T) {
	g := newBusyGate(1, time.Hour)
	leave := g.enter(context.Background())
	ctx := withBusy(context.Background(), leave)
	leaveBusy(ctx) // what retry does before the pacer's wait
	leaveBusy(context.Background())
	entered := make(chan func())
	go func() { entered <- g.enter(context.Background()) }()
	select {
	case next := <-entered:
		next()
	case <-time.After(10 * time.Second):
		t.Fatal("the other chat's update is still waiting for the slot")
	}
	leave() // the first update ends: harmless after leaveBusy
}
