package telegramtest

import (
	"math"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Bucket is a token bucket: Rate calls a second on average, bursts of up
// to Burst.
type Bucket struct {
	Rate  float64
	Burst int
}

// Limits are flood limits on the calls that post or change a message
// (send*, edit*): per chat, per group chat on top of that, and for the bot
// as a whole. A call over a limit is answered 429 with retry_after, as
// Telegram does, and recorded (Throttled). A zero Bucket does not limit.
type Limits struct {
	PerChat, Group, Global Bucket
}

// TelegramLimits are Telegram's published limits — about one message a
// second in a chat, 20 a minute in a group, 30 a second overall — with
// the short bursts Telegram tolerates. A bot that paces itself to those
// limits, sending at most a few messages at once, gets no 429 from them
// even when its calls arrive bunched (by the network, or by a busy machine
// that runs the bot, the fake and the test on two cores): the bursts leave
// about a second of slack overall, and three per chat.
var TelegramLimits = Limits{
	PerChat: Bucket{Rate: 1, Burst: 6},
	Group:   Bucket{Rate: 20.0 / 60, Burst: 6},
	Global:  Bucket{Rate: 30, Burst: 45},
}

// floodLimited tells the methods the limits apply to (lower case).
func floodLimited(method string) bool {
	return strings.HasPrefix(method, "send") && method != "sendchataction" || strings.HasPrefix(method, "editmessage")
}

type flood struct {
	l      Limits
	global *rate.Limiter
	chats  map[int64]*rate.Limiter
	groups map[int64]*rate.Limiter
}

func newBucket(b Bucket) *rate.Limiter {
	if b.Rate <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(b.Rate), max(b.Burst, 1))
}

// throttle takes a token from every bucket the call falls under, or none
// and answers how long to wait (under s.mu).
func (f *flood) throttle(method string, chat int64, now time.Time) (retryAfter int, limited bool) {
	if f == nil || !floodLimited(method) {
		return 0, false
	}
	var ls []*rate.Limiter
	get := func(m map[int64]*rate.Limiter, b Bucket) {
		l, ok := m[chat]
		if !ok {
			l = newBucket(b)
			m[chat] = l
		}
		if l != nil {
			ls = append(ls, l)
		}
	}
	if chat != 0 {
		get(f.chats, f.l.PerChat)
		if chat < 0 {
			get(f.groups, f.l.Group)
		}
	}
	if f.global != nil {
		ls = append(ls, f.global)
	}
	wait := 0.0
	for _, l := range ls {
		if t := l.TokensAt(now); t < 1 {
			wait = max(wait, (1-t)/float64(l.Limit()))
		}
	}
	if wait > 0 {
		return int(math.Ceil(wait)), true
	}
	for _, l := range ls {
		l.AllowN(now, 1)
	}
	return 0, false
}
