package telegram_test

import (
	"strings"
	"testing"
	"time"

	"refillbot/bot"
)

// messageCalls are the Bot API methods that post or change a message: what
// Telegram's limits count.
var messageCalls = []string{"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"}

func countMessageCalls(counts map[string]int) (n int) {
	for _, m := range messageCalls {
		n += counts[m]
	}
	return n
}

// graceNeverEnds is a grace timer that never fires: every answer comes
// within the interim grace, whatever the machine's speed. The harness
// uses it unless a test says otherwise.
func graceNeverEnds(c *bot.Config) {
	c.AfterFunc = func(time.Duration, func()) func() bool { return func() bool { return true } }
}

// graceOverAtOnce is a grace timer that fires as it is set: every wait is
// a real one, the interim message goes out before the work starts.
func graceOverAtOnce(c *bot.Config) {
	c.AfterFunc = func(_ time.Duration, f func()) func() bool { f(); return func() bool { return false } }
}

// interims are the engine's interim texts, in English.
var interims = []string{"Searching for", "Loading ", "Creating your invoice"}

// The measured purchase — search, product, value, method, invoice — costs
// at most 4 message calls when the answers come within the grace: no
// interim message, the product card edits the results in place. The chat
// never shows an interim text.
func TestPurchaseMessageCalls(t *testing.T) {
	const aim = 4
	// As the binary runs: cards from the catalogue, so the product's card
	// is work done at once, like the search (a card Bitrefill must be asked
	// for loads outside the session's lock, its "Loading…" sent at once).
	e := newEnv(t, envOptions{shell: graceNeverEnds, catalog: true})
	b := e.newBuyer("Ava", "en")
	if _, err := b.say("/start", txtWelcome); err != nil {
		t.Fatal(err)
	}
	e.bot.Wait() // the welcome's every message out before counting
	before := e.tg.CallCounts()
	if _, err := b.say("amazon us", txtResults); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tap("Amazon US", txtValues); err != nil {
		t.Fatal(err)
	}
	if _, err := b.say("50", txtConfirm); err != nil {
		t.Fatal(err)
	}
	if _, err := b.tap(lblBitcoin, txtInvoice); err != nil {
		t.Fatal(err)
	}
	e.bot.Wait()
	after := e.tg.CallCounts()
	got := countMessageCalls(after) - countMessageCalls(before)
	t.Logf("%d message calls for the purchase", got)
	if got > aim {
		t.Errorf("%d message calls for the purchase, aim at most %d (calls now %v, before %v)", got, aim, after, before)
	}
	if after["editMessageText"] == before["editMessageText"] {
		t.Errorf("no menu edited in place (calls now %v)", after)
	}
	for _, ev := range e.tg.Events(b.u.Chat()) {
		for _, s := range interims {
			if strings.Contains(ev.Message.Content(), s) {
				t.Errorf("the chat showed the interim %q", ev.Message.Content())
			}
		}
	}
}

// When the wait is real, the interim message shows, and the answer then
// edits it in place: one message in the chat, sent then edited, for the
// search — not a second one below it.
func TestSlowAnswerEditsInterim(t *testing.T) {
	e := newEnv(t, envOptions{shell: graceOverAtOnce})
	b := e.newBuyer("Slo", "en")
	if _, err := b.say("/start", txtWelcome); err != nil {
		t.Fatal(err)
	}
	e.bot.Wait() // the welcome's every message out before counting
	from := e.tg.Mark(b.u.Chat())
	before := e.tg.CallCounts()
	res, err := b.say("amazon us", txtResults)
	if err != nil {
		t.Fatal(err)
	}
	e.bot.Wait()
	after := e.tg.CallCounts()
	if n := after["sendMessage"] - before["sendMessage"]; n != 1 {
		t.Errorf("%d messages sent for the search, want the interim alone", n)
	}
	if n := after["editMessageText"] - before["editMessageText"]; n != 1 {
		t.Errorf("%d edits for the search, want the interim edited into the results", n)
	}
	var kinds []string
	for _, ev := range e.tg.Events(b.u.Chat())[from:] {
		if ev.Message.FromBot {
			kinds = append(kinds, string(ev.Kind)+": "+strings.SplitN(ev.Message.Content(), "\n", 2)[0])
			if ev.Message.ID != res.ID {
				t.Errorf("a message other than the interim: %s", kinds[len(kinds)-1])
			}
		}
	}
	if len(kinds) != 2 || !strings.Contains(kinds[0], "Searching for") {
		t.Errorf("the chat saw %q, want the interim then its edit into the results", kinds)
	}
}
