package conversation

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in       string
		currency string
		want     Amount
		prob     AmountProblem
	}{
		{"25", "USD", 2500, AmountOK},
		{" 25 ", "USD", 2500, AmountOK},
		{"25.50", "USD", 2550, AmountOK},
		{"25,50", "USD", 2550, AmountOK},
		{"25.5", "USD", 2550, AmountOK},
		{".5", "USD", 50, AmountOK},
		{"$25", "USD", 2500, AmountOK},
		{"25$", "USD", 2500, AmountOK},
		{"25 USD", "USD", 2500, AmountOK},
		{"25 usd", "USD", 2500, AmountOK},
		{"USD 25", "USD", 2500, AmountOK},
		{"15,00 €", "EUR", 1500, AmountOK},
		{"007", "USD", 700, AmountOK},
		{"25.500", "USD", 2550000, AmountAmbiguous},
		{"5,000", "USD", 500000, AmountAmbiguous},
		{"1,000", "EUR", 100000, AmountAmbiguous},
		{"1.250", "EUR", 125000, AmountAmbiguous},
		{"$5,000", "USD", 500000, AmountAmbiguous},
		{"0,500", "USD", 50, AmountOK},
		{"5,0000", "USD", 500, AmountOK},
		{"5,00", "USD", 500, AmountOK},
		{"0,000", "USD", 0, AmountZero},
		{"-5,000", "USD", 0, AmountNegative},
		{"5,125", "USD", 512500, AmountAmbiguous},
		{"", "USD", 0, AmountEmpty},
		{"   ", "USD", 0, AmountEmpty},
		{"abc", "USD", 0, AmountNotANumber},
		{"-5", "USD", 0, AmountNegative},
		{"- 5", "USD", 0, AmountNegative},
		{"$-5", "USD", 0, AmountNegative},
		{"0", "USD", 0, AmountZero},
		{"0.00", "USD", 0, AmountZero},
		{"-0", "USD", 0, AmountZero},
		{"1e9", "USD", 0, AmountNotANumber},
		{"NaN", "USD", 0, AmountNotANumber},
		{"Inf", "USD", 0, AmountNotANumber},
		{"0x10", "USD", 0, AmountNotANumber},
		{"1,000.50", "USD", 0, AmountNotANumber},
		{"25.", "USD", 0, AmountNotANumber},
		{"2 5", "USD", 0, AmountNotANumber},
		{"٢٥", "USD", 0, AmountNotANumber},
		{"２５", "USD", 0, AmountNotANumber},
		{"25.555", "USD", 2555500, AmountAmbiguous},
		{"25.5555", "USD", 0, AmountTooPrecise},
		{"99999999999", "USD", 0, AmountTooLarge},
		{strings.Repeat("9", 5000), "USD", 0, AmountTooLarge},
		{"25 EUR", "USD", 0, AmountWrongMoney},
		{"€25", "USD", 0, AmountWrongMoney},
		{"25 EUR", "", 2500, AmountOK},
	} {
		got, prob := ParseAmount(tc.in, tc.currency)
		if got != tc.want || prob != tc.prob {
			t.Errorf("ParseAmount(%q, %q) = %v, %q; want %v, %q", tc.in, tc.currency, got, prob, tc.want, tc.prob)
		}
	}
}

func TestAmbiguousReadings(t *testing.T) {
	for _, c := range []struct{ in, thousands, decimal string }{
		{"5,000", "5000", "5.00"},
		{"1.250", "1250", "1.25"},
		{"5,125", "5125", ""},
		{"25.500", "25500", "25.50"},
	} {
		a, prob := ParseAmount(c.in, "")
		if prob != AmountAmbiguous {
			t.Fatalf("ParseAmount(%q) = %v, want ambiguous", c.in, prob)
		}
		th, dec := AmbiguousReadings(a)
		if th != c.thousands || dec != c.decimal {
			t.Errorf("AmbiguousReadings(%q) = %s, %s; want %s, %s", c.in, th, dec, c.thousands, c.decimal)
		}
	}
}

func TestAmountString(t *testing.T) {
	for a, want := range map[Amount]string{0: "0", 5: "0.05", 2500: "25", 2550: "25.50", 100001: "1000.01", -250: "-2.50"} {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", a, got, want)
		}
	}
}

func TestRangeNearest(t *testing.T) {
	r := Range{Min: 1000, Max: 20000, Step: 500}
	// The ends are valid values and are their own nearest (rapid rarely draws them).
	for _, a := range []Amount{r.Min, r.Max} {
		if below, above := r.Nearest(a); below != a || above != a {
			t.Errorf("Nearest(%v) = %v, %v; want %v both", a, below, above, a)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		a := Amount(rapid.Int64Range(1, 30000).Draw(t, "a"))
		below, above := r.Nearest(a)
		if r.Valid(a) {
			if below != a || above != a {
				t.Fatalf("valid %v gave %v %v", a, below, above)
			}
			return
		}
		for _, v := range []Amount{below, above} {
			if v != 0 && !r.Valid(v) {
				t.Fatalf("nearest of %v is %v, which is not valid", a, v)
			}
		}
		if below == 0 && above == 0 {
			t.Fatalf("no neighbour for %v", a)
		}
	})
}

// Whatever a user types or presses, in any order, the engine never panics,
// never issues two invoices for one checkout, and every invoice line it asks
// for is one the product accepts: a package it offers or a value in its range.
func TestEngineOnlyAsksForValidInvoices(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := &world{
			t: t, eng: Engine{Methods: []string{"bitcoin", "lightning"}, Sandbox: rapid.Bool().Draw(rt, "sandbox")},
			s: State{V: SchemaVersion, Profile: Profile{Nonce: "p"}}, now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
			fail: map[string]ErrorKind{}, invoices: map[string]Invoice{}, created: map[string]string{}, tracked: map[string]bool{},
		}
		inputs := []string{"amazon", "netflix", "card", "esim", "steam", "25", "37", "5", "abc", "-1", "25,50", "", "back", "cancel", "/start", "/help", "/back", "/cancel", "/start amazon-us"}
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			menu := []Option(nil)
			if len(w.menus) > 0 {
				menu = w.menus[len(w.menus)-1]
			}
			switch k := rapid.IntRange(0, 3).Draw(rt, "kind"); {
			case k <= 1 && len(menu) > 0:
				w.step(Chose{Token: menu[rapid.IntRange(0, len(menu)-1).Draw(rt, "opt")].Token})
			case k == 2 && len(w.menus) > 1:
				old := w.menus[rapid.IntRange(0, len(w.menus)-1).Draw(rt, "menu")]
				if len(old) > 0 {
					w.step(Chose{Token: old[rapid.IntRange(0, len(old)-1).Draw(rt, "old")].Token})
				}
			default:
				w.user(rapid.SampledFrom(inputs).Draw(rt, "input"))
			}
		}
		for _, inv := range w.invoices {
			for _, o := range inv.Orders {
				if o.Value == "" || o.Product == "" {
					rt.Fatalf("order without product or value: %+v", o)
				}
			}
		}
		checkLines(rt, w)
	})
}

func checkLines(t *rapid.T, w *world) {
	out := w.out.String()
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "= create invoice ") {
			continue
		}
		for _, p := range fixture {
			if !strings.Contains(line, " "+p.ID+" ") {
				continue
			}
			if !p.InStock || p.NeedsPhone {
				t.Fatalf("invoice for unsellable %s: %s", p.ID, line)
			}
			if _, v, ok := strings.Cut(line, "value="); ok {
				a, prob := ParseAmount(strings.Fields(v)[0], "")
				if prob != AmountOK || p.Range == nil || !p.Range.Valid(a) {
					t.Fatalf("invalid value for %s: %s", p.ID, line)
				}
			}
		}
	}
}

func TestQuickPicks(t *testing.T) {
	for _, c := range []struct {
		r    Range
		want []Amount
	}{
		{Range{Min: 1000, Max: 20000, Step: 500}, []Amount{1000, 2500, 7500, 20000}},
		{Range{Min: 1000, Max: 2000, Step: 100}, []Amount{1000, 1500, 2000}},
		{Range{Min: 333, Max: 777, Step: 1}, []Amount{333, 777}},
		{Range{Min: 1234, Max: 1299, Step: 1}, []Amount{1234, 1299}},
		{Range{Min: 1000, Max: 100000, Step: 700}, []Amount{1000, 15000, 50000}},
	} {
		got := quickPicks(c.r)
		for _, a := range got {
			if !c.r.Valid(a) {
				t.Errorf("quickPicks(%+v) offers invalid %v", c.r, a)
			}
		}
		if len(got) > 4 {
			t.Errorf("quickPicks(%+v) = %v: too many", c.r, got)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("quickPicks(%+v) = %v, want %v", c.r, got, c.want)
		}
	}
}
