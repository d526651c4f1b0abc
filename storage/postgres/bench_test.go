package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/storage"
	"refillbot/storage/postgres"
	"refillbot/storage/postgres/pgtest"
)

// benchState is a session in the middle of a search, about 1.6 KB of JSON
// like a real one.
func benchState(i int) conversation.State {
	st := conversation.State{V: conversation.SchemaVersion,
		Profile: conversation.Profile{Lang: "en", Nonce: fmt.Sprintf("bench%06d", i)},
		Flow:    conversation.Flow{Step: conversation.StepConfirm, Query: "gift cards for games"}}
	for j := range 16 {
		st.Results = append(st.Results, conversation.ProductSummary{
			ID: fmt.Sprintf("product-%02d-%d", j, i), Name: fmt.Sprintf("A product with a name %02d", j), Country: "US", InStock: j%3 != 0})
	}
	return st
}

// committer is the part of a store the benchmark uses.
type committer interface{ Commit(bot.Commit) error }

// openStore opens the named store the benchmark compares: bbolt (fsync
// on, as the bot runs it) or PostgreSQL (synchronous_commit on, the server
// default).
func openStore(b *testing.B, name string) committer {
	key := make([]byte, 32)
	if name == "bbolt" {
		bb, err := storage.Open(filepath.Join(b.TempDir(), "bench.db"), storage.Options{Key: key})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { bb.Close() })
		return bb
	}
	pg, err := postgres.Open(context.Background(), pgtest.URL(b), postgres.Options{Key: key})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pg.Close() })
	return pg
}

// reportLatencies adds p50 and p99 of one commit, in microseconds.
func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkCommitLatency: one durable commit of a session (state and one
// queued message), by one writer, then by 16 at once; p50 and p99 of each
// commit's wall time, bbolt beside PostgreSQL.
func BenchmarkCommitLatency(b *testing.B) {
	for _, writers := range []int{1, 16} {
		for _, name := range []string{"bbolt", "postgres"} {
			b.Run(fmt.Sprintf("%s/writers=%d", name, writers), func(b *testing.B) {
				st := openStore(b, name)
				var next atomic.Int64
				var mu sync.Mutex
				var lat []time.Duration
				b.ResetTimer()
				var wg sync.WaitGroup
				for range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var mine []time.Duration
						for {
							i := int(next.Add(1))
							if i > b.N {
								break
							}
							k := conversation.SessionKey{Platform: "bench", User: fmt.Sprint(i)}
							c := bot.Commit{Key: k, State: benchState(i), Outbox: []bot.OutboxRecord{{ID: uint64(i), Session: k,
								Reply: conversation.Reply{Text: []conversation.Span{{Text: "Results for gift cards"}}}}}}
							start := time.Now()
							if err := st.Commit(c); err != nil {
								b.Error(err)
								return
							}
							mine = append(mine, time.Since(start))
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					}()
				}
				wg.Wait()
				b.StopTimer()
				reportLatencies(b, lat)
			})
		}
	}
}
