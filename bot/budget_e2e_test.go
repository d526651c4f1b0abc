package bot_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/conversation"
)

// budgetSpeedup runs Bitrefill's documented limits this many times faster,
// in the fake and in the client alike, so the test sees their shape (60
// general requests per 10 minutes becomes 60 per 6 s) without waiting. At
// 100 the bot has several times the CPU a purchase needs even under the race
// detector, so the budget, not the machine, sets the pace.
const budgetSpeedup = 100

// budgetClient is the client at the documented limits, sped up, with the
// margin for network jitter scaled alike (2 s becomes 20 ms).
func budgetClient(c *bitrefill.Config) {
	c.Limits = bitrefill.DefaultLimits().Faster(budgetSpeedup)
	c.LimitMargin = bitrefill.DefaultLimitMargin / budgetSpeedup
}

// Two hundred gift cards bought through the bot from a Bitrefill enforcing
// its documented limits, delivery by webhook: all delivered, no 429 from
// Bitrefill and no rate-limit message to a user (checkouts wait their turn
// in the budget instead), and each checkout makes exactly one invoice. A
// purchase costs its invoice and a share of a GET /orders list call: the
// paid fetches give way to queued checkouts for a bounded time, and share
// one request.
func TestTwoHundredPurchasesInsideTheDocumentedLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("about 25 s of purchases")
	}
	// When each order list call left: a paid code's wait for the budget is
	// from its webhook to the first list call after it (which takes in
	// every invoice queued by then), apart from the test machine's own work.
	var listMu sync.Mutex
	var listSent []time.Time
	e := newEnv(t, envOptions{
		inProcess: true,
		fake:      &bitrefilltest.Options{Limits: bitrefilltest.FasterLimits(bitrefilltest.DocumentedLimits(), budgetSpeedup)},
		client: func(c *bitrefill.Config) {
			budgetClient(c)
			inner := c.HTTPClient.Transport
			c.HTTPClient = &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
				if r.Method == http.MethodGet && r.URL.Path == "/v2/orders" {
					listMu.Lock()
					listSent = append(listSent, time.Now())
					listMu.Unlock()
				}
				return inner.RoundTrip(r)
			})}
		},
		tune: withSecret,
	})
	h := e.bot.WebhookHandler(e.ctx)
	// Twenty buyers at once, ten purchases each: invoices are created while
	// other buyers' codes are being fetched, as in a busy shop. (With ten,
	// too many of them are waiting for a code at a time to keep the budget
	// in use: a shop at the limit has more buyers than that.)
	const buyers, each = 20, 10
	const purchases = buyers * each
	users := make([]*user, purchases)
	for i := range users {
		users[i] = e.newUser(true)
	}
	waits := make([]time.Duration, purchases) // webhook to code
	paidAt := make([]time.Time, purchases)
	start := time.Now()
	var wg sync.WaitGroup
	for b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				u := users[b*each+k]
				if _, err := u.toInvoice(); err != nil {
					t.Errorf("purchase %s: %v", u.key.User, err)
					return
				}
				id := u.invoiceID()
				m := u.mark()
				if err := e.fake.MarkPaid(id); err != nil {
					t.Error(err)
					return
				}
				paid := time.Now()
				paidAt[b*each+k] = paid
				if code := post(h, bot.WebhookPath+secret, finalWebhook(t, e.fake, id)); code != 200 {
					t.Errorf("webhook: %d", code)
					return
				}
				if _, err := u.awaitSecret(m); err != nil {
					t.Errorf("purchase %s not delivered: %v", u.key.User, err)
					return
				}
				waits[b*each+k] = time.Since(paid)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	e.bot.Wait()

	if got := e.fake.RateLimited(); len(got) != 0 {
		t.Errorf("Bitrefill answered 429 %d times, first to %s", len(got), got[0].Endpoint())
	}
	for _, u := range users {
		for _, s := range u.replies() {
			if txt := strings.ToLower(conversation.PlainText(s.Reply.Text)); strings.Contains(txt, "request limit") || strings.Contains(txt, "too many requests") {
				t.Fatalf("a user was told %q", txt)
			}
		}
		if n := u.deliveries(); n != 1 {
			t.Errorf("user %s got %d deliveries, want 1", u.key.User, n)
		}
	}
	counts := e.fake.Counts()
	if n := counts["POST /invoices"]; n != purchases {
		t.Errorf("%d invoices for %d checkouts", n, purchases)
	}
	// What a purchase may cost beyond its invoice: no invoice fetch (the
	// webhook is not confirmed), no order fetched alone, list calls of one
	// page (the paid invoices are the newest orders), and on average at
	// least three invoices a list call.
	pages := 0
	for _, r := range e.fake.Requests() {
		if q, _ := url.ParseQuery(r.RawQuery); r.Endpoint() == "GET /orders" && q.Get("start") != "" && q.Get("start") != "0" {
			pages++
		}
	}
	lists := counts["GET /orders"]
	if counts["GET /invoices/{id}"] != 0 || counts["GET /orders/{id}"] != 0 || pages != 0 || lists > purchases/3 {
		t.Errorf("%d invoice fetches, %d single orders, %d list calls (%d past the first page) for %d purchases; want 0, 0, at most %d, 0",
			counts["GET /invoices/{id}"], counts["GET /orders/{id}"], lists, pages, purchases, purchases/3)
	}
	general := 0
	for ep, n := range counts {
		if bitrefill.ClassOf(strings.SplitN(ep, " ", 2)[0], strings.SplitN(ep, " ", 2)[1]) == bitrefill.ClassGeneral {
			general += n
		}
	}
	real := func(d time.Duration) time.Duration { return (d * budgetSpeedup).Round(time.Second) }
	slices.Sort(waits)
	fetchWaits := make([]time.Duration, purchases)
	for i, at := range paidAt {
		j, _ := slices.BinarySearchFunc(listSent, at, func(a, t time.Time) int { return a.Compare(t) })
		if j < len(listSent) {
			fetchWaits[i] = listSent[j].Sub(at)
		}
	}
	slices.Sort(fetchWaits)
	per10 := float64(purchases) / (float64(elapsed) * budgetSpeedup / float64(10*time.Minute))
	t.Logf("%d purchases in %v (%v at the documented limits): %.1f purchases per 10 minutes; %.2f general requests per purchase (%.1f invoices a list call); "+
		"at the documented limits, paid to its order fetch sent: p50 %v, p99 %v, max %v; paid to code in the chat (with this machine's delivery work, also ×%d): p50 %v, p99 %v, max %v; all requests: %v",
		purchases, elapsed.Round(time.Millisecond), real(elapsed), per10, float64(general)/purchases, float64(purchases)/float64(max(lists, 1)),
		real(fetchWaits[purchases/2]), real(fetchWaits[purchases*99/100]), real(fetchWaits[purchases-1]), budgetSpeedup,
		real(waits[purchases/2]), real(waits[purchases*99/100]), real(waits[purchases-1]), counts)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// finalWebhook is the body Bitrefill posts when an invoice is final: the
// invoice object, read from the fake's state without spending a request.
func finalWebhook(t *testing.T, f *bitrefilltest.Fake, id string) string {
	t.Helper()
	snap, ok := f.Invoice(id)
	if !ok {
		t.Fatalf("invoice %s unknown", id)
	}
	type order struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	body := struct {
		ID      string    `json:"id"`
		Created time.Time `json:"created_time"`
		Status  string    `json:"status"`
		Orders  []order   `json:"orders"`
	}{ID: id, Created: snap.Created, Status: snap.Status}
	for _, o := range snap.Orders {
		body.Orders = append(body.Orders, order{o.ID, o.Status})
	}
	b, err := json.Marshal(body)
	check(t, err)
	return string(b)
}

// A checkout whose turn in the budget is minutes away waits for it instead
// of failing: the buyer is told about how long, the invoice appears in the
// chat when its turn comes, once; a buyer who cancels meanwhile gets none.
func TestCheckoutWaitsItsTurn(t *testing.T) {
	clk := newHandClock(time.Now())
	e := newEnv(t, envOptions{
		inProcess: true,
		client: func(c *bitrefill.Config) {
			c.Clock, c.Limits = clk, bitrefill.Limits{bitrefill.ClassGeneral: {{N: 1, Per: 10 * time.Minute}}}
		},
	})
	first := e.newUser(true)
	_, err := first.toInvoice() // spends the budget
	check(t, err)

	patient, quitter := e.newUser(true), e.newUser(true)
	for i, u := range []*user{patient, quitter} {
		check(t, u.toConfirm())
		m := u.mark()
		check(t, u.press("Bitcoin"))
		// One request per 10.2 minutes: the second in the queue waits twice as long.
		if _, err := u.await(m, []string{"waits its turn: about 11 minutes", "waits its turn: about 21 minutes"}[i]); err != nil {
			t.Fatal(err)
		}
	}
	m := quitter.mark()
	check(t, quitter.press("Cancel"))
	if _, err := quitter.await(m, ""); err != nil {
		t.Fatal(err)
	}
	if n := e.count("POST", "/invoices"); n != 1 {
		t.Fatalf("%d invoices before the turn came, want 1", n)
	}

	m = patient.mark()
	clk.Set(clk.Now().Add(11 * time.Minute))
	if _, err := patient.await(m, "Invoice for"); err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(30 * time.Minute)) // the quitter's turn too
	e.bot.Wait()
	if n := e.count("POST", "/invoices"); n != 2 {
		t.Errorf("%d invoices, want 2: the patient buyer's once, none for the one who cancelled", n)
	}
	for _, s := range quitter.replies() {
		if strings.Contains(s.Text, "Invoice for") {
			t.Errorf("the buyer who cancelled was shown an invoice: %q", s.Text)
		}
	}
}

// budgetAt is a shell whose Bitrefill budget is the documented general one
// (60 per 10 minutes; the product classes left unlimited, so browsing does
// not wait on the hand-moved clock), run on clk, as is the bot, with
// webhooks.
func budgetAt(t *testing.T, clk *handClock) *env {
	t.Helper()
	return newEnv(t, envOptions{
		inProcess: true,
		client: func(c *bitrefill.Config) {
			c.Clock = clk
			c.Limits = bitrefill.Limits{bitrefill.ClassGeneral: bitrefill.DefaultLimits()[bitrefill.ClassGeneral]}
		},
		tune: func(e *env, c *bot.Config) { withSecret(e, c); c.Now = clk.Now },
	})
}

// With the budget to spare, a paid buyer's code is fetched at once: the
// clock does not move between the webhook and the code, and it costs one
// request.
func TestPaidCodeAtOnceWithSpareBudget(t *testing.T) {
	clk := newHandClock(time.Now())
	e := budgetAt(t, clk)
	h := e.bot.WebhookHandler(e.ctx)
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	clk.Set(clk.Now().Add(2 * time.Minute)) // the buyer pays; the budget has refilled
	id := u.invoiceID()
	m := u.mark()
	check(t, e.fake.MarkPaid(id))
	before := len(e.fake.Requests())
	if code := post(h, bot.WebhookPath+secret, finalWebhook(t, e.fake, id)); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	if _, err := u.awaitSecret(m); err != nil {
		t.Fatalf("code not fetched without the clock moving: %v", err)
	}
	e.bot.Wait()
	if n := len(e.fake.Requests()) - before; n != 1 {
		t.Errorf("%d requests for one paid invoice's code, want 1", n)
	}
}

// With checkouts queued for the budget, a paid invoice's order fetch lets
// them go first for a while, so that other invoices paid meanwhile share its
// request, but no paid code waits longer than the hold (7 tokens of the
// budget, 72.7 s at the documented limits) and the next token after it.
func TestPaidCodeWaitsAtMostTheHoldUnderLoad(t *testing.T) {
	clk := newHandClock(time.Now())
	e := budgetAt(t, clk)
	h := e.bot.WebhookHandler(e.ctx)
	period := e.api.Period(bitrefill.ClassGeneral)
	bound := 7*period + period // the hold, then the next token

	paid := []*user{e.newUser(true), e.newUser(true)}
	for _, u := range paid { // the burst of 2
		_, err := u.toInvoice()
		check(t, err)
	}
	// Ten more checkouts queue for the budget: more than the hold lasts.
	var queued []*user
	for range 10 {
		u := e.newUser(true)
		check(t, u.toConfirm())
		m := u.mark()
		check(t, u.press("Bitcoin"))
		if _, err := u.await(m, "waits its turn"); err != nil {
			t.Fatal(err)
		}
		queued = append(queued, u)
	}
	// Each queued checkout waits in the budget from its own goroutine: wait
	// until all ten do (the eleventh request would wait eleven tokens).
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(waitLimit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("never %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitUntil("ten checkouts queued", func() bool { return e.api.Delay(e.ctx, bitrefill.ClassGeneral) > 10*period })
	bg := bitrefill.WithPriority(e.ctx, bitrefill.Background)
	start := clk.Now()
	marks := make([]int, len(paid))
	for i, u := range paid {
		if i == 1 {
			clk.Set(start.Add(5 * time.Second)) // the second buyer pays a little later
		}
		id := u.invoiceID()
		marks[i] = u.mark()
		check(t, e.fake.MarkPaid(id))
		queuedBefore := e.api.Delay(bg, bitrefill.ClassGeneral)
		if code := post(h, bot.WebhookPath+secret, finalWebhook(t, e.fake, id)); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
		if i == 0 { // its fetch queues behind the checkouts
			waitUntil("the paid fetch queued", func() bool { return e.api.Delay(bg, bitrefill.ClassGeneral) > queuedBefore+period/2 })
		}
	}
	lists := e.count("GET", "/orders")
	invoices := e.count("POST", "/invoices")
	for clk.Now().Before(start.Add(bound)) {
		clk.Set(clk.Now().Add(time.Second))
	}
	for i, u := range paid {
		if _, err := u.awaitSecret(marks[i]); err != nil {
			t.Fatalf("paid buyer %d had no code %v after paying: %v", i+1, bound, err)
		}
	}
	if n := e.count("GET", "/orders") - lists; n != 1 {
		t.Errorf("%d order list calls for the two paid invoices, want 1", n)
	}
	if n := e.count("POST", "/invoices") - invoices; n < 6 {
		t.Errorf("%d queued checkouts served during the hold, want the 7 tokens less at most one", n)
	}
	// The queue goes on being served, a token at a time.
	for range 10 {
		clk.Set(clk.Now().Add(period))
	}
	for _, u := range queued {
		if _, err := u.await(0, "Invoice for"); err != nil {
			t.Fatal(err)
		}
	}
}
