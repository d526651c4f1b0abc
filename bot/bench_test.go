package bot_test

import (
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkPurchase is one complete purchase per iteration, each by a new
// buyer: search → product → value → Bitcoin → simulated payment → code
// delivered, through the real shell, with durable storage (fsync on, the
// storage default) and the Bitrefill fake reached in-process (no sockets).
func BenchmarkPurchase(b *testing.B) {
	var commits, marks atomic.Int64
	e := newEnv(b, envOptions{inProcess: true, commits: &commits, marks: &marks})
	b.ReportAllocs()
	b.ResetTimer()
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
	b.ReportMetric(float64(commits.Load())/float64(b.N), "commits/purchase")
	b.ReportMetric(float64(marks.Load())/float64(b.N), "markwrites/purchase")
}
