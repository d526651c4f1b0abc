package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"refillbot/conversation"
)

// Sending the outbox's records (outbox.go): at once after the commit that
// wrote them (deliverNow), ahead of a returning user's new replies
// (catchUp), or later by the drain job (Drain), always one session's
// records in order, under the session's lock.

// outgoing turns one step's replies into outbox records. Secret replies
// never go to a chat others can read: they are not even stored for one.
func (b *Bot) outgoing(key conversation.SessionKey, addr conversation.Address, replies []conversation.Reply, now time.Time) []OutboxRecord {
	recs := make([]OutboxRecord, 0, len(replies))
	for _, r := range replies {
		if r.Secret && !addr.Private {
			b.log.Warn("secret reply withheld from a non-private chat", "platform", addr.Platform)
			continue
		}
		rec := OutboxRecord{Session: key, Address: addr, Reply: r, Created: now}
		if r.Invoice != "" {
			rec.Invoice = r.Invoice
			rec.View = r.Menu
			rec.Edit = !r.Menu && !r.Secret
		}
		rec.Hide = r.Secret && b.cfg.HideCodesAfter > 0
		recs = append(recs, rec)
	}
	ids := b.out.ids(len(recs), now)
	for i := range recs {
		recs[i].ID = ids[i]
	}
	return recs
}

// deliverNow sends records just committed by this goroutine, in order,
// after whatever the session still owes from before.
func (b *Bot) deliverNow(ctx context.Context, recs []OutboxRecord) {
	if len(recs) > 0 && !b.catchUp(ctx, recs[0].Session, recs[0].ID) {
		return // the new records wait in the outbox behind the old ones
	}
	for _, r := range recs {
		if !b.out.claim(r.ID) {
			continue
		}
		if ok, _ := b.attempt(ctx, r, b.cfg.Now()); !ok {
			// The rest wait in the outbox behind this one, so that the
			// drain job delivers them in order (no receipt before its code).
			for _, rest := range recs {
				if rest.ID > r.ID {
					b.out.release(rest.ID)
				}
			}
			return
		}
	}
}

// catchUp sends the session's records older than before, whatever their
// back-off: a user who writes again is reachable again, so a code that
// waited out a blocked bot or closed DMs arrives now, ahead of the new
// replies. It reports whether the way is clear for newer records. The
// caller holds the session's lock, as Drain does, so the two never race.
func (b *Bot) catchUp(ctx context.Context, key conversation.SessionKey, before uint64) bool {
	if !b.out.isWaiting(key) {
		return true
	}
	done := b.out.listing()
	defer done()
	recs, err := b.cfg.Store.OutboxSession(key, catchUpBatch)
	if err != nil {
		b.log.Error("outbox: list", "err", err)
		if len(recs) == 0 {
			return true
		}
	}
	owed := false
	for _, r := range recs {
		if r.ID >= before {
			break
		}
		owed = true
		if !b.out.claim(r.ID) {
			continue // sent already, its mark not yet written
		}
		if ok, _ := b.attempt(ctx, r, b.cfg.Now()); !ok {
			return false
		}
	}
	if len(recs) == catchUpBatch && recs[len(recs)-1].ID < before {
		return false // more owed than one catch-up reads: the rest, and the new, go by Drain, in order
	}
	if !owed {
		b.out.setWaiting(key, false)
	}
	return true
}

// attempt sends one claimed record and records the outcome: whether it was
// sent, and how long the platform asked everyone to wait (RetryAfter).
func (b *Bot) attempt(ctx context.Context, r OutboxRecord, now time.Time) (bool, time.Duration) {
	ref, err := b.deliverSafe(ctx, &r)
	if err == nil {
		b.sent(r, ref, now)
		return true, 0
	}
	r.Attempts++
	if r.Reply.Secret && r.Attempts >= codeFallbackAfter && !unreachable(err) && retryAfterOf(err) == 0 && b.fallback(ctx, r) {
		// The chat takes messages but refuses this one (too long, a markup
		// error): the buyer learns where the code is, and what they are
		// sent next no longer waits behind it. The code stays in /orders.
		b.log.Error("code message refused by the platform; sent a pointer to /orders instead", "platform", r.Address.Platform, "attempts", r.Attempts, "err", err)
		b.sent(r, "", now)
		return true, 0
	}
	wait, drop := retryDelay(err, r.Attempts)
	if drop && r.Reply.Secret {
		wait, drop = maxRetryWait, false // a code is given up on only for the fallback above
	}
	// Never log the text: it may hold a code.
	if drop {
		b.log.Error("message dropped after repeated failures", "platform", r.Address.Platform, "attempts", r.Attempts, "err", err)
		b.sent(r, "", now)
		return true, 0
	}
	b.log.Warn("send failed; will retry", "platform", r.Address.Platform, "attempts", r.Attempts, "retry_in", wait, "secret", r.Reply.Secret, "err", err)
	b.out.setWaiting(r.Session, true)
	if serr := b.cfg.Store.OutboxRetry(r.ID, r.Attempts, now.Add(wait)); serr != nil {
		b.log.Error("outbox: record retry", "err", serr)
	}
	b.out.release(r.ID)
	return false, retryAfterOf(err)
}

// codeFallbackAfter is how many ordinary failures (neither "unreachable"
// nor "slow down") a code message gets before the plain fallback is tried.
const codeFallbackAfter = 5

// fallback sends the short plain notice that stands in for a code message
// the platform keeps refusing; it reports whether the platform took it.
func (b *Bot) fallback(ctx context.Context, r OutboxRecord) bool {
	fb := r
	fb.Reply = conversation.CodeUndeliverableNotice(b.lang(r.Session))
	fb.Invoice, fb.Edit, fb.View, fb.Hide = "", false, false, false
	_, err := b.deliverSafe(ctx, &fb)
	if err != nil {
		b.log.Warn("code fallback notice failed", "platform", r.Address.Platform, "err", err)
	}
	return err == nil
}

// errPlatformPanic stands for a send during which the adapter panicked: the
// record is retried like any failed send, and the bot keeps running.
var errPlatformPanic = errors.New("platform panicked while sending")

// deliverSafe is deliver with an adapter's panic turned into a failed send.
// The panic value is not logged: it may quote the message.
func (b *Bot) deliverSafe(ctx context.Context, r *OutboxRecord) (ref string, err error) {
	defer func() {
		if v := recover(); v != nil {
			b.log.Error("platform panicked while sending", "platform", r.Address.Platform, "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			ref, err = "", errPlatformPanic
		}
	}()
	return b.deliver(ctx, r)
}

// deliver hands a record to its platform: an edit of the invoice's message
// where possible, else a new message. When an edit falls back to a new
// message, that message becomes the invoice's (r.View), so later reports
// edit it rather than failing on the old one each time.
func (b *Bot) deliver(ctx context.Context, r *OutboxRecord) (string, error) {
	p, ok := b.cfg.Platforms[r.Address.Platform]
	if !ok {
		return "", errNoPlatform
	}
	var png []byte
	if r.Reply.QR != "" {
		var err error
		if png, err = renderBarcode(r.Reply.QR, r.Reply.Barcode); err != nil {
			// The text shows the value, so the message still goes. Neither
			// the value nor gozxing's error (which quotes it) is logged: it
			// is usually a redemption code.
			b.log.Warn("barcode not drawn; sending the text alone", "format", r.Reply.Barcode, "err", err)
			png = nil
		}
	}
	if ed, ok := p.(Editor); ok && r.Edit {
		if v, found := b.out.view(r.Invoice); found && v.Address.Chat == r.Address.Chat && v.Address.Platform == r.Address.Platform {
			err := ed.Edit(ctx, r.Address, v.Ref, r.Reply, png)
			if err == nil || unreachable(err) || retryAfterOf(err) > 0 {
				return v.Ref, err
			}
			// The message may be gone or too old to edit: say it anew.
			b.log.Debug("edit failed; sending a new message", "platform", r.Address.Platform, "err", err)
			r.View = true
		}
	}
	return p.Send(ctx, r.Address, r.Reply, png)
}

var errNoPlatform = errors.New("no platform for the address")

// sent queues the record's mark (and its view or hide) and makes sure a
// flush is under way. The mark is written shortly after, by one goroutine,
// for every record sent meanwhile: the hot path does not wait for a second
// fsync per message.
func (b *Bot) sent(r OutboxRecord, ref string, now time.Time) {
	var view *View
	var hide *Scheduled
	if r.View && ref != "" {
		view = &View{InvoiceID: r.Invoice, Address: r.Address, Ref: ref}
	}
	if r.Hide && ref != "" {
		if _, ok := b.cfg.Platforms[r.Address.Platform].(Deleter); ok {
			hide = &Scheduled{Due: now.Add(b.cfg.HideCodesAfter), Name: "hide:" + r.Address.Platform + ":" + r.Address.Chat + ":" + ref,
				Kind: schedHide, Session: r.Session, Address: r.Address, Ref: ref}
		}
	}
	if b.out.sent(r.ID, view, hide) {
		b.wg.Add(1)
		time.AfterFunc(markDelay, func() {
			defer b.wg.Done()
			b.out.flush()
		})
	}
}

// FlushMarks writes the pending "sent" marks now; tests and shutdown use it.
func (b *Bot) FlushMarks() { b.out.writeMarks() }

// drainBatch bounds the records one Drain pass reads: those of the sessions
// whose next message is due, earliest due first, so a large backlog is
// worked through without rereading all of it, and messages held back (a
// blocked user's) are not read at all.
const drainBatch = 1000

// catchUpBatch bounds the older records a returning user is sent ahead of
// a new reply; any beyond wait for the drain job, in order.
const catchUpBatch = 200

// Drain sends the outbox records that are due, oldest first, under each
// session's lock so that they interleave correctly with the session's own
// replies, and returns how many it tried. It is the outbox job's body;
// tests call it directly.
func (b *Bot) Drain(ctx context.Context, now time.Time) int {
	b.wg.Add(1)
	defer b.wg.Done()
	defer b.out.drainPass()()
	done := b.out.listing()
	defer done()
	recs, err := b.cfg.Store.OutboxDue(now, drainBatch)
	if err != nil {
		b.log.Error("outbox: list", "err", err)
	}
	bySession := map[conversation.SessionKey][]OutboxRecord{}
	var order []conversation.SessionKey
	for _, r := range recs {
		if _, ok := bySession[r.Session]; !ok {
			order = append(order, r.Session)
		}
		bySession[r.Session] = append(bySession[r.Session], r)
		b.out.setWaiting(r.Session, true) // e.g. left by an earlier process
	}
	sent := 0
	// A platform that asked to slow down is left alone for the rest of the
	// pass: hammering it would only earn longer bans.
	paused := map[string]bool{}
	for _, key := range order {
		if ctx.Err() != nil {
			break
		}
		if paused[key.Platform] {
			continue
		}
		sent += b.drainSession(ctx, key, bySession[key], now, paused)
	}
	return sent
}

// drainSession sends one session's due records in order, under its lock.
func (b *Bot) drainSession(ctx context.Context, key conversation.SessionKey, recs []OutboxRecord, now time.Time, paused map[string]bool) int {
	unlock := b.locks.lock(key.String())
	defer unlock()
	sent := 0
	for _, r := range recs {
		if r.NextTry.After(now) || paused[r.Address.Platform] {
			break // keep this session's order: later messages wait too
		}
		if !b.out.claim(r.ID) {
			continue
		}
		sent++
		ok, pause := b.attempt(ctx, r, now)
		if pause > 0 {
			paused[r.Address.Platform] = true
		}
		if !ok {
			break // this session's later messages wait behind it
		}
	}
	return sent
}

// retryDelay is the back-off after a failed send. A user who blocked the bot
// or closed DMs is tried rarely (their messages wait, never dropped); a
// platform's RetryAfter is honoured; other failures back off exponentially
// and give up after many attempts (a message the platform keeps refusing).
func retryDelay(err error, attempts int) (time.Duration, bool) {
	if d := retryAfterOf(err); d > 0 {
		return d, false
	}
	if unreachable(err) {
		return min(time.Minute<<min(attempts-1, 9), 6*time.Hour), false
	}
	if attempts >= 30 {
		return 0, true
	}
	return min(time.Second<<min(attempts-1, 10), maxRetryWait), false
}

// maxRetryWait caps the back-off after ordinary send failures.
const maxRetryWait = 10 * time.Minute

func unreachable(err error) bool {
	var u interface{ Unreachable() bool }
	return errors.As(err, &u) && u.Unreachable()
}

func retryAfterOf(err error) time.Duration {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) {
		return r.RetryAfter()
	}
	return 0
}
