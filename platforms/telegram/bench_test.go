package telegram_test

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkUpdates measures updates handled end to end: the fake Bot API
// server hands a user's message to the adapter (long polling through the
// unmodified library), the engine answers, the session is committed to
// bbolt with fsync, and the reply is sent back to the fake. Many users write
// at once, each waiting for the answer before writing again, as people do.
// It reports updates/s and the time from the update being queued at the
// fake to the reply arriving there (p50, p99). Pacing is off: it measures
// the bot, not Telegram's limits.
//
//	help:   "/help" → one reply, no Bitrefill call
//	search: "amazon us" → two replies and a search in the Bitrefill fake
func BenchmarkUpdates(b *testing.B) {
	for _, c := range []struct {
		name, say, want string
		users           int // per GOMAXPROCS
	}{
		{"help/users=2", "/help", "How it works", 1},
		{"help/users=8", "/help", "How it works", 4},
		{"help/users=64", "/help", "How it works", 32},
		{"search/users=8", "amazon us", txtResults, 4},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newEnv(b, envOptions{})
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(c.users)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				u := e.newBuyer("Bench", "en")
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					m, err := u.say(c.say, c.want)
					if err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, m.Date.Sub(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if len(lat) == 0 {
				return
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
