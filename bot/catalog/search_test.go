package catalog_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot/catalog"
	"refillbot/conversation"
)

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Amazon España!", "amazon espana"},
		{"AMAZON   us", "amazon us"},
		{"Espan\u0303a", "espana"}, // decomposed (NFD) input
		{"H&M", "h m"},
		{"Lowe's", "lowes"},
		{"Lowe’s", "lowes"},
		{"PlayStation®", "playstation"},
		{"Hotels.com", "hotels com"},
		{"Disney+", "disney"},
		{"Straße", "strasse"},
		{"Crème Brûlée", "creme brulee"},
		{"Łódź Ørsted Œuvre", "lodz orsted oeuvre"},
		{"Türkiye", "turkiye"},
		{"  --  ", ""},
		{"a\tb\nc", "a b c"},
		{"\xff\xfeamazon", "amazon"},
		{"東京 Tower", "東京 tower"},
		{"Москва", "москва"},
	} {
		if got := catalog.Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := len(catalog.Fold(strings.Repeat("ab ", 1000))); n > 200 {
		t.Errorf("a pasted essay folds to %d bytes; search looks at 200 at most", n)
	}
}

// The examples of issue 3, against the fake's real catalogue: what a user
// types, their country, and the product they expect on top.
func TestSearchForgiving(t *testing.T) {
	c := loaded(t)
	for _, tc := range []struct {
		query, prefer, want string
	}{
		{"amazn", "US", "amazon-us"},
		{"Amazon", "US", "amazon-us"},
		{"amazon", "ES", "amazon-es"},
		{"netflx", "US", "netflix-us"},
		{"netlfix", "MX", "netflix-mx"}, // swapped letters
		{"playstaton", "US", "playstation-us"},
		{"play station", "US", "playstation-us"},
		{"PLAY-STATION", "GB", "playstation-gb"},
		{"steam germany", "US", "steam-de"},
		{"Steam Alemania", "", "steam-de"},
		{"amazon españa", "US", "amazon-es"},
		{"AMAZON ESPANA", "", "amazon-es"},
		{"amazon spain", "", "amazon-es"},
		{"amazon es", "", "amazon-es"},
		{"netflix us", "MX", "netflix-us"},
		{"netflix estados unidos", "", "netflix-us"},
		{"NETFLIX   US!!", "", "netflix-us"},
		{"spotify reino unido", "", "spotify-gb"},
		{"amazon uk", "", "amazon-gb"},
		{"xbox de", "", "xbox-de"},
		{"tarjeta de regalo amazon", "ES", "amazon-es"},
		{"claro méxico", "", "claro-mx"},
		{"movistar", "ES", "movistar-es"},
		{"esim japon", "", "bitrefill-esim-japan"},
		{"esim germany", "", "bitrefill-esim-germany"},
		{"h&m", "SE", "hm-se"},
		{"hm", "SE", "hm-se"},
		{"Lowe's", "", "lowes-us"},
		{"lowes", "", "lowes-us"},
		{"googleplay", "IN", "google-play-in"},
		{"disney+", "GB", "disney-plus-gb"},
		{"kenya power", "", "kplc-ke"},
		{"amazon-us", "DE", "amazon-us"}, // an id
	} {
		got := c.Search(catalog.Query{Text: tc.query, Prefer: tc.prefer})
		if len(got) == 0 || got[0].ID != tc.want {
			t.Errorf("%q (user in %q): got %s, want %s first", tc.query, tc.prefer, show(got, 5), tc.want)
		}
	}
}

// A typo must not let other products in ahead of the one meant: every
// Amazon before anything else.
func TestTypoFindsAllOfTheBrandFirst(t *testing.T) {
	c := loaded(t)
	for _, tc := range []struct{ query, stem string }{
		{"amazn", "amazon-"}, {"netflx", "netflix-"}, {"playstaton", "playstation-"}, {"spotfy", "spotify-"},
		{"uber eats", "uber-eats-"},
	} {
		want := 0
		for _, p := range fakeProducts(t) {
			if strings.HasPrefix(p.ID, tc.stem) {
				want++
			}
		}
		got := c.Search(catalog.Query{Text: tc.query})
		for i := range want {
			if i >= len(got) || !strings.HasPrefix(got[i].ID, tc.stem) {
				t.Errorf("%q: result %d is not %s*: %s", tc.query, i, tc.stem, show(got, want+2))
				break
			}
		}
	}
}

// A small catalogue where each rule decides one pair.
func rankingCatalogue() *catalog.Catalog {
	c := catalog.New(nil, catalog.Options{})
	c.Load([]bitrefill.Product{
		{ID: "premium-netflix", Name: "Premium Netflix", Type: bitrefill.GiftCard, Country: "US", InStock: true},
		{ID: "netflix-basic", Name: "Netflix Basic", Type: bitrefill.GiftCard, Country: "US", InStock: false},
		{ID: "netflix-premium", Name: "Netflix Premium", Type: bitrefill.GiftCard, Country: "US", InStock: true},
		{ID: "netflix", Name: "Netflix", Type: bitrefill.GiftCard, Country: "US", InStock: true},
		{ID: "netflix-mx", Name: "Netflix Plus", Type: bitrefill.GiftCard, Country: "MX", InStock: true},
		{ID: "netfix-tools", Name: "Netfix Tools", Type: bitrefill.GiftCard, Country: "US", InStock: true},
		{ID: "spotify", Name: "Spotify", Type: bitrefill.GiftCard, Country: "US", InStock: true},
	}, t0)
	return c
}

func TestRanking(t *testing.T) {
	c := rankingCatalogue()
	for _, tc := range []struct {
		name string
		q    catalog.Query
		want []string
	}{
		{"exact, then prefix (in stock first), then all words", catalog.Query{Text: "netflix"},
			[]string{"netflix", "netflix-mx", "netflix-premium", "netflix-basic", "premium-netflix"}},
		{"the user's country first among equals", catalog.Query{Text: "netflix", Prefer: "MX"},
			[]string{"netflix", "netflix-mx", "netflix-premium", "netflix-basic", "premium-netflix"}},
		{"prefix of a name", catalog.Query{Text: "netflix p"},
			[]string{"netflix-mx", "netflix-premium", "premium-netflix", "netflix", "netflix-basic"}},
		{"a typo finds the near words only when nothing matches as typed", catalog.Query{Text: "netfli"},
			[]string{"netflix", "netflix-mx", "netflix-premium", "netflix-basic", "premium-netflix"}},
		{"typos: all equally fuzzy, in stock first", catalog.Query{Text: "netflux"},
			[]string{"netflix", "netflix-mx", "netflix-premium", "premium-netflix", "netflix-basic"}},
		{"no match, no results", catalog.Query{Text: "zzzzzz"}, nil},
	} {
		if got := ids(c.Search(tc.q)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q got %q, want %q", tc.name, tc.q.Text, got, tc.want)
		}
	}
	// Country preference applies after the match tiers, not across them.
	got := ids(c.Search(catalog.Query{Text: "netflix p", Prefer: "MX"}))
	if got[0] != "netflix-mx" {
		t.Errorf("prefer MX: %q", got)
	}
}

// The same catalogue delivered in another order gives the same results:
// ties are broken by name, then id, never by arrival.
func TestRankingDeterministic(t *testing.T) {
	ps := slices.Clone(fakeProducts(t))
	a := catalog.New(nil, catalog.Options{})
	a.Load(ps, t0)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	b := catalog.New(nil, catalog.Options{})
	b.Load(ps, t0)
	for _, q := range []catalog.Query{{Text: "amazon"}, {Text: "gift"}, {Text: "games"}, {Kind: conversation.KindPhoneRefill},
		{Text: "germany"}, {Text: "esim", Country: "FR"}, {Text: "s", Prefer: "IN"}} {
		x, y := ids(a.Search(q)), ids(b.Search(q))
		if !slices.Equal(x, y) {
			t.Errorf("%+v: %q vs %q", q, x, y)
		}
		if z := ids(a.Search(q)); !slices.Equal(x, z) {
			t.Errorf("%+v: two searches disagree: %q vs %q", q, x, z)
		}
	}
}

func TestFilters(t *testing.T) {
	c := loaded(t)
	all := fakeProducts(t)
	count := func(keep func(bitrefill.Product) bool) int {
		n := 0
		for _, p := range all {
			if keep(p) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name string
		q    catalog.Query
		keep func(bitrefill.Product) bool
	}{
		{"browse bills", catalog.Query{Kind: conversation.KindBillPayment, Limit: 500},
			func(p bitrefill.Product) bool { return p.Type == bitrefill.BillPayment }},
		{"browse phone top-ups in India", catalog.Query{Kind: conversation.KindPhoneRefill, Country: "IN", Limit: 500},
			func(p bitrefill.Product) bool { return p.Type == bitrefill.PhoneRefill && p.Country == "IN" }},
		{"browse a category, any case", catalog.Query{Category: "Streaming", Limit: 500},
			func(p bitrefill.Product) bool { return slices.Contains(p.Categories, "streaming") }},
		{"games gift cards in Germany", catalog.Query{Kind: conversation.KindGiftCard, Category: "games", Country: "de", Limit: 500},
			func(p bitrefill.Product) bool {
				return p.Type == bitrefill.GiftCard && p.Country == "DE" && slices.Contains(p.Categories, "games")
			}},
		{"a brand in one country", catalog.Query{Text: "amazon", Country: "DE", Limit: 500},
			func(p bitrefill.Product) bool { return p.ID == "amazon-de" }},
		{"eSIM plans that work in Japan", catalog.Query{Kind: conversation.KindESIM, Country: "JP", Limit: 500},
			func(p bitrefill.Product) bool {
				return p.Type == bitrefill.ESIMType && slices.Contains(p.Coverage, "JP")
			}},
	} {
		got := c.Search(tc.q)
		if want := count(tc.keep); len(got) != want || want == 0 {
			t.Errorf("%s: %d results, want %d: %s", tc.name, len(got), want, show(got, 10))
		}
		for _, p := range got {
			if !tc.keep(byID(t, all, p.ID)) {
				t.Errorf("%s: %s should have been filtered out", tc.name, p.ID)
			}
		}
	}
}

func byID(tb testing.TB, ps []bitrefill.Product, id string) bitrefill.Product {
	tb.Helper()
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	tb.Fatalf("no product %s", id)
	return bitrefill.Product{}
}

// A traveller asks for eSIMs for a destination: the local plan first, then
// the regional and global ones that cover it; out of stock last.
func TestESIMByDestination(t *testing.T) {
	c := loaded(t)
	for _, tc := range []struct {
		country string
		want    []string
	}{
		{"DE", []string{"bitrefill-esim-germany", "bitrefill-esim-europe", "bitrefill-esim-global"}},
		{"PE", []string{"bitrefill-esim-latam", "bitrefill-esim-global"}},
		{"KR", []string{"bitrefill-esim-asia", "bitrefill-esim-global", "bitrefill-esim-south-korea"}},
		{"NG", []string{"bitrefill-esim-global"}},
	} {
		got := ids(c.Search(catalog.Query{Kind: conversation.KindESIM, Country: tc.country}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("eSIMs for %s: %q, want %q", tc.country, got, tc.want)
		}
		// The same with words.
		got = ids(c.Search(catalog.Query{Text: "esim", Kind: conversation.KindESIM, Country: tc.country}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("\"esim\" for %s: %q, want %q", tc.country, got, tc.want)
		}
	}
	// Named in the query, a destination keeps only the plans that work
	// there: local, then regional, then global.
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"esim france", []string{"bitrefill-esim-france", "bitrefill-esim-europe", "bitrefill-esim-global"}},
		{"eSIM Francia", []string{"bitrefill-esim-france", "bitrefill-esim-europe", "bitrefill-esim-global"}},
		{"esim germany", []string{"bitrefill-esim-germany", "bitrefill-esim-europe", "bitrefill-esim-global"}},
		{"esim peru", []string{"bitrefill-esim-latam", "bitrefill-esim-global"}},
		{"esim nigeria", []string{"bitrefill-esim-global"}},
	} {
		if got := ids(c.Search(catalog.Query{Text: tc.text})); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestLimitAndEmpty(t *testing.T) {
	c := loaded(t)
	if got := c.Search(catalog.Query{Text: "a"}); len(got) > catalog.DefaultLimit {
		t.Errorf("%d results over the default limit", len(got))
	}
	if got := c.Search(catalog.Query{Text: "amazon", Limit: 3}); len(got) != 3 {
		t.Errorf("limit 3: %d results", len(got))
	}
	if got := c.Search(catalog.Query{Text: "   !!! "}); len(got) != 0 {
		t.Errorf("punctuation only: %s", show(got, 5))
	}
	empty := catalog.New(nil, catalog.Options{})
	if got := empty.Search(catalog.Query{Text: "amazon"}); got != nil {
		t.Errorf("an unloaded catalogue found %v", got)
	}
	if got := empty.Suggest("amazon", "US", 5); len(got) != 0 {
		t.Errorf("an unloaded catalogue suggested %v", got)
	}
}

func TestSuggest(t *testing.T) {
	c := loaded(t)
	got := c.Suggest("amaz", "de", 5)
	if len(got) != 5 || got[0].ID != "amazon-de" || got[0].Kind != conversation.KindGiftCard || got[0].Name != "Amazon Germany" {
		t.Errorf("Suggest(amaz, de, 5) = %+v", got)
	}
	if got := c.Suggest("a", "", 100); len(got) != catalog.MaxSuggestions {
		t.Errorf("asked for 100: %d suggestions, want %d", len(got), catalog.MaxSuggestions)
	}
	if got := c.Suggest("esim jap", "", 0); len(got) == 0 || got[0].ID != "bitrefill-esim-japan" {
		t.Errorf("Suggest(esim jap) = %+v", got)
	}
}

// Rank orders what the API's own search returned as the catalogue would.
func TestRank(t *testing.T) {
	var ps []bitrefill.Product
	for _, p := range fakeProducts(t) {
		if strings.Contains(p.ID, "netflix") || p.ID == "bitrefill-esim-europe" || p.ID == "spotify-us" {
			ps = append(ps, p)
		}
	}
	got := catalog.Rank(ps, catalog.Query{Text: "netflix us", Prefer: "US"})
	if len(got) != len(ps) || got[0].ID != "netflix-us" {
		t.Errorf("Rank kept %d of %d, first %s", len(got), len(ps), show(got, 3))
	}
	// Words that do not match keep the API's results, last, in its order.
	if last := got[len(got)-2:]; last[0].ID != "bitrefill-esim-europe" || last[1].ID != "spotify-us" {
		t.Errorf("unmatched results: %s", show(last, 2))
	}
	got = catalog.Rank(ps, catalog.Query{Text: "netflix", Kind: conversation.KindESIM})
	if len(got) != 1 || got[0].ID != "bitrefill-esim-europe" {
		t.Errorf("Rank with a kind filter: %s", show(got, 5))
	}
	if got := catalog.Rank(ps, catalog.Query{Text: "netflix", Limit: 2}); len(got) != 2 {
		t.Errorf("Rank with limit 2: %d", len(got))
	}
}

func TestStaleness(t *testing.T) {
	c := catalog.New(nil, catalog.Options{RefreshEvery: 6 * time.Hour, MaxAge: 24 * time.Hour})
	if !c.Stale(t0) || !c.Due(t0) {
		t.Fatal("an empty catalogue must be stale and due for a refresh")
	}
	c.Load(fakeProducts(t), t0)
	for _, tc := range []struct {
		at         time.Duration
		stale, due bool
	}{
		{0, false, false},
		{6*time.Hour - time.Second, false, false},
		{6 * time.Hour, false, true},
		{24 * time.Hour, false, true},
		{24*time.Hour + time.Second, true, true},
	} {
		now := t0.Add(tc.at)
		if c.Stale(now) != tc.stale || c.Due(now) != tc.due {
			t.Errorf("after %v: stale %v due %v, want %v %v", tc.at, c.Stale(now), c.Due(now), tc.stale, tc.due)
		}
	}
}
