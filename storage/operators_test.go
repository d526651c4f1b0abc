package storage

import (
	"path/filepath"
	"testing"

	"refillbot/bitrefill"
	"refillbot/bot"
)

// Counts added by several flushes (or several replicas) add up per day, and
// a range returns exactly its days in order, across a reopen.
func TestStatsAddUpPerDay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if days, err := st.Stats("2026-01-01", "2026-12-31"); err != nil || len(days) != 0 {
		t.Fatalf("empty store: %v %v", days, err)
	}
	usd := func(s string) map[string]bitrefill.Decimal {
		return map[string]bitrefill.Decimal{"USD": bitrefill.MustDecimal(s)}
	}
	for _, batch := range [][]bot.DayStats{
		{{Day: "2026-12-03", Paid: 1, Sums: usd("10")}, {Day: "2026-12-04", Searches: 5}},
		{{Day: "2026-12-04", Paid: 2, Sums: usd("2.50"), Products: map[string]int{"Steam": 2}}},
		{{Day: "2026-11-01", Failed: 1}},
	} {
		if err := st.AddStats(batch); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	st, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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

func TestBroadcastKeptAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.CurrentBroadcast(); ok || err != nil {
		t.Fatalf("empty store has a broadcast: %v %v", ok, err)
	}
	want := bot.Broadcast{ID: "b1", Text: "New cards!", Total: 3, Sent: 1, Cursor: "telegram:1", State: "sending"}
	if err := st.PutBroadcast(want); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, ok, err := st.CurrentBroadcast()
	if err != nil || !ok || got.ID != want.ID || got.Cursor != want.Cursor || got.Sent != 1 || got.Text != want.Text {
		t.Fatalf("CurrentBroadcast = %+v %v %v", got, ok, err)
	}
}
