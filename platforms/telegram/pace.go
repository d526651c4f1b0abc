package telegram

import (
	"context"
	"sync"
	"time"
)

// Limit is a token bucket: Rate messages per second on average, with bursts
// of up to Burst. A zero Rate means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// Telegram's published limits for bots: about one message per second in a
// chat (short bursts are tolerated), 30 per second overall, and 20 per
// minute in a group.
var (
	DefaultPerChat = Limit{Rate: 1, Burst: 3}
	DefaultGlobal  = Limit{Rate: 30, Burst: 30}
	DefaultGroup   = Limit{Rate: 20.0 / 60, Burst: 3}
)

type bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newBucket(l Limit, now time.Time) *bucket {
	return &bucket{rate: l.Rate, burst: float64(max(l.Burst, 1)), tokens: float64(max(l.Burst, 1)), last: now}
}

// reserve takes a token and returns how long to wait before using it.
// Tokens may go negative: each waiter gets its own later slot, in order.
func (b *bucket) reserve(now time.Time) time.Duration {
	if b == nil || b.rate <= 0 {
		return 0
	}
	b.refill(now)
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
}

// pacer spaces outbound messages: per chat, per group chat and overall.
type pacer struct {
	perChat, group Limit
	mu             sync.Mutex
	global         *bucket
	chats          map[int64]*bucket
	groups         map[int64]*bucket
}

func newPacer(perChat, global, group Limit) *pacer {
	p := &pacer{perChat: perChat, group: group, chats: map[int64]*bucket{}, groups: map[int64]*bucket{}}
	if global.Rate > 0 {
		p.global = newBucket(global, time.Now())
	}
	return p
}

// wait blocks until a message to chat may be sent, or ctx ends. The chat's
// (and group's) slot is taken first and the global one only once that has
// come, so the global slot is the moment of sending: a global slot taken
// early and used late would let sends bunch up beyond the global rate.
func (p *pacer) wait(ctx context.Context, chat int64) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	var d time.Duration
	if p.perChat.Rate > 0 {
		d = p.take(p.chats, chat, p.perChat, now)
	}
	if chat < 0 && p.group.Rate > 0 { // group and channel ids are negative
		d = max(d, p.take(p.groups, chat, p.group, now))
	}
	p.mu.Unlock()
	if err := sleep(ctx, d); err != nil {
		return err
	}
	p.mu.Lock()
	d = p.global.reserve(time.Now())
	p.mu.Unlock()
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pacer) take(m map[int64]*bucket, chat int64, l Limit, now time.Time) time.Duration {
	b := m[chat]
	if b == nil {
		if len(m) >= 8192 {
			// Forget buckets that have filled up again: they hold no debt.
			for id, x := range m {
				if x.refill(now); x.tokens >= x.burst {
					delete(m, id)
				}
			}
		}
		b = newBucket(l, now)
		m[chat] = b
	}
	return b.reserve(now)
}
