package bot

import (
	"context"
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
	oldest := now
	for _, t := range tracked {
		if now.Before(b.nextCheck(t)) {
			continue
		}
		if t.Status == conversation.StatusUnpaid && !t.Expires.IsZero() && now.After(t.Expires.Add(expiryGrace)) {
			continue // the expiry job closes it
		}
		due = append(due, t)
		if t.Created.Before(oldest) {
			oldest = t.Created
		}
	}
	if len(due) == 0 {
		return
	}
	listed := b.listSince(ctx, oldest.Add(-10*time.Minute))
	for _, t := range due {
		if ctx.Err() != nil {
			return
		}
		b.setNextCheck(t.InvoiceID, now.Add(backoff(now.Sub(t.Created))))
		if inv, ok := listed[t.InvoiceID]; ok {
			if string(inv.Status) == t.Status && t.Status == conversation.StatusUnpaid {
				continue // the common case: still waiting; nothing for the session
			}
			if b.seenAs(t.InvoiceID) == listedPrint(inv) {
				continue // paid, waiting for confirmations: nothing moved since the last fetch
			}
		}
		b.checkInvoice(ctx, t.InvoiceID)
	}
}

// listSince returns the invoices created since after, by id; nil on failure
// (every due invoice is then fetched alone... at most once per back-off).
func (b *Bot) listSince(ctx context.Context, after time.Time) map[string]bitrefill.Invoice {
	out := map[string]bitrefill.Invoice{}
	for page := 0; page < listMaxPages; page++ {
		cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
		list, err := b.cfg.API.Invoices(cctx, bitrefill.ListFilter{After: after, Start: page * listPageLimit, Limit: listPageLimit})
		cancel()
		if err != nil {
			b.log.Warn("poll: list invoices", "err", err)
			return out
		}
		for _, inv := range list {
			out[inv.ID] = inv
		}
		if len(list) < listPageLimit {
			break
		}
	}
	return out
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
	default:
		return 15 * time.Minute
	}
}

// nextCheck is kept in memory: after a restart every open invoice is checked
// once, which is what a restart wants anyway.
func (b *Bot) nextCheck(t Tracked) time.Time {
	b.checks.mu.Lock()
	defer b.checks.mu.Unlock()
	if at, ok := b.checks.next[t.InvoiceID]; ok {
		return at
	}
	return t.NextCheck
}

func (b *Bot) setNextCheck(id string, at time.Time) {
	b.checks.mu.Lock()
	if b.checks.next == nil {
		b.checks.next = map[string]time.Time{}
	}
	b.checks.next[id] = at
	b.checks.mu.Unlock()
}

// flights makes concurrent checks of one invoice (the poller, a webhook, a
// duplicate webhook) collapse into one running check plus, if news arrived
// while it ran, one more: never two at once, never a hint lost.
type flights struct {
	mu      sync.Mutex
	running map[string]bool
	again   map[string]bool
	next    map[string]time.Time
	seen    map[string]string // invoice id -> fingerprint of the last fetch
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

func (b *Bot) seenAs(id string) string {
	b.checks.mu.Lock()
	defer b.checks.mu.Unlock()
	return b.checks.seen[id]
}

// checkInvoice fetches an invoice with its orders and hands it to the owning
// session. It returns at once if a check of it is under way (which will run
// once more).
func (b *Bot) checkInvoice(ctx context.Context, id string) {
	f := &b.checks
	f.mu.Lock()
	if f.running == nil {
		f.running, f.again = map[string]bool{}, map[string]bool{}
	}
	if f.running[id] {
		f.again[id] = true
		f.mu.Unlock()
		return
	}
	f.running[id] = true
	f.mu.Unlock()
	for {
		b.checkOnce(ctx, id)
		f.mu.Lock()
		if !f.again[id] || ctx.Err() != nil {
			delete(f.running, id)
			delete(f.again, id)
			f.mu.Unlock()
			return
		}
		delete(f.again, id)
		f.mu.Unlock()
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
		return
	}
	b.checks.mu.Lock()
	if b.checks.seen == nil {
		b.checks.seen = map[string]string{}
	}
	b.checks.seen[id] = fetchedPrint(inv)
	b.checks.mu.Unlock()
	b.update(ctx, t, inv)
}

// update feeds an invoice's latest state to its session.
func (b *Bot) update(ctx context.Context, t Tracked, inv conversation.Invoice) {
	if inv.Status != t.Status {
		t.Status = inv.Status
		if err := b.cfg.Store.UpdateTracked(t); err != nil {
			b.log.Error("check invoice: update tracked", "err", err)
		}
	}
	if inv.Status == conversation.StatusUnpaid {
		return
	}
	// The engine compares with what it already announced, so feeding an
	// unchanged invoice is harmless; the session lock orders it with the
	// user's own actions and with a racing webhook or poll.
	b.process(ctx, t.Session, t.Address, conversation.InvoiceUpdated{Invoice: inv})
}
