package storage

import (
	"bytes"
	"refillbot/bot"
	"runtime"
	"sync/atomic"
	"testing"

	"refillbot/conversation"
)

// BenchmarkOutboxWrite measures outbox records made durable per second
// (fsync on, sealed with a key, as the bot runs): 50 sessions committing at
// once, each commit a state plus two messages — the shape of a delivery step
// (the code, the receipt). "batch" shares one fsync among concurrent commits
// (db.Batch); "update" pays one per commit; "adaptive" is the store's choice.
func BenchmarkOutboxWrite(b *testing.B) {
	reply := conversation.Reply{Secret: true, Text: []conversation.Span{{Text: "🎁 Amazon US 50 USD is ready:\nCode: "}, {Text: "ABCD-EFGH-JKLM", Style: conversation.Code}}}
	for _, m := range writeModes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := openTemp(b, Options{Key: bytes.Repeat([]byte{1}, 32)})
			s.mode = m.mode
			var next atomic.Uint64
			b.SetParallelism((50 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := next.Add(2)
					k := key(int(id))
					c := bot.Commit{Key: k, State: sampleState(int(id)), Outbox: []bot.OutboxRecord{
						{ID: id - 1, Session: k, Reply: reply}, {ID: id, Session: k, Reply: reply},
					}}
					if err := s.Commit(c); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
