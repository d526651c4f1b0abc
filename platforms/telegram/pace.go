package telegram

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Rate messages per second on average, with bursts
// of up to Burst. A zero Rate means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// Telegram's published limits for bots: about one message per second in a
// chat (short bursts are tolerated: the per-chat burst holds one screen —
// an image and its text, or a reply split in parts), 30 per second
// overall, and 20 per minute in a group.
var (
	DefaultPerChat = Limit{Rate: 1, Burst: 3}
	DefaultGlobal  = Limit{Rate: 30, Burst: 10}
	DefaultGroup   = Limit{Rate: 20.0 / 60, Burst: 3}
)

// OverallLimit is the overall limit for rate messages a second (the
// operator's TELEGRAM_RATE_LIMIT): a burst of a third of a second's worth,
// so that a lull does not let a full second's budget go out at once on top
// of the next second's.
func OverallLimit(perSecond float64) Limit {
	return Limit{Rate: perSecond, Burst: max(1, int(perSecond/3))}
}

// class is who is waiting for a message: a user who just did something
// (interactive), or nobody in particular (bulk: notifications for a user
// not looking, reminders, alerts, broadcasts).
type class int

const (
	bulk class = iota
	interactive
)

// limiter is one budget (a chat's, a group's, the bot's) and the end of a
// wait Telegram asked for on it (a 429's retry_after): nobody sends through
// it before then.
type limiter struct {
	lim   *rate.Limiter
	until time.Time
}

// newLimiter makes l's limiter; without a rate it only carries the waits
// Telegram asks for.
func newLimiter(l Limit) *limiter {
	r := rate.Inf
	if l.Rate > 0 {
		r = rate.Limit(l.Rate)
	}
	return &limiter{lim: rate.NewLimiter(r, max(l.Burst, 1))}
}

func (l *limiter) unlimited() bool { return l.lim.Limit() == rate.Inf }

// pacer spaces outbound messages per chat, per group chat and overall, and
// spends the budget on replies first.
//
// A reply reserves its slot (rate.Limiter.Reserve): it queues only behind
// other replies. Bulk traffic never reserves ahead: it takes a token only
// when one is there now — overall, only while more than a reserve kept for
// replies is left — and otherwise waits for the bucket to refill, one bulk
// sender at a time (the others queue on bulkTurn, in order). So 2,000
// queued notifications hold back no reply: a reply finds the reserve, or at
// worst waits for the next token, and bulk gets what replies leave.
type pacer struct {
	perChat, group Limit
	reserve        float64 // overall tokens bulk leaves for replies
	bulkTurn       chan struct{}

	mu     sync.Mutex
	global *limiter // nil: no overall limit
	chats  map[int64]*limiter
	groups map[int64]*limiter
}

func newPacer(perChat, global, group Limit) *pacer {
	p := &pacer{perChat: perChat, group: group, bulkTurn: make(chan struct{}, 1),
		chats: map[int64]*limiter{}, groups: map[int64]*limiter{}}
	if global.Rate > 0 {
		p.global = newLimiter(global)
		p.reserve = math.Floor(float64(max(global.Burst, 1)) / 2)
	}
	return p
}

// wait blocks until a message to chat may be sent, or ctx ends. The chat's
// (and group's) slot comes first and the overall one last, so that the
// overall slot is the moment of sending: one taken early and used late
// would let sends bunch up beyond the overall rate.
func (p *pacer) wait(ctx context.Context, chat int64, c class) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	own := []*limiter{p.limiterFor(p.chats, chat, p.perChat)}
	if chat < 0 { // group and channel ids are negative
		own = append(own, p.limiterFor(p.groups, chat, p.group))
	}
	p.mu.Unlock()
	if err := p.take(ctx, own, c, 0); err != nil {
		return err
	}
	if p.global == nil {
		return nil
	}
	if c == bulk {
		select {
		case p.bulkTurn <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-p.bulkTurn }()
	}
	return p.take(ctx, []*limiter{p.global}, c, p.reserve)
}

// take takes one token from every limiter in ls, waiting as the class
// allows: a reply reserves its slot in each, bulk waits until each has more
// than keep tokens now.
func (p *pacer) take(ctx context.Context, ls []*limiter, c class, keep float64) error {
	if len(ls) == 0 {
		return nil
	}
	for {
		p.mu.Lock()
		now := time.Now()
		var d time.Duration
		for _, l := range ls {
			d = max(d, l.until.Sub(now))
		}
		if d > 0 { // a wait Telegram asked for comes before any slot
			p.mu.Unlock()
			if err := sleep(ctx, d); err != nil {
				return err
			}
			continue
		}
		if c == interactive {
			rs := make([]*rate.Reservation, len(ls))
			for i, l := range ls {
				rs[i] = l.lim.ReserveN(now, 1) // always OK: n is within the burst
				d = max(d, rs[i].DelayFrom(now))
			}
			p.mu.Unlock()
			if err := sleep(ctx, d); err != nil {
				for _, r := range rs {
					r.Cancel() // the slot goes back to whoever comes next
				}
				return err
			}
			return p.waitBlocked(ctx, ls)
		}
		for _, l := range ls {
			if l.unlimited() {
				continue
			}
			if short := keep + 1 - l.lim.TokensAt(now); short > 0 {
				d = max(d, time.Duration(short/float64(l.lim.Limit())*float64(time.Second))+time.Millisecond)
			}
		}
		if d == 0 {
			for _, l := range ls {
				l.lim.AllowN(now, 1)
			}
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// waitBlocked sleeps out a wait Telegram asked for while a reply slept
// towards its slot.
func (p *pacer) waitBlocked(ctx context.Context, ls []*limiter) error {
	for {
		p.mu.Lock()
		var d time.Duration
		for _, l := range ls {
			d = max(d, time.Until(l.until))
		}
		p.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
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
	until := time.Now().Add(d)
	if chat == 0 {
		if p.global == nil {
			p.global = newLimiter(Limit{})
		}
		p.global.until = maxTime(p.global.until, until)
		return
	}
	l := p.limiterFor(p.chats, chat, p.perChat)
	l.until = maxTime(l.until, until)
	if chat < 0 {
		g := p.limiterFor(p.groups, chat, p.group)
		g.until = maxTime(g.until, until)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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

// limiterFor is chat's limiter in m, made on first use (under p.mu).
func (p *pacer) limiterFor(m map[int64]*limiter, chat int64, l Limit) *limiter {
	x := m[chat]
	if x == nil {
		if len(m) >= 8192 {
			// Forget the limiters that have filled up again: they hold no
			// debt, and a new one starts full.
			now := time.Now()
			for id, y := range m {
				if (y.unlimited() || y.lim.TokensAt(now) >= float64(y.lim.Burst())) && !y.until.After(now) {
					delete(m, id)
				}
			}
		}
		x = newLimiter(l)
		m[chat] = x
	}
	return x
}

// replyKey marks the context an update is handled with: what is sent to
// its chat with that context answers what the user just did. Everything
// else — a notification sent with a background context, or a message to
// another chat caused by this user (an operator's alert) — is bulk.
type replyKey struct{}

func withReplyTo(ctx context.Context, chat int64) context.Context {
	return context.WithValue(ctx, replyKey{}, chat)
}

func classOf(ctx context.Context, chat int64) class {
	if c, ok := ctx.Value(replyKey{}).(int64); ok && c == chat {
		return interactive
	}
	return bulk
}

// ParseRateLimit reads the operator's overall limit (TELEGRAM_RATE_LIMIT):
// messages per second, or "off" for a Bot API server that does not limit
// (tests, benchmarks), which turns all pacing off; "" is the default, 30.
func ParseRateLimit(s string) (l Limit, off bool, err error) {
	switch s = strings.TrimSpace(s); strings.ToLower(s) {
	case "":
		return DefaultGlobal, false, nil
	case "off":
		return Limit{}, true, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return Limit{}, false, fmt.Errorf("TELEGRAM_RATE_LIMIT %q: give messages per second (e.g. 30) or off", s)
	}
	return OverallLimit(r), false, nil
}
