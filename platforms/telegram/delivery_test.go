package telegram_test

import (
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
	"refillbot/platforms/telegram/telegramtest"
)

// The invoice message follows the payment in place — "payment seen", then
// "confirmed", its buttons and QR retired at once so nobody pays twice —
// while the code arrives as a message of its own, after those edits, and
// the receipt replaces the invoice last.
func TestInvoiceFollowsPaymentInPlace(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOptions{fake: bitrefilltest.Options{Now: clk.Now, ConfirmAfter: 10 * time.Minute, DeliverAfter: 10 * time.Minute}})
	b := e.newBuyer("Pia", "en")
	inv, err := b.toInvoice()
	if err != nil {
		t.Fatal(err)
	}
	if inv.Photo == nil || inv.Spoiler {
		t.Fatalf("the invoice should show its QR: photo %v, spoiler %v", inv.Photo != nil, inv.Spoiler)
	}
	chat := b.u.Chat()
	before := len(e.tg.Messages(chat))
	// invoiceEdit waits for the invoice's message to be edited to show want.
	invoiceEdit := func(want string) telegramtest.Message {
		t.Helper()
		m, err := b.d.AwaitMatch("an edit of the invoice to "+want, func(ev telegramtest.Event) bool {
			return ev.Kind == telegramtest.Edited && ev.Message.ID == inv.ID && strings.Contains(ev.Message.Content(), want)
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	// The buyer pays from their wallet.
	if err := e.fake.MarkPaid(b.invoice); err != nil {
		t.Fatal(err)
	}
	// (A minute on: the poller checks a new invoice on its next tick.)
	e.bot.PollAt(e.ctx, clk.Add(time.Minute))
	seen := invoiceEdit(txtSeen)
	if len(seen.Buttons) != 0 {
		t.Errorf("after the payment the invoice still offers %q", seen.Labels())
	}
	if !seen.Spoiler {
		t.Error("after the payment the invoice's payment QR is still shown plainly")
	}

	e.bot.PollAt(e.ctx, clk.Add(11*time.Minute))
	invoiceEdit(txtConfirmed)
	if n := len(e.tg.Messages(chat)); n != before {
		t.Errorf("%d new messages for the payment's progress, want the invoice edited", n-before)
	}

	e.bot.PollAt(e.ctx, clk.Add(11*time.Minute))
	code, err := b.d.Await(txtCode)
	if err != nil {
		t.Fatal(err)
	}
	// Its own message after the invoice: its placeholder, edited once into
	// the code (bot.Holder), so that a repeat after a crash edits it again.
	if code.ID <= inv.ID || code.Edits != 1 {
		t.Errorf("the code came in message %d (%d edits), want its placeholder after the invoice %d edited into it", code.ID, code.Edits, inv.ID)
	}
	want := e.codes(b.invoice)
	if got := codeIn(code); len(want) != 1 || got != want[0] {
		t.Errorf("delivered code %q, want %q as tap-to-copy code", got, want)
	}
	receipt := invoiceEdit(txtReceipt) // after the code: Await moved past it
	if !strings.Contains(receipt.Content(), b.invoice) {
		t.Errorf("the receipt %q does not quote the invoice %s", receipt.Content(), b.invoice)
	}
	var codes int
	for _, m := range e.tg.Messages(chat) {
		if strings.Contains(m.Content(), want[0]) {
			codes++
		}
	}
	if codes != 1 {
		t.Errorf("the code shows in %d messages, want 1", codes)
	}
}

// A buyer who blocked the bot before their code arrived gets nothing while
// blocked — the code waits in the outbox, with back-off — and once they
// unblock it, the outbox delivers the code, then the receipt, exactly once.
func TestBlockedBuyerGetsCodeAfterUnblocking(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Ugo", "en")
	inv, err := b.toInvoice()
	if err != nil {
		t.Fatal(err)
	}
	chat := b.u.Chat()
	b.u.Block()
	mark := e.tg.Mark(chat)
	if err := e.fake.MarkPaid(b.invoice); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e.bot.PollAt(e.ctx, now)
	if ev := e.tg.Events(chat)[mark:]; len(ev) != 0 {
		t.Fatalf("%d changes in the chat of a user who blocked the bot", len(ev))
	}
	if n := e.bot.Drain(e.ctx, now); n != 0 {
		t.Errorf("the outbox retried %d messages at once, want a back-off", n)
	}
	// Still blocked a few minutes later: the code is tried (alone: the
	// receipt waits behind it) and kept.
	if n := e.bot.Drain(e.ctx, now.Add(5*time.Minute)); n != 1 {
		t.Errorf("the outbox tried %d messages while the user is blocked, want 1", n)
	}
	if ev := e.tg.Events(chat)[mark:]; len(ev) != 0 {
		t.Fatalf("%d changes in the chat of a user who blocked the bot", len(ev))
	}

	b.u.Unblock()
	if n := e.bot.Drain(e.ctx, now.Add(time.Hour)); n != 2 {
		t.Errorf("the outbox sent %d messages after the unblock, want the code and the receipt", n)
	}
	ev := e.tg.Events(chat)[mark:]
	want := e.codes(b.invoice)
	// The code comes into its placeholder (sent, then edited: bot.Holder).
	if len(ev) != 3 || ev[0].Kind != telegramtest.Sent || len(want) != 1 || strings.Contains(ev[0].Message.Content(), want[0]) ||
		ev[1].Kind != telegramtest.Edited || ev[1].Message.ID != ev[0].Message.ID || codeIn(ev[1].Message) != want[0] ||
		ev[2].Kind != telegramtest.Edited || ev[2].Message.ID != inv.ID || !strings.Contains(ev[2].Message.Content(), txtReceipt) {
		var got []string
		for _, x := range ev {
			got = append(got, string(x.Kind)+" "+x.Message.Content())
		}
		t.Fatalf("after the unblock the chat got %q; want the code %q in its placeholder, then the invoice edited into the receipt", got, want)
	}
	e.bot.FlushMarks()
	if n := e.bot.Drain(e.ctx, now.Add(2*time.Hour)); n != 0 {
		t.Errorf("the outbox still holds %d messages after delivering them", n)
	}
	if ev := e.tg.Events(chat)[mark+3:]; len(ev) != 0 {
		t.Errorf("%d more changes in the chat after everything was delivered", len(ev))
	}
}

// "Refresh status" on the invoice updates the invoice where it is: the chat
// never holds a second copy whose QR and buttons would outlive the payment.
func TestRefreshInvoiceInPlace(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Rui", "en")
	inv, err := b.toInvoice()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := b.d.Tap(lblRefresh); err != nil {
			t.Fatal(err)
		}
		// Each view carries new buttons, so each refresh is an edit.
		if _, err := b.d.AwaitMatch("the invoice refreshed in place", func(ev telegramtest.Event) bool {
			return ev.Kind == telegramtest.Edited && ev.Message.ID == inv.ID
		}); err != nil {
			t.Fatal(err)
		}
	}
	var photos []int
	for _, m := range e.tg.Messages(b.u.Chat()) {
		if m.Photo != nil {
			photos = append(photos, m.ID)
			if !strings.Contains(m.Caption, txtInvoice) || !contains(m.Labels(), lblSimulate) {
				t.Errorf("the refreshed invoice shows %q with buttons %q", m.Caption, m.Labels())
			}
		}
	}
	if len(photos) != 1 || photos[0] != inv.ID {
		t.Fatalf("invoice photos in messages %v after refreshing, want only the invoice %d", photos, inv.ID)
	}
	if _, err := b.tap(lblSimulate, txtCode); err != nil {
		t.Fatal(err)
	}
	if _, err := b.d.AwaitMatch("the invoice edited into the receipt", func(ev telegramtest.Event) bool {
		return ev.Kind == telegramtest.Edited && ev.Message.ID == inv.ID && strings.Contains(ev.Message.Content(), txtReceipt)
	}); err != nil {
		t.Fatal(err)
	}
}
