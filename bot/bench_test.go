package bot_test

import (
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/bot/catalog"
)

// cpuTime is the CPU this process has used (user and system): a
// benchmark's CPU per operation, which ns/op (wall time, fsync waits
// included) does not tell on a busy machine.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPurchase is one complete purchase per iteration, each by a new
// buyer: search → product → value → Bitcoin → simulated payment → code
// delivered, through the real shell, with durable storage (fsync on, the
// storage default) and the Bitrefill fake reached in-process (no sockets).
// cpu-ms/purchase counts the whole test process, the fake included.
func BenchmarkPurchase(b *testing.B) { benchPurchases(b, nil) }

// BenchmarkPurchaseCatalogue is BenchmarkPurchase with searches and cards
// served by the catalogue, as the binary serves them: the step that starts
// a search or a card and the step that shows it commit once.
func BenchmarkPurchaseCatalogue(b *testing.B) {
	benchPurchases(b, func(e *env, c *bot.Config) {
		c.Catalog = catalog.New(e.api, catalog.Options{})
		if err := c.Catalog.Refresh(e.ctx, time.Now()); err != nil {
			b.Fatal(err)
		}
	})
}

// benchPurchases runs one purchase per iteration, each by a new buyer, and
// reports what a purchase costs besides time.
func benchPurchases(b *testing.B, tune func(*env, *bot.Config)) {
	var commits, marks atomic.Int64
	e := newEnv(b, envOptions{inProcess: true, commits: &commits, marks: &marks, tune: tune})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for b.Loop() {
		secret, err := e.newUser(true).purchase()
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(secret.Text, "Code:") {
			b.Fatalf("delivery without a code: %q", secret.Text)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/purchase")
	b.ReportMetric(float64(commits.Load())/float64(b.N), "commits/purchase")
	b.ReportMetric(float64(marks.Load())/float64(b.N), "markwrites/purchase")
}

// BenchmarkPurchaseParallel is BenchmarkPurchase with many buyers at once,
// where the store's batching shares fsyncs between sessions.
func BenchmarkPurchaseParallel(b *testing.B) {
	var commits, marks atomic.Int64
	e := newEnv(b, envOptions{inProcess: true, commits: &commits, marks: &marks})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			secret, err := e.newUser(true).purchase()
			if err != nil {
				b.Error(err)
				return
			}
			if !strings.Contains(secret.Text, "Code:") {
				b.Errorf("delivery without a code: %q", secret.Text)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/purchase")
	b.ReportMetric(float64(commits.Load())/float64(b.N), "commits/purchase")
	b.ReportMetric(float64(marks.Load())/float64(b.N), "markwrites/purchase")
}
