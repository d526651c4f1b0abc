package bot

import (
	"context"
	"errors"
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
		if ok, _ := b.send.attempt(ctx, r, b.cfg.Now()); !ok {
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
		if ok, _ := b.send.attempt(ctx, r, b.cfg.Now()); !ok {
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
	unlock := b.lockSession(ctx, key)
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
		ok, pause := b.send.attempt(ctx, r, now)
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
