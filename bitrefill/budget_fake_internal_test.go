package bitrefill

import (
	"context"
	"fmt"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
)

// fakeWithBudget is a client whose budget runs on the same hand-moved clock
// as a fake enforcing Bitrefill's documented limits: hours of traffic at the
// real limits run in milliseconds.
func fakeWithBudget(t *testing.T, opts bitrefilltest.Options, limits Limits) (*Client, *bitrefilltest.Fake, *testClock) {
	t.Helper()
	clk := newTestClock()
	opts.Now = clk.Now
	f := bitrefilltest.New(opts)
	t.Cleanup(f.Close)
	c, err := New(Config{BaseURL: "http://bitrefill.invalid/v2", APIKey: "test-key", HTTPClient: f.Client(), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	c.now = clk.Now
	c.budget = newBudget(limits, DefaultLimitMargin, clk.Now, clk.AfterFunc)
	return c, f, clk
}

// untilSent makes a request, moving the clock to its turn whenever the
// budget holds it back, and fails on any other error.
func untilSent(t *testing.T, clk *testClock, what string, do func(ctx context.Context) error) {
	t.Helper()
	for range 1000 {
		err := do(WithMaxWait(context.Background(), 0))
		if err == nil {
			return
		}
		if !IsBudgetSpent(err) {
			t.Fatalf("%s: %v", what, err)
		}
		clk.Advance(max(RetryAfter(err), time.Millisecond))
	}
	t.Fatalf("%s: never sent", what)
}

func TestBudgetAgainstEnforcingFakeGetsNo429(t *testing.T) {
	c, f, clk := fakeWithBudget(t, bitrefilltest.Options{Limits: bitrefilltest.DocumentedLimits()}, DefaultLimits())
	start := clk.Now()
	const purchases = 120
	for i := range purchases {
		ctx := context.Background()
		untilSent(t, clk, "search", func(ctx context.Context) error {
			_, err := c.Search(ctx, SearchFilter{Query: "amazon", Limit: 5})
			return err
		})
		var inv Invoice
		untilSent(t, clk, fmt.Sprintf("invoice %d", i), func(ctx context.Context) error {
			var err error
			inv, err = c.CreateInvoice(ctx, InvoiceRequest{PaymentMethod: PayBitcoin,
				Products: []InvoiceLine{{ProductID: "test-gift-card-code", Value: "5"}}})
			return err
		})
		untilSent(t, clk, "order", func(ctx context.Context) error {
			_, err := c.Order(WithPriority(ctx, Paid), inv.Orders[0].ID)
			return err
		})
		// A background poll only when it fits; it never waits for a turn.
		_, _ = c.Invoice(WithMaxWait(WithPriority(ctx, Background), 0), inv.ID)
		if i%30 == 0 {
			untilSent(t, clk, "ping", func(ctx context.Context) error { return c.Ping(ctx) })
		}
	}
	if got := f.RateLimited(); len(got) != 0 {
		t.Errorf("%d requests answered 429, first %s %s", len(got), got[0].Method, got[0].Path)
	}
	counts := f.Counts()
	if counts["POST /invoices"] != purchases || counts["GET /orders/{id}"] != purchases {
		t.Errorf("counts %v", counts)
	}
	// Two general requests a purchase at 57.8 per 10 minutes: about 29
	// purchases every 10 minutes, so 120 take about 41 minutes.
	elapsed := clk.Now().Sub(start)
	per10 := float64(purchases) / (float64(elapsed) / float64(10*time.Minute))
	if per10 < 27 || per10 > 30 {
		t.Errorf("%.1f purchases per 10 minutes (%v for %d), want about 29", per10, elapsed, purchases)
	}
	t.Logf("%d purchases in %v: %.1f per 10 minutes, %d background polls fitted", purchases, elapsed.Round(time.Second), per10, counts["GET /invoices/{id}"])
}

func TestFindESIMsLearnsICCIDsInOneRequest(t *testing.T) {
	for _, shape := range []bitrefilltest.ESIMShape{bitrefilltest.ESIMDocumented, bitrefilltest.ESIMWithID,
		bitrefilltest.ESIMWithICCID, bitrefilltest.ESIMWithExtraICCID} {
		c, f, _ := fakeWithBudget(t, bitrefilltest.Options{ESIMShape: shape}, nil)
		ctx := context.Background()
		var orders []Order
		for _, plan := range []string{"bitrefill-esim-europe", "bitrefill-esim-japan", "bitrefill-esim-global"} {
			inv, err := c.BuyESIM(ctx, InvoiceRequest{PaymentMethod: PayBalance, AutoPay: true,
				Products: []InvoiceLine{{ProductID: plan, Value: "1GB, 7 Days"}}})
			if err != nil {
				t.Fatal(err)
			}
			o, err := c.Order(ctx, inv.Orders[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			orders = append(orders, o)
		}
		if shape == bitrefilltest.ESIMDocumented {
			for _, o := range orders {
				if o.ESIMID != "" {
					t.Errorf("documented shape: order names ICCID %q", o.ESIMID)
				}
			}
		}
		before := len(f.Requests())
		var lpas []string
		for _, o := range orders {
			if o.LPA() == "" {
				t.Fatalf("shape %d: order without an LPA: %+v", shape, o.Redemption)
			}
			lpas = append(lpas, o.LPA())
		}
		found, err := c.FindESIMs(ctx, lpas...)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(f.Requests()) - before; n != 1 {
			t.Errorf("shape %d: %d requests to learn 3 ICCIDs, want 1", shape, n)
		}
		for i, o := range orders {
			snap, _ := f.Invoice(o.InvoiceID)
			if got := found[o.LPA()].ID; got == "" || got != snap.Orders[0].ESIMID {
				t.Errorf("shape %d: order %d: ICCID %q, fake says %q", shape, i, got, snap.Orders[0].ESIMID)
			}
			if o.ESIMID != "" && o.ESIMID != found[o.LPA()].ID {
				t.Errorf("shape %d: order names %q, list says %q", shape, o.ESIMID, found[o.LPA()].ID)
			}
		}
	}
}

func TestOrdersOfBatchesDeliveredOrders(t *testing.T) {
	c, f, clk := fakeWithBudget(t, bitrefilltest.Options{}, nil)
	ctx := context.Background()
	since := clk.Now()
	var ids []string
	for i := range 12 {
		inv, err := c.CreateInvoice(ctx, InvoiceRequest{PaymentMethod: PayBalance, AutoPay: true,
			Products: []InvoiceLine{{ProductID: "test-gift-card-code", Value: "5", Quantity: 1 + i%2}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID)
		clk.Advance(time.Second)
	}
	before := len(f.Requests())
	got, err := c.OrdersOf(ctx, since, ids[2:]...)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Requests()) - before; n != 1 {
		t.Errorf("%d requests for 10 invoices' orders, want 1", n)
	}
	if len(got) != 10 {
		t.Errorf("orders for %d invoices, want 10", len(got))
	}
	for _, id := range ids[2:] {
		snap, _ := f.Invoice(id)
		os := got[id]
		if len(os) != len(snap.Orders) {
			t.Fatalf("invoice %s: %d orders, want %d", id, len(os), len(snap.Orders))
		}
		for i, o := range os {
			if o.ID != snap.Orders[i].ID || o.Redemption == nil || o.Redemption.Code != snap.Orders[i].Code {
				t.Errorf("invoice %s order %d: %+v", id, i, o)
			}
		}
	}
}

// Invoices just paid are among the newest orders: their list call is one
// page however far back after reaches, and pages on only as far as the
// oldest invoice asked for.
func TestOrdersOfStopsAtTheLastInvoiceAskedFor(t *testing.T) {
	c, f, clk := fakeWithBudget(t, bitrefilltest.Options{}, nil)
	ctx := context.Background()
	since := clk.Now()
	var ids []string
	for range 130 {
		inv, err := c.CreateInvoice(ctx, InvoiceRequest{PaymentMethod: PayBalance, AutoPay: true,
			Products: []InvoiceLine{{ProductID: "test-gift-card-code", Value: "5"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID)
		clk.Advance(time.Second)
	}
	for _, tc := range []struct {
		name  string
		ids   []string
		pages int
	}{
		{"three of the newest", []string{ids[129], ids[120], ids[100]}, 1},
		{"one on the second page", []string{ids[129], ids[75]}, 2},
		{"the oldest", []string{ids[0], ids[128]}, 3},
	} {
		before := len(f.Requests())
		got, err := c.OrdersOf(ctx, since, tc.ids...)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(f.Requests()) - before; n != tc.pages {
			t.Errorf("%s: %d requests, want %d", tc.name, n, tc.pages)
		}
		for _, id := range tc.ids {
			if len(got[id]) != 1 || got[id][0].Redemption == nil {
				t.Errorf("%s: invoice %s: %+v", tc.name, id, got[id])
			}
		}
	}
}
