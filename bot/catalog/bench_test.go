package catalog_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot/catalog"
	"refillbot/conversation"
)

// synthetic builds a catalogue of n products from the fake's: the real ones,
// then copies under invented brand names ("Kavoru Amazon US"), so the
// dictionary grows with the catalogue as it would with real brands.
func synthetic(tb testing.TB, n int) []bitrefill.Product {
	base := fakeProducts(tb)
	out := make([]bitrefill.Product, 0, n)
	for i := range n {
		p := base[i%len(base)]
		if i >= len(base) {
			w := word(i)
			p.ID = w + "-" + p.ID
			p.Name = pretty(w) + " " + p.Name
		}
		out = append(out, p)
	}
	return out
}

var syllables = []string{"ka", "vo", "ru", "mi", "ne", "to", "sa", "li", "po", "de", "zu", "ra", "fe", "no", "bi", "xa", "qu", "el", "or", "an"}

// word is a pronounceable made-up word, different for each i.
func word(i int) string {
	b := []byte{}
	for n := 0; n < 3 || i > 0; n++ {
		b = append(b, syllables[i%len(syllables)]...)
		i /= len(syllables)
	}
	return string(b)
}

func pretty(w string) string { return string(w[0]-'a'+'A') + w[1:] }

// The queries of the search benchmark: typed brands, typos, brand and
// country, Spanish, split words, one letter, and browsing.
var benchQueries = []catalog.Query{
	{Text: "amazon", Prefer: "US"},
	{Text: "amazn"},
	{Text: "netflix us"},
	{Text: "netflx"},
	{Text: "steam germany"},
	{Text: "amazon españa"},
	{Text: "playstaton"},
	{Text: "play station", Prefer: "GB"},
	{Text: "tarjeta de regalo amazon", Prefer: "ES"},
	{Text: "esim japon"},
	{Text: "xbox", Prefer: "MX"},
	{Text: "g"},
	{Text: "kavoru"},
	{Text: "vodafone germany"},
	{Text: "google play gift card united states"},
	{Kind: conversation.KindGiftCard, Prefer: "DE"},
	{Kind: conversation.KindESIM, Country: "DE"},
	{Kind: conversation.KindPhoneRefill, Category: "refill", Country: "IN"},
}

func loadedN(b *testing.B, n int) *catalog.Catalog {
	b.Helper()
	c := catalog.New(nil, catalog.Options{})
	c.Load(synthetic(b, n), t0)
	if c.Len() != n {
		b.Fatalf("%d products, want %d", c.Len(), n)
	}
	return c
}

// BenchmarkSearch10k times searches over 10,000 products and reports the
// median and 99th percentile of single searches (the aim: p99 under 1 ms).
func BenchmarkSearch10k(b *testing.B) {
	c := loadedN(b, 10_000)
	lat := make([]time.Duration, 0, b.N)
	dst := make([]catalog.Product, 0, catalog.DefaultLimit)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		q := benchQueries[i%len(benchQueries)]
		start := time.Now()
		dst = c.AppendSearch(dst[:0], q)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkSearch10kEach is the same per query, to see which kind costs most.
func BenchmarkSearch10kEach(b *testing.B) {
	c := loadedN(b, 10_000)
	for _, q := range benchQueries {
		name := fmt.Sprintf("%q/%s/%s", q.Text, q.Kind, q.Country)
		b.Run(name, func(b *testing.B) {
			dst := make([]catalog.Product, 0, catalog.DefaultLimit)
			b.ReportAllocs()
			for b.Loop() {
				dst = c.AppendSearch(dst[:0], q)
			}
		})
	}
}

// BenchmarkSuggest10k is autocomplete as a user types "playstation de".
func BenchmarkSuggest10k(b *testing.B) {
	c := loadedN(b, 10_000)
	typed := "playstation de"
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		c.Suggest(typed[:1+i%len(typed)], "DE", 25)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkBuild10k times building the index and reports the memory the
// catalogue keeps per product (strings it holds included).
func BenchmarkBuild10k(b *testing.B) {
	var perProduct float64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ps := synthetic(b, 10_000)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		c := catalog.New(nil, catalog.Options{})
		c.Load(ps, t0)
		b.StopTimer()
		ps = nil
		runtime.GC()
		runtime.ReadMemStats(&m1)
		// Before: the input; after: the catalogue. The strings both share are
		// counted once, in "after", as the catalogue keeps them alive.
		perProduct = float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)+inputBytes(b)) / 10_000
		runtime.KeepAlive(c)
		b.StartTimer()
	}
	b.ReportMetric(perProduct, "bytes/product")
}

// inputBytes is the heap the synthetic input itself takes, measured alone.
func inputBytes(b *testing.B) int64 {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ps := synthetic(b, 10_000)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(ps)
	return int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
}
