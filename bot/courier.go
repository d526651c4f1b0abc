package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"refillbot/conversation"
)

// courier hands one claimed outbox record to its platform and records the
// outcome in the outbox: sent (its mark queued), or failed (a retry with
// back-off, or, for a code the platform keeps refusing, a plain notice in
// its place). Which records to send, and in what order, is the Bot's
// business (send.go); how to send one is the courier's.
type courier struct {
	out       *outbox
	platforms map[string]Platform
	obs       Observer                             // replies accepted, 429s
	hideAfter time.Duration                        // Config.HideCodesAfter
	lang      func(conversation.SessionKey) string // the session's language, for the fallback notice
	log       *slog.Logger
	// flushLater starts writing the queued marks after markDelay.
	flushLater func()
}

// attempt sends one claimed record and records the outcome: whether it was
// sent, and how long the platform asked everyone to wait (RetryAfter).
func (c *courier) attempt(ctx context.Context, r OutboxRecord, now time.Time) (bool, time.Duration) {
	ok, wait, _ := c.attemptRef(ctx, r, now)
	return ok, wait
}

// attemptRef is attempt that also returns the platform's reference of the
// message sent.
func (c *courier) attemptRef(ctx context.Context, r OutboxRecord, now time.Time) (bool, time.Duration, string) {
	ref, err := c.deliverSafe(ctx, &r)
	if err == nil {
		c.obs.Reply(r.Address.Platform, now.Sub(r.Created))
		c.sent(r, ref, now)
		return true, 0, ref
	}
	if retryAfterOf(err) > 0 {
		c.obs.Throttled(r.Address.Platform)
	}
	r.Attempts++
	if r.Reply.Secret && r.Attempts >= codeFallbackAfter && !unreachable(err) && retryAfterOf(err) == 0 && c.fallback(ctx, r) {
		// The chat takes messages but refuses this one (too long, a markup
		// error): the buyer learns where the code is, and what they are
		// sent next no longer waits behind it. The code stays in /orders.
		c.log.Error("code message refused by the platform; sent a pointer to /orders instead", "platform", r.Address.Platform, "attempts", r.Attempts, "err", err)
		c.sent(r, "", now)
		return true, 0, ""
	}
	wait, drop := retryDelay(err, r.Attempts)
	if drop && r.Reply.Secret {
		wait, drop = maxRetryWait, false // a code is given up on only for the fallback above
	}
	// Never log the text: it may hold a code.
	if drop {
		c.log.Error("message dropped after repeated failures", "platform", r.Address.Platform, "attempts", r.Attempts, "err", err)
		c.sent(r, "", now)
		return true, 0, ""
	}
	c.log.Warn("send failed; will retry", "platform", r.Address.Platform, "attempts", r.Attempts, "retry_in", wait, "secret", r.Reply.Secret, "err", err)
	c.out.setWaiting(r.Session, true)
	if serr := c.out.store.OutboxRetry(r.ID, r.Attempts, now.Add(wait)); serr != nil {
		c.log.Error("outbox: record retry", "err", serr)
	}
	c.out.release(r.ID)
	return false, retryAfterOf(err), ""
}

// editInto shows a claimed record by editing the message ref (an interim
// message the record answers) and reports whether that worked; the record
// is then sent, with ref as its message. On failure the caller sends it as
// usual.
func (c *courier) editInto(ctx context.Context, r OutboxRecord, ref string, now time.Time) bool {
	ed, ok := c.platforms[r.Address.Platform].(Editor)
	if !ok {
		return false
	}
	if err := ed.Edit(ctx, r.Address, ref, r.Reply, nil); err != nil {
		c.log.Debug("interim not edited into the answer; sending it anew", "platform", r.Address.Platform, "err", err)
		return false
	}
	c.sent(r, ref, now)
	return true
}

// codeFallbackAfter is how many ordinary failures (neither "unreachable"
// nor "slow down") a code message gets before the plain fallback is tried.
const codeFallbackAfter = 5

// fallback sends the short plain notice that stands in for a code message
// the platform keeps refusing; it reports whether the platform took it.
func (c *courier) fallback(ctx context.Context, r OutboxRecord) bool {
	fb := r
	fb.Reply = conversation.CodeUndeliverableNotice(c.lang(r.Session))
	fb.Invoice, fb.Edit, fb.View, fb.Hide = "", false, false, false
	_, err := c.deliverSafe(ctx, &fb)
	if err != nil {
		c.log.Warn("code fallback notice failed", "platform", r.Address.Platform, "err", err)
	}
	return err == nil
}

// errPlatformPanic stands for a send during which the adapter panicked: the
// record is retried like any failed send, and the bot keeps running.
var errPlatformPanic = errors.New("platform panicked while sending")

// deliverSafe is deliver with an adapter's panic turned into a failed send.
// The panic value is not logged: it may quote the message.
func (c *courier) deliverSafe(ctx context.Context, r *OutboxRecord) (ref string, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("platform panicked while sending", "platform", r.Address.Platform, "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			ref, err = "", errPlatformPanic
		}
	}()
	return c.deliver(ctx, r)
}

// deliver hands a record to its platform: an edit of the invoice's message
// where possible, else a new message. When an edit falls back to a new
// message, that message becomes the invoice's (r.View), so later reports
// edit it rather than failing on the old one each time.
func (c *courier) deliver(ctx context.Context, r *OutboxRecord) (string, error) {
	p, ok := c.platforms[r.Address.Platform]
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
			c.log.Warn("barcode not drawn; sending the text alone", "format", r.Reply.Barcode, "err", err)
			png = nil
		}
	}
	if r.Reply.Secret {
		if ref, held, err := c.deliverHeld(ctx, p, r, png); held {
			return ref, err
		}
	}
	if ed, ok := p.(Editor); ok && r.Edit {
		if v, found := c.out.view(r.Invoice); found && v.Address.Chat == r.Address.Chat && v.Address.Platform == r.Address.Platform {
			err := ed.Edit(ctx, r.Address, v.Ref, r.Reply, png)
			if err == nil || unreachable(err) || retryAfterOf(err) > 0 {
				return v.Ref, err
			}
			// The message may be gone or too old to edit: say it anew.
			c.log.Debug("edit failed; sending a new message", "platform", r.Address.Platform, "err", err)
			r.View = true
		}
	}
	return p.Send(ctx, r.Address, r.Reply, png)
}

var errNoPlatform = errors.New("no platform for the address")

// errHoldNotMarked is a code's placeholder sent but its reference not
// recorded (a failed write): the code waits, since an edit now could be
// repeated after a crash as a new message.
var errHoldNotMarked = errors.New("placeholder of a code message not recorded")

// deliverHeld delivers a code into a placeholder (Holder, outbox.go's
// holdKey): the one recorded by an earlier attempt, or a new one recorded
// durably before the code goes into it. It reports held false when the
// platform cannot do that for this reply, or when the placeholder can no
// longer be edited (deleted by the user, say): the caller then sends the
// code as a new message.
func (c *courier) deliverHeld(ctx context.Context, p Platform, r *OutboxRecord, png []byte) (ref string, held bool, err error) {
	h, canHold := p.(Holder)
	ed, canEdit := p.(Editor)
	if !canHold || !canEdit {
		return "", false, nil
	}
	v, durable, found := c.out.held(holdKey(r.ID))
	if !found {
		ref, err := h.Hold(ctx, r.Address, conversation.CodeComingNotice(c.lang(r.Session)), r.Reply, png)
		if errors.Is(err, ErrCannotHold) {
			return "", false, nil
		}
		if err != nil {
			return "", true, err
		}
		v, durable = View{InvoiceID: holdKey(r.ID), Address: r.Address, Ref: ref}, false
	}
	if !durable && !c.out.markHold(v) {
		return "", true, errHoldNotMarked
	}
	err = ed.Edit(ctx, r.Address, v.Ref, r.Reply, png)
	if err == nil || unreachable(err) || retryAfterOf(err) > 0 || ctx.Err() != nil || r.Attempts+1 < holdEditTries {
		return v.Ref, true, err
	}
	c.log.Info("code not edited into its placeholder; sending it as a new message", "platform", r.Address.Platform, "attempts", r.Attempts, "err", err)
	return "", false, nil
}

// holdEditTries is the attempt (counting every failed one of the record,
// whatever failed) from which an edit into a placeholder that fails for no
// known reason gives way to a new message. A failure may be passing
// (a network error after the adapter's own retries) and a new message is
// the one thing a repeat can duplicate; a placeholder the user deleted
// keeps failing, and its code should not wait long.
const holdEditTries = 3

// sent records that the platform accepted a record. The mark of a record
// whose repeat would be seen (repeatHarmless), with its view or hide, is
// written before this returns (outbox.markNow). Any other mark is queued,
// with a flush under way: it is written shortly after, by one goroutine,
// for every record sent meanwhile, or rides on the session's next commit.
func (c *courier) sent(r OutboxRecord, ref string, now time.Time) {
	var view *View
	var hide *Scheduled
	if r.View && ref != "" {
		view = &View{InvoiceID: r.Invoice, Address: r.Address, Ref: ref}
	}
	if r.Hide && ref != "" {
		if _, ok := c.platforms[r.Address.Platform].(Deleter); ok {
			hide = &Scheduled{Due: now.Add(c.hideAfter), Name: "hide:" + r.Address.Platform + ":" + r.Address.Chat + ":" + ref,
				Kind: schedHide, Session: r.Session, Address: r.Address, Ref: ref}
		}
	}
	if !c.repeatHarmless(r) {
		// A code, or an answer a restart would show twice: marked durably
		// now, before the session's next message, so that only a crash
		// during the send itself can repeat it.
		if !c.out.markNow(r.ID, view, hide) && c.out.startFlush() {
			c.flushLater()
		}
		return
	}
	if c.out.sent(r.ID, view, hide) {
		c.flushLater()
	}
}

// repeatHarmless tells whether sending a record again after a restart
// leaves the chat as it was: an edit of the invoice's own message (status
// news) on a platform that edits, which a repeat leaves unchanged.
// Everything else a restart repeats is seen twice — a code, a menu, a line
// answering the user (sent anew, or edited into the pressed message or an
// interim, which after a restart is a new message) — so its mark is
// written at once.
func (c *courier) repeatHarmless(r OutboxRecord) bool {
	_, edits := c.platforms[r.Address.Platform].(Editor)
	return edits && r.Edit && !r.View && !r.Reply.Secret
}
