package bot_test

// Delivery: the outbox (retries, back-off, RetryAfter), the invoice message
// edited in place, codes hidden after reading, webhooks, the list-call
// poller, the scheduled jobs, encryption at rest and the eSIM delivery.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/storage"
)

// ---- test doubles ----

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// blockedErr is how an adapter reports a user who blocked the bot.
type blockedErr struct{}

func (blockedErr) Error() string     { return "forbidden: bot was blocked by the user" }
func (blockedErr) Unreachable() bool { return true }

// slowDownErr is a platform's "too many requests, retry after d".
type slowDownErr struct{ d time.Duration }

func (e slowDownErr) Error() string             { return "too many requests" }
func (e slowDownErr) RetryAfter() time.Duration { return e.d }

// able is the recorder with the optional abilities (Editor, Deleter) and a
// switch to make sends fail.
type able struct {
	*recorder
	mu      sync.Mutex
	fail    error
	gone    map[string]bool // refs of messages the user deleted: Edit fails
	calls   int
	deletes []string
}

func (a *able) setFail(err error) {
	a.mu.Lock()
	a.fail = err
	a.mu.Unlock()
}

func (a *able) sendCalls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

func (a *able) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	a.mu.Lock()
	a.calls++
	err := a.fail
	a.mu.Unlock()
	if err != nil {
		return "", err
	}
	return a.recorder.Send(ctx, to, r, png)
}

// Edit records the edit in the chat as "[edit <ref>] <text>".
func (a *able) Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error {
	a.mu.Lock()
	err := a.fail
	if a.gone[ref] {
		err = errors.New("message to edit not found")
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	a.recorder.record(sent{To: to, Reply: r, PNG: png, Text: "[edit " + ref + "] " + conversation.PlainText(r.Text)})
	return nil
}

func (a *able) Delete(ctx context.Context, to conversation.Address, ref string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deletes = append(a.deletes, ref)
	return nil
}

func (a *able) deleted() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.deletes...)
}

func (p *recorder) record(s sent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = append(p.all, s)
	p.byChat[s.To.Chat] = append(p.byChat[s.To.Chat], s)
	close(p.changed)
	p.changed = make(chan struct{})
}

// withAble registers an able platform in place of the plain recorder.
func withAble(a *able, more func(*bot.Config)) func(*env, *bot.Config) {
	return func(e *env, c *bot.Config) {
		a.recorder = e.plat
		c.Platforms = map[string]bot.Platform{platformName: a}
		if more != nil {
			more(c)
		}
	}
}

func (u *user) count(substr string) int {
	n := 0
	for _, s := range u.replies() {
		if strings.Contains(s.Text, substr) {
			n++
		}
	}
	return n
}

func (e *env) outbox() []bot.OutboxRecord {
	e.tb.Helper()
	list, err := e.store.Outbox(0)
	if err != nil {
		e.tb.Fatal(err)
	}
	return list
}

// ---- the outbox ----

// A buyer who blocked the bot keeps their code in the outbox; it is tried
// again only after a back-off, and delivered once they can be reached.
func TestUnreachableUserKeepsDelivery(t *testing.T) {
	a := &able{}
	e := newEnv(t, envOptions{tune: withAble(a, nil)})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()

	a.setFail(blockedErr{})
	check(t, e.fake.MarkPaid(id))
	now := time.Now()
	e.bot.PollAt(e.ctx, now)
	if n := u.deliveries(); n != 0 {
		t.Fatalf("%d deliveries to a user who blocked the bot", n)
	}
	secrets := 0
	for _, r := range e.outbox() {
		if r.Reply.Secret {
			secrets++
			if !r.NextTry.After(now) || r.Attempts != 1 {
				t.Errorf("failed delivery: attempts %d, next try %v: want 1 attempt and a later try", r.Attempts, r.NextTry.Sub(now))
			}
		}
	}
	if secrets != 1 {
		t.Fatalf("outbox holds %d deliveries, want 1", secrets)
	}
	calls := a.sendCalls()
	e.bot.Drain(e.ctx, now.Add(time.Second))
	if a.sendCalls() != calls {
		t.Errorf("retried a blocked user after a second: not backing off")
	}

	a.setFail(nil)
	e.bot.Drain(e.ctx, now.Add(2*time.Minute))
	if n := u.deliveries(); n != 1 {
		t.Fatalf("%d deliveries after the user came back, want 1", n)
	}
	e.bot.FlushMarks()
	e.bot.Drain(e.ctx, now.Add(24*time.Hour))
	if n := u.deliveries(); n != 1 {
		t.Errorf("%d deliveries after a later drain, want 1", n)
	}
	if left := e.outbox(); len(left) != 0 {
		t.Errorf("outbox keeps %d records after delivery", len(left))
	}
}

// A user who unblocks the bot and writes again gets the code that waited
// for them at once, before the answer to what they wrote, not hours later
// when the back-off ends.
func TestReturningUserGetsWaitingCodeFirst(t *testing.T) {
	a := &able{}
	e := newEnv(t, envOptions{tune: withAble(a, nil)})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	a.setFail(blockedErr{})
	check(t, e.fake.MarkPaid(u.invoiceID()))
	e.bot.PollAt(e.ctx, time.Now())
	if n := u.deliveries(); n != 0 {
		t.Fatalf("%d deliveries to a user who blocked the bot", n)
	}

	a.setFail(nil)
	m := u.mark()
	u.handle(conversation.Command{Name: "help"})
	if _, err := u.await(m, "How it works"); err != nil {
		t.Fatal(err)
	}
	if n := u.deliveries(); n != 1 {
		t.Fatalf("%d deliveries once the user wrote again, want the waiting code", n)
	}
	code, help := -1, -1
	for i, s := range u.replies()[m:] {
		switch {
		case s.Reply.Secret:
			code = i
		case strings.Contains(s.Text, "How it works"):
			help = i
		}
	}
	if code < 0 || help < code {
		t.Errorf("the code (at %d) did not come before the new answer (at %d)", code, help)
	}
	e.bot.FlushMarks()
	e.bot.Drain(e.ctx, time.Now().Add(24*time.Hour))
	if n := u.deliveries(); n != 1 {
		t.Errorf("%d deliveries after a later drain, want 1", n)
	}
}

// A platform asking to slow down is obeyed to the second.
func TestRetryAfterHonoured(t *testing.T) {
	a := &able{}
	e := newEnv(t, envOptions{tune: withAble(a, nil)})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	a.setFail(slowDownErr{30 * time.Second})
	check(t, e.fake.MarkPaid(u.invoiceID()))
	now := time.Now()
	e.bot.PollAt(e.ctx, now)
	a.setFail(nil)
	calls := a.sendCalls()
	e.bot.Drain(e.ctx, now.Add(10*time.Second))
	if a.sendCalls() != calls {
		t.Fatal("sent before the platform's Retry-After")
	}
	e.bot.Drain(e.ctx, now.Add(31*time.Second))
	if n := u.deliveries(); n != 1 {
		t.Fatalf("%d deliveries after Retry-After, want 1", n)
	}
}

// A message the platform refused is not lost across a restart: the new
// process sends it (the crash-before-send side; the real-process test in
// cmd/refillbot covers every crash point).
func TestUnsentDeliverySurvivesRestart(t *testing.T) {
	a := &able{}
	e := newEnv(t, envOptions{tune: withAble(a, nil)})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	a.setFail(errors.New("connection reset"))
	check(t, e.fake.MarkPaid(u.invoiceID()))
	e.bot.PollAt(e.ctx, time.Now())
	e.bot.Wait()
	e.restart()
	a.setFail(nil)
	e.bot.Drain(e.ctx, time.Now().Add(time.Hour))
	if n := u.deliveries(); n != 1 {
		t.Fatalf("%d deliveries after restart, want 1", n)
	}
	if n := u.count("All done"); n != 1 {
		t.Errorf("receipt shown %d times, want 1", n)
	}
	// In order: the code before the receipt that says it was delivered.
	code, receipt := -1, -1
	for i, s := range u.replies() {
		if s.Reply.Secret {
			code = i
		}
		if strings.Contains(s.Text, "All done") {
			receipt = i
		}
	}
	if code > receipt {
		t.Errorf("the receipt (#%d) arrived before the code (#%d)", receipt, code)
	}
}

// Where the platform can edit, the invoice message itself follows the
// payment: payment seen → confirmed → receipt; the code comes as its own
// message.
func TestInvoiceMessageFollowsPayment(t *testing.T) {
	clk := newClock()
	a := &able{}
	e := newEnv(t, envOptions{
		fake: &bitrefilltest.Options{Now: clk.Now, ConfirmAfter: time.Minute, DeliverAfter: time.Minute},
		tune: withAble(a, nil),
	})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	viewRef := ""
	for i, s := range e.plat.everything() {
		if strings.Contains(s.Text, "Invoice for") {
			viewRef = strconv.Itoa(i + 1) // the recorder's refs count from 1
		}
	}
	m := u.mark()
	check(t, u.press("Simulate payment"))
	_, err = u.await(m, "[edit "+viewRef+"] ")
	check(t, err)
	clk.Add(61 * time.Second)
	e.bot.PollAt(e.ctx, time.Now())
	clk.Add(61 * time.Second)
	e.bot.PollAt(e.ctx, time.Now())
	_, err = u.awaitSecret(m)
	check(t, err)
	_, err = u.await(m, "Receipt")
	check(t, err)

	var edits []string
	for _, s := range u.replies()[m:] {
		if strings.HasPrefix(s.Text, "[edit ") {
			edits = append(edits, s.Text)
			if !strings.HasPrefix(s.Text, "[edit "+viewRef+"] ") {
				t.Errorf("edit of another message than the invoice view (%s): %q", viewRef, s.Text)
			}
		} else if strings.Contains(s.Text, "Payment seen") || strings.Contains(s.Text, "Receipt") {
			t.Errorf("status sent as a new message although the platform can edit: %q", s.Text)
		}
	}
	for i, want := range []string{"Payment seen", "Payment confirmed", "Receipt"} {
		if i >= len(edits) || !strings.Contains(edits[i], want) {
			t.Fatalf("edits of the invoice view %q, want %q at #%d", edits, want, i)
		}
	}
	if n := u.deliveries(); n != 1 {
		t.Errorf("%d code messages, want 1", n)
	}
}

// A user who deleted the invoice message gets "payment seen" as a new
// message, and that message then follows the payment in its place: later
// reports edit it, instead of failing on the deleted one every time.
func TestDeletedInvoiceMessageIsReplaced(t *testing.T) {
	clk := newClock()
	a := &able{gone: map[string]bool{}}
	e := newEnv(t, envOptions{
		fake: &bitrefilltest.Options{Now: clk.Now, ConfirmAfter: time.Minute, DeliverAfter: time.Minute},
		tune: withAble(a, nil),
	})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	for i, s := range e.plat.everything() {
		if strings.Contains(s.Text, "Invoice for") {
			a.mu.Lock()
			a.gone[strconv.Itoa(i+1)] = true // the recorder's refs count from 1
			a.mu.Unlock()
		}
	}
	m := u.mark()
	check(t, u.press("Simulate payment"))
	seen, err := u.await(m, "Payment seen")
	check(t, err)
	if strings.HasPrefix(seen.Text, "[edit ") {
		t.Fatalf("an edit of a deleted message was recorded: %q", seen.Text)
	}
	newRef := strconv.Itoa(len(e.plat.everything())) // "payment seen" is the newest message
	clk.Add(61 * time.Second)
	e.bot.PollAt(e.ctx, time.Now())
	if _, err := u.await(m, "[edit "+newRef+"] "); err != nil {
		t.Fatalf("the confirmation did not edit the message that replaced the deleted invoice: %v", err)
	}
}

// With REFILLBOT_HIDE_CODES_AFTER, the code message is removed once the time
// has passed (not before), and the user is told where to find it again.
func TestHideCodesAfterReading(t *testing.T) {
	a := &able{}
	e := newEnv(t, envOptions{tune: withAble(a, func(c *bot.Config) { c.HideCodesAfter = 10 * time.Minute })})
	u := e.newUser(true)
	_, err := u.purchase()
	check(t, err)
	e.bot.FlushMarks()
	ref := ""
	for i, s := range e.plat.everything() {
		if s.Reply.Secret {
			ref = strconv.Itoa(i + 1)
		}
	}
	now := time.Now()
	e.bot.DueAt(e.ctx, now.Add(5*time.Minute))
	if d := a.deleted(); len(d) != 0 {
		t.Fatalf("deleted %v before the time", d)
	}
	e.bot.DueAt(e.ctx, now.Add(11*time.Minute))
	if d := a.deleted(); len(d) != 1 || d[0] != ref {
		t.Fatalf("deleted %v, want the code message %s", d, ref)
	}
	if _, err := u.await(0, "removed to keep it private"); err != nil {
		t.Error(err)
	}
	e.bot.DueAt(e.ctx, now.Add(time.Hour))
	if d := a.deleted(); len(d) != 1 {
		t.Errorf("deleted %v: more than once", d)
	}
}

// ---- webhooks ----

const secret = "s3cret-for-tests"

func withSecret(e *env, c *bot.Config) { c.WebhookSecret = secret }

func post(h http.Handler, path, body string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec.Code
}

func TestWebhookRefusals(t *testing.T) {
	e := newEnv(t, envOptions{tune: withSecret})
	h := e.bot.WebhookHandler(e.ctx)
	good := bot.WebhookPath + secret
	for name, tc := range map[string]struct {
		method, path, body string
		want               int
	}{
		"forged secret":  {"POST", bot.WebhookPath + "guess", `{"id":"x"}`, 404},
		"no secret":      {"POST", bot.WebhookPath, `{"id":"x"}`, 404},
		"secret prefix":  {"POST", good[:len(good)-1], `{"id":"x"}`, 404},
		"wrong method":   {"GET", good, ``, 405},
		"malformed":      {"POST", good, `{"id":`, 400},
		"no invoice id":  {"POST", good, `{"status":"complete"}`, 400},
		"odd invoice id": {"POST", good, `{"id":"../../x"}`, 400},
		"oversized":      {"POST", good, `{"id":"` + strings.Repeat("a", 300<<10) + `"}`, 413},
		"unknown":        {"POST", good, `{"id":"00000000-0000-4000-8000-000000000000","status":"complete"}`, 200},
		"wrapped":        {"POST", good, `{"event":"invoice.completed","data":{"id":"00000000-0000-4000-8000-000000000001"}}`, 200},
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			if rec.Code != tc.want {
				t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.want)
			}
		})
	}
	e.bot.Wait()
	if n := len(e.plat.everything()); n != 0 {
		t.Errorf("%d messages sent because of refused or unknown webhooks", n)
	}
}

// Bitrefill may send a webhook more than once, and posts may arrive
// together: one delivery.
func TestWebhookDuplicatesDeliverOnce(t *testing.T) {
	e := newEnv(t, envOptions{tune: withSecret})
	h := e.bot.WebhookHandler(e.ctx)
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	check(t, e.fake.MarkPaid(id))
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := post(h, bot.WebhookPath+secret, `{"id":"`+id+`"}`); code != 200 {
				t.Errorf("webhook: %d", code)
			}
		}()
	}
	wg.Wait()
	_, err = u.await(0, "All done")
	check(t, err)
	e.bot.Wait()
	if n := u.deliveries(); n != 1 {
		t.Errorf("%d deliveries from 10 webhooks, want 1", n)
	}
	if n := e.count("GET", "/invoices/"+id); n > 3 {
		t.Errorf("%d fetches of the invoice for 10 webhooks: duplicates are not collapsed", n)
	}
}

// The body is only a hint: a body claiming a delivery the API does not
// know about changes nothing, and the code shown is the API's.
func TestWebhookBodyIsOnlyAHint(t *testing.T) {
	e := newEnv(t, envOptions{tune: withSecret})
	h := e.bot.WebhookHandler(e.ctx)
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	m := u.mark()
	lie := `{"id":"` + id + `","status":"complete","orders":[{"id":"o1","status":"delivered","redemption_info":{"code":"FAKE-CODE-1234"}}]}`
	if code := post(h, bot.WebhookPath+secret, lie); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	e.bot.Wait()
	if got := u.replies()[m:]; len(got) != 0 {
		t.Fatalf("a webhook the API contradicts produced %d messages, first %q", len(got), got[0].Text)
	}
	check(t, e.fake.MarkPaid(id))
	post(h, bot.WebhookPath+secret, lie)
	s, err := u.awaitSecret(m)
	check(t, err)
	if strings.Contains(s.Text, "FAKE-CODE") {
		t.Fatal("the code shown came from the webhook body")
	}
	for _, c := range e.codes(id) {
		if !strings.Contains(s.Text, c) {
			t.Errorf("delivery %q lacks the API's code %s", s.Text, c)
		}
	}
}

// gatedAPI holds invoice fetches until the gate opens: a slow Bitrefill.
type gatedAPI struct {
	bot.API
	gate chan struct{}
}

func (g gatedAPI) Invoice(ctx context.Context, id string) (bitrefill.Invoice, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return bitrefill.Invoice{}, ctx.Err()
	}
	return g.API.Invoice(ctx, id)
}

// A slow API does not hold up the webhook's answer: it is given before the
// invoice could even be fetched, and the delivery follows.
func TestWebhookAnswersBeforeSlowAPI(t *testing.T) {
	gate := make(chan struct{})
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		withSecret(e, c)
		c.API = gatedAPI{API: e.api, gate: gate}
	}})
	h := e.bot.WebhookHandler(e.ctx)
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	check(t, e.fake.MarkPaid(id))
	if code := post(h, bot.WebhookPath+secret, `{"id":"`+id+`"}`); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	if n := u.deliveries(); n != 0 {
		t.Fatal("delivered before the API answered?")
	}
	close(gate)
	_, err = u.awaitSecret(0)
	check(t, err)
}

// The webhook and the poller racing for the same invoice: one delivery.
func TestWebhookAndPollerRace(t *testing.T) {
	e := newEnv(t, envOptions{tune: withSecret})
	h := e.bot.WebhookHandler(e.ctx)
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	check(t, e.fake.MarkPaid(id))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				post(h, bot.WebhookPath+secret, `{"id":"`+id+`"}`)
			} else {
				e.bot.PollAt(e.ctx, time.Now())
			}
		}()
	}
	wg.Wait()
	e.bot.Wait()
	if n := u.deliveries(); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	if n := u.count("All done"); n != 1 {
		t.Errorf("receipt %d times, want 1", n)
	}
}

// Bitrefill's own webhook, posted by the fake to the URL the invoice carries,
// delivers the code without any polling.
func TestFakeWebhookDelivers(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := newEnv(t, envOptions{tune: func(e *env, c *bot.Config) {
		withSecret(e, c)
		c.WebhookURL = bot.WebhookURL(srv.URL, secret)
	}})
	mux.Handle(bot.WebhookPath, e.bot.WebhookHandler(e.ctx))
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	if snap, _ := e.fake.Invoice(id); snap.WebhookURL != srv.URL+bot.WebhookPath+secret {
		t.Fatalf("invoice webhook_url %q", snap.WebhookURL)
	}
	check(t, e.fake.MarkPaid(id))
	e.fake.Advance()
	_, err = u.awaitSecret(0)
	check(t, err)
}

// ---- polling ----

// One list call covers every open invoice; an invoice is fetched on its own
// only when the list shows it moved, and not even then when the list shows
// it final: then only its orders are fetched.
func TestPollerUsesOneListCall(t *testing.T) {
	e := newEnv(t, envOptions{})
	var users []*user
	for range 3 {
		u := e.newUser(true)
		_, err := u.toInvoice()
		check(t, err)
		users = append(users, u)
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.invoiceID()
	}
	fetches := func() int {
		n := 0
		for _, id := range ids {
			n += e.count("GET", "/invoices/"+id)
		}
		return n
	}
	lists, single := e.count("GET", "/invoices"), fetches()
	e.bot.PollAt(e.ctx, time.Now())
	if n := e.count("GET", "/invoices") - lists; n != 1 {
		t.Errorf("%d list calls for 3 open invoices, want 1", n)
	}
	if n := fetches() - single; n != 0 {
		t.Errorf("%d single fetches of unpaid invoices, want 0", n)
	}
	check(t, e.fake.MarkPaid(ids[1]))
	single = fetches()
	orders := e.count("GET", "/orders")
	e.bot.PollAt(e.ctx, time.Now())
	if n, o := fetches()-single, e.count("GET", "/orders")-orders; n != 0 || o != 1 {
		t.Errorf("%d single fetches and %d order fetches after one invoice was paid and delivered, want 0 and 1", n, o)
	}
	if _, err := users[1].awaitSecret(0); err != nil {
		t.Error(err)
	}
	if users[0].deliveries()+users[2].deliveries() != 0 {
		t.Error("unpaid invoices delivered")
	}
}

// ---- scheduled work ----

// An unpaid invoice past its expiry gets one notice with a next step, and is
// no longer watched.
func TestExpiryNotice(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOptions{fake: &bitrefilltest.Options{Now: clk.Now, InvoiceTTL: 30 * time.Minute}})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	clk.Add(31 * time.Minute)
	e.bot.ExpireAt(e.ctx, time.Now().Add(31*time.Minute))
	if _, err := u.await(0, "expired before a payment arrived"); err != nil {
		t.Fatal(err)
	}
	e.bot.ExpireAt(e.ctx, time.Now().Add(time.Hour))
	e.bot.PollAt(e.ctx, time.Now().Add(time.Hour))
	if n := u.count("expired before"); n != 1 {
		t.Errorf("expiry told %d times, want 1", n)
	}
	if tr := e.tracked(); len(tr) != 0 {
		t.Errorf("still tracking %d invoices after expiry", len(tr))
	}
}

// A card with an expiry date is remembered: a week before it expires, the
// buyer is reminded, once.
func TestGiftCardExpiryReminder(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.newUser(true)
	m := u.mark()
	u.say("playstation us")
	_, err := u.await(m, "Results for")
	check(t, err)
	check(t, u.open("PlayStation US", "25 USD"))
	check(t, u.press("25 USD"))
	check(t, u.press("Bitcoin"))
	m = u.mark()
	check(t, u.press("Simulate payment"))
	s, err := u.awaitSecret(m)
	check(t, err)
	i := strings.Index(s.Text, "Valid until: ")
	if i < 0 {
		t.Fatalf("delivery %q has no expiry date", s.Text)
	}
	date := s.Text[i+len("Valid until: ") : i+len("Valid until: 2006-01-02")]
	exp, err := time.Parse("2006-01-02", date)
	check(t, err)
	e.bot.DueAt(e.ctx, exp.Add(-8*24*time.Hour))
	if n := u.count("expires on"); n != 0 {
		t.Fatal("reminded too early")
	}
	e.bot.DueAt(e.ctx, exp.Add(-7*24*time.Hour+time.Minute))
	if _, err := u.await(m, "PlayStation US card expires on "+date); err != nil {
		t.Fatal(err)
	}
	e.bot.DueAt(e.ctx, exp.Add(-24*time.Hour))
	if n := u.count("expires on"); n != 1 {
		t.Errorf("reminded %d times, want 1", n)
	}
}

func decodePNG(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	check(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	check(t, err)
	// PURE_BARCODE: the PNG is exactly what we send, not a photo of it.
	// Without it gozxing's finder misses about 3 % of perfect images
	// (every one of them decodes with the hint).
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	check(t, err)
	return res.GetText()
}

// An eSIM arrives installable three ways — the QR (decoded here), by hand,
// and Apple's one-tap link — and is saved to the user's eSIMs; a day before
// its plan ends the user is offered a one-tap top-up.
func TestESIMDeliveryAndReminder(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOptions{fake: &bitrefilltest.Options{Now: clk.Now}})
	u := e.newUser(true)
	m := u.mark()
	u.say("esim europe")
	_, err := u.await(m, "Results for")
	check(t, err)
	check(t, u.open("Bitrefill eSIM Europe", "1GB, 7 Days"))
	check(t, u.press("1GB, 7 Days"))
	check(t, u.press("Bitcoin"))
	m = u.mark()
	check(t, u.press("Simulate payment"))
	s, err := u.awaitSecret(m)
	check(t, err)

	esims, err := e.api.ESIMs(e.ctx)
	check(t, err)
	if len(esims) != 1 {
		t.Fatalf("%d eSIMs at the fake", len(esims))
	}
	es := esims[0]
	if s.PNG == nil {
		t.Fatal("eSIM delivered without a QR image")
	}
	if got := decodePNG(t, s.PNG); got != es.BarcodeValue {
		t.Errorf("QR decodes to %q, want the LPA %q", got, es.BarcodeValue)
	}
	smdp, code, _ := conversation.ParseLPA(es.BarcodeValue)
	for _, want := range []string{"SM-DP+ address: " + smdp, "Activation code: " + code, "ICCID: " + es.ID,
		conversation.AppleESIMLink(es.BarcodeValue), "iPhone:", "Android:"} {
		if !strings.Contains(s.Text, want) {
			t.Errorf("eSIM delivery lacks %q:\n%s", want, s.Text)
		}
	}
	st := u.state()
	if len(st.ESIMs) != 1 || st.ESIMs[0].ICCID != es.ID || st.ESIMs[0].Product != "bitrefill-esim-europe" {
		t.Errorf("user's eSIMs %+v, want ICCID %s of bitrefill-esim-europe", st.ESIMs, es.ID)
	}

	clk.Add(6*24*time.Hour + 12*time.Hour) // the 7-day plan ends in 12 hours
	m = u.mark()
	e.bot.ESIMRemindersAt(e.ctx, clk.Now())
	r, err := u.await(m, "plan ends")
	check(t, err)
	if len(r.Reply.Options) != 1 {
		t.Fatalf("reminder options %+v, want one top-up", r.Reply.Options)
	}
	if c, ok := conversation.ParseCommandToken(r.Reply.Options[0].Token); !ok || c.Name != "topup" || c.Args != es.ID {
		t.Errorf("top-up option means %+v, want /topup %s", c, es.ID)
	}
	e.bot.ESIMRemindersAt(e.ctx, clk.Now().Add(time.Hour))
	if n := u.count("plan ends"); n != 1 {
		t.Errorf("reminded %d times, want 1", n)
	}
}

// A card the till scans arrives with a CODE_128 barcode, not a QR code: the
// picture decodes, as CODE_128, to the code the text shows, and the log
// never holds it.
func TestBarcodeCardDelivery(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, envOptions{logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	u := e.newUser(true)
	m := u.mark()
	u.say("starbucks us")
	_, err := u.await(m, "Results for")
	check(t, err)
	m = u.mark()
	check(t, u.press("Starbucks US"))
	_, err = u.await(m, "type an amount")
	check(t, err)
	m = u.mark()
	u.say("20")
	_, err = u.await(m, "Confirm your order")
	check(t, err)
	check(t, u.press("Bitcoin"))
	m = u.mark()
	check(t, u.press("Simulate payment"))
	s, err := u.awaitSecret(m)
	check(t, err)

	code := codeIn(t, s)
	if s.PNG == nil {
		t.Fatal("barcode card delivered without a picture")
	}
	img, err := png.Decode(bytes.NewReader(s.PNG))
	check(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	check(t, err)
	res, err := oned.NewCode128Reader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("the picture is not a CODE_128 barcode: %v", err)
	}
	if res.GetText() != code {
		t.Errorf("barcode reads %q, the text shows the code %q", res.GetText(), code)
	}
	if !strings.Contains(s.Text, "barcode is in the picture") {
		t.Errorf("delivery does not point at the barcode:\n%s", s.Text)
	}
	if strings.Contains(logs.String(), code) {
		t.Error("the log holds the code")
	}
}

// A reminder's one-tap option works whatever menu is on screen: it is the
// command it names.
func TestCommandTokenIsACommand(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.newUser(true)
	u.handle(conversation.Chose{Token: conversation.CommandToken("help", "")})
	if _, err := u.await(0, "How it works"); err != nil {
		t.Fatal(err)
	}
}

// Idle browsing is tidied; an invoice on screen is not.
func TestCleanupTidiesIdleSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	browsing, paying := e.newUser(true), e.newUser(true)
	m := browsing.mark()
	browsing.say("amazon")
	_, err := browsing.await(m, "Results for")
	check(t, err)
	_, err = paying.toInvoice()
	check(t, err)
	e.bot.CleanupAt(e.ctx, time.Now().Add(time.Hour))
	if st := browsing.state(); st.Step != conversation.StepResults {
		t.Fatalf("tidied after an hour: step %q", st.Step)
	}
	e.bot.CleanupAt(e.ctx, time.Now().Add(25*time.Hour))
	if st := browsing.state(); st.Step != conversation.StepIdle || len(st.Results) != 0 {
		t.Errorf("idle results kept: step %q, %d results", st.Step, len(st.Results))
	}
	if st := paying.state(); st.Step != conversation.StepInvoice || len(st.Purchases) != 1 {
		t.Errorf("invoice session changed by the clean-up: step %q, %d purchases", st.Step, len(st.Purchases))
	}
}

// The daily backup is a database that opens, and only the newest are kept.
func TestBackupRetention(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	e := newEnv(t, envOptions{key: key, tune: func(e *env, c *bot.Config) { c.BackupDir, c.BackupKeep = dir, 2 }})
	_, err := e.newUser(true).toInvoice()
	check(t, err)
	day := time.Date(2030, 1, 1, 3, 0, 0, 0, time.UTC)
	for i := range 4 {
		e.bot.BackupAt(e.ctx, day.AddDate(0, 0, i))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.db"))
	if len(files) != 2 {
		t.Fatalf("%d backups kept, want 2: %v", len(files), files)
	}
	st, err := storage.Open(files[1], storage.Options{Key: key})
	check(t, err)
	defer st.Close()
	if tr, err := st.Tracked(); err != nil || len(tr) != 1 {
		t.Errorf("backup holds %d tracked invoices (%v), want 1", len(tr), err)
	}
	if fi, _ := os.Stat(files[1]); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
}

// ---- encryption at rest ----

// With a key, the database file never holds a redemption code in clear.
func TestCodesEncryptedAtRest(t *testing.T) {
	e := newEnv(t, envOptions{key: bytes.Repeat([]byte{42}, 32)})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	// A blocked moment keeps the code in the outbox, sealed, for a while.
	check(t, e.fake.MarkPaid(id))
	e.bot.PollAt(e.ctx, time.Now())
	_, err = u.awaitSecret(0)
	check(t, err)
	e.bot.FlushMarks()
	raw, err := os.ReadFile(e.path)
	check(t, err)
	if !bytes.Contains(raw, []byte(id)) {
		t.Fatal("the invoice id is not in the file: not the database we think")
	}
	for _, c := range e.codes(id) {
		if bytes.Contains(raw, []byte(c)) {
			t.Errorf("code %s is in the database file in clear", c)
		}
	}
	if st := u.state(); st.Lang == "" {
		t.Error("the sealed session does not read back")
	}
}

// Once the user has moved on from the invoice, its news comes as new
// messages: the old invoice message may be showing another menu by now.
func TestNoEditAfterUserMovedOn(t *testing.T) {
	a := &able{}
	e := newEnv(t, envOptions{tune: withAble(a, nil)})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	m := u.mark()
	u.say("steam")
	_, err = u.await(m, "Results for")
	check(t, err)
	check(t, e.fake.MarkPaid(id))
	e.bot.PollAt(e.ctx, time.Now())
	_, err = u.await(m, "Receipt")
	check(t, err)
	if n := u.count("[edit "); n != 0 {
		t.Errorf("%d edits after the user left the invoice view", n)
	}
}

// The invoice view's QR is the payment URI: BIP21 with the amount for
// bitcoin, exactly; the BOLT11 request for lightning, upper-cased so that
// it fits QR's denser alphanumeric mode (bech32 ignores case).
func TestInvoiceQRScansToPaymentURI(t *testing.T) {
	for _, method := range []string{"Bitcoin", "Lightning"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			u := e.newUser(true)
			check(t, u.toConfirm())
			m := u.mark()
			check(t, u.press(method))
			view, err := u.await(m, "Invoice for")
			check(t, err)
			inv, err := e.api.Invoice(e.ctx, u.invoiceID())
			check(t, err)
			got := decodePNG(t, view.PNG)
			want := inv.Payment.URI()
			if method == "Lightning" {
				want = strings.ToUpper(want)
			}
			if got != want {
				t.Errorf("QR %q, want the payment URI %q", got, want)
			}
			switch method {
			case "Bitcoin":
				if !strings.HasPrefix(got, "bitcoin:") || !strings.Contains(got, "amount=") {
					t.Errorf("bitcoin QR %q is not BIP21 with an amount", got)
				}
			case "Lightning":
				if !strings.HasPrefix(got, "LIGHTNING:LNBC") {
					t.Errorf("lightning QR %q is not a BOLT11 request", got)
				}
			}
		})
	}
}

// A paid invoice waiting for confirmations is not fetched again while the
// list call shows nothing new: a slow block must not eat the request budget.
func TestPollerWaitsQuietlyForConfirmations(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOptions{fake: &bitrefilltest.Options{Now: clk.Now, ConfirmAfter: time.Hour, DeliverAfter: time.Minute}})
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	check(t, e.fake.MarkPaid(id))
	e.bot.PollAt(e.ctx, time.Now())
	_, err = u.await(0, "Payment seen")
	check(t, err)
	fetches := e.count("GET", "/invoices/"+id)
	for range 5 {
		e.bot.PollAt(e.ctx, time.Now())
	}
	if n := e.count("GET", "/invoices/"+id) - fetches; n != 0 {
		t.Errorf("%d fetches of an invoice whose status did not move", n)
	}
	clk.Add(time.Hour + 2*time.Minute)
	e.bot.PollAt(e.ctx, time.Now())
	if _, err := u.awaitSecret(0); err != nil {
		t.Fatal(err)
	}
}

// A final webhook at the secret URL is not confirmed with GET
// /invoices/{id}: its orders are fetched (that is where codes come from),
// and that is all one purchase costs after the invoice was created.
func TestWebhookAtTheSecretURLIsNotConfirmed(t *testing.T) {
	e := newEnv(t, envOptions{tune: withSecret})
	h := e.bot.WebhookHandler(e.ctx)
	u := e.newUser(true)
	_, err := u.toInvoice()
	check(t, err)
	id := u.invoiceID()
	m := u.mark()
	check(t, e.fake.MarkPaid(id))
	inv, err := e.api.Invoice(e.ctx, id) // what Bitrefill would post
	check(t, err)
	body, err := json.Marshal(inv)
	check(t, err)
	before := e.fake.Counts()
	if code := post(h, bot.WebhookPath+secret, string(body)); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	s, err := u.awaitSecret(m)
	check(t, err)
	e.bot.Wait()
	for _, c := range e.codes(id) {
		if !strings.Contains(s.Text, c) {
			t.Errorf("delivery %q lacks the code %s", s.Text, c)
		}
	}
	after := e.fake.Counts()
	if n := after["GET /invoices/{id}"] - before["GET /invoices/{id}"]; n != 0 {
		t.Errorf("%d invoice fetches to confirm a webhook at the secret URL, want 0", n)
	}
	// One request for the one order: a list call, which would have taken in
	// any other invoice paid meanwhile (paid.go), or the order alone.
	if n := after["GET /orders/{id}"] - before["GET /orders/{id}"] + after["GET /orders"] - before["GET /orders"]; n != 1 {
		t.Errorf("%d order fetches for one order, want 1", n)
	}
}
