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
	// until is the end of a wait Telegram asked for (a 429's retry_after):
	// nobody sends through this bucket before it.
	until time.Time
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

// block makes the bucket wait until now+d: senders already holding a slot
// wait it out (see pacer.wait), and the slots handed out from now on start
// after it, still spaced by the rate.
func (b *bucket) block(now time.Time, d time.Duration) {
	if b == nil {
		return
	}
	b.until = maxTime(b.until, now.Add(d))
	if b.rate > 0 {
		b.refill(now)
		b.tokens = min(b.tokens, 1) - d.Seconds()*b.rate
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
// A slot that comes during a wait Telegram asked for (block) is used only
// after that wait.
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
	if err := p.waitBlocked(ctx, func() time.Time {
		return maxTime(p.chats[chat].untilOrZero(), p.groups[chat].untilOrZero())
	}); err != nil {
		return err
	}
	p.mu.Lock()
	d = p.global.reserve(time.Now())
	p.mu.Unlock()
	if err := sleep(ctx, d); err != nil {
		return err
	}
	return p.waitBlocked(ctx, func() time.Time { return p.global.untilOrZero() })
}

// waitBlocked sleeps until the time until reports (read under p.mu) has
// passed; it may move on while sleeping, when another 429 comes.
func (p *pacer) waitBlocked(ctx context.Context, until func() time.Time) error {
	for {
		p.mu.Lock()
		d := time.Until(until())
		p.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

func (b *bucket) untilOrZero() time.Time {
	if b == nil {
		return time.Time{}
	}
	return b.until
}

// block makes every sender to chat wait d, as Telegram asked in a 429
// answer to one of them; chat 0 (a call not addressed to a chat) stands for
// the bot as a whole: every sender waits.
func (p *pacer) block(chat int64, d time.Duration) {
	if p == nil || d <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if chat == 0 {
		if p.global == nil {
			p.global = &bucket{last: now}
		}
		p.global.block(now, d)
		return
	}
	p.bucketFor(p.chats, chat, p.perChat, now).block(now, d)
	if chat < 0 {
		p.bucketFor(p.groups, chat, p.group, now).block(now, d)
	}
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
	return p.bucketFor(m, chat, l, now).reserve(now)
}

func (p *pacer) bucketFor(m map[int64]*bucket, chat int64, l Limit, now time.Time) *bucket {
	b := m[chat]
	if b == nil {
		if len(m) >= 8192 {
			// Forget buckets that have filled up again: they hold no debt.
			for id, x := range m {
				if x.refill(now); x.tokens >= x.burst && !x.until.After(now) {
					delete(m, id)
				}
			}
		}
		b = newBucket(l, now)
		m[chat] = b
	}
	return b
}
