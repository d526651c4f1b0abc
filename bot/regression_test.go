package bot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/conversation"
)

type flakyStore struct {
	bot.Store
	fail *atomic.Bool
}

func (s flakyStore) Commit(c bot.Commit) error {
	if s.fail.Load() {
		return errors.New("disk full")
	}
	return s.Store.Commit(c)
}

// a paid invoice whose session commit failed once is never delivered by the poller.
func TestFailedCommitDoesNotStopPolling(t *testing.T) {
	var fail atomic.Bool
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) { c.Store = flakyStore{c.Store, &fail} }})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	check(t, e.fake.MarkPaid(u.invoiceID()))
	now := time.Now()
	fail.Store(true)
	e.bot.PollAt(e.ctx, now)
	fail.Store(false)
	for i := 1; i <= 60; i++ {
		e.bot.PollAt(e.ctx, now.Add(time.Duration(i)*time.Minute))
		e.bot.ExpireAt(e.ctx, now.Add(time.Duration(i)*time.Minute))
	}
	if n := u.deliveries(); n != 1 {
		t.Fatalf("after one failed commit and an hour of polling: %d deliveries, want 1", n)
	}
}

// a due record behind 1000 older not-yet-due records is never drained.
func TestDueCodeNotStarvedByHeldBackRecords(t *testing.T) {
	e := newEnv(t, envOptions{})
	now := time.Now()
	blocked := conversation.SessionKey{Platform: platformName, User: "blocked"}
	addrB := conversation.Address{Platform: platformName, Chat: "blocked", Private: true}
	var recs []bot.OutboxRecord
	for i := range 1000 {
		recs = append(recs, bot.OutboxRecord{ID: uint64(1000 + i), Session: blocked, Address: addrB,
			Reply: conversation.Reply{Text: []conversation.Span{{Text: "x"}}}, Attempts: 5, NextTry: now.Add(6 * time.Hour)})
	}
	buyer := conversation.SessionKey{Platform: platformName, User: "buyer"}
	recs = append(recs, bot.OutboxRecord{ID: 5000, Session: buyer, Address: conversation.Address{Platform: platformName, Chat: "buyer", Private: true},
		Reply: conversation.Reply{Text: []conversation.Span{{Text: "Code: SECRET"}}, Secret: true}, Attempts: 1, NextTry: now.Add(-time.Second)})
	check(t, e.store.Enqueue(recs))
	for i := range 10 {
		e.bot.Drain(e.ctx, now.Add(time.Duration(i)*time.Minute))
	}
	if n := e.plat.count("buyer"); n != 1 {
		t.Fatalf("buyer's due code sent %d times, want 1", n)
	}
}

// one delivery the platform permanently refuses mutes the buyer's chat for good.
type poisonPlat struct{ *recorder }

func (p poisonPlat) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	if r.Secret {
		return "", poisonErr{}
	}
	return p.recorder.Send(ctx, to, r, png)
}

type poisonErr struct{}

func (poisonErr) Error() string { return "Bad Request: message is too long" }

func TestRefusedCodeDoesNotMuteUser(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) { c.Platforms = map[string]bot.Platform{platformName: poisonPlat{e.plat}} }})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	check(t, e.fake.MarkPaid(u.invoiceID()))
	e.bot.PollAt(e.ctx, time.Now())
	for i := range 40 {
		e.bot.Drain(e.ctx, time.Now().Add(time.Duration(i)*time.Hour))
	}
	m := u.mark()
	u.handle(conversation.Command{Name: "help"})
	if _, err := u.await(m, "How it works"); err != nil {
		t.Fatalf("user gets no answer at all: %v; outbox %d records", err, len(e.outbox()))
	}
}

type blockedDeleter struct {
	*recorder
	n atomic.Int64
}

func (b *blockedDeleter) Delete(ctx context.Context, to conversation.Address, ref string) error {
	b.n.Add(1)
	return blockedErr{}
}

// a hide for a user who blocked the bot is retried every run forever, and 200 of them starve other scheduled work.
func TestUnreachableHidesBackOff(t *testing.T) {
	d := &blockedDeleter{}
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		d.recorder = e.plat
		c.Platforms = map[string]bot.Platform{platformName: d}
	}})
	now := time.Now()
	var hides []bot.Scheduled
	for i := range 200 {
		hides = append(hides, bot.Scheduled{Due: now.Add(-time.Hour), Name: "hide:x:" + string(rune('a'+i%26)) + time.Duration(i).String(), Kind: "hide",
			Session: conversation.SessionKey{Platform: platformName, User: "blocked"}, Address: conversation.Address{Platform: platformName, Chat: "blocked", Private: true}, Ref: "1"})
	}
	gift := bot.Scheduled{Due: now.Add(-time.Minute), Name: "giftcard:o1", Kind: "giftcard",
		Session: conversation.SessionKey{Platform: platformName, User: "buyer"}, Address: conversation.Address{Platform: platformName, Chat: "buyer", Private: true}, Subject: "Amazon", Date: "2030-01-01"}
	check(t, e.store.OutboxDone(nil, nil, append(hides, gift)))
	for i := range 60 {
		e.bot.DueAt(e.ctx, now.Add(time.Duration(i)*time.Minute))
	}
	// Before the back-off: 200 hides x 60 runs = 12000 calls.
	if n := d.n.Load(); n > 200*8 {
		t.Errorf("%d Delete calls in an hour for 200 unreachable hides: no back-off", n)
	}
	if n := e.plat.count("buyer"); n != 1 {
		t.Fatalf("gift-card reminder sent %d times, want 1", n)
	}
}

type panicPlat struct {
	*recorder
	on atomic.Bool
}

func (p *panicPlat) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	if p.on.Load() {
		panic("adapter bug")
	}
	return p.recorder.Send(ctx, to, r, png)
}

// a panic during Drain (recovered by cron) leaves the session's lock held: the user is frozen.
func TestPanickingPlatformDoesNotFreezeUser(t *testing.T) {
	p := &panicPlat{}
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		p.recorder = e.plat
		c.Platforms = map[string]bot.Platform{platformName: p}
	}})
	u := e.newUser(true)
	now := time.Now()
	check(t, e.store.Enqueue([]bot.OutboxRecord{{ID: uint64(now.UnixNano()), Session: u.key, Address: u.addr, Reply: conversation.Reply{Text: []conversation.Span{{Text: "hi"}}}}}))
	p.on.Store(true)
	func() { defer func() { recover() }(); e.bot.Drain(e.ctx, now) }()
	p.on.Store(false)
	done := make(chan struct{})
	go func() { u.handle(conversation.Command{Name: "help"}); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Handle blocked: session lock leaked by the panicking Drain")
	}
}

// panicAPI is the real client with chosen calls panicking (an adapter or
// library bug), switched by on.
type panicAPI struct {
	bot.API
	on *atomic.Bool
}

func (p panicAPI) Search(ctx context.Context, f bitrefill.SearchFilter) (bitrefill.Page[bitrefill.Product], error) {
	if p.on.Load() {
		panic("search bug")
	}
	return p.API.Search(ctx, f)
}

func (p panicAPI) Invoice(ctx context.Context, id string) (bitrefill.Invoice, error) {
	if p.on.Load() {
		panic("invoice bug")
	}
	return p.API.Invoice(ctx, id)
}

// A panic while handling one user's event is contained: the bot answers the
// next event, the user's own included; a panic in a webhook's background
// check does not kill the process, nor leave the invoice "being checked".
func TestPanicsAreContained(t *testing.T) {
	var on atomic.Bool
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		withSecret(e, c)
		c.API = panicAPI{c.API, &on}
	}})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	on.Store(true)
	u.say("netflix") // panics inside Handle
	m := u.mark()
	u.handle(conversation.Command{Name: "help"})
	if _, err := u.await(m, "How it works"); err != nil {
		t.Fatalf("after a panic in Handle: %v", err)
	}

	check(t, e.fake.MarkPaid(id))
	h := e.bot.WebhookHandler(e.ctx)
	if code := post(h, bot.WebhookPath+secret, `{"id":"`+id+`"}`); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	e.bot.Wait() // the check panicked and was recovered
	on.Store(false)
	if code := post(h, bot.WebhookPath+secret, `{"id":"`+id+`"}`); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	if _, err := u.awaitSecret(0); err != nil {
		t.Fatalf("no delivery after the panicking check: %v", err)
	}
}

// After a 429 on the list call the poller does not fetch every invoice on
// its own instead; it waits as long as Bitrefill asked before listing again.
func TestPollerBacksOffAfter429(t *testing.T) {
	e := newEnv(t, envOptions{})
	var ids []string
	for range 3 {
		u := e.newUser(true)
		_, err := u.toInvoice()
		check(t, err)
		ids = append(ids, u.invoiceID())
	}
	fetches := func() int {
		n := 0
		for _, id := range ids {
			n += e.count("GET", "/invoices/"+id)
		}
		return n
	}
	single, lists := fetches(), e.count("GET", "/invoices")
	e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/invoices", Status: http.StatusTooManyRequests, RetryAfter: 5 * time.Minute, Times: 10})
	now := time.Now()
	e.bot.PollAt(e.ctx, now)
	if n := fetches() - single; n != 0 {
		t.Errorf("%d single fetches after a 429 on the list call, want 0", n)
	}
	afterFirst := e.count("GET", "/invoices")
	if afterFirst == lists {
		t.Fatal("no list call at all")
	}
	for i := 1; i < 5; i++ {
		e.bot.PollAt(e.ctx, now.Add(time.Duration(i)*time.Minute))
		e.bot.ExpireAt(e.ctx, now.Add(time.Duration(i)*time.Minute))
	}
	if n := e.count("GET", "/invoices") - afterFirst; n != 0 {
		t.Errorf("%d list calls during the 5 minutes Bitrefill asked to wait", n)
	}
}

// Ten minutes of polling every 10 seconds with open invoices stays well
// inside Bitrefill's 60 requests per 10 minutes, payments included.
func TestPollingStaysInsideTheBudget(t *testing.T) {
	// The documented budget, enforced by the fake too, on the poller's clock.
	clk := newHandClock(time.Now())
	e := newEnv(t, envOptions{
		fake:   &bitrefilltest.Options{Now: clk.Now, Limits: bitrefilltest.DocumentedLimits()},
		client: func(c *bitrefill.Config) { c.Clock, c.Limits = clk, bitrefill.DefaultLimits() },
		tune:   func(e *env, c *bot.Config) { c.Simulator = nil },
	})
	var users []*user
	for range 3 {
		clk.Set(clk.Now().Add(time.Minute)) // a user a minute: the budget has room for each
		u := e.newUser(true)
		_, err := u.toInvoice()
		check(t, err)
		users = append(users, u)
	}
	before := len(e.fake.Requests())
	now := clk.Now()
	for i := range 60 {
		if i == 30 {
			check(t, e.fake.MarkPaid(users[1].invoiceID()))
		}
		at := now.Add(time.Duration(i) * 10 * time.Second)
		clk.Set(at)
		e.bot.PollAt(e.ctx, at)
	}
	if n := len(e.fake.Requests()) - before; n > 50 {
		t.Errorf("%d requests in 10 minutes of polling, want at most 50", n)
	}
	if got := e.fake.RateLimited(); len(got) != 0 {
		t.Errorf("%d requests answered 429", len(got))
	}
	if _, err := users[1].awaitSecret(0); err != nil {
		t.Errorf("the paid invoice was not delivered within the budget: %v", err)
	}
}

// expiredAsUnpaid makes invoices the fake calls expired look unpaid, as
// Bitrefill itself may report them for a while after the expiry.
type expiredAsUnpaid struct{ bot.API }

func (a expiredAsUnpaid) Invoice(ctx context.Context, id string) (bitrefill.Invoice, error) {
	inv, err := a.API.Invoice(ctx, id)
	if inv.Status == bitrefill.InvoiceExpired {
		inv.Status = bitrefill.InvoiceUnpaid
	}
	return inv, err
}

func (a expiredAsUnpaid) Invoices(ctx context.Context, f bitrefill.ListFilter) ([]bitrefill.Invoice, error) {
	list, err := a.API.Invoices(ctx, f)
	for i := range list {
		if list[i].Status == bitrefill.InvoiceExpired {
			list[i].Status = bitrefill.InvoiceUnpaid
		}
	}
	return list, err
}

// Expired invoices waiting out the grace hour are watched through the list
// call, not fetched one by one every five minutes; each buyer is told once.
func TestExpiryUsesTheListCall(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOptions{fake: &bitrefilltest.Options{Now: clk.Now, InvoiceTTL: 30 * time.Minute},
		tune: func(e *env, c *bot.Config) { c.API = expiredAsUnpaid{c.API} }})
	var users []*user
	var ids []string
	for range 3 {
		u := e.newUser(true)
		_, err := u.toInvoice()
		check(t, err)
		users = append(users, u)
		ids = append(ids, u.invoiceID())
	}
	single := 0
	for _, id := range ids {
		single += e.count("GET", "/invoices/"+id)
	}
	now := time.Now()
	for m := 31; m <= 100; m += 5 {
		e.bot.ExpireAt(e.ctx, now.Add(time.Duration(m)*time.Minute))
	}
	n := 0
	for _, id := range ids {
		n += e.count("GET", "/invoices/"+id)
	}
	if n -= single; n != 0 {
		t.Errorf("%d single fetches of expired invoices, want 0 (the list call covers them)", n)
	}
	for i, u := range users {
		if c := u.count("expired before"); c != 1 {
			t.Errorf("user %d told of the expiry %d times, want 1", i, c)
		}
	}
}

// More eSIMs than one run may look up: every one is looked at within a few runs.
func TestESIMRemindersReachEveryESIM(t *testing.T) {
	e := newEnv(t, envOptions{})
	const n = 45
	var want []string
	for i := range n {
		key := conversation.SessionKey{Platform: platformName, User: fmt.Sprintf("esim%02d", i)}
		st := conversation.NewState(key, "nonce", "en")
		iccid := fmt.Sprintf("89000000000000%06d", i)
		st.ESIMs = []conversation.OwnedESIM{{ICCID: iccid, Product: "bitrefill-esim-europe", Name: "Europe"}}
		want = append(want, iccid)
		check(t, e.store.Commit(bot.Commit{Key: key, State: st, Address: conversation.Address{Platform: platformName, Chat: key.User, Private: true}}))
	}
	now := time.Now()
	for i := range 3 {
		e.bot.ESIMRemindersAt(e.ctx, now.Add(time.Duration(i)*time.Hour))
	}
	for _, iccid := range want {
		if e.count("GET", "/esims/"+iccid) == 0 {
			t.Errorf("eSIM %s never looked at in 3 runs", iccid)
		}
	}
}

// An order that fails is announced, and so is its refund when it comes:
// the invoice stays watched until then.
func TestRefundAfterFailureIsAnnounced(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	snap, _ := e.fake.Invoice(id)
	order := snap.Orders[0].ID
	check(t, e.fake.FailOrder(order))
	check(t, e.fake.MarkPaid(id))
	now := time.Now()
	e.bot.PollAt(e.ctx, now)
	if _, err := u.await(0, "could not be delivered"); err != nil {
		t.Fatal(err)
	}
	if len(e.tracked()) != 1 {
		t.Fatal("invoice no longer watched after the failure: its refund would go unannounced")
	}
	check(t, e.fake.Refund(order))
	for i := 1; i <= 10; i++ {
		e.bot.PollAt(e.ctx, now.Add(time.Duration(i)*time.Minute))
	}
	if _, err := u.await(0, "was refunded"); err != nil {
		t.Fatal(err)
	}
	if n := u.count("was refunded"); n != 1 {
		t.Errorf("refund told %d times, want 1", n)
	}
	if len(e.tracked()) != 0 {
		t.Error("still watching the invoice after its refund")
	}
}

// With webhooks working, an idle shop spends nothing: invoices left open
// are Bitrefill's to report, and the poller only looks at one whose
// webhook is overdue.
func TestIdleWithWebhooksSpendsNothing(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		c.Simulator = nil
		c.WebhookURL = bot.WebhookURL("https://bot.example", secret)
		c.WebhookSecret = secret
	}})
	for range 3 {
		_, err := e.newUser(true).toInvoice()
		check(t, err)
	}
	before := len(e.fake.Requests())
	now := time.Now()
	for i := range 60 { // ten minutes of the poller's ticks, and the expiry job's
		e.bot.PollAt(e.ctx, now.Add(time.Duration(i)*10*time.Second))
		e.bot.ExpireAt(e.ctx, now.Add(time.Duration(i)*10*time.Second))
	}
	if n := len(e.fake.Requests()) - before; n != 0 {
		t.Errorf("%d requests in 10 idle minutes with webhooks, want 0", n)
	}
	// An invoice whose webhook is overdue is still looked at.
	e.bot.PollAt(e.ctx, now.Add(31*time.Minute))
	if n := e.count("GET", "/invoices"); n == 0 {
		t.Error("no look at invoices whose webhook is 31 minutes overdue")
	}
}
