package conversation

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The transcript world's catalogue, eSIMs and balance prices, and the limits
// every reply is held to.

var categoriesOf = map[string][]string{
	"amazon-us": {"shopping"}, "amazon-de": {"shopping"}, "netflix-us": {"streaming"}, "steam-us": {"games"},
}

func init() {
	for i := range fixture {
		switch fixture[i].ID {
		case "bitrefill-esim-europe":
			fixture[i].Coverage = []string{"AT", "BE", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "NL", "NO", "PL", "PT", "SE", "CH"}
			fixture[i].Country = "EU"
		}
	}
	fixture = append(fixture,
		Product{ID: "t-mobile-usa", Name: "T-Mobile USA", Kind: KindPhoneRefill, Country: "US", Currency: "USD", InStock: true, NeedsPhone: true,
			Packages: []Package{{ID: "t-mobile-usa<&>10", Label: "10", Amount: 1000}, {ID: "t-mobile-usa<&>25", Label: "25", Amount: 2500}},
			Range:    &Range{Min: 1000, Max: 10000, Step: 100}},
		Product{ID: "claro-mx", Name: "Claro Mexico", Kind: KindPhoneRefill, Country: "MX", Currency: "MXN", InStock: true, NeedsPhone: true,
			Packages: []Package{{ID: "claro-mx<&>50", Label: "50", Amount: 5000}, {ID: "claro-mx<&>100", Label: "100", Amount: 10000}}},
		Product{ID: "bitrefill-esim-mexico", Name: "Bitrefill eSIM Mexico", Kind: KindESIM, Country: "MX", Currency: "USD", InStock: true, Coverage: []string{"MX"},
			Packages: []Package{{ID: "bitrefill-esim-mexico<&>1GB, 7 Days", Label: "1GB, 7 Days"}, {ID: "bitrefill-esim-mexico<&>5GB, 30 Days", Label: "5GB, 30 Days"}}},
		Product{ID: "comed-us", Name: "ComEd Electricity", Kind: KindBillPayment, Country: "US", Currency: "USD", InStock: true,
			Range: &Range{Min: 500, Max: 100000, Step: 1}},
		Product{ID: "cfe-mx", Name: "CFE Luz", Kind: KindBillPayment, Country: "MX", Currency: "MXN", InStock: true,
			Range: &Range{Min: 500, Max: 25000, Step: 100}},
	)
}

func (w *world) search(e SearchProducts) []ProductSummary {
	var found []ProductSummary
	for _, p := range fixture {
		if e.Query != "" && !strings.Contains(strings.ToLower(p.Name), strings.ToLower(e.Query)) {
			continue
		}
		if e.Kind != "" && p.Kind != e.Kind {
			continue
		}
		if e.Category != "" && !slices.Contains(categoriesOf[p.ID], e.Category) {
			continue
		}
		if e.Query == "" && e.Country != "" && p.Country != e.Country && !slices.Contains(p.Coverage, e.Country) {
			continue
		}
		found = append(found, ProductSummary{ID: p.ID, Name: p.Name, Country: p.Country, Kind: p.Kind, InStock: p.InStock})
	}
	return found
}

// esimsOf are the eSIMs the world knows, by ICCID.
var worldESIMs = map[string]ESIM{
	"8900000000000000011": {ICCID: "8900000000000000011", Installed: true, Bundles: []Bundle{
		{Name: "1GB, 7 Days", DataMB: 1000, RemainingBytes: 0, Status: "expired", Expires: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{Name: "5GB, 30 Days", DataMB: 5000, RemainingBytes: 2_345_000_000, Status: "active", Expires: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)},
	}},
	"8900000000000000029": {ICCID: "8900000000000000029", Installed: false, Bundles: []Bundle{
		{Name: "1GB, 7 Days", DataMB: 1000, RemainingBytes: 1_000_000_000, Status: "purchased"},
	}},
}

func (w *world) balancePrice(lines []Line) string {
	var total Amount
	for _, l := range lines {
		v := l.Value
		if l.PackageID != "" {
			p, _ := findFixture(l.ProductID)
			for _, pk := range p.Packages {
				if pk.ID == l.PackageID {
					v = pk.Amount
				}
			}
			if v == 0 {
				v = 450 // an eSIM plan's price
			}
		}
		total += v * Amount(max(l.Quantity, 1))
	}
	return fmt.Sprintf("%d.%02d", total/100, total%100)
}

// searchFilters shows what narrows a search.
func searchFilters(e SearchProducts) string {
	var s string
	for _, f := range [][2]string{{"kind", e.Kind}, {"category", e.Category}, {"country", e.Country}} {
		if f[1] != "" {
			s += " " + f[0] + "=" + f[1]
		}
	}
	return s
}

// lineTargets shows the phone or eSIM a line tops up.
func lineTargets(l Line) string {
	var s string
	if l.PhoneNumber != "" {
		s += " phone=" + l.PhoneNumber
	}
	if l.ESIMID != "" {
		s += " esim=" + l.ESIMID
	}
	return s
}

// checkReply holds every menu to the tightest platform limits.
func (w *world) checkReply(r Reply) {
	w.t.Helper()
	if len(r.Options) > maxOptions {
		w.t.Errorf("menu with %d options (max %d): %q", len(r.Options), maxOptions, PlainText(r.Text))
	}
	for _, o := range r.Options {
		if o.Label == "" || utf8.RuneCountInString(o.Label) > maxLabel {
			w.t.Errorf("option label %q: empty or longer than %d", o.Label, maxLabel)
		}
		if len(o.Token) > 64 {
			w.t.Errorf("token %q longer than 64 bytes", o.Token)
		}
	}
}
