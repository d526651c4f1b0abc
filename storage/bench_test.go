package storage

import (
	"encoding/json"
	"refillbot/bot"
	"runtime"
	"sync/atomic"
	"testing"
)

var writeModes = []struct {
	name string
	mode writeMode
}{{"update", modeUpdate}, {"batch", modeBatch}, {"adaptive", modeAdaptive}}

func reportStateSize(b *testing.B) {
	v, _ := json.Marshal(sessionRecord{V: recordVersion, State: sampleState(0)})
	b.ReportMetric(float64(len(v)), "B/state")
}

// BenchmarkCommitParallel: 50 sessions committing at once, fsync on, each
// commit to a new key. This is the load that decides Update versus Batch.
func BenchmarkCommitParallel(b *testing.B) {
	for _, m := range writeModes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := openTemp(b, Options{})
			s.mode = m.mode
			var next atomic.Int64
			b.SetParallelism((50 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1))
					st := sampleState(i)
					if err := s.Commit(bot.Commit{Key: key(i), State: st}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportStateSize(b)
		})
	}
}

// BenchmarkCommitSerial: one session at a time, fsync on: a quiet bot's latency.
func BenchmarkCommitSerial(b *testing.B) {
	for _, m := range writeModes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := openTemp(b, Options{})
			s.mode = m.mode
			b.ResetTimer()
			for i := range b.N {
				if err := s.Commit(bot.Commit{Key: key(i), State: sampleState(i)}); err != nil {
					b.Fatal(err)
				}
			}
			reportStateSize(b)
		})
	}
}
