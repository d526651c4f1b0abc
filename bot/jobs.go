package bot

import (
	"context"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// Scheduled work. Each job's body is a plain function of now that tests call
// directly; Run schedules them with robfig/cron, which recovers from a
// panicking job and skips a tick while the previous run is still going.

// Kinds of Scheduled work.
const (
	schedHide     = "hide"
	schedGiftCard = "giftcard"
)

// Reminder thresholds.
const (
	esimLowData       = 20             // percent of data left
	esimEndingWithin  = 24 * time.Hour // validity left
	giftCardNotice    = 7 * 24 * time.Hour
	esimLookupsPerRun = 20 // eSIM status calls per run, inside the API's 60 per 10 minutes
	idleAfter         = 24 * time.Hour
	pruneAfter        = 90 * 24 * time.Hour
)

type job struct {
	name, spec string
	run        func()
}

func (b *Bot) jobs(ctx context.Context) []job {
	wrap := func(fn func(context.Context, time.Time)) func() {
		return func() {
			if !b.leading() {
				return // another replica leads: it runs this tick
			}
			b.wg.Add(1)
			defer b.wg.Done()
			fn(ctx, b.cfg.Now())
		}
	}
	js := []job{
		{"poll", b.cfg.PollSpec, wrap(b.PollAt)},
		// Every replica drains: the store's claims keep them apart.
		{"outbox", b.cfg.DrainSpec, func() { b.Drain(ctx, b.cfg.Now()) }},
		{"expiry", "@every 1m", wrap(b.ExpireAt)},
		{"scheduled", "@every 1m", wrap(b.DueAt)},
		{"esim-reminders", "@every 1h", wrap(b.ESIMRemindersAt)},
		{"cleanup", "@every 6h", wrap(b.CleanupAt)},
	}
	if b.cfg.BackupDir != "" {
		js = append(js, job{"backup", "@daily", wrap(b.BackupAt)})
	}
	return append(js, b.operatorJobs(wrap)...) // operators.go
}

// ExpireAt closes unpaid invoices past their expiry: if Bitrefill still
// says unpaid an hour after the expiry (it would not take a payment any
// more), the user is told the invoice expired. One list call covers every
// such invoice; one is fetched alone only when the list shows it moved (or
// does not show it), and nothing is fetched while Bitrefill asks us to slow
// down.
func (b *Bot) ExpireAt(ctx context.Context, now time.Time) {
	tracked, err := b.cfg.Store.Tracked()
	if err != nil {
		b.log.Error("expiry: tracked invoices", "err", err)
	}
	var due []Tracked
	oldest := now
	for _, t := range tracked {
		if t.Status != conversation.StatusUnpaid || t.Expires.IsZero() || !now.After(t.Expires) || now.Before(b.checks.nextCheck(t)) {
			continue
		}
		due = append(due, t)
		if t.Created.Before(oldest) {
			oldest = t.Created
		}
	}
	if len(due) == 0 {
		return
	}
	ctx = background(ctx)
	listed, lerr := b.listSince(ctx, oldest.Add(-10*time.Minute))
	if bitrefill.IsRateLimited(lerr) {
		return
	}
	for _, t := range due {
		if ctx.Err() != nil {
			return
		}
		pastGrace := now.After(t.Expires.Add(expiryGrace))
		if inv, ok := listed[t.InvoiceID]; ok && inv.Status == bitrefill.InvoiceUnpaid {
			b.checks.setNextCheck(t.InvoiceID, now.Add(5*time.Minute))
			if pastGrace {
				closed := invoice(inv)
				closed.Status = conversation.StatusExpired
				b.update(ctx, t, closed)
			}
			continue
		}
		b.checks.setNextCheck(t.InvoiceID, now.Add(5*time.Minute))
		cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
		inv, err := b.fetchInvoice(cctx, t.InvoiceID)
		cancel()
		switch {
		case err != nil && kind(err) == conversation.ErrNotFound:
			inv = conversation.Invoice{ID: t.InvoiceID, Status: conversation.StatusExpired}
		case err != nil && bitrefill.IsRateLimited(err):
			b.checks.setNextCheck(t.InvoiceID, now) // it keeps its turn
			return
		case err != nil:
			b.log.Warn("expiry: fetch invoice", "invoice", t.InvoiceID, "err", err)
			continue
		case inv.Status == conversation.StatusUnpaid && pastGrace:
			inv.Status = conversation.StatusExpired
		}
		b.update(ctx, t, inv)
	}
}

// DueAt carries out scheduled work that is due: code messages to hide and
// gift-card expiry reminders.
func (b *Bot) DueAt(ctx context.Context, now time.Time) {
	due, err := b.cfg.Store.Due(now, 200)
	if err != nil {
		b.log.Error("scheduled: list", "err", err)
	}
	var done []Scheduled
	var notes []OutboxRecord
	for _, sc := range due {
		if ctx.Err() != nil {
			break
		}
		lang := b.lang(sc.Session)
		switch sc.Kind {
		case schedHide:
			d, ok := b.cfg.Platforms[sc.Address.Platform].(Deleter)
			if !ok {
				done = append(done, sc)
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
			err := d.Delete(cctx, sc.Address, sc.Ref)
			cancel()
			if err != nil && (unreachable(err) || retryAfterOf(err) > 0) {
				b.retryScheduled(sc, err, now, &done)
				continue
			}
			if err != nil {
				// Too old to delete, or already gone: nothing more to do.
				b.log.Info("hide code message", "platform", sc.Address.Platform, "err", err)
			} else {
				notes = append(notes, OutboxRecord{Session: sc.Session, Address: sc.Address, Reply: conversation.CodeHiddenNotice(lang), Created: now})
			}
			done = append(done, sc)
		case schedGiftCard:
			notes = append(notes, OutboxRecord{Session: sc.Session, Address: sc.Address, Reply: conversation.GiftCardExpiryNotice(lang, sc.Subject, sc.Date), Created: now})
			done = append(done, sc)
		default:
			b.log.Warn("scheduled: unknown kind", "kind", sc.Kind)
			done = append(done, sc)
		}
	}
	b.enqueue(ctx, notes, now)
	if len(done) > 0 {
		if err := b.cfg.Store.ScheduleDone(done); err != nil {
			b.log.Error("scheduled: done", "err", err)
		}
	}
}

// hideGiveUp is how many times a hide is tried for a user who cannot be
// reached (blocked the bot) before it is dropped: with the back-off below
// that is about two days, past which platforms no longer let a bot delete
// a message anyway, and the user cannot read the chat meanwhile either.
const hideGiveUp = 15

// retryScheduled moves an entry that could not be carried out to later:
// the platform's RetryAfter, or a back-off from a minute to six hours. It
// is moved, not left in place, so that it never stands in front of work
// that is due (Due reads the earliest entries first).
func (b *Bot) retryScheduled(sc Scheduled, err error, now time.Time, done *[]Scheduled) {
	wait := retryAfterOf(err)
	if wait <= 0 {
		sc.Attempts++ // only "unreachable" counts towards giving up
		if sc.Attempts >= hideGiveUp {
			b.log.Info("hide dropped: user unreachable for days", "platform", sc.Address.Platform, "attempts", sc.Attempts)
			*done = append(*done, sc)
			return
		}
		wait = min(time.Minute<<min(sc.Attempts-1, 9), 6*time.Hour)
	}
	if serr := b.cfg.Store.ScheduleRetry(sc, now.Add(wait)); serr != nil {
		b.log.Error("scheduled: retry", "err", serr)
	}
}

// enqueue stores notices and sends them through the outbox.
func (b *Bot) enqueue(ctx context.Context, notes []OutboxRecord, now time.Time) {
	if len(notes) == 0 {
		return
	}
	ids := b.out.ids(len(notes), now)
	for i := range notes {
		notes[i].ID = ids[i]
	}
	if err := b.cfg.Store.Enqueue(notes); err != nil {
		b.log.Error("enqueue notices", "err", err)
		return
	}
	b.Drain(ctx, now)
}

func (b *Bot) lang(key conversation.SessionKey) string {
	st, found, err := b.cfg.Store.Session(key)
	if err != nil || !found || st.Lang == "" {
		return conversation.DefaultLang
	}
	return st.Lang
}

// giftCardReminders schedules, for every delivered order with an expiry
// date, a reminder a week before it. Repeats are no-ops (same name, same
// time), so every update of the invoice may ask again.
func giftCardReminders(key conversation.SessionKey, addr conversation.Address, inv conversation.Invoice, now time.Time) []Scheduled {
	var out []Scheduled
	if !addr.Private {
		return nil
	}
	for _, o := range inv.Orders {
		if o.Status != conversation.OrderDelivered || o.Redemption == nil || o.Redemption.Expires == "" {
			continue
		}
		exp, ok := parseDate(o.Redemption.Expires)
		if !ok {
			continue
		}
		due := exp.Add(-giftCardNotice)
		if !due.After(now) {
			continue // too close already: the delivery itself shows the date
		}
		out = append(out, Scheduled{Due: due, Name: "giftcard:" + o.ID, Kind: schedGiftCard, Session: key, Address: addr,
			Subject: o.Product, Date: o.Redemption.Expires})
	}
	return out
}

func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05.000Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// esimAPI is the eSIM status call (*bitrefill.Client has it).
type esimAPI interface {
	ESIM(ctx context.Context, iccid string) (bitrefill.ESIM, error)
	FindESIMs(ctx context.Context, lpas ...string) (map[string]bitrefill.ESIM, error)
}

// ESIMRemindersAt looks at the eSIMs users bought here and reminds them,
// once per plan, when data runs low (below 20 % left) or the plan ends
// within 24 hours, with a one-tap top-up.
func (b *Bot) ESIMRemindersAt(ctx context.Context, now time.Time) {
	api, ok := b.cfg.API.(esimAPI)
	if !ok {
		return
	}
	sessions, err := b.cfg.Store.AllSessions()
	if err != nil {
		b.log.Error("esim reminders: sessions", "err", err)
	}
	type owned struct {
		key  conversation.SessionKey
		addr conversation.Address
		lang string
		esim conversation.OwnedESIM
	}
	var all []owned
	for _, s := range sessions {
		if len(s.State.ESIMs) == 0 {
			continue
		}
		addr, found, err := b.cfg.Store.Address(s.Key)
		if err != nil || !found {
			continue
		}
		lang := s.State.Lang
		if lang == "" {
			lang = conversation.DefaultLang
		}
		for _, e := range s.State.ESIMs {
			all = append(all, owned{s.Key, addr, lang, e})
		}
	}
	if len(all) == 0 {
		return
	}
	// Only esimLookupsPerRun eSIMs fit in a run; a cursor carried from run
	// to run makes every eSIM's turn come, not just the first ones'.
	start, n := b.esimTurn.next(len(all), esimLookupsPerRun)
	ctx = background(ctx)
	var notes []OutboxRecord
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		o := all[(start+i)%len(all)]
		cctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
		e, err := api.ESIM(cctx, o.esim.ICCID)
		cancel()
		if bitrefill.IsRateLimited(err) {
			break // the budget is spent: the next run carries on
		}
		if err != nil {
			b.log.Warn("esim reminders: status", "err", err)
			continue
		}
		pct, ends, plan, active := esimUsage(e, now)
		if !active {
			continue
		}
		if pct < esimLowData && b.once("esim-data:"+o.esim.ICCID+":"+plan, now) {
			notes = append(notes, OutboxRecord{Session: o.key, Address: o.addr, Reply: conversation.ESIMDataNotice(o.lang, o.esim.Name, o.esim.ICCID, pct), Created: now})
		}
		if !ends.IsZero() && ends.Sub(now) <= esimEndingWithin && b.once("esim-ends:"+o.esim.ICCID+":"+plan, now) {
			notes = append(notes, OutboxRecord{Session: o.key, Address: o.addr, Reply: conversation.ESIMEndsNotice(o.lang, o.esim.Name, o.esim.ICCID, ends), Created: now})
		}
	}
	b.enqueue(ctx, notes, now)
}

func (b *Bot) once(name string, now time.Time) bool {
	fresh, err := b.cfg.Store.MarkOnce(name, now)
	if err != nil {
		b.log.Error("reminder mark", "err", err)
		return false
	}
	return fresh
}

// esimUsage sums the eSIM's bundles still running at now: the percentage of
// data left, when the last of them ends, and a name for this set of bundles
// (so a top-up, which adds one, earns new reminders).
func esimUsage(e bitrefill.ESIM, now time.Time) (pct int, ends time.Time, plan string, active bool) {
	var total, left int64
	for _, p := range e.Packages {
		if p.Status == "expired" || p.Status == "depleted" || (!p.ExpirationDate.IsZero() && !now.Before(p.ExpirationDate)) {
			continue
		}
		active = true
		total += p.DataMB * 1_000_000
		left += max(p.RemainingBytes, 0)
		if p.ExpirationDate.After(ends) {
			ends = p.ExpirationDate
		}
		plan = p.ExpirationDate.UTC().Format("20060102T1504")
	}
	pct = 100
	if total > 0 {
		pct = int(min(left*100/total, 100))
	}
	return pct, ends, plan, active
}

// CleanupAt tidies sessions idle for a day (stale search results and menus
// go; purchases and eSIMs stay) and forgets bookkeeping older than 90 days.
func (b *Bot) CleanupAt(ctx context.Context, now time.Time) {
	sessions, err := b.cfg.Store.AllSessions()
	if err != nil {
		b.log.Error("cleanup: sessions", "err", err)
	}
	for _, s := range sessions {
		if ctx.Err() != nil {
			return
		}
		if s.Changed.IsZero() || now.Sub(s.Changed) < idleAfter {
			continue
		}
		if _, changed := conversation.Tidy(s.State); !changed {
			continue
		}
		b.tidy(s.Key, now)
	}
	if n, err := b.cfg.Store.Prune(now.Add(-pruneAfter)); err != nil {
		b.log.Error("cleanup: prune", "err", err)
	} else if n > 0 {
		b.log.Info("cleanup: pruned old records", "records", n)
	}
}

// tidy re-reads the session under its lock, so a user's step in between wins.
func (b *Bot) tidy(key conversation.SessionKey, now time.Time) {
	unlock := b.lockSession(context.Background(), key)
	defer unlock()
	st, found, err := b.cfg.Store.Session(key)
	if err != nil || !found {
		return
	}
	st, changed := conversation.Tidy(st)
	if !changed {
		return
	}
	if err := b.cfg.Store.Commit(Commit{Key: key, State: st}); err != nil {
		b.log.Error("cleanup: commit", "err", err)
	}
}

// BackupAt writes the daily hot backup into Config.BackupDir.
func (b *Bot) BackupAt(ctx context.Context, now time.Time) {
	if b.cfg.BackupDir == "" {
		return
	}
	path, err := b.cfg.Store.BackupTo(b.cfg.BackupDir, now, b.cfg.BackupKeep)
	if err != nil {
		b.log.Error("backup", "err", err)
		return
	}
	b.log.Info("backup written", "path", path)
}

// commandToken turns a reminder's one-tap option (conversation.CommandToken)
// into the command it stands for.
func commandToken(ev conversation.Event) conversation.Event {
	if c, ok := ev.(conversation.Chose); ok {
		if cmd, ok := conversation.ParseCommandToken(c.Token); ok {
			return cmd
		}
	}
	return ev
}
