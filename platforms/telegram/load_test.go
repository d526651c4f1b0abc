package telegram_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/platforms/telegram/telegramtest"
)

// 500 users (100 with -race or -short) buy at the same time, each in their own chat. Every one gets
// exactly one delivery, holding a code of their own invoice, and nobody's
// chat shows another buyer's invoice or code.
func TestConcurrentBuyers(t *testing.T) {
	n := 500
	if testing.Short() || raceEnabled {
		n = 100
	}
	// Under the race detector on a small machine 500 buyers take a while:
	// the deadline only turns a hang into a failure.
	e := newEnv(t, envOptions{tgOpts: telegramtest.Options{WaitTimeout: 2 * time.Minute}})
	buyers := make([]*buyer, n)
	for i := range buyers {
		buyers[i] = e.newBuyer("B", "en")
	}
	type result struct {
		invoice, delivery string
		err               error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i, b := range buyers {
		wg.Go(func() {
			inv, del, err := b.purchase()
			if err == nil {
				// The receipt follows the code, in the invoice's message.
				_, err = b.d.Await(txtReceipt)
			}
			results[i] = result{inv.Content(), del.Text, err}
		})
	}
	wg.Wait()

	seen := map[string]int{} // code → buyer
	for i, r := range results {
		if r.err != nil {
			t.Errorf("buyer %d: %v", i, r.err)
			continue
		}
		for _, c := range e.codes(buyers[i].invoice) {
			if !strings.Contains(r.delivery, c) {
				t.Errorf("buyer %d got %q, not the code %s of their invoice", i, r.delivery, c)
			}
			if other, dup := seen[c]; dup {
				t.Errorf("code %s belongs to buyers %d and %d", c, other, i)
			}
			seen[c] = i
		}
	}
	// Each chat saw exactly one invoice, which turned into the receipt in
	// place, and one delivery.
	for i, b := range buyers {
		invoices := map[int]bool{} // messages that showed an invoice, edits included
		for _, ev := range e.tg.Events(b.u.Chat()) {
			if strings.Contains(ev.Message.Content(), txtInvoice) {
				invoices[ev.Message.ID] = true
			}
		}
		var receipts []int
		deliveries := 0
		for _, m := range e.tg.Messages(b.u.Chat()) {
			if strings.Contains(m.Content(), txtReceipt) {
				receipts = append(receipts, m.ID)
			}
			if strings.Contains(m.Content(), txtCode) {
				deliveries++
			}
		}
		if len(invoices) != 1 || deliveries != 1 {
			t.Errorf("buyer %d's chat shows %d invoices and %d deliveries", i, len(invoices), deliveries)
		}
		if len(receipts) != 1 || !invoices[receipts[0]] {
			t.Errorf("buyer %d: receipts in messages %v, want one: the invoice's message %v", i, receipts, invoices)
		}
	}
}
