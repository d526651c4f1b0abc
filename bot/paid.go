package bot

import (
	"context"
	"sync"
	"time"

	"refillbot/bitrefill"
)

// paidQueue gathers the final webhooks that arrive while an order fetch
// waits for its turn in the request budget, so that their orders are
// fetched together: one GET /orders list call for every invoice gathered,
// instead of one GET /orders/{id} each. Under load this halves what a
// purchase costs (its invoice, then a share of one list call); when
// Bitrefill is quiet a batch is a single invoice and nothing waits.
type paidQueue struct {
	mu      sync.Mutex
	pending []bitrefill.Invoice
	running bool
}

// deliverPaid queues inv and, unless a batch is being fetched (which takes it
// next), fetches batches until the queue is empty.
func (b *Bot) deliverPaid(ctx context.Context, inv bitrefill.Invoice) {
	q := &b.paid
	q.mu.Lock()
	q.pending = append(q.pending, inv)
	if q.running {
		q.mu.Unlock()
		return
	}
	q.running = true
	q.mu.Unlock()
	for first := true; ; first = false {
		if !first {
			q.mu.Lock()
			if len(q.pending) == 0 {
				q.running = false
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
		}
		b.gather(ctx)
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		q.mu.Unlock()
		b.deliverBatch(ctx, batch)
	}
}

// maxGather bounds how long a paid buyer's code waits for others to share
// its order fetch: about one request's share of the documented budget.
const maxGather = 12 * time.Second

// budgetDelay is the client's estimate of a request's wait in the budget.
type budgetDelay interface {
	Delay(ctx context.Context, class bitrefill.Class) time.Duration
}

// gather waits, when users are already queueing for the general budget, as
// long as a user's next request would: the webhooks arriving meanwhile join
// this batch, and their orders cost one request instead of one each. When
// nobody is waiting it returns at once.
func (b *Bot) gather(ctx context.Context) {
	api, ok := b.cfg.API.(budgetDelay)
	if !ok {
		return
	}
	d := min(api.Delay(ctx, bitrefill.ClassGeneral), maxGather)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// deliverBatch fills the batch's delivered orders from one list call, then
// checks each invoice as a webhook would (completeOrders fetches alone
// whatever the list did not hold).
func (b *Bot) deliverBatch(ctx context.Context, batch []bitrefill.Invoice) {
	api, ok := b.cfg.API.(batchOrders)
	var after time.Time
	ids := make([]string, 0, len(batch))
	for _, inv := range batch {
		if inv.CreatedTime.IsZero() {
			ok = false
		}
		if after.IsZero() || inv.CreatedTime.Before(after) {
			after = inv.CreatedTime
		}
		ids = append(ids, inv.ID)
	}
	if ok && len(batch) > 1 {
		cctx, cancel := context.WithTimeout(bitrefill.WithPriority(ctx, bitrefill.Paid), b.cfg.APITimeout)
		got, err := api.OrdersOf(cctx, after.Add(-time.Minute), ids...)
		cancel()
		if err != nil {
			b.log.Warn("paid orders: list", "err", err)
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
	}
	for i := range batch {
		b.checkInvoiceFrom(bitrefill.WithPriority(ctx, bitrefill.Paid), batch[i].ID, &batch[i])
	}
}
