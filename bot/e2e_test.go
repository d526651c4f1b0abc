package bot_test

import (
	"bytes"
	"log/slog"
	"refillbot/bot"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
	"refillbot/conversation"
)

// A buyer searches, picks Amazon US, types 50, pays in Bitcoin (simulated by
// the sandbox) and gets the card's code; exactly one invoice is made.
func TestPurchaseDeliversCode(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.newUser(true)

	view, err := u.toInvoice()
	check(t, err)
	if view.PNG == nil || !bytes.HasPrefix(view.PNG, []byte("\x89PNG")) {
		t.Errorf("invoice view came without a QR image")
	}
	id := u.invoiceID()
	m := u.mark()
	check(t, u.press("Simulate payment"))
	secret, err := u.awaitSecret(m)
	check(t, err)

	codes := e.codes(id)
	for _, c := range codes {
		if !strings.Contains(secret.Text, c) {
			t.Errorf("delivery %q does not hold the code %s", secret.Text, c)
		}
	}
	if !strings.Contains(secret.Text, "Amazon US") {
		t.Errorf("delivery %q does not name the product", secret.Text)
	}
	if _, err := u.await(m, "All done"); err != nil {
		t.Error(err)
	}
	if n := e.count("POST", "/invoices"); n != 1 {
		t.Errorf("POST /invoices sent %d times, want 1", n)
	}
	if list := e.invoices(); len(list) != 1 || list[0].ID != id {
		t.Errorf("the fake holds %d invoices, want just %s", len(list), id)
	}
	if n := u.deliveries(); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	if tr := e.tracked(); len(tr) != 0 {
		t.Errorf("still tracking %d invoices after delivery", len(tr))
	}
}

// Every reply leaves only after the state it belongs to is durable: when the
// platform is asked to send, the stored session already issued the reply's
// tokens, holds the invoice it shows, and has forgotten what it delivered.
func TestPersistThenSend(t *testing.T) {
	// Interim messages sent at once, so that they are checked too.
	e := newEnv(t, envOptions{tune: sendInterimAtOnce})
	u := e.newUser(true)
	checked, menus := 0, 0
	e.plat.onSend(func(to conversation.Address, r conversation.Reply) {
		checked++
		st, found, err := e.store.Session(u.key)
		if err != nil || !found {
			t.Errorf("reply %q sent before its session was stored (found=%v, err=%v)", conversation.PlainText(r.Text), found, err)
			return
		}
		if len(r.Options) > 0 {
			menus++
		}
		for _, o := range r.Options {
			nonce, menu, idx, err := parseToken(o.Token)
			switch {
			case err != nil:
				t.Errorf("option %q: token %q: %v", o.Label, o.Token, err)
			case nonce != st.Nonce || menu != st.Menu || idx >= len(st.Actions):
				t.Errorf("option %q (menu %d, #%d) sent while the stored menu is %d with %d actions: state not committed first",
					o.Label, menu, idx, st.Menu, len(st.Actions))
			}
		}
		tracked, err := e.store.Tracked()
		if err != nil {
			t.Error(err)
			return
		}
		isTracked := func(id string) bool {
			return slices.ContainsFunc(tracked, func(ti bot.Tracked) bool { return ti.InvoiceID == id })
		}
		if r.QR != "" && !r.Secret { // the invoice view
			if st.Step != conversation.StepInvoice || st.Invoice == "" || !isTracked(st.Invoice) {
				t.Errorf("invoice view sent before its invoice was stored and tracked (step %q, invoice %q)", st.Step, st.Invoice)
			}
		}
		if r.Secret {
			if len(st.Purchases) != 0 || len(tracked) != 0 {
				t.Errorf("code sent while the purchase was still pending in the store (%d purchases, %d tracked)", len(st.Purchases), len(tracked))
			}
		}
	})
	_, err := u.purchase()
	check(t, err)
	if checked < 8 || menus < 4 {
		t.Errorf("only %d replies (%d menus) were checked", checked, menus)
	}
}

// A product card that takes a moment (well within the time the shell waits
// for it) does not hold the user's next word back: "/search" typed while it
// loads is answered at once, and the card, late for a screen the user has
// left, is dropped instead of arriving after the results as a dead menu.
func TestSearchWhileACardLoads(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products/amazon-us", Latency: 400 * time.Millisecond})
	u := e.newUser(true)
	m := u.mark()
	var wg sync.WaitGroup
	wg.Go(func() { u.handle(conversation.Command{Name: "buy", Args: "amazon-us"}) })
	_, err := u.await(m, "Loading")
	check(t, err)
	left := u.mark()
	u.handle(conversation.Command{Name: "search", Args: "amazon us"})
	_, err = u.await(left, "Results for")
	check(t, err)
	wg.Wait()
	e.bot.Wait()
	for _, r := range u.replies()[left:] {
		if strings.Contains(r.Text, "Values:") {
			t.Errorf("the card came after the user moved on: %q", r.Text)
		}
	}
	if st := u.state(); st.Step != conversation.StepResults {
		t.Errorf("the session is at step %q, want the results shown last", st.Step)
	}
	check(t, u.open("Amazon US", "50 USD"))
}

// One session's events are processed one at a time, in full, while other
// sessions go on in parallel: 30 searches typed at once into one chat each
// get their pair of replies, unmixed, and 20 other buyers all get their own
// codes.
func TestSessionOrdering(t *testing.T) {
	// Interim messages sent at once: each search's "Searching for …" shows
	// which query the results after it answer.
	e := newEnv(t, envOptions{tune: sendInterimAtOnce})
	// A little latency on every search makes the handlers overlap.
	e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products/search", Latency: 2 * time.Millisecond, Times: 100})

	hot := e.newUser(true)
	// Distinct queries that all find Amazon: the fake's search ignores case.
	queries := make([]string, 30)
	for i := range queries {
		q := []byte("amazon")
		for b := range q {
			if i&(1<<b) != 0 {
				q[b] -= 'a' - 'A'
			}
		}
		queries[i] = string(q)
	}
	type bought struct {
		u       *user
		invoice string
		secret  sent
		err     error
	}
	others := make([]*bought, 20)
	var wg sync.WaitGroup
	for _, q := range queries {
		wg.Go(func() { hot.say(q) })
	}
	for i := range others {
		b := &bought{u: e.newUser(true)}
		others[i] = b
		wg.Go(func() {
			if _, b.err = b.u.toInvoice(); b.err != nil {
				return
			}
			st, _, err := e.store.Session(b.u.key)
			if b.err = err; err != nil {
				return
			}
			b.invoice = st.Invoice
			m := b.u.mark()
			if b.err = b.u.press("Simulate payment"); b.err != nil {
				return
			}
			b.secret, b.err = b.u.awaitSecret(m)
		})
	}
	wg.Wait()

	replies := hot.replies()
	if len(replies) != 2*len(queries) {
		t.Fatalf("%d replies to %d searches, want %d", len(replies), len(queries), 2*len(queries))
	}
	seen := map[string]bool{}
	var last sent
	for i := 0; i < len(replies); i += 2 {
		a, b := replies[i], replies[i+1]
		q, ok := strings.CutPrefix(a.Text, "Searching for “")
		q, ok2 := strings.CutSuffix(q, "”…")
		if !ok || !ok2 {
			t.Fatalf("reply %d is %q, want a “Searching for” line", i, a.Text)
		}
		if !strings.HasPrefix(b.Text, "Results for “"+q+"”") {
			t.Fatalf("reply %d to search %q is %q: another event's reply came in between", i+1, q, b.Text)
		}
		if seen[q] {
			t.Fatalf("search %q answered twice", q)
		}
		seen[q] = true
		_, menu, _, err := parseToken(b.Reply.Options[0].Token)
		if err != nil || menu != i/2+1 {
			t.Fatalf("results %d carry menu %d (%v), want %d", i/2, menu, err, i/2+1)
		}
		last = b
	}
	st := hot.state()
	nonce, menu, _, _ := parseToken(last.Reply.Options[0].Token)
	lastQ := strings.TrimSuffix(strings.TrimPrefix(replies[len(replies)-2].Text, "Searching for “"), "”…")
	if st.Step != conversation.StepResults || st.Query != lastQ || st.Nonce != nonce || st.Menu != menu || len(st.Actions) != len(last.Reply.Options) {
		t.Errorf("stored session (step %q, query %q, menu %d, %d actions) is not what was shown last (query %q, menu %d, %d options)",
			st.Step, st.Query, st.Menu, len(st.Actions), lastQ, menu, len(last.Reply.Options))
	}

	codes := map[string]bool{}
	for i, b := range others {
		if b.err != nil {
			t.Errorf("buyer %d: %v", i, b.err)
			continue
		}
		for _, c := range e.codes(b.invoice) {
			if !strings.Contains(b.secret.Text, c) {
				t.Errorf("buyer %d got %q, not the code %s of their invoice", i, b.secret.Text, c)
			}
			codes[c] = true
		}
		if n := b.u.deliveries(); n != 1 {
			t.Errorf("buyer %d got %d deliveries, want 1", i, n)
		}
		if st := b.u.state(); len(st.Purchases) != 0 || st.Step != conversation.StepIdle {
			t.Errorf("buyer %d: stored step %q with %d purchases after delivery", i, st.Step, len(st.Purchases))
		}
	}
	if len(codes) != len(others) {
		t.Errorf("%d distinct codes for %d buyers", len(codes), len(others))
	}
	if n := e.count("POST", "/invoices"); n != len(others) {
		t.Errorf("POST /invoices sent %d times for %d buyers", n, len(others))
	}
	if tr := e.tracked(); len(tr) != 0 {
		t.Errorf("%d invoices still tracked", len(tr))
	}
}

// Creating an invoice can fail without telling whether it happened. The shell
// must never make a second invoice for one tap, and must not lose one that
// was made.
func TestAmbiguousInvoiceCreation(t *testing.T) {
	t.Run("created, answer lost", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		u := e.newUser(true)
		check(t, u.toConfirm())
		e.fake.InjectFault(bitrefilltest.Fault{Method: "POST", Path: "/invoices", Status: 500, AfterHandling: true})
		m := u.mark()
		check(t, u.press("Bitcoin"))
		if _, err := u.await(m, "Invoice for"); err != nil {
			t.Fatal(err)
		}
		for _, s := range u.replies()[m:] {
			if strings.Contains(s.Text, "could not") {
				t.Errorf("the user was told %q although the invoice exists", s.Text)
			}
		}
		if n := e.count("POST", "/invoices"); n != 1 {
			t.Errorf("POST /invoices sent %d times, want 1", n)
		}
		if n := e.count("GET", "/invoices"); n < 1 {
			t.Errorf("the shell did not look the invoice up")
		}
		list := e.invoices()
		if len(list) != 1 || list[0].ID != u.invoiceID() {
			t.Fatalf("the fake holds %d invoices; the user sees %s", len(list), u.invoiceID())
		}
		// It is the real invoice: paying it delivers.
		m = u.mark()
		check(t, u.press("Simulate payment"))
		secret, err := u.awaitSecret(m)
		check(t, err)
		if c := e.codes(list[0].ID)[0]; !strings.Contains(secret.Text, c) {
			t.Errorf("delivery %q lacks the code %s", secret.Text, c)
		}
	})

	t.Run("not created", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		u := e.newUser(true)
		check(t, u.toConfirm())
		e.fake.InjectFault(bitrefilltest.Fault{Method: "POST", Path: "/invoices", Status: 500})
		m := u.mark()
		check(t, u.press("Bitcoin"))
		sorry, err := u.await(m, "could not create the invoice")
		check(t, err)
		if strings.Contains(sorry.Text, "500") || strings.Contains(sorry.Text, "bitrefill") {
			t.Errorf("the user was shown detail: %q", sorry.Text)
		}
		menu, _ := u.menu()
		if !strings.Contains(menu.Text, "Confirm your order") || !strings.Contains(menu.Text, "Amazon US — 50 USD") {
			t.Errorf("after the failure the menu is %q, want the confirmation with the cart", menu.Text)
		}
		if n := e.count("POST", "/invoices"); n != 1 {
			t.Errorf("POST /invoices sent %d times for one tap", n)
		}
		if list := e.invoices(); len(list) != 0 {
			t.Fatalf("the fake holds %d invoices", len(list))
		}
		m = u.mark()
		check(t, u.press("Bitcoin"))
		if _, err := u.await(m, "Invoice for"); err != nil {
			t.Fatal(err)
		}
		if n := e.count("POST", "/invoices"); n != 2 {
			t.Errorf("POST /invoices sent %d times for two taps", n)
		}
		if list := e.invoices(); len(list) != 1 || list[0].ID != u.invoiceID() {
			t.Errorf("the fake holds %d invoices after the retry, want the one on screen", len(list))
		}
	})

	// Another buyer's identical invoice, made a moment earlier, looks just
	// like ours would. Adopting it would show one buyer the other's invoice
	// and take over its tracking, so the code would go to the wrong person.
	t.Run("another buyer's invoice is not adopted", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		alice, bob := e.newUser(true), e.newUser(true)
		_, err := alice.toInvoice()
		check(t, err)
		aliceInv := alice.invoiceID()
		check(t, bob.toConfirm())
		e.fake.InjectFault(bitrefilltest.Fault{Method: "POST", Path: "/invoices", Status: 500})
		m := bob.mark()
		check(t, bob.press("Bitcoin"))
		if _, err := bob.await(m, "could not create the invoice"); err != nil {
			t.Error(err)
		}
		if st := bob.state(); st.Invoice == aliceInv || len(st.Purchases) != 0 {
			t.Errorf("bob's session took alice's invoice %s (on screen %q, %d purchases)", aliceInv, st.Invoice, len(st.Purchases))
		}
		m = alice.mark()
		check(t, alice.press("Simulate payment"))
		if _, err := alice.awaitSecret(m); err != nil {
			t.Error(err)
		}
		for _, s := range bob.replies() {
			if s.Reply.Secret {
				t.Errorf("bob got alice's delivery: %q", s.Text)
			}
		}
	})
}

// The poller announces a paid invoice once, across ticks and restarts.
func TestPollerAnnouncesOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	if tr := e.tracked(); len(tr) != 1 || tr[0].InvoiceID != id || tr[0].Address != u.addr {
		t.Fatalf("tracked after the invoice: %+v", tr)
	}

	e.restart() // the poller must find the invoice in the store
	check(t, e.fake.MarkPaid(id))
	m := u.mark()
	for range 3 {
		e.bot.Poll(e.ctx)
	}
	secret, err := u.awaitSecret(m)
	check(t, err)
	if c := e.codes(id)[0]; !strings.Contains(secret.Text, c) {
		t.Errorf("delivery %q lacks the code %s", secret.Text, c)
	}
	if tr := e.tracked(); len(tr) != 0 {
		t.Errorf("still tracked after delivery: %+v", tr)
	}

	e.restart()
	e.bot.Poll(e.ctx)
	if n := u.deliveries(); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	if tr := e.tracked(); len(tr) != 0 {
		t.Errorf("tracked after restart: %+v", tr)
	}
}

// Codes are never posted where others can read them.
func TestSecretWithheldFromGroup(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, envOptions{logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	u := e.newUser(false)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	m := u.mark()
	check(t, u.press("Simulate payment"))
	// The note that follows the delivery in the same step: by now the
	// delivery was either sent or withheld.
	if _, err := u.await(m, "All done"); err != nil {
		t.Fatal(err)
	}
	if snap, _ := e.fake.Invoice(id); snap.Status != "complete" {
		t.Fatalf("invoice is %s, want complete", snap.Status)
	}
	codes := e.codes(id)
	for _, s := range e.plat.everything() {
		if s.Reply.Secret {
			t.Errorf("a secret reply went to chat %s (private=%v): %q", s.To.Chat, s.To.Private, s.Text)
		}
		for _, c := range codes {
			if strings.Contains(s.Text, c) {
				t.Errorf("the code %s was sent to chat %s", c, s.To.Chat)
			}
		}
	}
	if !strings.Contains(logs.String(), "withheld") {
		t.Errorf("withholding was not logged")
	}
}

// Failures reach the user as one plain sentence with a way forward.
func TestFailuresInPlainWords(t *testing.T) {
	t.Run("search unavailable", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		u := e.newUser(true)
		// One first attempt plus the client's default three retries.
		const attempts = 4
		e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products/search", Status: 503, Times: attempts})
		m := u.mark()
		u.say("amazon us")
		sorry, err := u.await(m, "I could not search right now")
		check(t, err)
		if strings.Contains(sorry.Text, "503") || strings.Contains(sorry.Text, "unavailable") {
			t.Errorf("the user was shown detail: %q", sorry.Text)
		}
		if n := e.count("GET", "/products/search"); n != attempts {
			t.Errorf("search sent %d times, want %d", n, attempts)
		}
		if _, ok := optionToken(sorry.Reply, "Try again"); !ok {
			t.Fatalf("no Try again in %q", labels(sorry.Reply))
		}
		m = u.mark()
		check(t, u.press("Try again"))
		res, err := u.await(m, "Results for “amazon us”")
		check(t, err)
		if _, ok := optionToken(res.Reply, "Amazon US"); !ok {
			t.Errorf("results after the retry lack Amazon US: %q", labels(res.Reply))
		}
	})

	t.Run("product gone", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		u := e.newUser(true)
		m := u.mark()
		u.say("amazon us")
		_, err := u.await(m, "Results for")
		check(t, err)
		e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products/amazon-us", Status: 404})
		m = u.mark()
		check(t, u.press("Amazon US"))
		if _, err := u.await(m, "no longer exists"); err != nil {
			t.Fatal(err)
		}
		// The results come back, so another pick is one tap away.
		menu, _ := u.menu()
		if !strings.HasPrefix(menu.Text, "Results for") {
			t.Errorf("after the failure the menu is %q, want the results", menu.Text)
		}
		m = u.mark()
		check(t, u.press("Amazon US"))
		if _, err := u.await(m, "Values:"); err != nil {
			t.Error(err)
		}
	})
}

// Redemption codes and API credentials never reach the logs, even at Debug,
// whichever way the code is delivered (a tap in the sandbox, the poller, or
// withheld from a group).
func TestNoSecretsInLogs(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, envOptions{logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	var codes []string
	tapper := e.newUser(true)
	secret, err := tapper.purchase()
	check(t, err)
	codes = append(codes, codeIn(t, secret))

	waiter := e.newUser(true)
	_, err = waiter.toInvoice()
	check(t, err)
	id := waiter.invoiceID()
	check(t, e.fake.MarkPaid(id))
	m := waiter.mark()
	e.bot.Poll(e.ctx)
	secret, err = waiter.awaitSecret(m)
	check(t, err)
	codes = append(codes, codeIn(t, secret))

	group := e.newUser(false)
	_, err = group.toInvoice()
	check(t, err)
	id = group.invoiceID()
	m = group.mark()
	check(t, group.press("Simulate payment"))
	_, err = group.await(m, "All done")
	check(t, err)
	codes = append(codes, e.codes(id)...)

	out := logs.String()
	if !strings.Contains(out, `"component":"bitrefill"`) || !strings.Contains(out, `"component":"bot"`) {
		t.Fatalf("the log is missing debug output from the shell or the client:\n%s", out)
	}
	for _, secret := range append(codes, "test-key", "Bearer") {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// codeIn takes the redemption code out of a delivery: the Code-styled span
// after "Code:".
func codeIn(t *testing.T, s sent) string {
	t.Helper()
	for i, sp := range s.Reply.Text {
		if sp.Style == conversation.Code && i > 0 && strings.HasSuffix(s.Reply.Text[i-1].Text, "Code: ") {
			return sp.Text
		}
	}
	t.Fatalf("no code in %q", s.Text)
	return ""
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sendInterimAtOnce turns the interim grace off: "Searching…" goes out
// before the search, as on a platform where every wait is real.
func sendInterimAtOnce(_ *env, cfg *bot.Config) { cfg.InterimGrace = -1 }
