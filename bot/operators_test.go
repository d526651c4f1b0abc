package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/conversation"
)

// counting is an Observer that remembers what it was told.
type counting struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counting) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[k]++
}

func (c *counting) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *counting) Update(p string)                 { c.add("update:" + p) }
func (c *counting) Reply(p string, _ time.Duration) { c.add("reply:" + p) }
func (c *counting) Throttled(p string)              { c.add("throttled:" + p) }
func (c *counting) InvoiceCreated(m string)         { c.add("created:" + m) }
func (c *counting) InvoicePaid()                    { c.add("paid") }
func (c *counting) OrderDelivered(t string)         { c.add("delivered:" + t) }
func (c *counting) OrderFailed()                    { c.add("failed") }
func (c *counting) OutboxPending(int)               {}

// operatorEnv is a shop with one operator (the first user) and metrics.
func operatorEnv(t *testing.T) (*env, *user, *counting) {
	obs := &counting{}
	var admin conversation.SessionKey
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		c.Admins = []conversation.SessionKey{admin}
		c.Observer = obs
	}})
	op := e.newUser(true)
	admin = op.key
	e.restart() // rebuild the bot with the operator known
	return e, op, obs
}

// The operator hears of the sale in their private chat — product, value,
// method, short invoice id — and never sees the code; the buyer's /stats is
// an unknown command that tells nothing about sales; the operator's /stats
// counts the sale and the funnel.
func TestOperatorGetsSaleAlertWithoutCode(t *testing.T) {
	e, op, obs := operatorEnv(t)
	op.handle(conversation.Start{}) // the operator's private chat is known from here on
	if _, err := op.await(0, ""); err != nil {
		t.Fatal(err)
	}
	buyer := e.newUser(true)
	_, err := buyer.purchase()
	if err != nil {
		t.Fatal(err)
	}
	hist := buyer.state().History
	if len(hist) == 0 {
		t.Fatal("no invoice in the buyer's history")
	}
	inv := hist[len(hist)-1].Invoice
	codes := e.codes(inv)
	if len(codes) == 0 {
		t.Fatal("test setup: no code delivered")
	}
	// The drain job sends operators' alerts; run it until the alert is out.
	alert, err := awaitDrained(e, op, 0, "💰 Paid")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sale alert: %s", alert.Text)
	for _, want := range []string{"Amazon US", "50 USD", "via bitcoin", "invoice " + inv[:8]} {
		if !strings.Contains(alert.Text, want) {
			t.Errorf("sale alert lacks %q: %s", want, alert.Text)
		}
	}
	for _, s := range op.replies() {
		for _, code := range codes {
			if strings.Contains(s.Text, code) {
				t.Errorf("the operator was shown a code: %s", s.Text)
			}
		}
		if s.Reply.Secret {
			t.Errorf("the operator got a secret reply: %s", s.Text)
		}
		if strings.Contains(s.Text, inv) {
			t.Errorf("the operator got the full invoice id: %s", s.Text)
		}
	}

	bm := buyer.mark()
	buyer.handle(conversation.Command{Name: "stats"})
	unknown, err := buyer.await(bm, "I don't know /stats")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(unknown.Text, "Paid") || strings.Contains(unknown.Text, "USD") {
		t.Errorf("a buyer's /stats told something: %s", unknown.Text)
	}

	om := op.mark()
	op.handle(conversation.Command{Name: "stats", Args: "7d"})
	stats, err := op.await(om, "📊")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats:\n%s", stats.Text)
	for _, want := range []string{"Paid invoices: 1", "Sales: 50 USD", "Amazon US ×1", "→ 1 invoices → 1 paid", "gift cards 1"} {
		if !strings.Contains(stats.Text, want) {
			t.Errorf("/stats lacks %q:\n%s", want, stats.Text)
		}
	}
	// The numbers survive a restart (flushed to the store).
	e.bot.FlushStats(time.Now())
	e.restart()
	om = op.mark()
	op.handle(conversation.Command{Name: "stats"})
	if _, err := op.await(om, "Paid invoices: 1"); err != nil {
		t.Fatal(err)
	}
	om = op.mark()
	op.handle(conversation.Command{Name: "recent"})
	if _, err := op.await(om, inv[:8]+" · complete · Amazon US 50 USD"); err != nil {
		t.Fatal(err)
	}
	om = op.mark()
	op.handle(conversation.Command{Name: "balance"})
	if _, err := op.await(om, "Bitrefill balance:"); err != nil {
		t.Fatal(err)
	}

	for k, want := range map[string]int{"paid": 1, "created:bitcoin": 1, "delivered:gift_card": 1, "failed": 0} {
		if got := obs.get(k); got != want {
			t.Errorf("observer %s = %d, want %d", k, got, want)
		}
	}
	if obs.get("update:"+buyer.addr.Platform) == 0 || obs.get("reply:"+buyer.addr.Platform) == 0 {
		t.Errorf("observer saw no updates or replies: %v", obs.n)
	}
}

// Bitrefill in trouble for minutes is news for the operator, and so is
// its recovery; a blip is not.
func TestOperatorHearsOfBitrefillTrouble(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	var admin conversation.SessionKey
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		c.Admins = []conversation.SessionKey{admin}
		c.Now = clock
	}})
	op := e.newUser(true)
	admin = op.key
	e.restart()
	op.handle(conversation.Start{})

	down := bitrefill.Request{Route: "/invoices/{id}", Status: 0}
	e.bot.ObserveBitrefill(down)
	advance(time.Minute)
	e.bot.ObserveBitrefill(down)
	e.bot.ObserveBitrefill(bitrefill.Request{Route: "/invoices", Status: 200}) // a blip, over
	advance(time.Minute)
	e.bot.ObserveBitrefill(down)
	advance(3 * time.Minute)
	e.bot.ObserveBitrefill(down)
	if _, err := awaitDrained(e, op, 0, "unreachable for 3m"); err != nil {
		t.Fatal(err)
	}
	advance(time.Minute)
	e.bot.ObserveBitrefill(bitrefill.Request{Route: "/invoices", Status: 200})
	if _, err := awaitDrained(e, op, 0, "answers again"); err != nil {
		t.Fatal(err)
	}
	if n := countContaining(op, "unreachable"); n != 1 {
		t.Errorf("%d unreachable alerts, want 1", n)
	}
}

func countContaining(u *user, s string) int {
	n := 0
	for _, r := range u.replies() {
		if strings.Contains(r.Text, s) {
			n++
		}
	}
	return n
}

// awaitDrained runs the outbox job until u has a reply containing substr.
func awaitDrained(e *env, u *user, mark int, substr string) (sent, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.bot.Drain(context.Background(), time.Now())
		e.bot.Wait()
		for i, s := range u.replies() {
			if i >= mark && strings.Contains(s.Text, substr) {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			return u.await(mark, substr)
		}
	}
}

// /broadcast is the operator's: a buyer's is an unknown command; a preview
// sends nothing, cancel drops it, and confirm without a draft is refused.
func TestBroadcastCommands(t *testing.T) {
	e, op, _ := operatorEnv(t)
	op.handle(conversation.Start{})
	buyer := e.newUser(true)
	buyer.handle(conversation.Start{})
	m := buyer.mark()
	buyer.handle(conversation.Command{Name: "broadcast", Args: "free cards for all"})
	if _, err := buyer.await(m, "I don't know /broadcast"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ args, want string }{
		{"confirm", "no broadcast to confirm"},
		{"Hello buyers", "to 1 users"},
		{"cancel", "Nothing to cancel"},
		{"confirm", "no broadcast to confirm"},
	} {
		m := op.mark()
		op.handle(conversation.Command{Name: "broadcast", Args: step.args})
		if _, err := op.await(m, step.want); err != nil {
			t.Fatalf("/broadcast %s: %v", step.args, err)
		}
	}
	for _, r := range buyer.replies() {
		if strings.Contains(r.Text, "Hello buyers") {
			t.Fatal("a preview reached a user")
		}
	}
}
