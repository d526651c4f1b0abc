package bot

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot/catalog"
	"refillbot/conversation"
)

// noStore is a Store for tests that only run effects: its other methods
// are never reached (they would panic on the nil interface).
type noStore struct{ Store }

func (noStore) OutboxLast() (uint64, error) { return 0, nil }

func (noStore) Session(conversation.SessionKey) (conversation.State, bool, error) {
	return conversation.State{}, false, nil
}
func (noStore) Commit(Commit) error                               { return nil }
func (noStore) Tracked() ([]Tracked, error)                       { return nil, nil }
func (noStore) UpdateTracked(Tracked) error                       { return nil }
func (noStore) CheckoutInvoice(string) (string, bool, error)      { return "", false, nil }
func (noStore) PutCheckoutInvoice(checkout, invoice string) error { return nil }

type nopPlatform struct{}

func (nopPlatform) Send(context.Context, conversation.Address, conversation.Reply, []byte) (string, error) {
	return "", nil
}

// How SearchProducts' fields reach the catalogue: the country filters eSIM
// plans by destination and only ranks everything else.
func TestSearchProductsEffect(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	fake := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	defer fake.Close()
	api, err := bitrefill.New(bitrefill.Config{BaseURL: "http://bitrefill.invalid/v2", HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(api, catalog.Options{})
	if err := cat.Refresh(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{API: api, Store: noStore{}, Platforms: map[string]Platform{"t": nopPlatform{}},
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		e     conversation.SearchProducts
		first string
		all   func(conversation.ProductSummary) bool
	}{
		{"the user's country first, others still listed", conversation.SearchProducts{Query: "netflix", Country: "BR"},
			"netflix-br", nil},
		{"eSIMs by destination", conversation.SearchProducts{Kind: conversation.KindESIM, Country: "DE"},
			"bitrefill-esim-germany", func(p conversation.ProductSummary) bool { return p.Kind == conversation.KindESIM }},
		{"browse a kind and a category", conversation.SearchProducts{Kind: conversation.KindGiftCard, Category: "games", Country: "JP"},
			"google-play-jp", func(p conversation.ProductSummary) bool { return p.Kind == conversation.KindGiftCard }},
		{"phone top-ups in a country first", conversation.SearchProducts{Kind: conversation.KindPhoneRefill, Country: "IN"},
			"airtel-in", func(p conversation.ProductSummary) bool { return p.Kind == conversation.KindPhoneRefill }},
	} {
		ev := b.run(t.Context(), tc.e)
		found, ok := ev.(conversation.ProductsFound)
		if !ok {
			t.Errorf("%s: %#v", tc.name, ev)
			continue
		}
		if found.Query != tc.e.Query || len(found.Products) == 0 || found.Products[0].ID != tc.first {
			t.Errorf("%s: %+v", tc.name, found.Products[:min(3, len(found.Products))])
		}
		if tc.all != nil && slices.ContainsFunc(found.Products, func(p conversation.ProductSummary) bool { return !tc.all(p) }) {
			t.Errorf("%s: a result does not pass the filter", tc.name)
		}
	}
	// "netflix" from Brazil still lists Netflix elsewhere.
	found := b.run(t.Context(), conversation.SearchProducts{Query: "netflix", Country: "BR"}).(conversation.ProductsFound)
	if len(found.Products) < 20 {
		t.Errorf("the user's country hid the rest: %d results", len(found.Products))
	}
}
