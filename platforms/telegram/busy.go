package telegram

import (
	"context"
	"sync"
	"time"
)

// busyGate bounds how many updates are being handled at once, across chats.
//
// Each chat has its own worker, so a rush of buyers means as many updates
// in flight as chats, each holding its transient memory (a session being
// decoded, a commit, an invoice's QR code) while the two cores work through
// them: with 200 buyers at once, about 15 MB of a 50 MB peak RSS, for
// little gain in throughput on two cores. Updates beyond the bound wait
// for a slot, in no particular order.
//
// The bound is the operator's (TELEGRAM_MAX_BUSY, off by default): fewer
// updates in flight means a smaller heap, which the garbage collector
// keeps small by running more often, so it costs CPU (BENCHMARKS.md).
//
// A slot is a lease, not a lock: an update still being handled after
// busyLease is waiting for something (a slow Bitrefill, the request budget,
// a long fsync), not computing, and gives its slot back then, so such
// waits never hold up other chats by more than busyLease. A reply waiting
// for its turn in the message budget gives its slot back at once
// (leaveBusy): with pacing on, that wait is the usual one.
type busyGate struct {
	slots chan struct{}
	lease time.Duration
}

// busyLease is how long an update may keep its slot.
const busyLease = 100 * time.Millisecond

// busyKey carries an update's leave func from work to its replies.
type busyKey struct{}

func withBusy(ctx context.Context, leave func()) context.Context {
	return context.WithValue(ctx, busyKey{}, leave)
}

// leaveBusy gives up the slot of the update ctx belongs to, if any, before
// a wait that needs no CPU.
func leaveBusy(ctx context.Context) {
	if leave, ok := ctx.Value(busyKey{}).(func()); ok {
		leave()
	}
}

// newBusyGate returns a gate of the given slots, or nil (no bound) for 0.
func newBusyGate(slots int, lease time.Duration) *busyGate {
	if slots <= 0 {
		return nil
	}
	return &busyGate{slots: make(chan struct{}, slots), lease: lease}
}

// enter waits for a slot, or for ctx to end (then the update is handled
// without one: it has to finish or give up in its own time). leave gives
// the slot back, if the lease has not already; call it once.
func (g *busyGate) enter(ctx context.Context) (leave func()) {
	if g == nil {
		return func() {}
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return func() {}
	}
	var once sync.Once
	release := func() { once.Do(func() { <-g.slots }) }
	t := time.AfterFunc(g.lease, release)
	return func() {
		t.Stop()
		release()
	}
}
