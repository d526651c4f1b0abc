package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"refillbot/bitrefill"
)

// paidQueue gathers paid invoices (from final webhooks, and from the
// poller's list) so that their orders are fetched together: one GET /orders
// list call for every invoice gathered, instead of one GET /orders/{id} each.
//
// The list call is sent as a Paid request that gives way (for a bounded
// time, paidHold) to users waiting for the request budget: with spare
// budget nobody waits and it goes at once, as a single invoice's fetch
// would; while checkouts queue for the budget it lets them go first for at
// most paidHold after the oldest invoice in the queue was paid, then takes
// the next token before any of them. The invoices it fetches are the ones
// queued when its turn comes (bitrefill.Client.OrdersFor), so every webhook
// that arrived while it waited shares its one request. A paid buyer's code
// thus waits at most paidHold plus one request's share of the budget (and a
// pause Bitrefill asks for with a 429), and under load a purchase costs its
// invoice and a small share of a list call.
type paidQueue struct {
	mu      sync.Mutex
	pending []paidInvoice // in arrival order
	running bool
}

type paidInvoice struct {
	inv     bitrefill.Invoice
	arrived time.Time
}

// paidHoldTokens is paidHold in tokens of the general budget: at the
// documented 60 per 10 minutes a token comes every 10.4 s, so a paid code
// waits at most 72.7 s for others to share its fetch, plus the next token
// (83 s in all). Longer holds leave more of the budget to new invoices
// (each list call serves about one hold's worth of payments) and make paid
// buyers wait longer: at 7 tokens, about an eighth of a saturated budget
// goes to order fetches, and a shop sells about 51 times per 10 minutes
// instead of 40 (BENCHMARKS.md).
const paidHoldTokens = 7

// paidOrders is the client's list fetch of paid invoices' orders, taking
// in the invoices queued when its turn comes, and the budget's pace.
type paidOrders interface {
	OrdersFor(ctx context.Context, after time.Time, ids func() []string) (map[string][]bitrefill.Order, error)
	Period(class bitrefill.Class) time.Duration
}

// paidHold is how long a paid invoice's order fetch gives way to users
// waiting for the budget: paidHoldTokens of the general budget's spacing,
// 0 without a budget.
func paidHold(api paidOrders) time.Duration {
	return paidHoldTokens * api.Period(bitrefill.ClassGeneral)
}

// queuePaid queues inv for the next batch. queued is false when its orders
// cannot be listed (no list fetch, no creation time, no order delivered):
// the caller checks it alone. run says the caller must run the batches
// (runPaid): none is running.
func (b *Bot) queuePaid(inv bitrefill.Invoice) (queued, run bool) {
	if _, ok := b.cfg.API.(paidOrders); !ok || inv.CreatedTime.IsZero() || !needsOrders(inv) {
		return false, false
	}
	q := &b.paid
	q.mu.Lock()
	defer q.mu.Unlock()
	if slices.ContainsFunc(q.pending, func(p paidInvoice) bool { return p.inv.ID == inv.ID }) {
		return true, false // a webhook again, or the poller: its fetch is on the way
	}
	q.pending = append(q.pending, paidInvoice{inv: inv, arrived: b.cfg.Now()})
	if q.running {
		return true, false // the running loop takes it
	}
	q.running = true
	return true, true
}

// runPaid fetches batches until the queue is empty; giveWay says whether a
// batch may give way to waiting users (the poller, already the slow path,
// does not).
func (b *Bot) runPaid(ctx context.Context, giveWay bool) {
	api := b.cfg.API.(paidOrders)
	q := &b.paid
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		oldest := q.pending[0].arrived
		after := q.pending[0].inv.CreatedTime
		for _, p := range q.pending[1:] {
			if p.inv.CreatedTime.Before(after) {
				after = p.inv.CreatedTime
			}
		}
		q.mu.Unlock()
		var hold time.Duration
		if giveWay {
			hold = max(paidHold(api)-b.cfg.Now().Sub(oldest), 0)
		}
		b.deliverBatch(ctx, api, after.Add(-paidListSlack), hold)
	}
}

// paidListSlack widens a batch's list call back from its oldest invoice's
// creation, so that invoices paid while it waits join it even when they were
// created a little earlier (buyers pay in their own time). It costs nothing
// while the invoices are found: the list stops at the page of the last one.
const paidListSlack = 10 * time.Minute

// needsOrders says whether inv has delivered orders whose codes must be
// fetched; a denied invoice has none, and is settled without a request.
func needsOrders(inv bitrefill.Invoice) bool {
	for _, o := range inv.Orders {
		if o.Status == bitrefill.OrderDelivered && o.Redemption.IsEmpty() {
			return true
		}
	}
	return false
}

// deliverBatch makes one list call for the invoices queued when its turn
// comes (those created at or after after: the list's lower bound is fixed
// before it waits), giving way to waiting users for hold, then checks each
// invoice as a webhook would: completeOrders fetches alone whatever the list
// did not hold. If the call fails before it is sent, everything queued is
// checked that way.
func (b *Bot) deliverBatch(ctx context.Context, api paidOrders, after time.Time, hold time.Duration) {
	q := &b.paid
	var batch []bitrefill.Invoice
	take := func(all bool) {
		q.mu.Lock()
		defer q.mu.Unlock()
		keep := q.pending[:0]
		for _, p := range q.pending {
			if all || !p.inv.CreatedTime.Before(after) {
				batch = append(batch, p.inv)
			} else {
				keep = append(keep, p)
			}
		}
		clear(q.pending[len(keep):])
		q.pending = keep
	}
	ids := func() []string {
		take(false)
		out := make([]string, len(batch))
		for i, inv := range batch {
			out[i] = inv.ID
		}
		return out
	}
	fctx := bitrefill.WithPriority(ctx, bitrefill.Paid)
	if hold > 0 {
		fctx = bitrefill.WithGiveWay(fctx, hold)
	}
	cctx, cancel := context.WithTimeout(fctx, hold+b.cfg.APITimeout)
	got, err := api.OrdersFor(cctx, after, ids)
	cancel()
	if err != nil {
		b.log.Warn("paid orders: list", "err", err)
		if batch == nil {
			take(true) // never sent: each is checked alone below
		}
	}
	for i := range batch {
		byID := map[string]bitrefill.Order{}
		for _, o := range got[batch[i].ID] {
			byID[o.ID] = o
		}
		for j, o := range batch[i].Orders {
			if full, found := byID[o.ID]; found && o.Status == bitrefill.OrderDelivered {
				batch[i].Orders[j].Status, batch[i].Orders[j].Redemption = full.Status, full.Redemption
				if full.ESIMID != "" {
					batch[i].Orders[j].ESIMID = full.ESIMID
				}
			}
		}
	}
	// Each buyer's delivery is its own session's commit and message: side by
	// side, so the last of a batch does not wait for the others'.
	var wg sync.WaitGroup
	for i := range batch {
		wg.Go(func() {
			b.checkInvoiceFrom(bitrefill.WithPriority(ctx, bitrefill.Paid), batch[i].ID, &batch[i])
		})
	}
	wg.Wait()
}

// budgetDelay is the client's estimate of a request's wait in the budget.
type budgetDelay interface {
	Delay(ctx context.Context, class bitrefill.Class) time.Duration
}
