package bot_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/storage/postgres"
	"refillbot/storage/postgres/pgtest"
)

// BenchmarkPurchaseReplicas is BenchmarkPurchaseParallel on PostgreSQL with
// 1, 2 and 3 replicas — shells of their own, each with its own connection
// pool, on one database — beside bbolt's single process. Buyers are spread
// over the replicas; 8 buyers per core shop at once. The chat platform has
// no pacing and the in-process Bitrefill fake no rate limit, so the number
// is the shell's and the store's.
func BenchmarkPurchaseReplicas(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) {
		e := newEnv(b, envOptions{inProcess: true})
		purchases(b, []*env{e})
	})
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("postgres-replicas=%d", n), func(b *testing.B) {
			e := newEnv(b, envOptions{inProcess: true})
			url := pgtest.URL(b)
			replicas := make([]*env, n)
			for i := range replicas {
				st, err := postgres.Open(context.Background(), url, postgres.Options{Key: make([]byte, 32)})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { st.Close() })
				sb, err := bot.New(bot.Config{
					API:       e.api,
					Store:     st,
					Platforms: map[string]bot.Platform{platformName: e.plat},
					Engine:    conversation.Engine{Methods: []string{bitrefill.PayBitcoin, bitrefill.PayLightning}, Sandbox: true},
					Simulator: e.fake,
					Logger:    e.logger,
				})
				if err != nil {
					b.Fatal(err)
				}
				replicas[i] = &env{tb: b, ctx: e.ctx, fake: e.fake, api: e.api, plat: e.plat, bot: sb, logger: e.logger}
			}
			purchases(b, replicas)
		})
	}
}

// purchases runs b.N purchases in parallel, buyer i on replica i mod n.
func purchases(b *testing.B, replicas []*env) {
	var next atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			n := strconv.FormatInt(i, 10)
			u := &user{e: replicas[int(i)%len(replicas)],
				key:  conversation.SessionKey{Platform: platformName, User: "r" + n},
				addr: conversation.Address{Platform: platformName, Chat: "r" + n, Private: true}}
			secret, err := u.purchase()
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "purchases/s")
}
