package telegram_test

import (
	"strconv"
	"strings"
	"testing"

	"refillbot/conversation"
	"refillbot/platforms/telegram/telegramtest"
)

// Engine texts for amounts, kept together with the others (helpers_test.go).
const (
	txtNotAmount = "is not an amount"
	txtBelow     = "below the minimum"
	txtAbove     = "above the maximum"
	txtStep      = "is not possible"
	txtLoading   = "Loading"
)

// A free amount is checked before anything is bought: words, too little,
// off the step and too much are each explained, then a valid amount goes on.
func TestRangeAmountWithBadInputs(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Ben", "en")
	if _, err := b.say("uber us", txtResults); err != nil {
		t.Fatal(err)
	}
	card, err := b.tap("Uber US", txtAnyValue)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(card.Text, "10") || !strings.Contains(card.Text, "200") {
		t.Errorf("card %q does not give the range 10..200", card.Text)
	}
	for _, c := range []struct{ in, want string }{
		{"lots", txtNotAmount},
		{"7", txtBelow},
		{"12", txtStep},
		{"5000", txtAbove},
	} {
		m, err := b.say(c.in, c.want)
		if err != nil {
			t.Fatalf("typing %q: %v", c.in, err)
		}
		if strings.Contains(m.Text, txtConfirm) {
			t.Fatalf("%q was accepted: %q", c.in, m.Text)
		}
	}
	m, err := b.say("25", txtConfirm)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "25") {
		t.Errorf("confirmation %q does not show 25", m.Text)
	}
	if _, err := b.tap(lblBitcoin, txtInvoice); err != nil {
		t.Fatal(err)
	}
}

// An eSIM is delivered as a QR photo that a phone can scan: it decodes to
// the LPA activation string, and the invoice's QR to its payment URI.
func TestESIMPurchaseQR(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Eva", "en")
	if _, err := b.say("esim usa", txtResults); err != nil {
		t.Fatal(err)
	}
	card, err := b.tap("eSIM USA", txtValues)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Labels()) == 0 {
		t.Fatalf("eSIM card without plans: %q", card.Text)
	}
	plan := card.Labels()[0]
	if _, err := b.tap(plan, txtConfirm); err != nil {
		t.Fatal(err)
	}
	inv, err := b.tap(lblBitcoin, txtInvoice)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Photo == nil {
		t.Fatal("invoice without a QR photo")
	}
	st := e.session(b.u)
	uri := decodeQR(t, inv.Photo)
	if !strings.HasPrefix(strings.ToLower(uri), "bitcoin:") {
		t.Errorf("invoice QR decodes to %q, want a bitcoin: URI", uri)
	}
	for _, p := range st.Purchases {
		if p.Invoice.PaymentURI != "" && p.Invoice.PaymentURI != uri {
			t.Errorf("invoice QR %q is not the invoice's payment URI %q", uri, p.Invoice.PaymentURI)
		}
	}
	if _, err := b.d.Tap(lblSimulate); err != nil {
		t.Fatal(err)
	}
	// The eSIM comes into a placeholder photo, edited into its QR code.
	photo, err := b.d.AwaitMatch("the eSIM's QR code", func(e telegramtest.Event) bool {
		return e.Kind != telegramtest.Deleted && e.Message.Photo != nil && strings.Contains(e.Message.Content(), "eSIM is ready")
	})
	if err != nil {
		t.Fatal(err)
	}
	lpa := decodeQR(t, photo.Photo)
	if !strings.HasPrefix(lpa, "LPA:1$") {
		t.Errorf("eSIM QR decodes to %q, want an LPA:1$ activation string", lpa)
	}

	// Bitrefill's order named no ICCID (its documented shape); the bot
	// learned it from the account's eSIMs, so the eSIM can be topped up.
	list, err := e.api.ESIMs(e.ctx)
	if err != nil || len(list) != 1 || list[0].BarcodeValue != lpa {
		t.Fatalf("eSIMs in the account: %+v %v", list, err)
	}
	iccid := list[0].ID
	if _, err := b.say("/esims", iccid); err != nil {
		t.Fatalf("/esims does not list the eSIM just bought: %v", err)
	}
	if _, err := b.say("/topup "+iccid+" bitrefill-esim-usa<&>3GB, 15 Days", "Confirm your eSIM top-up"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tap(lblBitcoin, txtInvoice); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tap(lblSimulate, "Data added to eSIM "+iccid); err != nil {
		t.Fatal(err)
	}
}

// t.me/<bot>?start=amazon-us opens Amazon US directly.
func TestDeepLink(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Dee", "en")
	card, err := b.say("/start amazon-us", txtValues)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(card.Text, "Amazon US") {
		t.Errorf("deep link opened %q, want Amazon US", card.Text)
	}
	if _, err := b.say("50", txtConfirm); err != nil {
		t.Fatal(err)
	}
}

// In a group the bot answers only commands meant for it, points to the
// private chat with a deep link, tells a user who never started it what to
// do, and never lets a group event reach a purchase.
func TestGroupMovesToPrivate(t *testing.T) {
	e := newEnv(t, envOptions{})
	group := e.tg.NewGroup("Friends")
	u := e.tg.NewUser("Gus", "es")
	g := u.In(group)
	bot := e.tg.BotUsername()

	// Noise first: none of it gets an answer, so the first answer below is
	// to the addressed command.
	u.Send(group, "amazon")
	u.Send(group, "/weather")
	u.Send(group, "/help@some_other_bot")
	u.Send(group, "/start@some_other_bot")
	g.Say("/start@" + bot + " amazon-us")
	m, err := g.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := conversation.Phrase("es", conversation.UIStartPrivate); m.Text != want {
		t.Errorf("group answer to someone who never started the bot: %q, want %q", m.Text, want)
	}
	btn, ok := m.Button(conversation.Phrase("es", conversation.UIOpenPrivate))
	if !ok || btn.URL != "https://t.me/"+bot+"?start=amazon-us" {
		t.Errorf("group answer's button %+v, want a link to the private chat with the payload", m.Buttons)
	}
	if n := len(e.tg.Messages(group)); n != 1 {
		t.Errorf("%d bot messages in the group, want 1", n)
	}

	// Nothing from the group reached the engine: the user has no session.
	if _, found, err := e.store.Session(conversation.SessionKey{Platform: "telegram", User: strconv.FormatInt(u.ID, 10)}); err != nil || found {
		t.Errorf("a session exists after group messages only (found=%v, err=%v)", found, err)
	}

	// The user follows the link: the product opens in private, in their
	// language.
	p := u.In(u.Chat())
	p.Say("/start amazon-us")
	if _, err := p.Await(txtValuesES); err != nil {
		t.Fatal(err)
	}
	// Now that the private chat exists, the group answer says so.
	g.Say("/search@" + bot + " steam")
	m, err = g.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := conversation.Phrase("es", conversation.UIGoPrivate); m.Text != want {
		t.Errorf("group answer: %q, want %q", m.Text, want)
	}
	// A button pressed in the group is answered with the way to private.
	ans, err := g.TapData(m.ID, "forged.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if want := conversation.Phrase("es", conversation.UIGoPrivate); ans.Text != want {
		t.Errorf("group callback answered %q, want %q", ans.Text, want)
	}
	for _, msg := range e.tg.Messages(group) {
		if strings.Contains(msg.Text, txtInvoice) || strings.Contains(msg.Text, txtResults) || strings.Contains(msg.Text, "Amazon") {
			t.Errorf("purchase content posted in the group: %q", msg.Text)
		}
	}
}

// A bare command in a group (Telegram delivers them when the bot's privacy
// mode allows) gets the same answer as an addressed one when it is one of
// ours; other bare commands, and commands for other bots, get silence.
func TestGroupBareCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	group := e.tg.NewGroup("Friends")
	u := e.tg.NewUser("Ida", "en")
	g := u.In(group)
	u.Send(group, "/weather")
	u.Send(group, "/buy@some_other_bot")
	for _, cmd := range []string{"/buy", "/search amazon", "/Help"} {
		g.Say(cmd)
		m, err := g.Next()
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		btn, ok := m.Button(conversation.Phrase("en", conversation.UIOpenPrivate))
		if m.Text != conversation.Phrase("en", conversation.UIStartPrivate) || !ok || btn.URL != "https://t.me/"+e.tg.BotUsername() {
			t.Errorf("%s: answered %q with %+v, want the way to the private chat", cmd, m.Text, m.Buttons)
		}
	}
	if n := len(e.tg.Messages(group)); n != 3 {
		t.Errorf("%d bot messages in the group, want 3", n)
	}
}

// A callback replayed by another user never shows them the first user's
// menu: they get a polite "expired" answer in their own chat, and the first
// user's session does not move.
func TestReplayedCallbackFromAnotherUser(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.newBuyer("Alice", "en")
	results, err := a.say("amazon us", txtResults)
	if err != nil {
		t.Fatal(err)
	}
	btn, ok := results.Button("Amazon US")
	if !ok {
		t.Fatalf("no Amazon US button in %q", results.Labels())
	}
	before := e.session(a.u)

	m := e.newBuyer("Mallory", "en")
	welcome, err := m.say("/start", txtWelcome)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.d.TapData(welcome.ID, btn.Data); err != nil {
		t.Fatal(err)
	}
	got, err := m.d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Text, txtExpired) || strings.Contains(got.Text, txtValues) {
		t.Errorf("replayed callback answered with %q", got.Text)
	}
	after := e.session(a.u)
	if after.Step != before.Step || after.Menu != before.Menu {
		t.Errorf("Alice's session moved from %s/%d to %s/%d", before.Step, before.Menu, after.Step, after.Menu)
	}
	// Alice's own button still works.
	if _, err := a.tap("Amazon US", txtValues); err != nil {
		t.Fatal(err)
	}
}

// A restart in the middle of a purchase loses nothing: the menu shown before
// it still works (its tokens live in the stored session), and a menu that
// has been replaced since answers politely with the current one.
func TestRestartMidFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Rita", "en")
	results, err := b.say("amazon us", txtResults)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.toConfirmFromResults(); err != nil {
		t.Fatal(err)
	}
	e.restart()
	if _, err := b.tap(lblBitcoin, txtInvoice); err != nil {
		t.Fatalf("the confirmation shown before the restart: %v", err)
	}
	old, _ := results.Button("Amazon US")
	if _, err := b.d.TapData(results.ID, old.Data); err != nil {
		t.Fatal(err)
	}
	m, err := b.d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Content(), txtExpired) {
		t.Errorf("an old menu after the restart answered %q", m.Content())
	}
	// The current menu comes right after the apology.
	if _, err := b.d.Await(txtInvoice); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tap(lblSimulate, txtCode); err != nil {
		t.Fatal(err)
	}
}

func (b *buyer) toConfirmFromResults() error {
	if _, err := b.tap("Amazon US", txtValues); err != nil {
		return err
	}
	_, err := b.say("50", txtConfirm)
	return err
}
