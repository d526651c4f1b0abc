package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"refillbot/bot/catalog"
	"refillbot/conversation"
)

// Whatever is typed, search does not panic, stays within its limit, lists
// each product once, returns only products that pass the filters, and
// answers the same way twice.
func TestSearchProperties(t *testing.T) {
	c := loaded(t)
	all := map[string]catalog.Product{}
	for _, p := range c.Search(catalog.Query{Limit: 1 << 20}) {
		all[p.ID] = p
	}
	if len(all) != c.Len() {
		t.Fatalf("browsing everything listed %d of %d", len(all), c.Len())
	}
	words := []string{"amazon", "amazn", "netflix", "steam", "germany", "españa", "us", "de", "esim", "gift", "card",
		"play", "station", "h&m", "tarjeta", "united", "kingdom", "a", "", "--", "Ä", "\u0303", "\xff"}
	text := rapid.OneOf(
		rapid.String(),
		rapid.StringN(0, 400, 2000),
		rapid.Custom(func(t *rapid.T) string {
			return strings.Join(rapid.SliceOfN(rapid.SampledFrom(words), 0, 30).Draw(t, "words"), rapid.SampledFrom([]string{" ", "-", "", "  ", ","}).Draw(t, "sep"))
		}),
		rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")) }),
	)
	rapid.Check(t, func(t *rapid.T) {
		q := catalog.Query{
			Text:     text.Draw(t, "text"),
			Kind:     rapid.SampledFrom([]string{"", conversation.KindGiftCard, conversation.KindPhoneRefill, conversation.KindESIM, conversation.KindBillPayment, "ESIM", "nonsense"}).Draw(t, "kind"),
			Category: rapid.SampledFrom([]string{"", "games", "Streaming", "refill", "utilities", "none", rapid.String().Draw(t, "cat")}).Draw(t, "category"),
			Country:  rapid.SampledFrom([]string{"", "US", "de", "JP", "PE", "XX", "EU", rapid.String().Draw(t, "country")}).Draw(t, "country"),
			Prefer:   rapid.SampledFrom([]string{"", "US", "es", rapid.String().Draw(t, "prefer")}).Draw(t, "prefer"),
			Limit:    rapid.IntRange(-5, 600).Draw(t, "limit"),
		}
		got := c.Search(q)
		limit := q.Limit
		if limit <= 0 {
			limit = catalog.DefaultLimit
		}
		if len(got) > limit {
			t.Fatalf("%d results over the limit %d", len(got), limit)
		}
		seen := map[string]bool{}
		for _, p := range got {
			if seen[p.ID] {
				t.Fatalf("%s listed twice", p.ID)
			}
			seen[p.ID] = true
			if _, ok := all[p.ID]; !ok {
				t.Fatalf("unknown product %q", p.ID)
			}
			if k := strings.ToLower(strings.TrimSpace(q.Kind)); k != "" && p.Kind != k {
				t.Fatalf("%s is a %s, not a %s", p.ID, p.Kind, q.Kind)
			}
			if cat := strings.TrimSpace(q.Category); cat != "" && !slices.ContainsFunc(p.Categories, func(c string) bool { return strings.EqualFold(c, cat) }) {
				t.Fatalf("%s is not in category %q: %q", p.ID, q.Category, p.Categories)
			}
			if cc := strings.ToUpper(strings.TrimSpace(q.Country)); cc != "" && p.Country != cc && !slices.Contains(p.Coverage, cc) {
				t.Fatalf("%s (%s, coverage %q) is not for %q", p.ID, p.Country, p.Coverage, q.Country)
			}
		}
		if again := c.Search(q); !slices.EqualFunc(got, again, func(a, b catalog.Product) bool { return a.ID == b.ID }) {
			t.Fatalf("a second search disagrees")
		}
		if s := c.Suggest(q.Text, q.Prefer, q.Limit); len(s) > catalog.MaxSuggestions {
			t.Fatalf("%d suggestions", len(s))
		}
	})
}

// Every product can be found by its own name, whatever the case and
// accents, and comes first or ties with an identically named one.
func TestEveryProductFindsItself(t *testing.T) {
	c := loaded(t)
	for _, p := range c.Search(catalog.Query{Limit: 1 << 20}) {
		got := c.Search(catalog.Query{Text: strings.ToUpper(p.Name), Limit: 5})
		if len(got) == 0 || catalog.Fold(got[0].Name) != catalog.Fold(p.Name) {
			t.Errorf("%q: first result %s", p.Name, show(got, 3))
		}
	}
}

// FuzzSearch: any bytes as a query, with or without filters, never panic
// and stay within the limit. Run with go test -fuzz FuzzSearch ./bot/catalog.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"amazn", "steam germany", "amazon españa", "play station", "esim japon", "Espan\u0303a",
		"tarjeta de regalo amazon", "a", "", "\xff\xfe", "us us us us us", strings.Repeat("netflix ", 40), "h&m-de"} {
		f.Add(s, "", "")
		f.Add(s, conversation.KindESIM, "DE")
	}
	c := loaded(f)
	f.Fuzz(func(t *testing.T, text, kind, country string) {
		got := c.Search(catalog.Query{Text: text, Kind: kind, Country: country, Prefer: country, Limit: 10})
		if len(got) > 10 {
			t.Fatalf("%d results", len(got))
		}
		if len(c.Suggest(text, country, 5)) > 5 {
			t.Fatal("too many suggestions")
		}
	})
}
