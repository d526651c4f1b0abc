package discord_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
	"refillbot/platforms/discord/discordtest"
)

// BenchmarkInteractions drives interactions from 16 users at once through
// the whole stack and reports how many are acknowledged per second and the
// 99th percentile of the time from the interaction's creation to its first
// answer (a message or a deferral), as Discord measures its 3 seconds.
//
//	help                    /help: the engine alone
//	search                  /search amazon: the reply before the search, then the results
//	search-slow-bitrefill   the same with every search taking 1s
//	refresh-slow-bitrefill  "Refresh status" whose first reply waits for a 1s
//	                        invoice fetch: the deferral answers
func BenchmarkInteractions(b *testing.B) {
	for _, bc := range []struct {
		name  string
		fault *bitrefilltest.Fault
		flow  string
	}{
		{"help", nil, "help"},
		{"search", nil, "search"},
		{"search-slow-bitrefill", &bitrefilltest.Fault{Method: "GET", Path: "/products/search", Latency: time.Second}, "search"},
		{"refresh-slow-bitrefill", &bitrefilltest.Fault{Method: "GET", Path: "/invoices/", Latency: time.Second}, "refresh"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, envOptions{})
			users := make([]*user, 16)
			for i := range users {
				users[i] = e.newUser(fmt.Sprintf("u%d", i), "en-US")
				if bc.flow == "refresh" {
					users[i].toInvoice()
				}
			}
			if bc.fault != nil {
				f := *bc.fault
				f.Times = 1 << 30
				e.fake.InjectFault(f)
			}
			var mu sync.Mutex
			var lat []time.Duration
			jobs := make(chan struct{})
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for _, u := range users {
				wg.Go(func() {
					for range jobs {
						at, err := u.once(bc.flow)
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						lat = append(lat, at)
						mu.Unlock()
					}
				})
			}
			for range b.N {
				jobs <- struct{}{}
			}
			close(jobs)
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if len(lat) == 0 {
				return
			}
			slices.Sort(lat)
			p99 := lat[min(len(lat)-1, len(lat)*99/100)]
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "acks/s")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-first-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-first-ms")
		})
	}
}

// once runs one interaction of a flow to its end and returns the time to
// its first answer.
func (u *user) once(flow string) (time.Duration, error) {
	mark := u.e.dc.Mark()
	var p *discordtest.Pending
	var err error
	want := ""
	switch flow {
	case "help":
		p, err = u.u.Slash(u.at, "help")
		want = txtHelp
	case "search":
		p, err = u.u.Slash(u.at, "search", discordtest.Opt{Name: "query", Value: "amazon"})
		want = txtResults
	case "refresh":
		p, err = u.u.Press(u.last, lblRefresh)
		want = txtInvoice
	}
	if err != nil {
		return 0, err
	}
	r, err := p.Wait(discordtest.Patience)
	if err != nil {
		return 0, err
	}
	m, err := u.u.Await(mark, want, func(m discordtest.Message) bool { return strings.Contains(m.Text(), want) })
	if err != nil {
		return 0, err
	}
	if len(m.Components) > 0 {
		u.last = m
	}
	return r.At, nil
}
