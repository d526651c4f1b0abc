package catalog_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"refillbot/bot/catalog"
	"refillbot/conversation"
)

var update = flag.Bool("update", false, "rewrite testdata/search.txt from the current ranking")

// TestSearchTranscript keeps the top results of typical searches over the
// fake's catalogue in testdata/search.txt, so that a change to ranking is
// reviewed as a diff of what users would see. Regenerate with -update.
func TestSearchTranscript(t *testing.T) {
	c := loaded(t)
	var b bytes.Buffer
	for _, q := range []catalog.Query{
		{Text: "amazn", Prefer: "US"},
		{Text: "amazon españa"},
		{Text: "netflx", Prefer: "MX"},
		{Text: "netflix us"},
		{Text: "playstaton", Prefer: "DE"},
		{Text: "play station"},
		{Text: "steam germany"},
		{Text: "tarjeta de regalo steam", Prefer: "ES"},
		{Text: "esim japon"},
		{Text: "esim", Kind: conversation.KindESIM, Country: "PT"},
		{Kind: conversation.KindPhoneRefill, Prefer: "NG"},
		{Kind: conversation.KindGiftCard, Category: "food", Prefer: "IN"},
		{Text: "claro"},
		{Text: "vodafone alemania"},
		{Text: "uber"},
		{Text: "luz", Kind: conversation.KindBillPayment},
	} {
		fmt.Fprintf(&b, "> %q", q.Text)
		for _, f := range []struct{ k, v string }{{"kind", q.Kind}, {"category", q.Category}, {"country", q.Country}, {"user in", q.Prefer}} {
			if f.v != "" {
				fmt.Fprintf(&b, " %s %s", f.k, f.v)
			}
		}
		b.WriteString("\n")
		res := c.Search(catalog.Query{Text: q.Text, Kind: q.Kind, Category: q.Category, Country: q.Country, Prefer: q.Prefer, Limit: 6})
		for _, p := range res {
			stock := ""
			if !p.InStock {
				stock = "  (out of stock)"
			}
			fmt.Fprintf(&b, "  %-32s %-30s %s%s\n", p.Name, p.ID, p.Country, stock)
		}
		b.WriteString("\n")
	}
	path := filepath.Join("testdata", "search.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("search results changed; review and run with -update if intended:\n%s", b.String())
	}
}
