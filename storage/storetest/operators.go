package storetest

import (
	"fmt"
	"sync"
	"testing"

	"refillbot/bitrefill"
	"refillbot/bot"
)

// OperatorStore is a store that keeps the operator's records too: daily
// statistics and the current broadcast.
type OperatorStore interface {
	bot.StatsStore
	bot.BroadcastStore
}

// RunOperators checks bot.StatsStore's and bot.BroadcastStore's contracts.
// open returns a new, empty store for each subtest.
func RunOperators(t *testing.T, open func(t *testing.T) OperatorStore) {
	t.Run("stats add up per day", func(t *testing.T) { statsAddUp(t, open(t)) })
	t.Run("concurrent adds lose nothing", func(t *testing.T) {
		s := open(t)
		ConcurrentStats(t, s, s)
	})
	t.Run("broadcast", func(t *testing.T) { broadcastKept(t, open(t)) })
}

func usd(s string) map[string]bitrefill.Decimal {
	return map[string]bitrefill.Decimal{"USD": bitrefill.MustDecimal(s)}
}

// Counts added by several flushes (or several replicas) add up per day, and
// a range returns exactly its days in order.
func statsAddUp(t *testing.T, st OperatorStore) {
	if days, err := st.Stats("2026-01-01", "2026-12-31"); err != nil || len(days) != 0 {
		t.Fatalf("empty store: %v %v", days, err)
	}
	for _, batch := range [][]bot.DayStats{
		{{Day: "2026-12-03", Paid: 1, Sums: usd("10")}, {Day: "2026-12-04", Searches: 5}},
		{{Day: "2026-12-04", Paid: 2, Sums: usd("2.50"), Products: map[string]int{"Steam": 2}}},
		{{Day: "2026-11-01", Failed: 1}},
		{{Day: "2026-12-05", Invoices: 1}},
	} {
		if err := st.AddStats(batch); err != nil {
			t.Fatal(err)
		}
	}
	days, err := st.Stats("2026-12-01", "2026-12-04")
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].Day != "2026-12-03" || days[1].Day != "2026-12-04" {
		t.Fatalf("days = %+v", days)
	}
	if d := days[1]; d.Paid != 2 || d.Searches != 5 || d.Sums["USD"].Cmp(bitrefill.MustDecimal("2.5")) != 0 || d.Products["Steam"] != 2 {
		t.Errorf("2026-12-04 = %+v", d)
	}
}

// ConcurrentStats adds to the same days through a and b at once (two
// replicas on one database, or one store twice) and checks every count and
// sum arrived.
func ConcurrentStats(t *testing.T, a, b bot.StatsStore) {
	const workers, rounds = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*rounds)
	for i := range 2 * workers {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			for r := range rounds {
				// Days in both orders, so two adders lock them crosswise.
				batch := []bot.DayStats{
					{Day: "2026-12-04", Paid: 1, Sums: usd("0.10"), ByType: map[string]int{"gift_card": 1}, Products: map[string]int{fmt.Sprint("p", r%3): 1}},
					{Day: "2026-12-03", Searches: 2},
				}
				if i%3 == 0 {
					batch[0], batch[1] = batch[1], batch[0]
				}
				if err := st.AddStats(batch); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	days, err := a.Stats("2026-12-03", "2026-12-04")
	if err != nil || len(days) != 2 {
		t.Fatalf("Stats = %+v %v", days, err)
	}
	const n = 2 * workers * rounds
	if days[0].Searches != 2*n {
		t.Errorf("searches = %d, want %d", days[0].Searches, 2*n)
	}
	d := days[1]
	products := 0
	for _, c := range d.Products {
		products += c
	}
	if d.Paid != n || d.ByType["gift_card"] != n || products != n || d.Sums["USD"].Cmp(bitrefill.MustDecimal("8.00")) != 0 {
		t.Errorf("2026-12-04 = %+v, want %d of everything and USD 8.00", d, n)
	}
}

func broadcastKept(t *testing.T, st OperatorStore) {
	if _, ok, err := st.CurrentBroadcast(); ok || err != nil {
		t.Fatalf("empty store has a broadcast: %v %v", ok, err)
	}
	for _, want := range []bot.Broadcast{
		{ID: "b1", Text: "New cards!", Total: 3, Sent: 1, Cursor: "telegram:1", State: "sending"},
		{ID: "b1", Text: "New cards!", Total: 3, Sent: 2, Blocked: 1, Cursor: "telegram:9", State: "done"},
	} {
		if err := st.PutBroadcast(want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := st.CurrentBroadcast()
		if err != nil || !ok || got != want {
			t.Fatalf("CurrentBroadcast = %+v %v %v, want %+v", got, ok, err, want)
		}
	}
}
