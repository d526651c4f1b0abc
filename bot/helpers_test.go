package bot_test

// The end-to-end harness: the real shell (bot.Bot) wired as cmd/refillbot
// wires it — bbolt storage on a temp file, the real Bitrefill client talking to
// the in-tree fake — with a recording chat platform as the only stand-in.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/storage"
)

// platformName is the Address.Platform the recorder is registered under.
const platformName = "test"

// waitLimit bounds every wait for a reply. Handle is synchronous, so replies
// are normally there at once; the deadline only turns a hang into a failure.
const waitLimit = 10 * time.Second

// Compile-time checks, as cmd/refillbot has them.
var (
	_ bot.Platform         = (*recorder)(nil)
	_ bot.Store            = storeAdapter{}
	_ bot.API              = (*bitrefill.Client)(nil)
	_ bot.PaymentSimulator = (*bitrefilltest.Fake)(nil)
)

// storeAdapter is the bbolt store cmd/refillbot uses, plus a count of
// commits and of the "sent" marks' own writes.
type storeAdapter struct {
	*storage.Store
	commits *atomic.Int64 // may be nil
	marks   *atomic.Int64 // may be nil
}

func (s storeAdapter) Commit(c bot.Commit) error {
	if s.commits != nil {
		s.commits.Add(1)
	}
	return s.Store.Commit(c)
}

func (s storeAdapter) OutboxDone(done []uint64, views []bot.View, hides []bot.Scheduled) error {
	if s.marks != nil {
		s.marks.Add(1)
	}
	return s.Store.OutboxDone(done, views, hides)
}

// ---- the recording platform ----

// sent is one reply as the platform received it.
type sent struct {
	To    conversation.Address
	Reply conversation.Reply
	PNG   []byte
	Text  string // conversation.PlainText of the reply
}

// recorder is a bot.Platform that keeps every reply, by chat.
type recorder struct {
	mu      sync.Mutex
	all     []sent
	byChat  map[string][]sent
	changed chan struct{} // closed and replaced on every Send
	hook    func(to conversation.Address, r conversation.Reply)
}

func newRecorder() *recorder {
	return &recorder{byChat: map[string][]sent{}, changed: make(chan struct{})}
}

// onSend installs fn to run inside Send, before the reply is recorded.
func (p *recorder) onSend(fn func(to conversation.Address, r conversation.Reply)) {
	p.mu.Lock()
	p.hook = fn
	p.mu.Unlock()
}

func (p *recorder) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	p.mu.Lock()
	hook := p.hook
	p.mu.Unlock()
	if hook != nil {
		hook(to, r)
	}
	s := sent{To: to, Reply: r, PNG: png, Text: conversation.PlainText(r.Text)}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = append(p.all, s)
	p.byChat[to.Chat] = append(p.byChat[to.Chat], s)
	close(p.changed)
	p.changed = make(chan struct{})
	return strconv.Itoa(len(p.all)), nil
}

// chat returns a copy of the replies sent to one chat, oldest first.
func (p *recorder) chat(chat string) []sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sent(nil), p.byChat[chat]...)
}

// everything returns a copy of all replies, in the order they were sent.
func (p *recorder) everything() []sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sent(nil), p.all...)
}

// count is how many replies the chat has had so far: a mark for await.
func (p *recorder) count(chat string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byChat[chat])
}

// await returns the first reply to chat, at index from or later, that match
// accepts, waiting for it until the deadline.
func (p *recorder) await(chat string, from int, what string, match func(sent) bool) (sent, error) {
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		list, ch := p.byChat[chat], p.changed
		for i := from; i < len(list); i++ {
			if match(list[i]) {
				s := list[i]
				p.mu.Unlock()
				return s, nil
			}
		}
		from = max(from, len(list))
		var got []string
		for _, s := range list {
			got = append(got, fmt.Sprintf("%q", s.Text))
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return sent{}, fmt.Errorf("no reply %s in chat %s after %v; replies so far:\n%s", what, chat, waitLimit, strings.Join(got, "\n"))
		}
	}
}

// ---- the wired shell ----

type envOptions struct {
	logger    *slog.Logger
	inProcess bool // reach the fake through fake.Client(), without sockets
	commits   *atomic.Int64
	marks     *atomic.Int64 // writes of "sent" marks outside commits
	// Delivery tests (delivery_test.go): the fake's options, the storage
	// key, and a last word on the bot's configuration.
	fake *bitrefilltest.Options
	key  []byte
	tune func(e *env, c *bot.Config)
	// client is a last word on the Bitrefill client's configuration.
	client func(c *bitrefill.Config)
}

type env struct {
	tb      testing.TB
	ctx     context.Context
	fake    *bitrefilltest.Fake
	api     *bitrefill.Client
	path    string
	store   *storage.Store
	plat    *recorder
	bot     *bot.Bot
	logger  *slog.Logger
	commits *atomic.Int64
	users   atomic.Int64
	opts    envOptions
}

func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	e := &env{tb: tb, ctx: context.Background(), plat: newRecorder(), logger: o.logger, commits: o.commits, opts: o}
	if t, ok := tb.(interface{ Context() context.Context }); ok {
		e.ctx = t.Context()
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	opts := bitrefilltest.Options{ConfirmAfter: 0, DeliverAfter: 0}
	if o.fake != nil {
		opts = *o.fake
	}
	cfg := bitrefill.Config{
		APIKey:     "test-key",
		MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond,
		Logger:     e.logger,
	}
	if o.inProcess {
		e.fake = bitrefilltest.New(opts)
		tb.Cleanup(e.fake.Close)
		cfg.BaseURL, cfg.HTTPClient = "http://bitrefill.invalid/v2", e.fake.Client()
	} else {
		f, s := bitrefilltest.NewServer(tb, opts)
		e.fake = f
		cfg.BaseURL, cfg.HTTPClient = s.URL+"/v2", s.Client()
	}
	if o.client != nil {
		o.client(&cfg)
	}
	api, err := bitrefill.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e.api = api
	e.path = filepath.Join(tb.TempDir(), "refillbot.db")
	e.open()
	tb.Cleanup(func() {
		if err := e.store.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return e
}

// open opens the store and builds a Bot on it.
func (e *env) open() {
	e.tb.Helper()
	st, err := storage.Open(e.path, storage.Options{Key: e.opts.key})
	if err != nil {
		e.tb.Fatal(err)
	}
	cfg := bot.Config{
		API:       e.api,
		Store:     storeAdapter{st, e.commits, e.opts.marks},
		Platforms: map[string]bot.Platform{platformName: e.plat},
		Engine:    conversation.Engine{Methods: []string{bitrefill.PayBitcoin, bitrefill.PayLightning}, Sandbox: true},
		Simulator: e.fake,
		Logger:    e.logger,
		// Every answer comes within the interim grace, however slow the
		// machine: a test that wants the interim sets InterimGrace < 0.
		AfterFunc: func(time.Duration, func()) func() bool { return func() bool { return true } },
	}
	if e.opts.tune != nil {
		e.opts.tune(e, &cfg)
	}
	b, err := bot.New(cfg)
	if err != nil {
		st.Close()
		e.tb.Fatal(err)
	}
	e.store, e.bot = st, b
}

// restart is a process restart: the store is closed and reopened from its
// file and a new Bot is built on it. Nothing in memory survives.
func (e *env) restart() {
	e.tb.Helper()
	if err := e.store.Close(); err != nil {
		e.tb.Fatal(err)
	}
	e.open()
}

// count counts requests the fake received with this method and path (after /v2).
func (e *env) count(method, path string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == method && r.Path == "/v2"+path {
			n++
		}
	}
	return n
}

// invoices lists every invoice the fake holds, through the real client.
func (e *env) invoices() []bitrefill.Invoice {
	e.tb.Helper()
	list, err := e.api.Invoices(e.ctx, bitrefill.ListFilter{Limit: 50})
	if err != nil {
		e.tb.Fatal(err)
	}
	return list
}

// tracked lists the invoices the poller watches, from the store.
func (e *env) tracked() []bot.Tracked {
	e.tb.Helper()
	list, err := e.store.Tracked()
	if err != nil {
		e.tb.Fatal(err)
	}
	return list
}

// codes returns the redemption codes of an invoice's orders, as the API has them.
func (e *env) codes(invoiceID string) []string { return e.fake.Codes(e.tb, invoiceID) }

// ---- a user ----

type user struct {
	e    *env
	key  conversation.SessionKey
	addr conversation.Address
}

// newUser makes a user chatting privately (or not) with the bot.
func (e *env) newUser(private bool) *user {
	n := strconv.FormatInt(e.users.Add(1), 10)
	return &user{
		e:    e,
		key:  conversation.SessionKey{Platform: platformName, User: "u" + n},
		addr: conversation.Address{Platform: platformName, Chat: "c" + n, Private: private},
	}
}

func (u *user) handle(ev conversation.Event) {
	u.e.bot.Handle(u.e.ctx, bot.Incoming{Key: u.key, Address: u.addr, Event: ev})
}

func (u *user) say(text string) { u.handle(conversation.Text{Text: text}) }

// mark is the number of replies this user has had: await looks after it.
func (u *user) mark() int { return u.e.plat.count(u.addr.Chat) }

func (u *user) replies() []sent { return u.e.plat.chat(u.addr.Chat) }

// deliveries counts the secret replies (codes) this user has received.
func (u *user) deliveries() int {
	n := 0
	for _, s := range u.replies() {
		if s.Reply.Secret {
			n++
		}
	}
	return n
}

// await waits for a reply after mark whose plain text contains substr.
func (u *user) await(mark int, substr string) (sent, error) {
	return u.e.plat.await(u.addr.Chat, mark, fmt.Sprintf("containing %q", substr), func(s sent) bool {
		return strings.Contains(s.Text, substr)
	})
}

// open presses label in the last menu and waits for a menu offering want:
// a product card loads on its own (Bot.process), after Handle returns.
func (u *user) open(label, want string) error {
	m := u.mark()
	if err := u.press(label); err != nil {
		return err
	}
	_, err := u.e.plat.await(u.addr.Chat, m, fmt.Sprintf("offering %q", want), func(s sent) bool {
		_, ok := optionToken(s.Reply, want)
		return ok
	})
	return err
}

// awaitSecret waits for a Secret reply after mark.
func (u *user) awaitSecret(mark int) (sent, error) {
	return u.e.plat.await(u.addr.Chat, mark, "marked Secret", func(s sent) bool { return s.Reply.Secret })
}

// menu is the last reply this user got that had options.
func (u *user) menu() (sent, bool) {
	list := u.replies()
	for i := len(list) - 1; i >= 0; i-- {
		if len(list[i].Reply.Options) > 0 {
			return list[i], true
		}
	}
	return sent{}, false
}

// press taps the option labelled label (exactly, else the first containing
// it) in the last menu the user was shown.
func (u *user) press(label string) error {
	m, ok := u.menu()
	if !ok {
		return fmt.Errorf("press %q: no menu shown yet", label)
	}
	tok, ok := optionToken(m.Reply, label)
	if !ok {
		return fmt.Errorf("press %q: not in the last menu %q", label, labels(m.Reply))
	}
	u.handle(conversation.Chose{Token: tok})
	return nil
}

func optionToken(r conversation.Reply, label string) (string, bool) {
	for _, o := range r.Options {
		if o.Label == label {
			return o.Token, true
		}
	}
	for _, o := range r.Options {
		if strings.Contains(o.Label, label) {
			return o.Token, true
		}
	}
	return "", false
}

func labels(r conversation.Reply) []string {
	out := make([]string, len(r.Options))
	for i, o := range r.Options {
		out[i] = o.Label
	}
	return out
}

// Steps of the standard purchase: Amazon US, 50 USD, paid in Bitcoin.

// toConfirm goes from a fresh chat to the confirmation (choose how to pay).
func (u *user) toConfirm() error {
	m := u.mark()
	u.say("amazon us")
	if _, err := u.await(m, "Results for"); err != nil {
		return err
	}
	m = u.mark()
	if err := u.press("Amazon US"); err != nil {
		return err
	}
	if _, err := u.await(m, "Values:"); err != nil {
		return err
	}
	m = u.mark()
	u.say("50")
	_, err := u.await(m, "Confirm your order")
	return err
}

// toInvoice goes from a fresh chat to the invoice view.
func (u *user) toInvoice() (sent, error) {
	if err := u.toConfirm(); err != nil {
		return sent{}, err
	}
	m := u.mark()
	if err := u.press("Bitcoin"); err != nil {
		return sent{}, err
	}
	return u.await(m, "Invoice for")
}

// purchase is the whole purchase, paid with the sandbox's simulated payment;
// it returns the delivery.
func (u *user) purchase() (sent, error) {
	if _, err := u.toInvoice(); err != nil {
		return sent{}, err
	}
	m := u.mark()
	if err := u.press("Simulate payment"); err != nil {
		return sent{}, err
	}
	return u.awaitSecret(m)
}

// invoiceID is the id of the invoice on this user's screen, from the store.
func (u *user) invoiceID() string {
	u.e.tb.Helper()
	st := u.state()
	if st.Invoice == "" {
		u.e.tb.Fatalf("no invoice on screen (step %q)", st.Step)
	}
	return st.Invoice
}

// state is the user's stored session.
func (u *user) state() conversation.State {
	u.e.tb.Helper()
	st, found, err := u.e.store.Session(u.key)
	if err != nil || !found {
		u.e.tb.Fatalf("session %s: found=%v err=%v", u.key, found, err)
	}
	return st
}

// parseToken splits a token into nonce, menu number and option index.
func parseToken(tok string) (nonce string, menu, index int, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", 0, 0, errors.New("not nonce.menu.index")
	}
	m, err := strconv.ParseInt(parts[1], 36, 64)
	if err != nil {
		return "", 0, 0, fmt.Errorf("menu: %w", err)
	}
	i, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", 0, 0, fmt.Errorf("index: %w", err)
	}
	return parts[0], int(m), i, nil
}

func check(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// handClock is a clock the test sets; the budget's timers fire when it
// passes them. The bot's jobs take their time as an argument (PollAt and
// the like), and the Bitrefill client's budget and the fake read this.
type handClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*handTimer
}

type handTimer struct {
	at   time.Time
	f    func()
	done bool
}

func newHandClock(at time.Time) *handClock { return &handClock{now: at} }

func (c *handClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *handClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &handTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.done
		t.done = true
		return was
	}
}

// Set moves the clock to at and runs the timers that came due.
func (c *handClock) Set(at time.Time) {
	c.mu.Lock()
	c.now = at
	var due []*handTimer
	for _, t := range c.timers {
		if !t.done && !t.at.After(at) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}
