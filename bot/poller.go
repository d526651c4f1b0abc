package bot

import (
	"context"
	"errors"
	"strings"
	"sync"
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
	if len(due) == 0 || b.checks.paused(now) {
		return
	}
	var listed map[string]bitrefill.Invoice
	var lerr error
	if young { // something young enough to list
		if !b.checks.budget.take(now, listReserve) {
			return
		}
		listed, lerr = b.listSince(ctx, oldest.Add(-10*time.Minute), now)
		if bitrefill.IsRateLimited(lerr) {
			return
		}
	}
	for _, t := range due {
		if ctx.Err() != nil || b.checks.paused(now) {
			return
		}
		if inv, ok := listed[t.InvoiceID]; ok &&
			((string(inv.Status) == t.Status && t.Status == conversation.StatusUnpaid) || // still waiting: the common case
				b.checks.seenAs(t.InvoiceID) == listedPrint(inv)) { // paid, waiting for confirmations: nothing moved since the last fetch
			b.checks.setNextCheck(t.InvoiceID, now.Add(backoff(now.Sub(t.Created))))
			continue
		}
		// It moved, or the list did not show it (or failed): fetch it alone,
		// if the budget allows; if not, it keeps its turn for the next tick.
		if !b.checks.budget.room(now) {
			return
		}
		b.checks.setNextCheck(t.InvoiceID, now.Add(backoff(now.Sub(t.Created))))
		b.checkInvoice(ctx, t.InvoiceID)
	}
}

// listSince returns the invoices created since after, by id. On failure it
// returns what it has with the error: the caller then fetches alone only
// what the budget allows, and nothing at all after a 429.
func (b *Bot) listSince(ctx context.Context, after, now time.Time) (map[string]bitrefill.Invoice, error) {
	out := map[string]bitrefill.Invoice{}
	for page := 0; page < listMaxPages; page++ {
		if page > 0 && !b.checks.budget.take(now, listReserve) {
			return out, errBudget
		}
		cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
		list, err := b.cfg.API.Invoices(cctx, bitrefill.ListFilter{After: after, Start: page * listPageLimit, Limit: listPageLimit})
		cancel()
		if err != nil {
			b.log.Warn("poll: list invoices", "err", err)
			b.rateLimited(err, now)
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

var errBudget = errors.New("poll: request budget spent")

// The request budget. Bitrefill allows about 60 requests per 10 minutes on
// the invoice endpoints, shared with what users do. Every invoice request
// the bot makes is counted (fetchInvoice, list calls); the background work
// (poller, expiry) only starts a request while the count of the last ten
// minutes is under Config.PollBudget, and list calls leave 30 % of it to
// the fetches that deliver codes.
const (
	budgetWindow      = 10 * time.Minute
	defaultPollBudget = 50
)

type budget struct {
	mu    sync.Mutex
	limit int // 0: no limit
	at    []time.Time
}

// take counts one request at now if the window before it leaves room, with
// reserve requests' worth kept back for others (listReserve for lists).
func (u *budget) take(now time.Time, reserve float64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.limit <= 0 {
		return true
	}
	u.prune(now)
	if float64(len(u.at)) >= float64(u.limit)*(1-reserve) {
		return false
	}
	u.at = append(u.at, now)
	return true
}

// listReserve is the share of the budget list calls leave to fetches.
const listReserve = 0.3

// room reports whether a background request may start at now.
func (u *budget) room(now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.limit <= 0 {
		return true
	}
	u.prune(now)
	return len(u.at) < u.limit
}

// note counts n requests made at now, whatever the budget says (a user
// waiting for an answer is never refused).
func (u *budget) note(now time.Time, n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.limit <= 0 {
		return
	}
	u.prune(now)
	for range n {
		u.at = append(u.at, now)
	}
}

func (u *budget) prune(now time.Time) {
	i := 0
	for i < len(u.at) && now.Sub(u.at[i]) >= budgetWindow {
		i++
	}
	u.at = u.at[i:]
}

// rateLimited pauses the background checks after a 429, for as long as
// Bitrefill asked (at least a minute): retrying sooner, or fetching every
// invoice alone instead, would only prolong the ban.
func (b *Bot) rateLimited(err error, now time.Time) {
	if !bitrefill.IsRateLimited(err) {
		return
	}
	wait := max(retryAfter(err), time.Minute)
	b.checks.pause(now.Add(wait))
	b.log.Warn("poll: rate limited by Bitrefill; pausing background checks", "for", wait)
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
// once more).
func (b *Bot) checkInvoice(ctx context.Context, id string) {
	if !b.checks.start(id) {
		return
	}
	// Deferred, so that a panic below (recovered by the webhook goroutine
	// or cron) cannot leave the invoice marked "check running" for good.
	defer b.checks.end(id)
	for {
		b.checkOnce(ctx, id)
		if !b.checks.again(id) || ctx.Err() != nil {
			return
		}
	}
}

func (b *Bot) checkOnce(ctx context.Context, id string) {
	t, ok, err := b.cfg.Store.TrackedInvoice(id)
	if err != nil {
		b.log.Error("check invoice: tracked", "invoice", id, "err", err)
		return
	}
	if !ok {
		return // settled meanwhile, or never ours
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
	inv, err := b.fetchInvoice(cctx, id)
	cancel()
	if err != nil {
		b.log.Warn("check invoice: fetch", "invoice", id, "err", err)
		b.rateLimited(err, b.cfg.Now())
		return
	}
	// The fingerprint is what lets the poller skip an invoice, so it is
	// recorded only once the session took the news in (its step
	// committed): after a failed commit the next poll must try again.
	if !b.update(ctx, t, inv) {
		return
	}
	b.checks.setSeen(id, fetchedPrint(inv))
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
