package bot

import (
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
)

func TestStatsPeriod(t *testing.T) {
	now := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ arg, from, to string }{
		{"", "2026-12-04", "2026-12-04"},
		{"today", "2026-12-04", "2026-12-04"},
		{"7d", "2026-11-28", "2026-12-04"},
		{"30D", "2026-11-05", "2026-12-04"},
	} {
		from, to, _, ok := statsPeriod(tc.arg, now)
		if !ok || from != tc.from || to != tc.to {
			t.Errorf("statsPeriod(%q) = %s..%s %v, want %s..%s", tc.arg, from, to, ok, tc.from, tc.to)
		}
	}
	if _, _, _, ok := statsPeriod("forever", now); ok {
		t.Error("statsPeriod accepted forever")
	}
}

// Days add up, sums stay exact per currency, and the answer names the
// funnel and the top products.
func TestFormatStats(t *testing.T) {
	var buf statsBuffer
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for range 3 {
		buf.add(now, func(d *DayStats) { d.Searches++ })
	}
	buf.add(now, func(d *DayStats) {
		d.Invoices += 2
		d.Paid++
		d.Add(DayStats{Sums: map[string]bitrefill.Decimal{"USD": bitrefill.MustDecimal("0.10")}, Products: map[string]int{"Amazon US": 1}, ByType: map[string]int{"gift_card": 1}})
	})
	buf.add(now.Add(-24*time.Hour), func(d *DayStats) {
		d.Paid++
		d.Invoices++
		d.Add(DayStats{Sums: map[string]bitrefill.Decimal{"USD": bitrefill.MustDecimal("0.20"), "EUR": bitrefill.MustDecimal("15")}, Products: map[string]int{"Steam": 2}})
	})
	days := buf.take()
	if len(days) != 2 || days[0].Day != "2026-12-03" {
		t.Fatalf("take = %+v", days)
	}
	if len(buf.take()) != 0 {
		t.Fatal("take did not empty the buffer")
	}
	got := formatStats("Last 7 days", days)
	for _, want := range []string{"Paid invoices: 2", "Sales: 15 EUR · 0.30 USD", "Top products: Steam ×2 · Amazon US ×1", "Funnel: 3 searches → 3 invoices → 2 paid (66% of invoices paid)", "Delivered: gift cards 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("stats lack %q:\n%s", want, got)
		}
	}
}
