package discord_test

// The end-to-end harness: the real shell (bot.Bot) on bbolt storage, the real
// Bitrefill client on the in-tree fake, this adapter, and the fake Discord
// the unmodified discordgo library talks to.

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/discord"
	"refillbot/platforms/discord/discordtest"
	"refillbot/storage"
)

var (
	_ bot.Platform = (*discord.Adapter)(nil)
	_ bot.Editor   = (*discord.Adapter)(nil)
	_ bot.Deleter  = (*discord.Adapter)(nil)
)

// Words of the engine the tests look for, in one place: the engine's texts
// may change under another issue.
const (
	lblProduct   = "Amazon US"
	lblBitcoin   = "Bitcoin"
	lblSimulate  = "Simulate payment"
	lblRefresh   = "Refresh status"
	txtResults   = "Results for"
	txtSearching = "Searching for"
	txtValues    = "Values:"
	txtNotAmt    = "is not an amount"
	txtBelow     = "below the minimum"
	txtConfirm   = "Confirm your order"
	txtInvoice   = "Invoice for"
	txtSeen      = "Payment seen"
	txtReady     = "is ready"
	txtReceipt   = "Receipt"
	txtTopupConf = "Confirm your eSIM top-up"
	txtExpired   = "expired"
	txtHelp      = "How it works"
	txtHelpES    = "Cómo funciona"
	txtWelcome   = "Welcome"
	txtUnknown   = "I don't know /"
)

// The adapter's own words come from the catalogue's chrome.
var (
	lblTypeIt   = conversation.Phrase("en", conversation.UITypeHere)
	lblTypeItES = conversation.Phrase("es", conversation.UITypeHere)
	amountTitle = conversation.Phrase("en", conversation.UIAmountTitle)
	dmClosed    = discord.PhraseForTest("en", "ui.dm_closed")
	dmClosedES  = discord.PhraseForTest("es", "ui.dm_closed")
)

type envOptions struct {
	global     bool // register commands globally (usable in DMs), not in the test guild
	deferAfter time.Duration
	// dmClosedFor is the adapter's pause after a refused DM (default 10m).
	dmClosedFor time.Duration
	verbose     bool
}

type env struct {
	tb    testing.TB
	ctx   context.Context
	dc    *discordtest.Server
	fake  *bitrefilltest.Fake
	api   *bitrefill.Client
	store *storage.Store
	bot   *bot.Bot
	ad    *discord.Adapter
	guild discordtest.Place

	clockMu sync.Mutex
	offset  time.Duration // the fake Bitrefill's clock runs ahead by this
}

// newEnv starts everything and waits until the bot is connected. Payments
// are confirmed an hour after they are seen, on the fake's clock, so that
// deliveries come from the poller (by DM) once the test moves the clock.
func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	e := &env{tb: tb}
	ctx, cancel := context.WithCancel(context.Background())
	e.ctx = ctx
	var logw io.Writer = io.Discard
	if o.verbose || os.Getenv("DISCORD_TEST_LOG") != "" {
		logw = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))

	e.dc = discordtest.New(discordtest.Options{})
	e.fake = bitrefilltest.New(bitrefilltest.Options{ConfirmAfter: time.Hour, Now: e.now})
	api, err := bitrefill.New(bitrefill.Config{BaseURL: "http://bitrefill.invalid/v2", APIKey: "test-key",
		HTTPClient: e.fake.Client(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	e.api = api
	st, err := storage.Open(filepath.Join(tb.TempDir(), "refillbot.db"), storage.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	e.store = st
	guild := "g1"
	if o.global {
		guild = ""
	}
	ad, err := discord.New(discord.Options{
		Token: e.dc.Token(), AppID: e.dc.AppID(), GuildID: guild, APIURL: e.dc.URL(),
		Suggest: e.suggest, DeferAfter: o.deferAfter, DMInterval: time.Millisecond, DMClosedFor: o.dmClosedFor, Logger: logger,
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.ad = ad
	b, err := bot.New(bot.Config{
		API: api, Store: st,
		Platforms: map[string]bot.Platform{discord.Platform: ad},
		Engine:    conversation.Engine{Methods: []string{bitrefill.PayBitcoin, bitrefill.PayLightning}, Sandbox: true},
		Simulator: e.fake, Logger: logger,
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.bot = b
	runErr := make(chan error, 1)
	go func() {
		runErr <- ad.Run(ctx, b.Handle)
	}()
	tb.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil && err != context.Canceled {
			tb.Errorf("adapter Run: %v", err)
		}
		e.dc.Close()
		e.fake.Close()
		st.Close()
	})
	// The first heartbeat is awaited too: discordgo sends it as it connects,
	// and a Close racing with it makes discordgo reconnect after Close.
	if err := e.dc.WaitGateway(discordtest.Patience, "gateway connection", func(g discordtest.GatewayStats) bool { return g.Connected && g.Heartbeats > 0 }); err != nil {
		select {
		case err := <-runErr:
			tb.Fatalf("adapter stopped: %v", err)
		default:
		}
		tb.Fatal(err)
	}
	e.guild = e.dc.GuildChannel("g1", "general")
	return e
}

func (e *env) now() time.Time {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	return time.Now().Add(e.offset)
}

// advance moves the fake Bitrefill's clock and runs the poller once, as the
// cron job would: payments confirm and orders are delivered, by DM.
func (e *env) advance(d time.Duration) {
	e.clockMu.Lock()
	e.offset += d
	e.clockMu.Unlock()
	e.fake.Advance()
	e.bot.Poll(context.Background())
}

// suggest is the autocomplete source cmd wires to the catalogue; here a
// plain search of the fake.
func (e *env) suggest(ctx context.Context, key conversation.SessionKey, command, option, typed string, others map[string]string) []discord.Choice {
	if strings.HasPrefix(command, "esim ") {
		return e.suggestESIM(ctx, key, option, others)
	}
	if command != "buy" || len(strings.TrimSpace(typed)) < 2 {
		return nil
	}
	page, err := e.api.Search(ctx, bitrefill.SearchFilter{Query: typed, Limit: 25})
	if err != nil {
		return nil
	}
	var out []discord.Choice
	for _, p := range page.Items {
		out = append(out, discord.Choice{Name: p.Name, Value: p.ID})
	}
	return out
}

// suggestESIM offers the user's own eSIMs, then the chosen one's plans.
func (e *env) suggestESIM(ctx context.Context, key conversation.SessionKey, option string, others map[string]string) []discord.Choice {
	st, found, err := e.store.Session(key)
	if err != nil || !found {
		return nil
	}
	var out []discord.Choice
	for _, x := range st.ESIMs {
		switch option {
		case "esim":
			out = append(out, discord.Choice{Name: x.Name, Value: x.ICCID})
		case "plan":
			if x.ICCID != others["esim"] {
				continue
			}
			p, err := e.api.ESIMProduct(ctx, x.Product)
			if err != nil {
				return nil
			}
			for _, pk := range p.Packages {
				out = append(out, discord.Choice{Name: pk.Value, Value: pk.ID})
			}
		}
	}
	return out
}

// codes returns the redemption codes of an invoice's orders.
func (e *env) codes(invoiceID string) []string { return e.fake.Codes(e.tb, invoiceID) }

// ---- a scripted user with the bot's flows ----

type user struct {
	e  *env
	u  *discordtest.User
	at discordtest.Place
	// last is the last message with components the user was shown.
	last discordtest.Message
	// invoice is the message that showed the last invoice.
	invoice discordtest.Message
}

func (e *env) newUser(name, locale string) *user {
	return &user{e: e, u: e.dc.NewUser(name, locale), at: e.guild}
}

func (u *user) key() conversation.SessionKey {
	return conversation.SessionKey{Platform: discord.Platform, User: u.u.ID}
}

func (u *user) state() conversation.State {
	u.e.tb.Helper()
	st, found, err := u.e.store.Session(u.key())
	if err != nil || !found {
		u.e.tb.Fatalf("session of %s: found=%v err=%v", u.u.Name, found, err)
	}
	return st
}

// answered waits for an interaction's acknowledgement and fails the test if
// it came too late.
func (u *user) answered(p *discordtest.Pending) discordtest.Response {
	u.e.tb.Helper()
	r, err := p.Wait(discordtest.Patience)
	if err != nil {
		u.e.tb.Fatal(err)
	}
	return r
}

// slash runs a command and waits for a message containing want.
func (u *user) slash(want, name string, opts ...discordtest.Opt) discordtest.Message {
	u.e.tb.Helper()
	mark := u.e.dc.Mark()
	p, err := u.u.Slash(u.at, name, opts...)
	if err != nil {
		u.e.tb.Fatal(err)
	}
	u.answered(p)
	return u.await(mark, want)
}

func (u *user) await(mark int64, want string) discordtest.Message {
	u.e.tb.Helper()
	m, err := u.u.AwaitText(mark, want)
	if err != nil {
		u.e.tb.Fatal(err)
	}
	if len(m.Components) > 0 {
		u.last = m
	}
	return m
}

// press presses a button of the last menu and waits for want.
func (u *user) press(label, want string) discordtest.Message {
	u.e.tb.Helper()
	mark := u.e.dc.Mark()
	p, err := u.u.Press(u.last, label)
	if err != nil {
		u.e.tb.Fatal(err)
	}
	u.answered(p)
	return u.await(mark, want)
}

// typeIn opens the last menu's modal, submits value and waits for want.
func (u *user) typeIn(value, want string) discordtest.Message {
	u.e.tb.Helper()
	p, err := u.u.Press(u.last, lblTypeIt)
	if err != nil {
		u.e.tb.Fatal(err)
	}
	md, err := p.Modal(discordtest.Patience)
	if err != nil {
		u.e.tb.Fatal(err)
	}
	if md.Title != amountTitle {
		u.e.tb.Errorf("modal title %q, want %q", md.Title, amountTitle)
	}
	mark := u.e.dc.Mark()
	sp, err := u.u.Submit(md, value)
	if err != nil {
		u.e.tb.Fatal(err)
	}
	u.answered(sp)
	return u.await(mark, want)
}

// toInvoice goes from nothing to the invoice of a 50 USD Amazon US card.
func (u *user) toInvoice() discordtest.Message {
	u.e.tb.Helper()
	u.slash(txtResults, "search", discordtest.Opt{Name: "query", Value: "amazon us"})
	u.press(lblProduct, txtValues)
	u.typeIn("50", txtConfirm)
	return u.payWith(lblBitcoin)
}

// payWith chooses a payment method and waits for the invoice.
func (u *user) payWith(method string) discordtest.Message {
	u.e.tb.Helper()
	u.invoice = u.press(method, txtInvoice)
	return u.invoice
}

// simulate presses "Simulate payment" on the invoice: the invoice message
// itself turns into "Payment seen" (the user is looking at it), and no DM
// is sent for it.
func (u *user) simulate() discordtest.Message {
	u.e.tb.Helper()
	dms := len(u.u.DMs())
	m := u.press(lblSimulate, txtSeen)
	if m.ID != u.invoice.ID || m.Edits == 0 {
		u.e.tb.Errorf("%q came as message %s (edits %d), want an edit of the invoice message %s", txtSeen, m.ID, m.Edits, u.invoice.ID)
	}
	if len(m.Files) != 0 {
		u.e.tb.Errorf("the invoice still shows %d files (the payment QR) once paid", len(m.Files))
	}
	if n := len(u.u.DMs()); n != dms {
		u.e.tb.Errorf("%d DMs for a payment the user watched happen, want none", n-dms)
	}
	return m
}

// pay simulates the payment and lets the fake deliver; the confirmation,
// the code and the receipt arrive by DM (an edit of an ephemeral invoice
// notifies nobody), and the invoice message ends as the receipt.
func (u *user) pay() discordtest.Message {
	u.e.tb.Helper()
	u.simulate()
	mark := u.e.dc.Mark()
	u.e.advance(2 * time.Hour)
	return u.delivered(mark)
}

// delivered waits for the DMs of a paid invoice after mark: code, then
// receipt, each once; it returns the code's DM. (The fake confirms and
// delivers in one step, so there is no "confirmed" news in between.)
func (u *user) delivered(mark int64) discordtest.Message {
	u.e.tb.Helper()
	isDM := func(want string) func(discordtest.Message) bool {
		return func(m discordtest.Message) bool { return m.Interaction == "" && strings.Contains(m.Text(), want) }
	}
	if _, err := u.u.Await(mark, "receipt DM", isDM(txtReceipt)); err != nil {
		u.e.tb.Fatal(err)
	}
	var got []string
	var code discordtest.Message
	for _, m := range u.u.Visible(mark) {
		if m.Interaction != "" {
			continue
		}
		for _, want := range []string{txtReady, txtReceipt} {
			if strings.Contains(m.Text(), want) {
				got = append(got, want)
				if want == txtReady {
					code = m
				}
			}
		}
	}
	if want := []string{txtReady, txtReceipt}; strings.Join(got, "|") != strings.Join(want, "|") {
		u.e.tb.Errorf("DMs say %q, want %q", got, want)
	}
	if u.invoice.ID != "" {
		inv, err := u.u.Await(mark, "the invoice message as the receipt", func(m discordtest.Message) bool {
			return m.ID == u.invoice.ID && strings.Contains(m.Text(), txtReceipt)
		})
		if err != nil {
			u.e.tb.Error(err)
		} else {
			for _, l := range inv.Labels() {
				if strings.Contains(l, lblSimulate) {
					u.e.tb.Errorf("the settled invoice still offers %q", l)
				}
			}
		}
	}
	return code
}

func isPNG(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG")) }

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(discordtest.Patience)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}
