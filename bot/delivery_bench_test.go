package bot_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
)

func reportPercentiles(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(p(0.50), "p50-µs")
	b.ReportMetric(p(0.99), "p99-µs")
}

// BenchmarkWebhookToPlatform: from a webhook POST for a paid invoice to the
// code handed to the platform — fetch the invoice and its orders (Bitrefill
// fake in-process), the engine step, the durable commit with the outbox
// record, the send. Setting up each invoice is not timed.
func BenchmarkWebhookToPlatform(b *testing.B) {
	e := newEnv(b, envOptions{inProcess: true, tune: withSecret})
	h := e.bot.WebhookHandler(e.ctx)
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		u := e.newUser(true)
		if _, err := u.toInvoice(); err != nil {
			b.Fatal(err)
		}
		id := u.invoiceID()
		if err := e.fake.MarkPaid(id); err != nil {
			b.Fatal(err)
		}
		m := u.mark()
		b.StartTimer()
		t0 := time.Now()
		if code := post(h, bot.WebhookPath+secret, `{"id":"`+id+`"}`); code != 200 {
			b.Fatalf("webhook: %d", code)
		}
		if _, err := u.awaitSecret(m); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// limited is a platform with a token-bucket rate limit that answers "retry
// after" when exceeded, as Telegram's 429 does. It counts what it accepted.
type limited struct {
	mu     sync.Mutex
	rate   float64 // messages per second
	burst  float64
	tokens float64
	last   time.Time
	got    map[string]int
	n      int
}

func (l *limited) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens < 1 {
		return "", slowDownErr{time.Duration((1 - l.tokens) / l.rate * float64(time.Second))}
	}
	l.tokens--
	l.got[conversation.PlainText(r.Text)]++
	l.n++
	return fmt.Sprint(l.n), nil
}

// BenchmarkDrain10k: 10,000 queued notifications (500 users × 20) drained
// through a platform limited to 1,000 messages per second: every one arrives
// exactly once, in order per user, and the drain keeps close to the limit.
func BenchmarkDrain10k(b *testing.B) {
	const users, each = 500, 20
	for range b.N {
		b.StopTimer()
		plat := &limited{rate: 1000, burst: 30, tokens: 30, last: time.Now(), got: map[string]int{}}
		e := newEnv(b, envOptions{inProcess: true, tune: func(e *env, c *bot.Config) {
			c.Platforms = map[string]bot.Platform{platformName: plat}
		}})
		var recs []bot.OutboxRecord
		id := uint64(0)
		for j := range each {
			for u := range users {
				id++
				k := conversation.SessionKey{Platform: platformName, User: fmt.Sprint("u", u)}
				recs = append(recs, bot.OutboxRecord{ID: id, Session: k,
					Address: conversation.Address{Platform: platformName, Chat: fmt.Sprint("c", u), Private: true},
					Reply:   conversation.Reply{Text: []conversation.Span{{Text: fmt.Sprintf("user %d message %d", u, j)}}}})
			}
		}
		if err := e.store.Enqueue(recs); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for {
			if e.bot.Drain(e.ctx, time.Now()) == 0 {
				e.bot.FlushMarks()
				if left, _ := e.store.Outbox(1); len(left) == 0 {
					break
				}
				time.Sleep(time.Millisecond) // the platform's limit is the pace
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if len(plat.got) != users*each {
			b.Fatalf("%d distinct messages arrived, want %d", len(plat.got), users*each)
		}
		for text, n := range plat.got {
			if n != 1 {
				b.Fatalf("%q arrived %d times", text, n)
			}
		}
		b.ReportMetric(float64(users*each)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(plat.rate, "limit-msgs/s")
	}
}
