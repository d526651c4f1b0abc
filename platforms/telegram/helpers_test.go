package telegram_test

// The end-to-end harness: the real shell (bot.Bot) on bbolt storage, the
// Bitrefill sandbox fake reached through the real client, and the Telegram
// adapter talking through the unmodified go-telegram/bot library to the fake
// Bot API server, where scripted users chat.

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/bot/catalog"
	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
	"refillbot/storage"
)

// What the engine shows, in one place: the engine's texts may change.
// English unless marked; tests use English-speaking users wherever the
// language is not the point.
const (
	txtWelcome   = "Welcome"
	txtResults   = "Results for"
	txtValues    = "Values:"
	txtValuesES  = "Valores:" // the same line for a Spanish-speaking user
	txtAnyValue  = "Any amount from"
	txtConfirm   = "Confirm your order"
	txtInvoice   = "Invoice for"
	txtSeen      = "Payment seen"      // the invoice, once the payment is seen
	txtConfirmed = "Payment confirmed" // … and confirmed
	txtCode      = "Code:"
	txtReceipt   = "Receipt" // what the invoice finally becomes
	txtExpired   = "expired"
	lblBitcoin   = "Bitcoin"
	lblSimulate  = "Simulate payment"
	lblRefresh   = "Refresh status"
)

var (
	_ bot.Platform = (*telegram.Adapter)(nil)
	_ bot.Editor   = (*telegram.Adapter)(nil)
	_ bot.Deleter  = (*telegram.Adapter)(nil)
)

type envOptions struct {
	opts    telegram.Options // Token, APIURL and Logger are filled in
	tgOpts  telegramtest.Options
	fake    bitrefilltest.Options // Sandbox is always on
	noStart bool
	shell   func(*bot.Config) // a last word on the shell's configuration
	// catalog serves cards and searches from a catalogue loaded at start,
	// as the binary does.
	catalog bool
}

type env struct {
	tb    testing.TB
	ctx   context.Context
	tg    *telegramtest.Server
	fake  *bitrefilltest.Fake
	api   *bitrefill.Client
	path  string
	store *storage.Store
	bot   *bot.Bot
	ad    *telegram.Adapter
	o     envOptions

	cancel context.CancelFunc
	done   chan error
}

func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	e := &env{tb: tb, ctx: context.Background(), o: o}
	if t, ok := tb.(interface{ Context() context.Context }); ok {
		e.ctx = t.Context()
	}
	e.tg = telegramtest.NewServer(tb, o.tgOpts)
	fo := o.fake
	fo.Sandbox = true
	e.fake = bitrefilltest.New(fo)
	tb.Cleanup(e.fake.Close)
	api, err := bitrefill.New(bitrefill.Config{BaseURL: "http://bitrefill.invalid/v2", HTTPClient: e.fake.Client(),
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	e.api = api
	e.path = filepath.Join(tb.TempDir(), "refillbot.db")
	if !o.noStart {
		e.start()
	}
	tb.Cleanup(e.stop)
	return e
}

// adapterOptions are the options the adapter gets, pacing off unless set.
func (e *env) adapterOptions() telegram.Options {
	opts := e.o.opts
	opts.Token, opts.APIURL = e.tg.Token(), e.tg.URL()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PerChat == (telegram.Limit{}) && opts.Global == (telegram.Limit{}) && opts.Group == (telegram.Limit{}) {
		opts.NoPacing = true
	}
	if opts.PollTimeout == 0 {
		opts.PollTimeout = 5 * time.Second
	}
	return opts
}

// start opens the store, builds the shell and the adapter, and runs it.
func (e *env) start() {
	e.tb.Helper()
	st, err := storage.Open(e.path, storage.Options{Timeout: time.Second})
	if err != nil {
		e.tb.Fatal(err)
	}
	ad, err := telegram.New(e.ctx, e.adapterOptions())
	if err != nil {
		st.Close()
		e.tb.Fatal(err)
	}
	ad.UseInbox(st) // as the binary does: updates kept in the store
	cfg := bot.Config{
		API:       e.api,
		Store:     st,
		Platforms: map[string]bot.Platform{telegram.Platform: ad},
		Engine:    conversation.Engine{Methods: []string{bitrefill.PayBitcoin, bitrefill.PayLightning}, Sandbox: true},
		Simulator: e.fake,
		Logger:    slog.New(slog.DiscardHandler),
	}
	graceNeverEnds(&cfg) // deterministic whatever the machine's speed (budget_test.go)
	if e.o.catalog {
		cat := catalog.New(e.api, catalog.Options{})
		if err := cat.Refresh(e.ctx, time.Now()); err != nil {
			st.Close()
			e.tb.Fatal(err)
		}
		cfg.Catalog = cat
	}
	if e.o.shell != nil {
		e.o.shell(&cfg)
	}
	b, err := bot.New(cfg)
	if err != nil {
		st.Close()
		e.tb.Fatal(err)
	}
	e.store, e.bot, e.ad = st, b, ad
	ctx, cancel := context.WithCancel(context.WithoutCancel(e.ctx))
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() {
		e.done <- ad.Run(ctx, b.Handle)
	}()
}

// stop ends Run and closes the store: a process exit.
func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	if err := <-e.done; err != nil {
		e.tb.Errorf("Run: %v", err)
	}
	e.cancel = nil
	if err := e.store.Close(); err != nil {
		e.tb.Errorf("close store: %v", err)
	}
}

// restart is a process restart on the same database.
func (e *env) restart() {
	e.tb.Helper()
	e.stop()
	e.start()
}

// session is the stored session of a Telegram user.
func (e *env) session(u *telegramtest.User) conversation.State {
	e.tb.Helper()
	st, found, err := e.store.Session(conversation.SessionKey{Platform: telegram.Platform, User: strconv.FormatInt(u.ID, 10)})
	if err != nil || !found {
		e.tb.Fatalf("session of user %d: found=%v err=%v", u.ID, found, err)
	}
	return st
}

// codes returns the redemption codes of an invoice, as the API has them.
func (e *env) codes(invoiceID string) []string { return e.fake.Codes(e.tb, invoiceID) }

// ---- steps of a purchase, for one user in their private chat ----

type buyer struct {
	e       *env
	u       *telegramtest.User
	d       *telegramtest.Dialog
	invoice string // the id of the invoice purchase() paid
}

func (e *env) newBuyer(name, lang string) *buyer {
	u := e.tg.NewUser(name, lang)
	return &buyer{e: e, u: u, d: u.In(u.Chat())}
}

// say writes a line and waits for a message containing want.
func (b *buyer) say(line, want string) (telegramtest.Message, error) {
	b.d.Say(line)
	return b.d.Await(want)
}

// tap taps a button and waits for a message containing want.
func (b *buyer) tap(label, want string) (telegramtest.Message, error) {
	if _, err := b.d.Tap(label); err != nil {
		return telegramtest.Message{}, err
	}
	return b.d.Await(want)
}

// toConfirm goes from a fresh chat to the payment choice: Amazon US, 50 USD.
func (b *buyer) toConfirm() error {
	if _, err := b.say("/start", txtWelcome); err != nil {
		return err
	}
	if _, err := b.say("amazon us", txtResults); err != nil {
		return err
	}
	if _, err := b.tap("Amazon US", txtValues); err != nil {
		return err
	}
	_, err := b.say("50", txtConfirm)
	return err
}

// toInvoice goes from a fresh chat to the invoice, paying with Bitcoin, and
// remembers its id.
func (b *buyer) toInvoice() (invoice telegramtest.Message, err error) {
	if err = b.toConfirm(); err != nil {
		return
	}
	if invoice, err = b.tap(lblBitcoin, txtInvoice); err != nil {
		return
	}
	st, _, err := b.e.store.Session(conversation.SessionKey{Platform: telegram.Platform, User: strconv.FormatInt(b.u.ID, 10)})
	b.invoice = st.Invoice
	return
}

// purchase is the whole purchase; it returns the invoice message and the delivery.
func (b *buyer) purchase() (invoice, delivery telegramtest.Message, err error) {
	if invoice, err = b.toInvoice(); err != nil {
		return
	}
	delivery, err = b.tap(lblSimulate, txtCode)
	return
}

// clock is a settable time for the Bitrefill fake and the shell's jobs.
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

// Add moves the clock on and returns the new time.
func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// codeIn returns the text of the message's code entity ("" without one).
func codeIn(m telegramtest.Message) string {
	for _, ent := range m.Entities {
		if ent.Type == "code" {
			return string(utf16Slice(m.Text, ent.Offset, ent.Length))
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}
