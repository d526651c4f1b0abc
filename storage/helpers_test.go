package storage

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"refillbot/conversation"
)

// sampleState is a session in the middle of a purchase, with one earlier
// purchase being delivered: about 1.5 KB of JSON, like a real one.
func sampleState(n int) conversation.State {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return conversation.State{
		V:       conversation.SchemaVersion,
		Profile: conversation.Profile{Lang: "en", Nonce: fmt.Sprintf("nonce%04d", n)},
		Menus: conversation.Menus{Menu: n, Actions: []conversation.Action{
			{Do: "pay", Arg: "bitcoin"}, {Do: "pay", Arg: "lightning"}, {Do: "pay", Arg: "usdt_trc20"},
			{Do: "back"}, {Do: "cancel"},
		}},
		Flow: conversation.Flow{Step: conversation.StepConfirm, Query: "amazon",
			Results: []conversation.ProductSummary{
				{ID: "amazon-us", Name: "Amazon.com", Country: "US", InStock: true},
				{ID: "amazon-de", Name: "Amazon.de", Country: "DE", InStock: true},
				{ID: "amazon-uk", Name: "Amazon.co.uk", Country: "GB", InStock: false},
			},
			Page: 1,
			Product: &conversation.Product{
				ID: "amazon-us", Name: "Amazon.com", Kind: conversation.KindGiftCard, Country: "US",
				Currency: "USD", InStock: true,
				Packages: []conversation.Package{
					{ID: "p10", Label: "$10", Amount: 1000}, {ID: "p25", Label: "$25", Amount: 2500},
					{ID: "p50", Label: "$50", Amount: 5000}, {ID: "p100", Label: "$100", Amount: 10000},
				},
				Range: &conversation.Range{Min: 100, Max: 200000, Step: 1},
			},
			Choice:  &conversation.Choice{PackageID: "p25", Label: "$25", Amount: 2500},
			Invoice: "inv-previous"},
		Checkout: conversation.Checkout{Checkouts: 3},
		Ledger: conversation.Ledger{Purchases: []conversation.Purchase{{
			Invoice: conversation.Invoice{
				ID: "inv-previous", Status: conversation.StatusPaymentConfirmed, Method: "lightning",
				Expires: exp, Price: "0.00041234", PriceCurrency: "BTC",
				Address:    "lnbc412340n1pjexampleexampleexampleexampleexampleexampleexampleexample",
				PaymentURI: "lightning:lnbc412340n1pjexampleexampleexampleexampleexampleexampleexample",
				Orders: []conversation.Order{{
					ID: "ord-1", Status: conversation.OrderDelivered, Product: "Steam $20", Value: "20", Currency: "USD",
					Redemption: &conversation.Redemption{
						Code: "ABCD-EFGH-IJKL", Instructions: "Redeem at store.steampowered.com/account/redeemwalletcode",
						Extra: []conversation.Field{{Name: "serial", Value: "123456789"}},
					},
				}},
			},
			Summary:   "Steam $20",
			Stage:     "confirmed",
			Announced: map[string]string{"ord-1": conversation.OrderDelivered},
		}}},
	}
}

func key(i int) conversation.SessionKey {
	return conversation.SessionKey{Platform: "telegram", User: fmt.Sprintf("user%d", i)}
}

func openTemp(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "refillbot.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}
