package conversation

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata transcripts with the engine's current output")

// A transcript is a conversation replayed through the engine. Lines starting
// with "> " are the user (text, /commands, or [Label] to press a button of the
// latest menu, [old:Label] to press one from the menu before it), lines
// starting with "@" steer the simulated world, and every other line is what
// the bot showed — regenerated on each run and compared, so a behaviour
// change shows up as a reviewable diff (go test ./conversation -update).
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := replay(t, string(raw))
			if *update {
				if err := os.WriteFile(f, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(raw) {
				t.Errorf("transcript differs (run go test ./conversation -update and review the diff):\n%s", diff(string(raw), got))
			}
		})
	}
}

// world answers the engine's effects the way the shell and Bitrefill would.
type world struct {
	t        *testing.T
	eng      Engine
	s        State
	now      time.Time
	out      strings.Builder
	menus    [][]Option // every menu shown, newest last
	fail     map[string]ErrorKind
	invoices map[string]Invoice
	created  map[string]string // checkout -> invoice id
	lastInv  string
	tracked  map[string]bool
}

var fixture = []Product{
	{ID: "amazon-us", Name: "Amazon US", Kind: KindGiftCard, Country: "US", Currency: "USD", InStock: true,
		Packages: []Package{{ID: "amazon-us<&>25", Label: "25", Amount: 2500}, {ID: "amazon-us<&>50", Label: "50", Amount: 5000}, {ID: "amazon-us<&>100", Label: "100", Amount: 10000}},
		Range:    &Range{Min: 1000, Max: 20000, Step: 100}},
	{ID: "amazon-de", Name: "Amazon Germany", Kind: KindGiftCard, Country: "DE", Currency: "EUR", InStock: true,
		Range: &Range{Min: 1000, Max: 20000, Step: 500}},
	{ID: "netflix-us", Name: "Netflix US", Kind: KindGiftCard, Country: "US", Currency: "USD", InStock: true,
		Packages: []Package{{ID: "netflix-us<&>25", Label: "25", Amount: 2500}, {ID: "netflix-us<&>50", Label: "50", Amount: 5000}}},
	{ID: "steam-us", Name: "Steam US", Kind: KindGiftCard, Country: "US", Currency: "USD", InStock: false,
		Packages: []Package{{ID: "steam-us<&>20", Label: "20", Amount: 2000}}},
	{ID: "bitrefill-esim-europe", Name: "Bitrefill eSIM Europe", Kind: KindESIM, Currency: "USD", InStock: true,
		Packages: []Package{{ID: "bitrefill-esim-europe<&>1GB, 7 Days", Label: "1GB, 7 Days", Price: 450}, {ID: "bitrefill-esim-europe<&>5GB, 30 Days", Label: "5GB, 30 Days", Price: 1600}}},
	{ID: "at-t-usa", Name: "AT&T USA", Kind: KindPhoneRefill, Country: "US", Currency: "USD", InStock: true, NeedsPhone: true,
		Packages: []Package{{ID: "at-t-usa<&>25", Label: "25", Amount: 2500}}},
}

func init() {
	// Enough gift cards that "card" needs two pages of results.
	for i := 1; i <= 10; i++ {
		fixture = append(fixture, Product{ID: fmt.Sprintf("card-%02d", i), Name: fmt.Sprintf("Card Shop %02d", i), Kind: KindGiftCard,
			Country: "FR", Currency: "EUR", InStock: true, Packages: []Package{{ID: fmt.Sprintf("card-%02d<&>10", i), Label: "10", Amount: 1000}}})
	}
}

func findFixture(id string) (Product, bool) {
	for _, p := range fixture {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

func replay(t *testing.T, script string) string {
	w := &world{
		t:        t,
		eng:      Engine{Methods: []string{"bitcoin", "lightning"}, Sandbox: true},
		s:        State{V: SchemaVersion, Profile: Profile{Nonce: "n0"}},
		now:      time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		fail:     map[string]ErrorKind{},
		invoices: map[string]Invoice{},
		created:  map[string]string{},
		tracked:  map[string]bool{},
	}
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "> "):
			w.out.WriteString(line + "\n")
			w.user(strings.TrimPrefix(line, "> "))
		case strings.HasPrefix(line, "@"):
			w.out.WriteString(line + "\n")
			w.steer(strings.Fields(strings.TrimPrefix(line, "@")))
		case strings.HasPrefix(line, "#"):
			w.out.WriteString(line + "\n")
		}
	}
	return w.out.String()
}

func (w *world) user(in string) {
	switch {
	case strings.HasPrefix(in, "[old:") && strings.HasSuffix(in, "]"):
		// The newest earlier menu that had this option.
		label := strings.TrimSuffix(strings.TrimPrefix(in, "[old:"), "]")
		for i := len(w.menus) - 2; i >= 0; i-- {
			for _, o := range w.menus[i] {
				if o.Label == label {
					w.step(Chose{Token: o.Token})
					return
				}
			}
		}
		w.t.Fatalf("no older menu with %q", label)
	case strings.HasPrefix(in, "[") && strings.HasSuffix(in, "]"):
		if len(w.menus) == 0 {
			w.t.Fatalf("no menu for %q", in)
		}
		w.press(w.menus[len(w.menus)-1], strings.TrimSuffix(strings.TrimPrefix(in, "["), "]"))
	case in == "/start" || strings.HasPrefix(in, "/start "):
		w.step(Start{Payload: strings.TrimSpace(strings.TrimPrefix(in, "/start"))})
	case strings.HasPrefix(in, "/"):
		name, args, _ := strings.Cut(strings.TrimPrefix(in, "/"), " ")
		w.step(Command{Name: name, Args: args})
	case in == `""`:
		w.step(Text{Text: ""})
	default:
		w.step(Text{Text: in})
	}
}

func (w *world) press(menu []Option, label string) {
	for _, o := range menu {
		if o.Label == label {
			w.step(Chose{Token: o.Token})
			return
		}
	}
	w.t.Fatalf("no option %q in menu %v", label, menu)
}

// steer: "@fail op kind" (kind "hang": the effect never reports back), "@pay" (invoice paid, confirmed and delivered),
// "@status s [orderStatus]" (the current invoice moves to s), "@wait 90m", "@foreign" (a token from another session).
// "@locale es-MX" (a new session from that locale), "@balance 50"
// (this user may pay up to 50 USD a day from the balance), "@idle 30m",
// "@own ICCID product name…" (an eSIM the user bought).
func (w *world) steer(args []string) {
	if len(args) == 0 {
		w.t.Fatal("empty @ line")
	}
	switch args[0] {
	case "fail":
		w.fail[args[1]] = ErrorKind(args[2])
	case "wait":
		d, err := time.ParseDuration(args[1])
		if err != nil {
			w.t.Fatal(err)
		}
		w.now = w.now.Add(d)
	case "status":
		inv := w.invoices[w.lastInv]
		inv.Status = args[1]
		for i := range inv.Orders {
			if len(args) > 2 {
				inv.Orders[i].Status = args[2]
			}
			if inv.Orders[i].Status == OrderDelivered {
				inv.Orders[i].Redemption = redemptionFor(inv.Orders[i])
			}
		}
		w.invoices[inv.ID] = inv
		w.step(InvoiceUpdated{Invoice: inv})
	case "foreign":
		w.step(Chose{Token: "zz.1.0"})
	case "locale":
		w.s = NewState(SessionKey{Platform: "test", User: "u1"}, "n0", args[1])
	case "user":
		w.s.User = "test:u1"
	case "balance":
		a, prob := ParseAmount(args[1], "")
		if prob != AmountOK {
			w.t.Fatalf("@balance %s: %s", args[1], prob)
		}
		w.eng.Balance = BalancePolicy{Users: map[string]bool{"test:u1": true}, DailyCap: a}
	case "idle":
		d, err := time.ParseDuration(args[1])
		if err != nil {
			w.t.Fatal(err)
		}
		w.eng.IdleAfter = d
	case "own":
		w.s.ESIMs = append(w.s.ESIMs, OwnedESIM{ICCID: args[1], Product: args[2], Name: strings.Join(args[3:], " ")})
	default:
		w.t.Fatalf("unknown @%s", args[0])
	}
}

func redemptionFor(o Order) *Redemption {
	switch {
	case strings.HasPrefix(o.Product, "Bitrefill eSIM"):
		return &Redemption{BarcodeValue: "LPA:1$smdp.example$MATCH-1", PIN: "1234", Instructions: "Scan the QR code in Settings > Mobile data."}
	case strings.HasPrefix(o.Product, "Netflix"):
		return &Redemption{Link: "https://redeem.example/nf?c=1&d=<2>"}
	default:
		return &Redemption{Code: "ABCD-EFGH-IJKL", PIN: "0042", Expires: "2027-11-24", Extra: []Field{{Name: "serial", Value: "S-1"}}}
	}
}

func (w *world) step(ev Event) {
	queue := []Event{ev}
	for len(queue) > 0 && len(queue) < 50 {
		ev, queue = queue[0], queue[1:]
		var effs []Effect
		w.s, effs = w.eng.Step(w.s, ev, w.now)
		for _, e := range effs {
			if next := w.effect(e); next != nil {
				queue = append(queue, next)
			}
		}
	}
}

func (w *world) failure(op string) Event {
	if k, ok := w.fail[op]; ok {
		delete(w.fail, op)
		w.out.WriteString("   ! " + op + " fails: " + string(k) + "\n")
		return Failed{Op: op, Kind: k, RetryAfter: 30 * time.Second}
	}
	return nil
}

func (w *world) effect(e Effect) Event {
	switch e := e.(type) {
	case Reply:
		w.checkReply(e)
		w.out.WriteString(render(e))
		if len(e.Options) > 0 {
			w.menus = append(w.menus, e.Options)
		}
	case SearchProducts:
		w.out.WriteString("   = search " + e.Query + searchFilters(e) + "\n")
		if f := w.failure(OpSearch); f != nil {
			return f
		}
		return ProductsFound{Query: e.Query, Products: w.search(e)}
	case LoadProduct:
		w.out.WriteString("   = load " + e.ID + "\n")
		if f := w.failure(OpLoadProduct); f != nil {
			return f
		}
		p, ok := findFixture(e.ID)
		if !ok {
			return Failed{Op: OpLoadProduct, Kind: ErrNotFound}
		}
		return ProductLoaded{Product: p}
	case CreateInvoice:
		var lines []string
		for _, l := range e.Lines {
			if l.PackageID != "" {
				lines = append(lines, fmt.Sprintf("%s package=%q x%d%s", l.ProductID, l.PackageID, l.Quantity, lineTargets(l)))
			} else {
				lines = append(lines, fmt.Sprintf("%s value=%s x%d%s", l.ProductID, l.Value, l.Quantity, lineTargets(l)))
			}
		}
		w.out.WriteString(fmt.Sprintf("   = create invoice %s via %s (checkout %s)\n", strings.Join(lines, ", "), e.Method, e.Checkout))
		if _, dup := w.created[e.Checkout]; dup {
			w.t.Errorf("second invoice for checkout %s", e.Checkout)
		}
		if w.fail[OpCreateInvoice] == "hang" {
			delete(w.fail, OpCreateInvoice)
			w.out.WriteString("   ! create_invoice never answers\n")
			return nil
		}
		if f := w.failure(OpCreateInvoice); f != nil {
			return f
		}
		id := fmt.Sprintf("inv%05d-0000-4000-8000-000000000000", len(w.invoices)+1)
		w.created[e.Checkout] = id
		inv := Invoice{ID: id, Status: StatusUnpaid, Method: e.Method, Expires: w.now.Add(3 * time.Hour), Price: "0.00061234", PriceCurrency: "BTC",
			Address: "bc1qsandbox0000000000000000000000000000", PaymentURI: "bitcoin:bc1qsandbox0000000000000000000000000000?amount=0.00061234"}
		if e.Method == "lightning" {
			inv.Address, inv.PaymentURI, inv.Price, inv.PriceCurrency = "", "lightning:lnbcsandbox1", "61234", "sats"
		}
		if e.Method == "balance" {
			inv.Address, inv.PaymentURI, inv.Price, inv.PriceCurrency = "", "", w.balancePrice(e.Lines), "USD"
		}
		for i, l := range e.Lines {
			p, _ := findFixture(l.ProductID)
			val := l.Value.String()
			for _, pk := range p.Packages {
				if pk.ID == l.PackageID {
					val = pk.Label
				}
			}
			for q := 0; q < l.Quantity; q++ {
				inv.Orders = append(inv.Orders, Order{ID: fmt.Sprintf("ord%d%d", i, q), Status: OrderCreated, Product: p.Name, Value: val, Currency: p.Currency, ESIM: l.ESIMID})
			}
		}
		w.invoices[id], w.lastInv = inv, id
		return InvoiceCreated{Checkout: e.Checkout, Invoice: inv}
	case TrackInvoice:
		if e.Untrack {
			w.out.WriteString("   = untrack " + shortID(e.InvoiceID) + "\n")
		} else {
			w.out.WriteString("   = track " + shortID(e.InvoiceID) + "\n")
		}
		w.tracked[e.InvoiceID] = !e.Untrack
	case RefreshInvoice:
		w.out.WriteString("   = refresh " + shortID(e.InvoiceID) + "\n")
		if f := w.failure(OpRefreshInvoice); f != nil {
			return f
		}
		return InvoiceUpdated{Invoice: w.invoices[e.InvoiceID], Requested: true, Reveal: e.Reveal}
	case SimulatePayment:
		w.out.WriteString("   = simulate payment " + shortID(e.InvoiceID) + "\n")
		if f := w.failure(OpSimulatePayment); f != nil {
			return f
		}
		return w.detected(e.InvoiceID)
	case CheckPhone:
		w.out.WriteString("   = check phone " + e.Number + " (country " + orDash(e.Country) + ")\n")
		if f := w.failure(OpCheckPhone); f != nil {
			return f
		}
		switch {
		case strings.HasPrefix(e.Number, "+1"):
			return PhoneChecked{Number: e.Number, Operators: w.search(SearchProducts{Kind: KindPhoneRefill, Country: "US"})}
		case strings.HasPrefix(e.Number, "+52"):
			p, _ := findFixture("claro-mx")
			return PhoneChecked{Number: e.Number, Found: true, Product: p}
		}
		return Failed{Op: OpCheckPhone, Kind: ErrNotFound}
	case LoadESIM:
		w.out.WriteString("   = load esim " + e.ICCID + "\n")
		if f := w.failure(OpLoadESIM); f != nil {
			return f
		}
		if es, ok := worldESIMs[e.ICCID]; ok {
			return ESIMLoaded{ESIM: es}
		}
		return Failed{Op: OpLoadESIM, Kind: ErrNotFound}
	case PayInvoice:
		w.out.WriteString("   = pay invoice " + shortID(e.InvoiceID) + " from the balance\n")
		if f := w.failure(OpPay); f != nil {
			return f
		}
		// Bitrefill first reports a balance payment as detected, as the
		// terminal chat showed: the reply must not talk of a network.
		return w.detected(e.InvoiceID)
	default:
		w.t.Fatalf("unexpected effect %T", e)
	}
	return nil
}

// detected moves an invoice to "payment detected".
func (w *world) detected(id string) Event {
	inv := w.invoices[id]
	inv.Status = StatusPaymentDetected
	w.invoices[inv.ID] = inv
	return InvoiceUpdated{Invoice: inv}
}

// render shows a reply the way a plain terminal would, with markup visible.
func render(r Reply) string {
	var b strings.Builder
	var body strings.Builder
	for _, s := range r.Text {
		switch s.Style {
		case Bold:
			body.WriteString("*" + s.Text + "*")
		case Code:
			body.WriteString("`" + s.Text + "`")
		case Italic:
			body.WriteString("_" + s.Text + "_")
		default:
			body.WriteString(s.Text)
		}
	}
	for _, l := range strings.Split(body.String(), "\n") {
		b.WriteString("   " + l + "\n")
	}
	if len(r.Options) > 0 {
		b.WriteString("   ")
		for i, o := range r.Options {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString("[" + o.Label + "]")
		}
		b.WriteString("\n")
	}
	var tags []string
	if r.Expect != ExpectNothing {
		tags = append(tags, "expects "+string(r.Expect))
	}
	if r.QR != "" {
		tags = append(tags, "QR "+r.QR)
	}
	if r.Secret {
		tags = append(tags, "secret")
	}
	if len(tags) > 0 {
		b.WriteString("   (" + strings.Join(tags, "; ") + ")\n")
	}
	return b.String()
}

// diff shows the first differing lines; transcripts are short enough for that.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var a, b string
		if i < len(wl) {
			a = wl[i]
		}
		if i < len(gl) {
			b = gl[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, a, b)
		}
	}
	return "(equal)"
}
