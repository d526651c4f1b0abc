package bot

import (
	"context"
	"time"

	"refillbot/conversation"
)

// Poll checks every tracked invoice that is due and feeds changes into the
// owning session, where the engine decides what to announce (once). It is the
// cron job's body and is called directly by tests.
func (b *Bot) Poll(ctx context.Context) {
	b.wg.Add(1)
	defer b.wg.Done()
	tracked, err := b.cfg.Store.Tracked()
	if err != nil {
		b.log.Error("poll: list tracked invoices", "err", err)
		return
	}
	for _, t := range tracked {
		if ctx.Err() != nil {
			return
		}
		now := b.cfg.Now()
		if now.Before(t.NextCheck) {
			continue
		}
		b.check(ctx, t, now)
	}
}

func (b *Bot) check(ctx context.Context, t Tracked, now time.Time) {
	cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
	inv, err := b.fetchInvoice(cctx, t.InvoiceID)
	cancel()
	t.NextCheck = now.Add(backoff(now.Sub(t.Created)))
	if err != nil {
		b.log.Warn("poll: fetch invoice", "invoice", t.InvoiceID, "err", err)
		if uerr := b.cfg.Store.UpdateTracked(t); uerr != nil {
			b.log.Error("poll: update tracked", "err", uerr)
		}
		return
	}
	unchanged := inv.Status == t.Status && inv.Status == conversation.StatusUnpaid
	t.Status = inv.Status
	if err := b.cfg.Store.UpdateTracked(t); err != nil {
		b.log.Error("poll: update tracked", "err", err)
	}
	if unchanged {
		return // the common case: still waiting; nothing for the session
	}
	// The engine compares with what it already announced, so feeding an
	// unchanged invoice is harmless; the session lock orders it with the
	// user's own actions.
	b.process(ctx, t.Session, t.Address, conversation.InvoiceUpdated{Invoice: inv})
}

// backoff checks young invoices often (people pay within minutes) and old ones
// rarely, keeping well inside Bitrefill's request limits.
func backoff(age time.Duration) time.Duration {
	switch {
	case age < 15*time.Minute:
		return 0 // every tick
	case age < time.Hour:
		return time.Minute
	default:
		return 5 * time.Minute
	}
}
