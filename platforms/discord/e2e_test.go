package discord_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
	"refillbot/conversation"
	"refillbot/platforms/discord"
	"refillbot/platforms/discord/discordtest"
)

// A buyer in a server searches, opens Amazon US, types the amount in a
// modal (after two bad ones), pays in the sandbox and gets the code by DM.
// Everything in the server is ephemeral; the invoice carries a QR image.
func TestGiftCardWithModalAmount(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.newUser("alice", "en-US")

	alice.slash(txtResults, "search", discordtest.Opt{Name: "query", Value: "amazon us"})
	card := alice.press(lblProduct, txtValues)
	if !contains(card.Labels(), lblTypeIt) {
		t.Fatalf("product card offers %q, want a %q button for the amount", card.Labels(), lblTypeIt)
	}
	alice.typeIn("lots", txtNotAmt)
	alice.typeIn("5", txtBelow)
	alice.typeIn("50", txtConfirm)
	inv := alice.payWith(lblBitcoin)
	if len(inv.Files) != 1 || !isPNG(inv.Files[0].Data) {
		t.Errorf("invoice came with %d files, want one PNG (the QR)", len(inv.Files))
	}
	id := alice.state().Invoice
	if id == "" || !strings.Contains(inv.Content, id) && !strings.Contains(inv.Content, "SANDBOX") {
		t.Errorf("invoice message %q does not look like invoice %q", inv.Content, id)
	}

	dm := alice.pay()
	for _, c := range e.codes(id) {
		if !strings.Contains(dm.Text(), c) {
			t.Errorf("delivery DM %q does not hold the code", dm.Content)
		}
	}
	if dm.GuildID != "" || dm.Ephemeral() {
		t.Errorf("delivery went to guild %q (ephemeral %v), want a DM", dm.GuildID, dm.Ephemeral())
	}
	for _, m := range alice.u.Visible(0) {
		if m.GuildID != "" && !m.Ephemeral() {
			t.Errorf("a message in the server is public: %q", m.Content)
		}
	}
}

// The Bitrefill answer behind a button is slower than Discord's three
// seconds allow: the press is acknowledged (deferred) in time and the answer
// follows up once it is there.
func TestSlowBitrefillDefers(t *testing.T) {
	e := newEnv(t, envOptions{deferAfter: 300 * time.Millisecond})
	bob := e.newUser("bob", "en-US")
	bob.toInvoice()

	e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/invoices/", Latency: 3500 * time.Millisecond})
	mark := e.dc.Mark()
	p, err := bob.u.Press(bob.last, lblRefresh)
	if err != nil {
		t.Fatal(err)
	}
	r := bob.answered(p)
	if r.Type != discordtest.CallbackDeferredUpdate {
		t.Errorf("first answer was callback type %d, want a deferral (%d)", r.Type, discordtest.CallbackDeferredUpdate)
	}
	m := bob.await(mark, txtInvoice)
	if !m.Followup || !m.Ephemeral() {
		t.Errorf("the late answer is followup=%v ephemeral=%v, want an ephemeral followup", m.Followup, m.Ephemeral())
	}
	if p.Failed() {
		t.Error("the user saw \"This interaction failed\"")
	}
}

// A slow search behind a slash command: the engine's interim line answers
// the command at once (once the shell's short grace for a quick answer is
// over), and is edited into the results when Bitrefill answers.
func TestSlowSearchAnswersAtOnce(t *testing.T) {
	e := newEnv(t, envOptions{deferAfter: 300 * time.Millisecond})
	carol := e.newUser("carol", "en-US")
	e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products/search", Latency: 3500 * time.Millisecond})
	mark := e.dc.Mark()
	p, err := carol.u.Slash(carol.at, "search", discordtest.Opt{Name: "query", Value: "steam"})
	if err != nil {
		t.Fatal(err)
	}
	r := carol.answered(p) // the interim line, or a deferral: within Discord's window either way
	if r.Type != discordtest.CallbackMessage && r.Type != discordtest.CallbackDeferredMessage {
		t.Errorf("the command was answered with callback type %d, want a message or a deferral", r.Type)
	}
	carol.await(mark, txtResults)
	if msgs := p.Messages(); len(msgs) != 1 || msgs[0].ID != r.Message || msgs[0].Edits == 0 || !strings.Contains(msgs[0].Text(), txtResults) {
		t.Errorf("the command's answers: %+v; want the interim line, edited into the results", msgs)
	}
	if p.Failed() {
		t.Error("the user saw \"This interaction failed\"")
	}
}

// With a slow Bitrefill, a buyer runs /buy, then impatiently /search before
// the product card has come: the search is answered without waiting for the
// card, the late card is dropped (they left its screen) rather than shown
// and superseded, and what is shown last — the results — works through to
// the confirmation, with no "That menu has expired" anywhere.
func TestImpatientBuyerNoDeadMenu(t *testing.T) {
	e := newEnv(t, envOptions{deferAfter: 300 * time.Millisecond})
	erin := e.newUser("erin", "en-US")
	e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products", Latency: 2500 * time.Millisecond, Times: 2})

	loading := e.dc.Mark()
	p, err := erin.u.Slash(erin.at, "buy", discordtest.Opt{Name: "query", Value: "amazon-us"})
	if err != nil {
		t.Fatal(err)
	}
	erin.answered(p)
	erin.await(loading, "Loading")
	left := e.dc.Mark()
	erin.slash(txtResults, "search", discordtest.Opt{Name: "query", Value: "amazon us"})
	e.bot.Wait() // the /buy's product call has come back and been through the engine

	for _, m := range erin.u.Visible(left) {
		if strings.Contains(m.Text(), txtValues) {
			t.Errorf("the late product card was shown after the user moved on: %q", m.Text())
		}
	}
	erin.press(lblProduct, txtValues)
	erin.typeIn("50", txtConfirm)
	for _, m := range erin.u.Visible(left) {
		if strings.Contains(m.Text(), txtExpired) {
			t.Errorf("the user was told %q", m.Text())
		}
	}
}

// closedDMsPurchase buys a card for a user whose DMs are closed, as far as
// the delivery that cannot be sent: the code and the receipt wait in the
// outbox. It returns the invoice id and the history mark before delivery.
func closedDMsPurchase(t *testing.T, e *env, who *user) (string, int64) {
	t.Helper()
	who.u.CloseDMs(true)
	who.toInvoice()
	invID := who.state().Invoice
	who.simulate()
	mark := e.dc.Mark()
	e.advance(2 * time.Hour) // code and receipt due, by DM
	if n := e.dc.InvalidRequests(); n != 1 {
		t.Errorf("%d refused requests to Discord, want exactly 1: a closed DM must not be hammered", n)
	}
	if dms := who.u.DMs(); len(dms) != 0 {
		t.Errorf("%d DMs arrived through closed DMs", len(dms))
	}
	e.bot.FlushMarks()
	if n := e.bot.Drain(e.ctx, time.Now()); n != 0 {
		t.Errorf("the outbox retried %d messages at once for closed DMs, want to wait", n)
	}
	return invID, mark
}

// DMs closed: the code cannot be sent; the adapter says so to the shell
// (Unreachable) after a single refused request, and the shell keeps the
// code and the receipt. At the user's next interaction they are told why,
// and what waited is shown right there (ephemerally), before the answer.
func TestDMsClosed(t *testing.T) {
	e := newEnv(t, envOptions{})
	dan := e.newUser("dan", "en-US")
	invID, mark := closedDMsPurchase(t, e, dan)
	// The outbox job comes back after its back-off; the adapter, which
	// knows the DMs are closed, does not bother Discord with it.
	e.bot.Drain(e.ctx, time.Now().Add(2*time.Minute))
	if n := e.dc.InvalidRequests(); n != 1 {
		t.Errorf("%d refused requests after the outbox retried, want still 1", n)
	}

	p, err := dan.u.Slash(dan.at, "help")
	if err != nil {
		t.Fatal(err)
	}
	dan.answered(p)
	dan.await(mark, txtHelp)
	var got []string
	for _, m := range p.Messages() {
		if !m.Ephemeral() {
			t.Errorf("a public answer in the server: %.60q", m.Text())
		}
		for _, want := range []string{dmClosed, txtReady, txtHelp} {
			if strings.Contains(m.Text(), want) {
				got = append(got, want)
			}
		}
		if strings.Contains(m.Text(), txtReady) {
			for _, c := range e.codes(invID) {
				if !strings.Contains(m.Text(), c) {
					t.Errorf("the code message %q does not hold the code", m.Text())
				}
			}
		}
	}
	if want := []string{dmClosed, txtReady, txtHelp}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the answers to /help say %q, want %q", got, want)
	}
	if _, err := dan.u.Await(mark, "the invoice message as the receipt", func(m discordtest.Message) bool {
		return m.ID == dan.invoice.ID && strings.Contains(m.Text(), txtReceipt)
	}); err != nil {
		t.Error(err)
	}

	dan.u.CloseDMs(false)
	e.bot.FlushMarks()
	e.bot.Drain(e.ctx, time.Now().Add(48*time.Hour))
	if dms := dan.u.DMs(); len(dms) != 0 {
		t.Errorf("%d DMs after everything was shown: each message goes once", len(dms))
	}
}

// DMs closed, then opened again without a word to the bot: the next run of
// the outbox job (once its back-off has passed) delivers the code and the
// receipt by DM, in order, once; the user is not told about closed DMs any
// more.
func TestDMsReopened(t *testing.T) {
	e := newEnv(t, envOptions{dmClosedFor: time.Millisecond})
	eva := e.newUser("eva", "en-US")
	invID, mark := closedDMsPurchase(t, e, eva)

	eva.u.CloseDMs(false)
	// The outbox job, after the back-off. It runs every few seconds in
	// production; here it runs until the receipt is out (any pacing the
	// adapter applies to DMs may defer a message to a later run).
	deadline := time.Now().Add(discordtest.Patience)
	for later := time.Hour; time.Now().Before(deadline); later += time.Minute {
		e.bot.Drain(e.ctx, time.Now().Add(later))
		if slices.ContainsFunc(eva.u.Visible(mark), func(m discordtest.Message) bool {
			return m.Interaction == "" && strings.Contains(m.Text(), txtReceipt)
		}) {
			break
		}
	}
	code := eva.delivered(mark)
	for _, c := range e.codes(invID) {
		if !strings.Contains(code.Text(), c) {
			t.Errorf("delivery DM %q does not hold the code", code.Text())
		}
	}
	e.bot.FlushMarks()
	before := len(eva.u.DMs())
	e.bot.Drain(e.ctx, time.Now().Add(48*time.Hour))
	if n := len(eva.u.DMs()); n != before {
		t.Errorf("a later outbox run sent %d more DMs, want none (each message once)", n-before)
	}
	mark = e.dc.Mark()
	eva.slash(txtHelp, "help")
	for _, m := range eva.u.Visible(mark) {
		if strings.Contains(m.Text(), dmClosed) {
			t.Errorf("told about closed DMs after everything arrived by DM")
		}
	}
}

// The gateway drops in the middle of a purchase; the press made while the
// bot is away is replayed on resume and answered exactly once.
func TestGatewayReconnectMidFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	erin := e.newUser("erin", "en-US")
	erin.slash(txtResults, "search", discordtest.Opt{Name: "query", Value: "amazon us"})

	e.dc.Drop()
	mark := e.dc.Mark()
	p, err := erin.u.Press(erin.last, lblProduct)
	if err != nil {
		t.Fatal(err)
	}
	erin.answered(p)
	erin.await(mark, lblProduct)
	if err := e.dc.WaitGateway(discordtest.Patience, "resume", func(g discordtest.GatewayStats) bool { return g.Resumes >= 1 && g.Connected }); err != nil {
		t.Fatal(err)
	}
	if g := e.dc.Gateway(); g.Identifies != 1 {
		t.Errorf("%d identifies, want 1: the session was resumed, not restarted", g.Identifies)
	}
	// The product card (with its amount button) comes after the loading line.
	if _, err := erin.u.Await(mark, "product card", func(m discordtest.Message) bool {
		return contains(m.Labels(), lblTypeItES) || contains(m.Labels(), lblTypeIt)
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(p.Messages()); n != 2 {
		t.Errorf("the replayed press got %d messages, want 2 (loading, card): handled more than once?", n)
	}
	// Discord delivering the same interaction once more changes nothing.
	p.Redeliver()
	erin.slash(txtHelp, "help") // handled after the redelivery: a barrier
	if n := len(p.Messages()); n != 2 {
		t.Errorf("after a redelivery the press has %d messages, want 2", n)
	}
	for _, r := range e.dc.Requests() {
		if r.Code == 40060 {
			t.Errorf("%s %s: an interaction was answered twice", r.Method, r.Path)
		}
	}
}

// Two buyers in one channel: each sees only their own invoice and code.
func TestTwoUsersOneChannel(t *testing.T) {
	e := newEnv(t, envOptions{})
	fay, gus := e.newUser("fay", "en-US"), e.newUser("gus", "en-US")
	fay.toInvoice()
	gus.toInvoice()
	fayInv, gusInv := fay.state().Invoice, gus.state().Invoice
	fay.pay()
	gus.pay()
	fayCodes, gusCodes := e.codes(fayInv), e.codes(gusInv)

	check := func(who *user, theirInv string, theirCodes []string) {
		for _, m := range who.u.Visible(0) {
			if strings.Contains(m.Content, theirInv) {
				t.Errorf("%s sees the other buyer's invoice in %q", who.u.Name, m.Content)
			}
			for _, c := range theirCodes {
				if strings.Contains(m.Content, c) {
					t.Errorf("%s sees the other buyer's code", who.u.Name)
				}
			}
		}
	}
	check(fay, gusInv, gusCodes)
	check(gus, fayInv, fayCodes)
}

// A button pressed by someone else (a forged or leaked custom id), or an old
// button pressed again, changes nothing and is refused politely.
func TestForeignAndReplayedButtons(t *testing.T) {
	e := newEnv(t, envOptions{})
	hal, ivy := e.newUser("hal", "en-US"), e.newUser("ivy", "en-US")
	results := hal.slash(txtResults, "search", discordtest.Opt{Name: "query", Value: "amazon us"})
	var tok string
	for _, row := range results.Components {
		for _, c := range row.Components {
			if c.Label == lblProduct {
				tok = c.CustomID
			}
		}
	}
	if tok == "" {
		t.Fatalf("no %q button in %q", lblProduct, results.Labels())
	}
	before := hal.state()

	mark := e.dc.Mark()
	p := ivy.u.PressID(results, tok)
	ivy.answered(p)
	ivy.await(mark, "")
	if after := hal.state(); after.Step != before.Step || after.Menu != before.Menu {
		t.Errorf("ivy's press moved hal's session from %s/%d to %s/%d", before.Step, before.Menu, after.Step, after.Menu)
	}
	for _, m := range hal.u.Visible(mark) {
		t.Errorf("hal was shown %q after ivy's press", m.Content)
	}

	hal.press(lblProduct, txtValues)
	mark = e.dc.Mark()
	p = hal.u.PressID(results, tok) // the old results menu, again
	hal.answered(p)
	hal.await(mark, txtExpired)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// /buy suggests products as the user types (at most 25, fast), and the
// chosen product's id reaches the engine.
func TestBuyAutocomplete(t *testing.T) {
	e := newEnv(t, envOptions{})
	jo := e.newUser("jo", "en-US")
	choices, err := jo.u.Autocomplete(jo.at, "buy", discordtest.Opt{Name: "query", Value: "amazon", Focused: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) == 0 || len(choices) > 25 {
		t.Fatalf("%d choices for %q", len(choices), "amazon")
	}
	var id string
	for _, c := range choices {
		if c.Name == lblProduct {
			id, _ = c.Value.(string)
		}
	}
	if id == "" {
		t.Fatalf("no %q among %+v", lblProduct, choices)
	}
	none, err := jo.u.Autocomplete(jo.at, "buy", discordtest.Opt{Name: "query", Value: "a", Focused: true})
	if err != nil || len(none) != 0 {
		t.Errorf("one letter gave %d choices (%v), want none", len(none), err)
	}

	mark := e.dc.Mark()
	p, err := jo.u.Slash(jo.at, "buy", discordtest.Opt{Name: "query", Value: id})
	if err != nil {
		t.Fatal(err)
	}
	jo.answered(p)
	jo.await(mark, txtValues) // the chosen product's card
	for _, m := range jo.u.Visible(mark) {
		if strings.Contains(m.Text(), txtUnknown) {
			t.Errorf("the engine did not take /buy: %q", m.Text())
		}
	}
}

// Notifications (no interaction in ctx) go by DM; the ref they return edits
// and deletes them; a 429 on a DM is reported for the shell to wait, not
// retried blindly.
func TestNotificationsEditDeleteAndRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{})
	kim := e.newUser("kim", "es-ES")
	kim.slash(txtHelpES, "help") // the adapter learns kim's locale
	to := conversation.Address{Platform: discord.Platform, Chat: kim.u.ID, Private: true}
	say := func(s string) conversation.Reply {
		return conversation.Reply{Text: []conversation.Span{{Text: s}}, Expect: conversation.ExpectPhone}
	}
	ref, err := e.ad.Send(context.Background(), to, say("first"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dms := kim.u.DMs()
	if len(dms) != 1 || dms[0].Text() != "first" || !contains(dms[0].Labels(), lblTypeItES) {
		t.Fatalf("DMs %+v, want one saying first with a Spanish %q button", dms, lblTypeItES)
	}
	if err := e.ad.Edit(context.Background(), to, ref, say("second"), nil); err != nil {
		t.Fatal(err)
	}
	if dms := kim.u.DMs(); len(dms) != 1 || dms[0].Text() != "second" || dms[0].Edits != 1 {
		t.Errorf("after the edit: %+v", dms)
	}
	if err := e.ad.Delete(context.Background(), to, ref); err != nil {
		t.Fatal(err)
	}
	if dms := kim.u.DMs(); len(dms) != 0 {
		t.Errorf("after the delete: %+v", dms)
	}

	kim.u.CloseDMs(true)
	_, err = e.ad.Send(context.Background(), to, say("closed"), nil)
	var ur interface{ Unreachable() bool }
	if !errors.As(err, &ur) || !ur.Unreachable() {
		t.Errorf("Send to closed DMs: %v, want an Unreachable error", err)
	}
	if _, err := e.ad.Send(context.Background(), to, say("closed again"), nil); !errors.As(err, &ur) {
		t.Errorf("second Send to closed DMs: %v, want Unreachable without asking Discord", err)
	}
	if n := e.dc.InvalidRequests(); n != 1 {
		t.Errorf("%d refused requests, want 1", n)
	}
	kim.slash(dmClosedES, "help") // told, in Spanish; DMs may be tried again
	kim.u.CloseDMs(false)

	e.dc.RateLimit(discordtest.Fault{Method: "POST", Path: "/channels/", RetryAfter: 1500 * time.Millisecond})
	_, err = e.ad.Send(context.Background(), to, say("third"), nil)
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() < time.Second {
		t.Errorf("Send under a 429: %v, want an error with RetryAfter", err)
	}
}

// In a DM with the bot, answers are plain messages in that DM (nobody else
// is there), still seen by that user alone.
func TestSlashInDM(t *testing.T) {
	e := newEnv(t, envOptions{global: true})
	lee, max := e.newUser("lee", "en-US"), e.newUser("max", "en-US")
	lee.at = lee.u.DM()
	m := lee.slash(txtHelp, "help")
	if m.Ephemeral() || m.GuildID != "" || m.ChannelID != lee.at.Channel {
		t.Errorf("answer in the DM: ephemeral=%v guild=%q channel=%q", m.Ephemeral(), m.GuildID, m.ChannelID)
	}
	if seen := max.u.Visible(0); len(seen) != 0 {
		t.Errorf("another user sees %d messages of lee's DM", len(seen))
	}
}

// /start greets; since a slash-command bot cannot read typed chat, the
// welcome's "type a product name" comes with a button opening a search form.
func TestStartThenSearchForm(t *testing.T) {
	e := newEnv(t, envOptions{})
	ona := e.newUser("ona", "en-US")
	ona.slash(txtWelcome, "start")
	p, err := ona.u.Press(ona.last, lblTypeIt)
	if err != nil {
		t.Fatal(err)
	}
	md, err := p.Modal(discordtest.Patience)
	if err != nil {
		t.Fatal(err)
	}
	mark := e.dc.Mark()
	sp, err := ona.u.Submit(md, "amazon us")
	if err != nil {
		t.Fatal(err)
	}
	ona.answered(sp)
	ona.await(mark, txtResults)
}
