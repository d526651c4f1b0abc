package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/conversation"
)

// Whatever a user types or presses, in any order, every invoice the engine
// asks for is one Bitrefill accepts: the right values for each product, a
// phone number its operator serves, an eSIM that exists, at most 20 lines.
// The fake's validation stands in for Bitrefill's. (It lives with the shell,
// which joins the engine to the client, rather than in package conversation,
// whose test binary then stays free of the fake's HTTP stack.)
func TestEveryInvoiceRequestIsValid(t *testing.T) {
	ctx := context.Background()
	fake := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	defer fake.Close()
	api, err := bitrefill.New(bitrefill.Config{BaseURL: "http://bitrefill.invalid/v2", HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	w := &apiWorld{ctx: ctx, api: api, products: map[string]conversation.Product{}, searches: map[string][]conversation.ProductSummary{}}
	iccid := w.buyESIM(t, fake)

	texts := []string{
		"amazon", "netflix us", "comed", "bitrefill esim", "vodafone", "t-mobile", "steam", "xyzzy",
		"25", "50", "10", "12.5", "0", "-5", "abc", "1e9", "$25", "25 EUR", "100", "200", "5000",
		"+1 555 123 4567", "+52 55 1234 5678", "+49 30 1234567", "555 123 4567", "55 1234 5678", "+12", "+354 555 1234",
		iccid, "8900000000000000012", "1234", "3", "0", "21", "mexico", "germany", "us", "narnia", "cancel", "back", "help", "",
	}
	phones := []string{"+1 555 123 4567", "+52 55 1234 5678", "+49 30 1234567", "555 123 4567", "55 1234 5678", "+12", "+354 555 1234", "030 1234567", "+44 20 7946 0958"}
	amounts := []string{"25", "50", "10", "12.5", "0", "-5", "abc", "1e9", "$25", "25 EUR", "100", "200", "5000", "3", "1", "20", "21", "15", "30"}
	commands := []conversation.Command{
		{Name: "cart"}, {Name: "orders"}, {Name: "esims"}, {Name: "esim", Args: iccid}, {Name: "topup", Args: iccid},
		{Name: "topup", Args: iccid + " bitrefill-esim-europe<&>3GB, 30 Days"}, {Name: "country", Args: "us"}, {Name: "country", Args: "mx"},
		{Name: "country"}, {Name: "language", Args: "es"}, {Name: "language"}, {Name: "phone"}, {Name: "buy", Args: "amazon-us"},
		{Name: "buy", Args: "at-t-usa"}, {Name: "search", Args: "google play"}, {Name: "back"}, {Name: "cancel"}, {Name: "help"},
	}
	rapid.Check(t, func(rt *rapid.T) {
		w.rt = rt
		eng := conversation.Engine{
			Methods: []string{"bitcoin", "lightning"}, Sandbox: true, IdleAfter: time.Hour,
			Balance: conversation.BalancePolicy{Users: map[string]bool{"test:u": true}, DailyCap: 1_000_000},
		}
		locale := rapid.SampledFrom([]string{"", "en-US", "es-MX", "es"}).Draw(rt, "locale")
		w.s = conversation.NewState(conversation.SessionKey{Platform: "test", User: "u"}, "n", locale)
		w.now = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		w.menu = nil
		w.checkouts = map[string]bool{}
		n := rapid.IntRange(1, 80).Draw(rt, "steps")
		for range n {
			var ev conversation.Event
			switch rapid.IntRange(0, 15).Draw(rt, "kind") {
			case 14:
				// A phone top-up as far as its value.
				w.run(eng, conversation.Command{Name: "phone"})
				w.run(eng, conversation.Text{Text: rapid.SampledFrom(phones).Draw(rt, "phone")})
				for range 2 {
					if len(w.menu) > 0 {
						w.run(eng, conversation.Chose{Token: w.menu[rapid.IntRange(0, len(w.menu)-1).Draw(rt, "pick")].Token})
					}
				}
				ev = conversation.Text{Text: rapid.SampledFrom(amounts).Draw(rt, "amount")}
			case 15:
				// The cart to the payment choice.
				w.run(eng, conversation.Command{Name: "cart"})
				ev = conversation.Text{Text: "nothing to check out"}
				for _, o := range w.menu {
					if strings.Contains(o.Label, "Check out") || strings.Contains(o.Label, "Pagar") {
						ev = conversation.Chose{Token: o.Token}
					}
				}
			case 12, 13:
				// A product and a value straight into the cart.
				id := rapid.SampledFrom([]string{"amazon-us", "netflix-us", "comed-us", "google-play-us", "steam-de", "bitrefill-esim-asia", "starbucks-us", "airtel-in"}).Draw(rt, "product")
				w.run(eng, conversation.Command{Name: "buy", Args: id})
				w.run(eng, conversation.Text{Text: rapid.SampledFrom(amounts).Draw(rt, "amount")})
				if len(w.menu) > 0 && rapid.Bool().Draw(rt, "package") {
					w.run(eng, conversation.Chose{Token: w.menu[0].Token})
				}
				ev = conversation.Text{Text: "nothing to add"}
				for _, o := range w.menu {
					if strings.Contains(o.Label, "Add to cart") || strings.Contains(o.Label, "Añadir") {
						ev = conversation.Chose{Token: o.Token}
					}
				}
			case 10, 11:
				// Steer towards checkouts, carts and payments, which a pure
				// random walk reaches rarely.
				want := rapid.SampledFrom([]string{"Add to cart", "Check out", "Bitcoin", "Lightning", "Account balance", "Pay ", "Phone top-up", "Top up"}).Draw(rt, "want")
				for _, o := range w.menu {
					if strings.Contains(o.Label, want) {
						ev = conversation.Chose{Token: o.Token}
						break
					}
				}
				if ev == nil {
					ev = conversation.Text{Text: rapid.SampledFrom(texts).Draw(rt, "text")}
				}
			case 0, 1, 2, 3, 4:
				if len(w.menu) == 0 {
					ev = conversation.Start{}
					break
				}
				ev = conversation.Chose{Token: w.menu[rapid.IntRange(0, len(w.menu)-1).Draw(rt, "option")].Token}
			case 5, 6:
				pool := texts
				switch w.s.Step {
				case conversation.StepPhone, conversation.StepOperators:
					pool = phones
				case conversation.StepProduct, conversation.StepCartLine:
					pool = amounts
				case conversation.StepICCID, conversation.StepESIMs:
					pool = []string{iccid, "8900000000000000012", "12"}
				}
				ev = conversation.Text{Text: rapid.SampledFrom(pool).Draw(rt, "text")}
			case 7, 8:
				ev = rapid.SampledFrom(commands).Draw(rt, "command")
			default:
				w.now = w.now.Add(time.Duration(rapid.IntRange(1, 120).Draw(rt, "minutes")) * time.Minute)
				ev = conversation.Start{}
			}
			w.run(eng, ev)
		}
	})
	t.Logf("%d invoices created, %d with a phone number, %d eSIM top-ups, %d with several lines", w.created, w.phones, w.topups, w.multi)
	if w.created == 0 {
		t.Error("no invoice was created in any run: the property was never exercised")
	}
}

// apiWorld answers the engine's effects with the real client and the fake.
type apiWorld struct {
	ctx       context.Context
	api       *bitrefill.Client
	rt        *rapid.T
	s         conversation.State
	now       time.Time
	menu      []conversation.Option
	products  map[string]conversation.Product
	searches  map[string][]conversation.ProductSummary
	created   int
	checkouts map[string]bool
	phones    int
	topups    int
	multi     int
}

func (w *apiWorld) run(eng conversation.Engine, ev conversation.Event) {
	queue := []conversation.Event{ev}
	for i := 0; len(queue) > 0 && i < 50; i++ {
		ev, queue = queue[0], queue[1:]
		var effs []conversation.Effect
		w.s, effs = eng.Step(w.s, ev, w.now)
		for _, e := range effs {
			if next := w.effect(e); next != nil {
				queue = append(queue, next)
			}
		}
	}
}

func (w *apiWorld) effect(e conversation.Effect) conversation.Event {
	switch e := e.(type) {
	case conversation.Reply:
		if len(e.Options) > 25 {
			w.rt.Fatalf("menu with %d options", len(e.Options))
		}
		if len(e.Options) > 0 {
			w.menu = e.Options
		}
	case conversation.SearchProducts:
		return conversation.ProductsFound{Query: e.Query, Products: w.search(e)}
	case conversation.LoadProduct:
		p, ok := w.product(e.ID)
		if !ok {
			return conversation.Failed{Op: conversation.OpLoadProduct, Kind: conversation.ErrNotFound}
		}
		return conversation.ProductLoaded{Product: p}
	case conversation.CheckPhone:
		pc, err := w.api.CheckPhoneNumber(w.ctx, e.Number, "")
		if err != nil {
			kind := conversation.ErrNotFound
			if bitrefill.ErrorKind(err) == bitrefill.KindInvalid {
				kind = conversation.ErrInvalid
			}
			return conversation.Failed{Op: conversation.OpCheckPhone, Kind: kind}
		}
		out := conversation.PhoneChecked{Number: e.Number}
		if pc.OperatorFound && len(pc.Products) == 1 {
			out.Found, out.Product = true, convert(pc.Products[0])
			return out
		}
		for _, p := range pc.Products {
			out.Operators = append(out.Operators, conversation.ProductSummary{ID: p.ID, Name: p.Name, Kind: string(p.Type), InStock: p.InStock})
		}
		return out
	case conversation.LoadESIM:
		es, err := w.api.ESIM(w.ctx, e.ICCID)
		if err != nil {
			return conversation.Failed{Op: conversation.OpLoadESIM, Kind: conversation.ErrNotFound}
		}
		return conversation.ESIMLoaded{ESIM: conversation.ESIM{ICCID: es.ID, Installed: es.Installed}}
	case conversation.CreateInvoice:
		if w.checkouts[e.Checkout] {
			w.rt.Fatalf("a second invoice for checkout %s", e.Checkout)
		}
		w.checkouts[e.Checkout] = true
		if len(e.Lines) == 0 || len(e.Lines) > 20 {
			w.rt.Fatalf("an invoice of %d lines", len(e.Lines))
		}
		req := bitrefill.InvoiceRequest{PaymentMethod: e.Method}
		for _, l := range e.Lines {
			line := bitrefill.InvoiceLine{ProductID: l.ProductID, PackageID: l.PackageID, Quantity: l.Quantity, PhoneNumber: l.PhoneNumber, ESIMID: l.ESIMID}
			if l.PackageID == "" {
				line.Value = l.Value.String()
			}
			req.Products = append(req.Products, line)
		}
		inv, err := w.api.CreateInvoice(w.ctx, req)
		if err != nil {
			w.rt.Fatalf("the engine asked for an invoice Bitrefill refuses: %v\nlines: %+v", err, e.Lines)
		}
		w.created++
		if len(e.Lines) > 1 {
			w.multi++
		}
		for _, l := range e.Lines {
			if l.PhoneNumber != "" {
				w.phones++
			}
			if l.ESIMID != "" {
				w.topups++
			}
		}
		return conversation.InvoiceCreated{Checkout: e.Checkout, Invoice: conversation.Invoice{
			ID: inv.ID, Status: string(inv.Status), Method: inv.Payment.Method, Price: inv.Payment.Price.String(), PriceCurrency: inv.Payment.Currency,
		}}
	case conversation.PayInvoice:
		inv, err := w.api.PayInvoice(w.ctx, e.InvoiceID)
		if err != nil {
			return conversation.Failed{Op: conversation.OpPay, Kind: conversation.ErrBalance}
		}
		return conversation.InvoiceUpdated{Invoice: conversation.Invoice{ID: inv.ID, Status: string(inv.Status), Method: inv.Payment.Method}}
	case conversation.RefreshInvoice, conversation.SimulatePayment, conversation.TrackInvoice:
		// Invoice news is not what this property is about.
	default:
		w.rt.Fatalf("unexpected effect %T", e)
	}
	return nil
}

func (w *apiWorld) search(e conversation.SearchProducts) []conversation.ProductSummary {
	key := fmt.Sprintf("%s|%s|%s|%s", e.Query, e.Kind, e.Category, e.Country)
	if r, ok := w.searches[key]; ok {
		return r
	}
	var list []bitrefill.Product
	if e.Query != "" {
		page, err := w.api.Search(w.ctx, bitrefill.SearchFilter{Query: e.Query, Limit: 20})
		if err != nil {
			w.rt.Fatalf("search %q: %v", e.Query, err)
		}
		list = page.Items
	} else {
		page, err := w.api.ProductsPage(w.ctx, bitrefill.ProductFilter{Type: bitrefill.ProductType(e.Kind), Country: e.Country}, 0, 20)
		if err != nil {
			w.rt.Fatalf("browse %s: %v", key, err)
		}
		list = page.Items
	}
	var out []conversation.ProductSummary
	for _, p := range list {
		out = append(out, conversation.ProductSummary{ID: p.ID, Name: p.Name, Country: p.Country, Kind: string(p.Type), InStock: p.InStock})
	}
	w.searches[key] = out
	return out
}

func (w *apiWorld) product(id string) (conversation.Product, bool) {
	if p, ok := w.products[id]; ok {
		return p, true
	}
	p, err := w.api.Product(w.ctx, id)
	if err != nil {
		return conversation.Product{}, false
	}
	cp := convert(p)
	w.products[id] = cp
	return cp, true
}

// convert is the shell's translation of a product (bot.product), kept
// independent here so a mistake there cannot hide one in the engine.
func convert(p bitrefill.Product) conversation.Product {
	out := conversation.Product{ID: p.ID, Name: p.Name, Kind: string(p.Type), Country: p.Country, Currency: p.Currency,
		InStock: p.InStock, NeedsPhone: p.NeedsPhoneNumber(), Coverage: p.Coverage}
	for _, pk := range p.Packages {
		cp := conversation.Package{ID: pk.ID, Label: pk.Value}
		if a, prob := conversation.ParseAmount(pk.Value, ""); prob == conversation.AmountOK {
			cp.Amount = a
		}
		if cp.ID == "" {
			cp.ID = p.ID + "<&>" + pk.Value
		}
		out.Packages = append(out.Packages, cp)
	}
	if r := p.Range; r != nil {
		lo, e1 := r.Min.Cents()
		hi, e2 := r.Max.Cents()
		st, e3 := r.Step.Cents()
		if e1 == nil && e2 == nil && e3 == nil && lo > 0 && hi >= lo && st >= 0 {
			out.Range = &conversation.Range{Min: conversation.Amount(lo), Max: conversation.Amount(hi), Step: conversation.Amount(st)}
		}
	}
	return out
}

// buyESIM makes an eSIM exist in the fake, for top-ups to name.
func (w *apiWorld) buyESIM(t *testing.T, fake *bitrefilltest.Fake) string {
	inv, err := w.api.CreateInvoice(w.ctx, bitrefill.InvoiceRequest{PaymentMethod: "bitcoin",
		Products: []bitrefill.InvoiceLine{{ProductID: "bitrefill-esim-europe", PackageID: "bitrefill-esim-europe<&>1GB, 7 Days"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.MarkPaid(inv.ID); err != nil {
		t.Fatal(err)
	}
	fake.Advance()
	snap, _ := fake.Invoice(inv.ID)
	if len(snap.Orders) != 1 || snap.Orders[0].ESIMID == "" || !strings.HasPrefix(snap.Orders[0].ESIMID, "89") {
		t.Fatalf("no eSIM delivered: %+v", snap)
	}
	return snap.Orders[0].ESIMID
}
