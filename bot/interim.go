package bot

import (
	"context"
	"sync"
	"time"

	"refillbot/conversation"
)

// Interim messages. A step that starts work (a search, a product to load,
// an invoice to create) says so first: "Searching…", "Loading Amazon US…",
// "Creating your invoice…". Sent at once, each would cost a message of the
// chat's budget and flicker before the answer, which usually follows within
// milliseconds. So the shell holds such a step's plain replies for a grace
// period (Config.InterimGrace): when the work's answer comes in time, the
// answer replaces them and they are never sent; when the wait is real, they
// go out when the grace is over, and the answer then edits the last of them
// where the platform can edit (Editor), so the chat shows one message that
// turns into the answer. Held replies are committed like any other: a crash
// while holding them sends them after the restart, as the outbox does. Those
// an answer replaced are marked sent in the answer's own commit, so that no
// restart shows them after it.

// defaultInterimGrace is how long an interim reply is held: below it, a
// message followed at once by its answer would read as a flicker.
const defaultInterimGrace = 300 * time.Millisecond

// interim is what one process call holds: the plain replies of its last
// step that started work, until the work's answer comes or the grace ends.
type interim struct {
	mu    sync.Mutex
	recs  []OutboxRecord
	state interimState
	stop  func() bool   // the grace timer's
	sent  chan struct{} // closed once the held replies went out
	ref   string        // the platform's reference of the last one sent
}

type interimState int

const (
	interimNone    interimState = iota
	interimHolding              // waiting for the answer or the timer
	interimSending              // the timer fired: going out
	interimSent                 // out; ref names the last one
)

// holdable tells whether a step's records are interim: the step starts
// work that runs at once, under the session's lock (inline), and says only
// plain text — no menu, buttons, expected input, image, invoice or code,
// which are screens of their own.
func holdable(inline bool, recs []OutboxRecord) bool {
	if !inline || len(recs) == 0 {
		return false
	}
	for _, r := range recs {
		rp := r.Reply
		if rp.Menu || rp.Secret || len(rp.Options) > 0 || rp.Expect != conversation.ExpectNothing || rp.QR != "" || rp.Invoice != "" {
			return false
		}
	}
	return true
}

// hold keeps recs (just committed) back for the grace period; when it ends
// first, they are sent from the timer's goroutine.
func (b *Bot) hold(ctx context.Context, h *interim, recs []OutboxRecord) {
	h.mu.Lock()
	h.recs, h.state, h.sent, h.ref = recs, interimHolding, make(chan struct{}), ""
	sent := h.sent
	h.mu.Unlock()
	h.stop = b.cfg.AfterFunc(b.cfg.InterimGrace, func() {
		h.mu.Lock()
		if h.state != interimHolding || h.sent != sent {
			h.mu.Unlock()
			return
		}
		h.state = interimSending
		recs := h.recs
		h.mu.Unlock()
		ref := b.deliverHeld(ctx, recs)
		h.mu.Lock()
		h.state, h.ref = interimSent, ref
		h.mu.Unlock()
		close(sent)
	})
}

// deliverHeld sends held records in order and returns the reference of the
// last one sent ("" when one of them could not go now: it waits in the
// outbox, and the answer then comes as messages of its own).
func (b *Bot) deliverHeld(ctx context.Context, recs []OutboxRecord) string {
	if !b.catchUp(ctx, recs[0].Session, recs[0].ID) {
		return ""
	}
	ref := ""
	for i, r := range recs {
		if !b.out.claim(r.ID) {
			continue
		}
		var ok bool
		if ok, _, ref = b.send.attemptRef(ctx, r, b.cfg.Now()); !ok {
			for _, rest := range recs[i+1:] {
				b.out.release(rest.ID)
			}
			return ""
		}
	}
	return ref
}

// drop ends what h holds when the step about to commit answers it (next,
// its records, is not empty) in time: the held replies are never shown.
// It returns them, claimed, for their "sent" marks to go in the answer's
// commit — not later, when a restart could find them unmarked and send
// them after the answer.
func (b *Bot) drop(h *interim, next []OutboxRecord) []OutboxRecord {
	if len(next) == 0 {
		return nil
	}
	h.mu.Lock()
	if h.state != interimHolding {
		h.mu.Unlock()
		return nil
	}
	h.state = interimNone
	recs := h.recs
	h.mu.Unlock()
	h.stop()
	var dropped []OutboxRecord
	for _, r := range recs {
		if b.out.claim(r.ID) {
			dropped = append(dropped, r)
		}
	}
	return dropped
}

// settle ends what h holds, before the records of the next step go out:
// held replies no answer replaced (drop) go out now. When they went out
// already, the reference of the last is returned as editRef: the message
// to edit the answer's first record into.
func (b *Bot) settle(ctx context.Context, h *interim) (editRef string) {
	h.mu.Lock()
	state, recs, sent := h.state, h.recs, h.sent
	if state == interimHolding {
		h.state = interimNone
	}
	h.mu.Unlock()
	switch state {
	case interimNone:
		return ""
	case interimHolding:
		h.stop()
		b.deliverNow(ctx, recs)
		return ""
	}
	<-sent // the timer's goroutine is sending them
	h.mu.Lock()
	ref := h.ref
	h.state = interimNone
	h.mu.Unlock()
	return ref
}

// deliverAnswer sends the records of a step after an interim: the first
// edits the interim message into the answer when it can (a text reply to
// a platform that edits, not an invoice report, which edits its own view),
// the rest follow as usual.
func (b *Bot) deliverAnswer(ctx context.Context, recs []OutboxRecord, editRef string) {
	if editRef != "" && len(recs) > 0 {
		r := recs[0]
		if !r.Edit && r.Reply.QR == "" && b.out.claim(r.ID) {
			if b.send.editInto(ctx, r, editRef, b.cfg.Now()) {
				recs = recs[1:]
			} else {
				b.out.release(r.ID)
			}
		}
	}
	b.deliverNow(ctx, recs)
}
