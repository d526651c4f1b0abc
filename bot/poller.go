package bot

import (
	"context"
	"strings"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// Polling is always on (it is the only path without a public URL), and must
// stay inside Bitrefill's 60 requests per 10 minutes. So one tick makes one
// list call (GET /invoices?after=…) covering every invoice that is due, and
// fetches an invoice on its own only when the list shows it moved (its
// orders and their codes are not in the list) or the list did not include it.

// listPageLimit and listMaxPages bound the list call: 4 pages of 50 cover
// far more open invoices than a bot has, and a missing one is fetched alone.
const (
	listPageLimit = 50
	listMaxPages  = 4
	// expiryGrace is how long past its expiry an invoice Bitrefill still calls
	// unpaid is checked before the expiry job closes it.
	expiryGrace = time.Hour
	// listHorizon: invoices older than this (one watched for a refund) are
	// fetched alone, rarely, rather than making every list call page
	// through days of invoices.
	listHorizon = 24 * time.Hour
)

// Poll checks every tracked invoice that is due and feeds changes into the
// owning session, where the engine decides what to announce (once). It is the
// poll job's body; tests call it (or PollAt) directly.
func (b *Bot) Poll(ctx context.Context) { b.PollAt(ctx, b.cfg.Now()) }

// PollAt is Poll at a given time.
func (b *Bot) PollAt(ctx context.Context, now time.Time) {
	b.wg.Add(1)
	defer b.wg.Done()
	paid := bitrefill.WithPriority(ctx, bitrefill.Paid)
	runPaid := false
	defer func() {
		if runPaid {
			b.runPaid(paid, false)
		}
	}()
	ctx = background(ctx)
	tracked, err := b.cfg.Store.Tracked()
	if err != nil {
		b.log.Error("poll: list tracked invoices", "err", err)
		if len(tracked) == 0 {
			return
		}
	}
	var due []Tracked
	oldest, young := now, false
	for _, t := range tracked {
		if now.Before(b.checks.nextCheck(t)) {
			continue
		}
		if b.cfg.WebhookURL != "" && now.Sub(t.Created) < webhookOverdue && t.Created.After(b.started) {
			// Bitrefill will call: polling is for webhooks overdue, and for
			// invoices older than this process, whose webhook may have come
			// while none listened (a crash, a restart).
			continue
		}
		if t.Status == conversation.StatusUnpaid && !t.Expires.IsZero() && now.After(t.Expires.Add(expiryGrace)) {
			continue // the expiry job closes it
		}
		due = append(due, t)
		if now.Sub(t.Created) < listHorizon {
			young = true
			if t.Created.Before(oldest) {
				oldest = t.Created
			}
		}
	}
	if len(due) == 0 {
		return
	}
	var listed map[string]bitrefill.Invoice
	var lerr error
	if young { // something young enough to list
		listed, lerr = b.listSince(ctx, oldest.Add(-10*time.Minute))
		if bitrefill.IsRateLimited(lerr) {
			return // the budget is spent (or Bitrefill said so): next tick
		}
	}
	for _, t := range due {
		if ctx.Err() != nil {
			return
		}
		if inv, ok := listed[t.InvoiceID]; ok &&
			((string(inv.Status) == t.Status && t.Status == conversation.StatusUnpaid) || // still waiting: the common case
				b.checks.seenAs(t.InvoiceID) == listedPrint(inv)) { // paid, waiting for confirmations: nothing moved since the last fetch
			b.checks.setNextCheck(t.InvoiceID, now.Add(b.pollEvery(now.Sub(t.Created))))
			continue
		}
		// Final, with orders delivered: a buyer waiting for a code. The list
		// call was authenticated, so it is used as a webhook's body would be:
		// the orders of all such invoices are fetched in one paid batch
		// (paid.go) at the end of the tick, waiting its turn as a paid fetch
		// rather than taking this tick's leftovers.
		if inv, ok := listed[t.InvoiceID]; ok && final(inv.Status) {
			if queued, run := b.queuePaid(inv); queued {
				b.checks.setNextCheck(t.InvoiceID, now.Add(b.pollEvery(now.Sub(t.Created))))
				runPaid = runPaid || run
				continue
			}
		}
		// It moved, or the list did not show it (or failed): fetch it alone,
		// if the budget allows; if not, it keeps its turn for the next tick.
		// An invoice the list shows paid is a buyer waiting for a code.
		fctx := ctx
		if inv, ok := listed[t.InvoiceID]; ok && inv.Status != bitrefill.InvoiceUnpaid {
			fctx = bitrefill.WithPriority(ctx, bitrefill.Paid)
		}
		b.checks.setNextCheck(t.InvoiceID, now.Add(b.pollEvery(now.Sub(t.Created))))
		if !b.checkInvoice(fctx, t.InvoiceID) {
			b.checks.setNextCheck(t.InvoiceID, now) // it keeps its turn
			return
		}
	}
}

// final says whether an invoice's status is one Bitrefill posts a webhook
// for: nothing about it changes any more but its orders' redemption.
func final(s bitrefill.InvoiceStatus) bool {
	switch s {
	case bitrefill.InvoiceComplete, bitrefill.InvoiceDenied, bitrefill.InvoicePaymentError:
		return true
	}
	return false
}

// background marks ctx's Bitrefill requests as background work that never
// waits for a turn: the budget serves users first, and the job tries again
// at its next tick.
func background(ctx context.Context) context.Context {
	return bitrefill.WithMaxWait(bitrefill.WithPriority(ctx, bitrefill.Background), 0)
}

// listSince returns the invoices created since after, by id. On failure it
// returns what it has with the error: the caller then fetches alone only
// what the budget allows, and nothing at all after a 429.
func (b *Bot) listSince(ctx context.Context, after time.Time) (map[string]bitrefill.Invoice, error) {
	out := map[string]bitrefill.Invoice{}
	for page := 0; page < listMaxPages; page++ {
		cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
		list, err := b.cfg.API.Invoices(cctx, bitrefill.ListFilter{After: after, Start: page * listPageLimit, Limit: listPageLimit})
		cancel()
		if err != nil {
			if !bitrefill.IsBudgetSpent(err) {
				b.log.Warn("poll: list invoices", "err", err)
			}
			return out, err
		}
		for _, inv := range list {
			out[inv.ID] = inv
		}
		if len(list) < listPageLimit {
			break
		}
	}
	return out, nil
}

// webhookOverdue is how long after its creation an invoice is left to its
// webhook before the poller looks at it: with webhooks working, Bitrefill
// calls when an invoice is final, and polling it meanwhile would spend the
// budget users need. (A user can still ask for the status at any time.)
const webhookOverdue = 30 * time.Minute

// pollEvery is how often an invoice of age is polled: backoff, or with
// webhooks working at most every webhookOverdue, so that an idle shop with
// open invoices spends next to nothing.
func (b *Bot) pollEvery(age time.Duration) time.Duration {
	if b.cfg.WebhookURL != "" {
		return max(backoff(age), webhookOverdue)
	}
	return backoff(age)
}

// backoff checks young invoices often (people pay within minutes) and old ones
// rarely, keeping well inside Bitrefill's request limits.
func backoff(age time.Duration) time.Duration {
	switch {
	case age < 15*time.Minute:
		return 0 // every tick
	case age < time.Hour:
		return time.Minute
	case age < 6*time.Hour:
		return 5 * time.Minute
	case age < listHorizon:
		return 15 * time.Minute
	default:
		return time.Hour // e.g. a failed order waiting for its refund
	}
}

// fingerprint sums up what the list call shows of an invoice: its status and
// its orders' statuses. When it has not changed since the last full fetch,
// fetching again would tell the user nothing.
func fingerprint(status string, orders func(yield func(id, status string))) string {
	var b strings.Builder
	b.WriteString(status)
	orders(func(id, st string) { b.WriteString("|" + id + ":" + st) })
	return b.String()
}

func listedPrint(inv bitrefill.Invoice) string {
	return fingerprint(string(inv.Status), func(yield func(string, string)) {
		for _, o := range inv.Orders {
			yield(o.ID, string(o.Status))
		}
	})
}

func fetchedPrint(inv conversation.Invoice) string {
	return fingerprint(inv.Status, func(yield func(string, string)) {
		for _, o := range inv.Orders {
			yield(o.ID, o.Status)
		}
	})
}

// checkInvoice fetches an invoice with its orders and hands it to the owning
// session. It returns at once if a check of it is under way (which will run
// once more). It reports false when the request budget (or a 429) held the
// fetch back, so that a caller going through many invoices stops there.
func (b *Bot) checkInvoice(ctx context.Context, id string) bool {
	return b.checkInvoiceFrom(ctx, id, nil)
}

// checkInvoiceFrom is checkInvoice starting from an invoice a webhook
// delivered to the secret URL instead of fetching it: only its status and
// order list are used; redemption details always come from order fetches.
// A rerun (news arrived meanwhile) fetches.
func (b *Bot) checkInvoiceFrom(ctx context.Context, id string, hint *bitrefill.Invoice) bool {
	if !b.checks.start(id) {
		return true
	}
	// Deferred, so that a panic below (recovered by the webhook goroutine
	// or cron) cannot leave the invoice marked "check running" for good.
	defer b.checks.end(id)
	for {
		if !b.checkOnce(ctx, id, hint) {
			return false
		}
		hint = nil
		if !b.checks.again(id) || ctx.Err() != nil {
			return true
		}
	}
}

// contradicted reports a webhook body whose delivered orders the order
// fetches did not find delivered.
func contradicted(hint bitrefill.Invoice, got conversation.Invoice) bool {
	for i, o := range hint.Orders {
		if o.Status == bitrefill.OrderDelivered && (i >= len(got.Orders) || got.Orders[i].Status != string(bitrefill.OrderDelivered)) {
			return true
		}
	}
	return false
}

func (b *Bot) checkOnce(ctx context.Context, id string, hint *bitrefill.Invoice) bool {
	t, ok, err := b.cfg.Store.TrackedInvoice(id)
	if err != nil {
		b.log.Error("check invoice: tracked", "invoice", id, "err", err)
		return true
	}
	if !ok {
		return true // settled meanwhile, or never ours
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
	var inv conversation.Invoice
	if hint != nil {
		inv, err = b.completeOrders(cctx, *hint)
		if err != nil && !bitrefill.IsRateLimited(err) || err == nil && contradicted(*hint, inv) {
			// The orders say otherwise (a body that lies, or is stale):
			// what the API says of the invoice is what counts.
			inv, err = b.fetchInvoice(cctx, id)
		}
	} else {
		inv, err = b.fetchInvoice(cctx, id)
	}
	cancel()
	if err != nil {
		if bitrefill.IsRateLimited(err) {
			return false
		}
		b.log.Warn("check invoice: fetch", "invoice", id, "err", err)
		return true
	}
	// The fingerprint is what lets the poller skip an invoice, so it is
	// recorded only once the session took the news in (its step
	// committed): after a failed commit the next poll must try again.
	if b.update(ctx, t, inv) {
		b.checks.setSeen(id, fetchedPrint(inv))
	}
	return true
}

// update feeds an invoice's latest state to its session; it reports whether
// the session took it in (false: a step failed, try again later).
func (b *Bot) update(ctx context.Context, t Tracked, inv conversation.Invoice) bool {
	if inv.Status != t.Status {
		t.Status = inv.Status
		if err := b.cfg.Store.UpdateTracked(t); err != nil {
			b.log.Error("check invoice: update tracked", "err", err)
		}
	}
	if inv.Status == conversation.StatusUnpaid {
		return true
	}
	// The engine compares with what it already announced, so feeding an
	// unchanged invoice is harmless; the session lock orders it with the
	// user's own actions and with a racing webhook or poll.
	return b.process(ctx, t.Session, t.Address, conversation.InvoiceUpdated{Invoice: inv})
}
