package bot_test

import (
	"bytes"
	"strings"
	"testing"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/conversation"
)

// End-to-end tests of the complete conversation's effects through the real
// shell, store, client and fake: phone lookups, eSIM status and top-ups,
// balance payments, codes shown again, a new session's locale.

func (u *user) command(name, args string) { u.handle(conversation.Command{Name: name, Args: args}) }

// step says or presses something and waits for a reply containing want.
func (u *user) step(t *testing.T, do func(), want string) sent {
	t.Helper()
	m := u.mark()
	do()
	s, err := u.await(m, want)
	check(t, err)
	return s
}

func (u *user) tap(t *testing.T, label, want string) sent {
	t.Helper()
	return u.step(t, func() { check(t, u.press(label)) }, want)
}

func (u *user) text(t *testing.T, text, want string) sent {
	t.Helper()
	return u.step(t, func() { u.say(text) }, want)
}

// withEngine rebuilds the env's bot with other conversation settings.
func (e *env) withEngine(eng conversation.Engine) {
	e.tb.Helper()
	b, err := bot.New(bot.Config{
		API: e.api, Store: storeAdapter{e.store, e.commits, e.opts.marks}, Platforms: map[string]bot.Platform{platformName: e.plat},
		Engine: eng, Simulator: e.fake, Logger: e.logger,
	})
	if err != nil {
		e.tb.Fatal(err)
	}
	e.bot = b
}

// requestBody returns the bodies of the requests the fake got to path.
func (e *env) requestBodies(method, path string) []string {
	var out []string
	for _, r := range e.fake.Requests() {
		if r.Method == method && r.Path == "/v2"+path {
			out = append(out, string(r.Body))
		}
	}
	return out
}

func TestPhoneTopUpEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{inProcess: true})
	u := e.newUser(true)
	u.step(t, func() { u.command("phone", "") }, "Type the phone number")
	u.text(t, "12ab", "not a phone number")
	u.text(t, "+1 (555) 123-4567", "Which operator is +15551234567 with?")
	u.tap(t, "T-Mobile USA", "For phone number: +15551234567")
	u.text(t, "25", "Confirm your top-up")
	u.tap(t, "Bitcoin", "Invoice for T-Mobile USA")
	bodies := e.requestBodies("POST", "/invoices")
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"phone_number":"+15551234567"`) {
		t.Fatalf("invoice requests %q: want one carrying the phone number", bodies)
	}
	// A number no operator serves gets a clear answer.
	u.step(t, func() { u.command("phone", "") }, "Type the phone number")
	u.text(t, "+354 555 1234", "I found no operator for +3545551234")
}

func TestESIMTopUpEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{inProcess: true})
	u := e.newUser(true)
	u.text(t, "bitrefill esim europe", "Results for")
	u.tap(t, "Bitrefill eSIM Europe", "Works in:")
	u.tap(t, "1GB, 7 Days", "Confirm your order")
	u.tap(t, "Bitcoin", "Invoice for")
	m := u.mark()
	check(t, u.press("Simulate payment"))
	if _, err := u.awaitSecret(m); err != nil {
		t.Fatal(err)
	}
	list, err := e.api.ESIMs(e.ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("eSIMs in the account: %v %v", list, err)
	}
	iccid := list[0].ID

	// The ICCID can be found again in the order history.
	u.step(t, func() { u.command("orders", "") }, "Your orders")
	u.tap(t, "Bitrefill eSIM Europe", "Status: complete")
	u.tap(t, "Show codes again", "Codes are money")
	shown := u.tap(t, "Yes, show them", "eSIM ICCID: "+iccid)
	if !shown.Reply.Secret {
		t.Error("codes shown again without the Secret mark")
	}

	u.step(t, func() { u.command("esim", iccid) }, "1GB, 7 Days — active")
	u.step(t, func() { u.command("topup", iccid+" bitrefill-esim-europe<&>3GB, 30 Days") }, "Confirm your eSIM top-up")
	u.tap(t, "Lightning", "Invoice for")
	bodies := e.requestBodies("POST", "/invoices")
	if last := bodies[len(bodies)-1]; !strings.Contains(last, `"esim_id":"`+iccid+`"`) {
		t.Fatalf("top-up request %s does not name the eSIM", last)
	}
	m = u.mark()
	check(t, u.press("Simulate payment"))
	if _, err := u.awaitSecret(m); err != nil {
		t.Fatal(err)
	}
	es, err := e.api.ESIM(e.ctx, iccid)
	if err != nil || len(es.Packages) != 2 || es.Packages[1].Name != "3GB, 30 Days" {
		t.Fatalf("after the top-up the eSIM has %+v (%v), want a second bundle", es.Packages, err)
	}
	u.step(t, func() { u.command("esim", iccid) }, "3GB, 30 Days — active")
	u.step(t, func() { u.command("esim", "8900000000000000012") }, "last digit does not match")
}

func TestBalancePaymentEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{inProcess: true})
	u := e.newUser(true)
	stranger := e.newUser(true)
	e.withEngine(conversation.Engine{
		Methods: []string{bitrefill.PayBitcoin, bitrefill.PayLightning}, Sandbox: true,
		Balance: conversation.BalancePolicy{Users: map[string]bool{u.key.String(): true}, DailyCap: 6000},
	})

	// Users the operator did not list never see the balance.
	stranger.text(t, "netflix us", "Results for")
	stranger.tap(t, "Netflix US", "Values:")
	if c := stranger.tap(t, "25 USD", "Confirm your order"); strings.Contains(strings.Join(labels(c.Reply), " "), "balance") {
		t.Fatalf("balance offered to an unlisted user: %q", labels(c.Reply))
	}

	u.text(t, "netflix us", "Results for")
	u.tap(t, "Netflix US", "Values:")
	u.tap(t, "25 USD", "Confirm your order")
	u.tap(t, "Account balance", "Cost: 25 USD")
	if b := e.fake.Balance(); b != "100.00" {
		t.Fatalf("balance %s moved before the user said yes", b)
	}
	m := u.mark()
	check(t, u.press("Pay 25 USD"))
	if _, err := u.awaitSecret(m); err != nil {
		t.Fatal(err)
	}
	if b := e.fake.Balance(); b != "75.00" {
		t.Errorf("balance after paying 25: %s", b)
	}

	// Over the daily cap: refused before any invoice is made.
	posts := len(e.requestBodies("POST", "/invoices"))
	u.text(t, "netflix us", "Results for")
	u.tap(t, "Netflix US", "Values:")
	u.tap(t, "50 USD", "Confirm your order")
	u.tap(t, "Account balance", "over your daily balance limit")
	if n := len(e.requestBodies("POST", "/invoices")); n != posts {
		t.Errorf("an invoice was created over the cap")
	}

	// The account cannot pay: said in plain words, nothing counted.
	e.fake.SetBalance("1.00")
	u.step(t, func() { u.command("search", "netflix us") }, "Results for")
	u.tap(t, "Netflix US", "Values:")
	u.tap(t, "25 USD", "Confirm your order")
	u.tap(t, "Account balance", "Cost: 25 USD")
	u.tap(t, "Pay 25 USD", "balance is too low")
}

func TestNewSessionSpeaksTheLocale(t *testing.T) {
	e := newEnv(t, envOptions{inProcess: true})
	u := e.newUser(true)
	m := u.mark()
	e.bot.Handle(e.ctx, bot.Incoming{Key: u.key, Address: u.addr, Event: conversation.Start{}, Locale: "es-MX"})
	s, err := u.await(m, "¿Estás en México?")
	check(t, err)
	if !bytes.Contains([]byte(strings.Join(labels(s.Reply), " ")), []byte("Tarjetas regalo")) {
		t.Errorf("options not in Spanish: %q", labels(s.Reply))
	}
	if st := u.state(); st.Lang != "es" || st.CountryGuess != "MX" || st.User != u.key.String() {
		t.Errorf("new session: lang %q guess %q user %q", st.Lang, st.CountryGuess, st.User)
	}
}

// Several products of different kinds and quantities make one invoice.
func TestCartOneInvoiceEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{inProcess: true})
	u := e.newUser(true)
	u.text(t, "netflix us", "Results for")
	u.tap(t, "Netflix US", "Values:")
	u.tap(t, "25 USD", "Confirm your order")
	u.tap(t, "Add to cart", "Your cart")
	u.tap(t, "1. Netflix US", "Quantity: 1")
	u.text(t, "3", "× 3")
	u.text(t, "comed", "Results for")
	u.tap(t, "ComEd", "Any amount")
	u.text(t, "42.10", "Confirm your order")
	u.tap(t, "Add to cart", "Total: 117.10 USD")
	u.step(t, func() { u.command("phone", "") }, "Type the phone number")
	u.text(t, "+1 555 123 4567", "Which operator")
	u.tap(t, "AT&T USA", "For phone number")
	u.tap(t, "25 USD", "Confirm your top-up")
	u.tap(t, "Add to cart", "Total: 142.10 USD")
	u.tap(t, "Check out", "One invoice pays for everything")
	m := u.mark()
	check(t, u.press("Bitcoin"))
	if _, err := u.await(m, "Invoice for"); err != nil {
		t.Fatal(err)
	}
	list := e.invoices()
	if len(list) != 1 || len(list[0].Orders) != 5 {
		t.Fatalf("want one invoice with 5 orders, got %d invoices", len(list))
	}
	if st := u.state(); len(st.Cart) != 0 {
		t.Errorf("cart not emptied after checkout: %+v", st.Cart)
	}
}
