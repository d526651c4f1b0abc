package conversation

import (
	"reflect"
	"testing"
	"time"
)

// checkoutAfter drives a session from Start to a confirmed payment and
// returns the checkout id its CreateInvoice carries.
func checkoutAfter(t *testing.T, s State) (State, string) {
	t.Helper()
	eng := Engine{Methods: []string{"bitcoin"}}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	p, ok := findFixture("amazon-us")
	if !ok || len(p.Packages) == 0 {
		t.Fatal("fixture amazon-us with packages missing")
	}
	s, _ = eng.Step(s, Start{Payload: p.ID}, now)
	s, effs := eng.Step(s, ProductLoaded{Product: p}, now)
	tap := func(effs []Effect, do ActionKind) []Effect {
		t.Helper()
		r, _ := effs[len(effs)-1].(Reply)
		for i, a := range s.Actions {
			if a.Do == do {
				s, effs = eng.Step(s, Chose{Token: r.Options[i].Token}, now)
				return effs
			}
		}
		t.Fatalf("no %q option in %+v", do, s.Actions)
		return nil
	}
	effs = tap(effs, doPackage)
	effs = tap(effs, doMethod)
	for _, e := range effs {
		if c, ok := e.(CreateInvoice); ok {
			return s, c.Checkout
		}
	}
	t.Fatalf("no CreateInvoice in %+v", effs)
	return s, ""
}

// A state stored under another schema version must never hand out a checkout
// id it used before: the shell maps checkout ids to invoices, and a reused id
// would give the new checkout an old invoice.
func TestMigratedStateNeverReusesACheckoutID(t *testing.T) {
	s := State{V: SchemaVersion, Profile: Profile{Nonce: "n"}}
	seen := map[string]bool{}
	for range 3 {
		var id string
		s, id = checkoutAfter(t, s)
		seen[id] = true
	}
	s.V = SchemaVersion + 1 // stored by another version of the bot
	_, id := checkoutAfter(t, Migrate(s))
	if seen[id] {
		t.Fatalf("after migration the checkout id %q was used again (earlier: %v)", id, seen)
	}
}

func TestMigrateKeepsAllButTheFlow(t *testing.T) {
	old := State{
		V:        0,
		Profile:  Profile{Lang: "es", Nonce: "n", User: "telegram:1", Country: "DE", CountryAsked: true, ESIMs: []OwnedESIM{{ICCID: "1"}}},
		Menus:    Menus{Menu: 7, Actions: []Action{{Do: doBack}}, LangMenu: 7},
		Flow:     Flow{Step: StepConfirm, Query: "q", Page: 2, Product: &Product{ID: "x"}},
		Checkout: Checkout{Cart: []CartItem{{ProductID: "x"}}, Checkouts: 4, Pending: "p"},
		Ledger:   Ledger{Purchases: []Purchase{{Summary: "keep"}}, History: []HistoryEntry{{Invoice: "i"}}, SpentDay: "2026-11-24", Spent: 500},
	}
	got := Migrate(old)
	want := old
	want.V, want.Flow, want.Menus = SchemaVersion, Flow{}, Menus{Menu: 7}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Migrate:\n got %+v\nwant %+v", got, want)
	}
}

// Schema 1 stored a browsed country and an ICCID's purpose in one field,
// and every page in one field.
func TestMigrateReadsSchema1(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		country string
		purpose ICCIDPurpose
	}{{"DE", "DE", ""}, {"status", "", ForStatus}, {"topup", "", ForTopUp}} {
		got := Migrate(State{V: SchemaVersion, Flow: Flow{Mode: tc.mode}})
		if got.BrowseCountry != tc.country || got.ICCIDFor != tc.purpose || got.Mode != "" {
			t.Errorf("mode %q: country %q purpose %q mode %q", tc.mode, got.BrowseCountry, got.ICCIDFor, got.Mode)
		}
	}
	for _, tc := range []struct {
		step                       Step
		results, countries, orders int
	}{{StepResults, 2, 0, 0}, {StepCountry, 0, 2, 0}, {StepDestination, 0, 2, 0}, {StepOrders, 0, 0, 2}, {StepOrder, 0, 0, 2}, {StepReveal, 0, 0, 2}} {
		got := Migrate(State{V: SchemaVersion, Flow: Flow{Step: tc.step, Page: 2}})
		if got.Page != tc.results || got.CountryPage != tc.countries || got.OrdersPage != tc.orders {
			t.Errorf("%s page 2: results %d, countries %d, orders %d", tc.step, got.Page, got.CountryPage, got.OrdersPage)
		}
	}
}
