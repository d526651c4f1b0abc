package bot

import (
	"context"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// A checkout whose turn in Bitrefill's request budget is more than a few
// seconds away is not refused: the buyer is told in plain words about how
// long it will be, the session is left free (so Cancel works), and the
// invoice is created when its turn comes and shown in the chat like any
// other. Just before it is sent the session is asked whether it still
// waits for it, so a buyer who cancelled gets no invoice; the checkout's
// id makes sure it goes out once (createInvoice).
const (
	// queueAfter: shorter waits happen inside the effect, behind the
	// "Creating your invoice…" already shown.
	queueAfter = 5 * time.Second
	// maxQueue: a turn further away than this is refused at once, with the
	// time it frees up, rather than held for longer than a buyer waits.
	maxQueue = 30 * time.Minute
)

// gaveUp stops a queued checkout the buyer no longer waits for.
type gaveUp struct{}

func (gaveUp) Error() string { return "the buyer no longer waits for this invoice" }

// checkoutWait says whether e should wait for its turn in the queue, and
// about how long: its turn is queueAfter or more away (and within maxQueue),
// and it is not a replay of a checkout already served.
func (b *Bot) checkoutWait(ctx context.Context, e conversation.CreateInvoice) (time.Duration, bool) {
	api, ok := b.cfg.API.(budgetDelay)
	if !ok {
		return 0, false
	}
	wait := api.Delay(ctx, bitrefill.ClassGeneral)
	if wait < queueAfter || wait > maxQueue {
		return 0, false
	}
	if _, done, err := b.cfg.Store.CheckoutInvoice(e.Checkout); err != nil || done {
		return 0, false // a replay: createInvoice returns the invoice it made
	}
	return wait, true
}

// queueCheckout creates e's invoice when its turn comes, in the background,
// and feeds the result to the session then.
func (b *Bot) queueCheckout(key conversation.SessionKey, addr conversation.Address, e conversation.CreateInvoice) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		qctx, cancel := context.WithTimeout(b.life, maxQueue)
		defer cancel()
		stillWanted := func() bool {
			st, found, err := b.cfg.Store.Session(key)
			return err == nil && found && st.AwaitsInvoice(e.Checkout)
		}
		qctx = bitrefill.WithBeforeSend(qctx, func() error {
			if !stillWanted() {
				return gaveUp{}
			}
			return nil
		})
		ev := b.createInvoice(qctx, e)
		if _, failed := ev.(conversation.Failed); failed && !stillWanted() {
			return // cancelled while waiting: nothing was sent, nothing to say
		}
		b.process(b.life, key, addr, ev)
	}()
}
