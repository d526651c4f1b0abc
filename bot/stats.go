package bot

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"refillbot/bitrefill"
)

// DayStats is one UTC day of the shop's activity, kept for the operator's
// /stats. It holds counts and sums only — no user, no invoice id, no code,
// nothing anyone typed — so it may be kept forever and shown to operators.
type DayStats struct {
	Day      string                       `json:"day"` // 2006-01-02, UTC
	Searches int                          `json:"searches,omitempty"`
	Invoices int                          `json:"invoices,omitempty"` // created
	Paid     int                          `json:"paid,omitempty"`     // invoices seen paid
	Failed   int                          `json:"failed,omitempty"`   // orders failed or refunded
	Sums     map[string]bitrefill.Decimal `json:"sums,omitempty"`     // paid face value per currency
	ByType   map[string]int               `json:"by_type,omitempty"`  // delivered orders per product type
	Products map[string]int               `json:"products,omitempty"` // paid orders per product name
}

// Add adds o's counts and sums to d (the day is d's).
func (d *DayStats) Add(o DayStats) {
	d.Searches += o.Searches
	d.Invoices += o.Invoices
	d.Paid += o.Paid
	d.Failed += o.Failed
	for cur, v := range o.Sums {
		if d.Sums == nil {
			d.Sums = map[string]bitrefill.Decimal{}
		}
		d.Sums[cur] = d.Sums[cur].Add(v)
	}
	addCounts(&d.ByType, o.ByType)
	addCounts(&d.Products, o.Products)
}

func addCounts(dst *map[string]int, src map[string]int) {
	for k, n := range src {
		if *dst == nil {
			*dst = map[string]int{}
		}
		(*dst)[k] += n
	}
}

// StatsStore keeps DayStats. AddStats adds to what is stored rather than
// replacing it, so replicas sharing a store each add their own counts. A
// store without it (the shell checks) gives operators no /stats history.
type StatsStore interface {
	AddStats(days []DayStats) error
	// Stats returns the stored days from..to (inclusive, "2006-01-02"), in order.
	Stats(from, to string) ([]DayStats, error)
}

// statsBuffer gathers today's counts in memory; the shell flushes it to the
// store now and then, so counting costs no write on a buyer's path. A crash
// loses at most one flush interval of statistics, never anything a buyer needs.
type statsBuffer struct {
	mu   sync.Mutex
	days map[string]*DayStats
}

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func (s *statsBuffer) add(now time.Time, f func(*DayStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	day := dayOf(now)
	if s.days == nil {
		s.days = map[string]*DayStats{}
	}
	d := s.days[day]
	if d == nil {
		d = &DayStats{Day: day}
		s.days[day] = d
	}
	f(d)
}

// take empties the buffer and returns what it held.
func (s *statsBuffer) take() []DayStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DayStats, 0, len(s.days))
	for _, day := range slices.Sorted(maps.Keys(s.days)) {
		out = append(out, *s.days[day])
	}
	s.days = nil
	return out
}

// putBack returns days whose flush failed, to be tried again.
func (s *statsBuffer) putBack(days []DayStats) {
	for _, d := range days {
		s.add(mustDay(d.Day), func(b *DayStats) { b.Add(d) })
	}
}

// peek copies what the buffer holds, for /stats to include unflushed counts.
func (s *statsBuffer) peek() []DayStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DayStats, 0, len(s.days))
	for _, d := range s.days {
		c := DayStats{Day: d.Day}
		c.Add(*d)
		out = append(out, c)
	}
	return out
}

func mustDay(day string) time.Time {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return time.Time{}
	}
	return t
}

// statsPeriod reads /stats's argument: today, 7d or 30d (default today).
func statsPeriod(arg string, now time.Time) (from, to, label string, ok bool) {
	to = dayOf(now)
	switch strings.ToLower(strings.TrimSpace(arg)) {
	case "", "today":
		return to, to, "Today (" + to + " UTC)", true
	case "7d", "week":
		from = dayOf(now.AddDate(0, 0, -6))
		return from, to, "Last 7 days (" + from + " – " + to + " UTC)", true
	case "30d", "month":
		from = dayOf(now.AddDate(0, 0, -29))
		return from, to, "Last 30 days (" + from + " – " + to + " UTC)", true
	}
	return "", "", "", false
}

// topProducts is how many products /stats names.
const topProducts = 5

// formatStats is the operator's /stats answer for days (stored and buffered,
// possibly several entries per day).
func formatStats(label string, days []DayStats) string {
	var total DayStats
	for _, d := range days {
		total.Add(d)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "📊 %s\n", label)
	fmt.Fprintf(&b, "Paid invoices: %d\n", total.Paid)
	if len(total.Sums) > 0 {
		var sums []string
		for _, cur := range slices.Sorted(maps.Keys(total.Sums)) {
			sums = append(sums, moneyText(total.Sums[cur])+" "+cur)
		}
		fmt.Fprintf(&b, "Sales: %s\n", strings.Join(sums, " · "))
	}
	if len(total.ByType) > 0 {
		var types []string
		for _, t := range slices.Sorted(maps.Keys(total.ByType)) {
			types = append(types, fmt.Sprintf("%s %d", productTypeName(t), total.ByType[t]))
		}
		fmt.Fprintf(&b, "Delivered: %s\n", strings.Join(types, " · "))
	}
	if len(total.Products) > 0 {
		names := slices.Collect(maps.Keys(total.Products))
		sort.Slice(names, func(i, j int) bool {
			if total.Products[names[i]] != total.Products[names[j]] {
				return total.Products[names[i]] > total.Products[names[j]]
			}
			return names[i] < names[j]
		})
		if len(names) > topProducts {
			names = names[:topProducts]
		}
		var top []string
		for _, n := range names {
			top = append(top, fmt.Sprintf("%s ×%d", n, total.Products[n]))
		}
		fmt.Fprintf(&b, "Top products: %s\n", strings.Join(top, " · "))
	}
	fmt.Fprintf(&b, "Funnel: %d searches → %d invoices → %d paid", total.Searches, total.Invoices, total.Paid)
	if total.Invoices > 0 {
		fmt.Fprintf(&b, " (%d%% of invoices paid)", total.Paid*100/total.Invoices)
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "Failed or refunded orders: %d", total.Failed)
	return b.String()
}

func productTypeName(t string) string {
	switch bitrefill.ProductType(t) {
	case bitrefill.GiftCard:
		return "gift cards"
	case bitrefill.PhoneRefill:
		return "top-ups"
	case bitrefill.ESIMType:
		return "eSIMs"
	case bitrefill.BillPayment:
		return "bills"
	}
	return t
}

// moneyText writes an amount the way prices are read: 0.30, not 0.3.
func moneyText(d bitrefill.Decimal) string {
	if d.Scale() == 1 {
		return d.String() + "0"
	}
	return d.String()
}
