package conversation

import (
	"testing"
	"time"
)

// BenchmarkStep measures one engine step on the hottest path of a purchase:
// a typed amount checked against a product card, producing the confirmation.
func BenchmarkStep(b *testing.B) {
	eng := Engine{Methods: []string{"bitcoin", "lightning"}, Sandbox: true}
	p, _ := findFixture("amazon-us")
	s := State{V: SchemaVersion, Profile: Profile{Nonce: "bench123"}, Flow: Flow{Step: StepProduct, Product: &p}, Menus: Menus{Menu: 4}}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		out, effs := eng.Step(s, Text{Text: "50"}, now)
		if out.Step != StepConfirm || len(effs) != 1 {
			b.Fatal("unexpected step result")
		}
	}
}

// BenchmarkPurchaseSteps runs a whole purchase dialogue through the engine
// alone: the engine's share of the CPU a purchase costs.
func BenchmarkPurchaseSteps(b *testing.B) {
	eng := Engine{Methods: []string{"bitcoin", "lightning"}, Sandbox: true}
	p, _ := findFixture("amazon-us")
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	inv := Invoice{ID: "inv-1", Status: StatusUnpaid, Method: "bitcoin", Expires: now.Add(3 * time.Hour), Price: "0.0005", PriceCurrency: "BTC",
		Address: "bc1qx", PaymentURI: "bitcoin:bc1qx?amount=0.0005", Orders: []Order{{ID: "o1", Status: OrderCreated, Product: "Amazon US", Value: "50", Currency: "USD"}}}
	done := inv
	done.Status = StatusComplete
	done.Orders = []Order{{ID: "o1", Status: OrderDelivered, Product: "Amazon US", Value: "50", Currency: "USD", Redemption: &Redemption{Code: "ABCD"}}}
	b.ReportAllocs()
	for b.Loop() {
		s := State{V: SchemaVersion, Profile: Profile{Nonce: "bench123"}}
		s, _ = eng.Step(s, Text{Text: "amazon"}, now)
		s, effs := eng.Step(s, ProductsFound{Query: "amazon", Products: []ProductSummary{{ID: p.ID, Name: p.Name, Country: "US", InStock: true}}}, now)
		s, _ = eng.Step(s, Chose{Token: firstToken(effs)}, now)
		s, _ = eng.Step(s, ProductLoaded{Product: p}, now)
		s, effs = eng.Step(s, Text{Text: "50"}, now)
		s, effs = eng.Step(s, Chose{Token: firstToken(effs)}, now)
		ci := effs[len(effs)-1].(CreateInvoice)
		s, _ = eng.Step(s, InvoiceCreated{Checkout: ci.Checkout, Invoice: inv}, now)
		s, _ = eng.Step(s, InvoiceUpdated{Invoice: done}, now)
		if len(s.Purchases) != 0 {
			b.Fatal("purchase not settled")
		}
	}
}

func firstToken(effs []Effect) string {
	for _, e := range effs {
		if r, ok := e.(Reply); ok && len(r.Options) > 0 {
			return r.Options[0].Token
		}
	}
	return ""
}

// BenchmarkStepAddToCart measures the cart's hottest step: the confirmation's
// "Add to cart", which copies the cart and renders it with its totals.
func BenchmarkStepAddToCart(b *testing.B) {
	eng := Engine{Methods: []string{"bitcoin", "lightning"}, Sandbox: true}
	p, _ := findFixture("amazon-us")
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	s := State{V: SchemaVersion, Profile: Profile{Nonce: "bench123"}, Flow: Flow{Step: StepProduct, Product: &p}, Menus: Menus{Menu: 4},
		Checkout: Checkout{Cart: []CartItem{{ProductID: "netflix-us", Name: "Netflix US", PackageID: "netflix-us<&>25", Label: "25 USD", Amount: 2500, Currency: "USD", Quantity: 2}}}}
	s, effs := eng.Step(s, Text{Text: "50"}, now)
	var add string
	for _, o := range effs[len(effs)-1].(Reply).Options {
		if o.Label == "🛒 Add to cart" {
			add = o.Token
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		out, effs := eng.Step(s, Chose{Token: add}, now)
		if out.Step != StepCart || len(out.Cart) != 2 || len(effs) != 2 {
			b.Fatal("unexpected step result")
		}
	}
}

// BenchmarkStepPhone measures a typed phone number: normalised and looked up.
func BenchmarkStepPhone(b *testing.B) {
	eng := Engine{Methods: []string{"bitcoin", "lightning"}}
	s := State{V: SchemaVersion, Profile: Profile{Nonce: "bench123", Country: "MX"}, Flow: Flow{Step: StepPhone}, Menus: Menus{Menu: 3}}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		out, effs := eng.Step(s, Text{Text: "55 1234 5678"}, now)
		if out.Step != StepCheckingPhone || len(effs) != 2 {
			b.Fatal("unexpected step result")
		}
	}
}
