package bot

import (
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"refillbot/conversation"
)

// The outbox: every reply the engine produces is written, in the same
// transaction as the state that caused it, as an OutboxRecord. Replies to a
// user's own event are then sent at once by the same goroutine; anything not
// sent (a crash, a blocked user, a platform asking us to slow down) is found
// in the store by the drain job and sent later (send.go). A record is
// deleted — its "sent" mark — only after the platform accepted it. So a
// crash loses nothing; it can repeat a message only if it falls between the
// platform's acceptance and the mark. For a message whose repeat would be
// seen — a code, a menu, any answer sent anew — that window is the send
// itself: its mark is written durably as soon as the platform accepts it,
// before anything else goes to the session (markNow), grouped with the
// marks of other sends finishing meanwhile into one write. Where the
// platform can hold a message's place (Holder), even that window is closed
// for a code: it goes into a placeholder whose reference was made durable
// first, so a repeat is an edit of the same message (holdKey, below). Edits
// of an invoice's status message, which a repeat leaves as they were, keep
// the cheaper delayed mark (courier.sent).

// outbox is the process's side of the stored outbox: the ids it hands out,
// the records being sent, and the "sent" marks not yet written. It has its
// own lock, held only for its bookkeeping, never across a send or a store
// call.
type outbox struct {
	store Outbox
	log   *slog.Logger

	mu   sync.Mutex
	last uint64
	busy map[uint64]bool // being sent, or sent with the mark not yet durable
	// gone holds ids whose mark is durable, with the listing epoch at
	// which it became so: a listing started at or before that epoch may
	// still show the record, so claim refuses it until no such listing is
	// in use (see listing).
	gone     map[uint64]uint64
	epoch    uint64         // counts listings started
	active   map[uint64]int // epochs of listings in use
	done     []uint64
	views    []View
	hides    []Scheduled
	flushing bool
	viewMem  map[string]View // views sent by this process, before their mark lands
	// waiting names sessions that may have older records still in the
	// outbox (a failed send, or found by a Drain listing), so that their
	// next step sends those first.
	waiting map[conversation.SessionKey]bool

	drainMu sync.Mutex // one Drain pass at a time
	// writeMu makes the durable marks (markNow) one write at a time, so
	// that marks queued while one write is under way share the next.
	writeMu sync.Mutex
	// marked is signalled (under mu) when marks become durable or are
	// given back after a failed commit.
	marked *sync.Cond
}

// newOutbox starts the process's outbox after last, the highest id the
// store has seen (Outbox.OutboxLast).
func newOutbox(store Outbox, last uint64, log *slog.Logger) *outbox {
	o := &outbox{store: store, log: log, last: last, busy: map[uint64]bool{}, gone: map[uint64]uint64{},
		active: map[uint64]int{}, viewMem: map[string]View{}, waiting: map[conversation.SessionKey]bool{}}
	o.marked = sync.NewCond(&o.mu)
	return o
}

func (o *outbox) setWaiting(key conversation.SessionKey, on bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if on {
		o.waiting[key] = true
	} else {
		delete(o.waiting, key)
	}
}

func (o *outbox) isWaiting(key conversation.SessionKey) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.waiting[key]
}

func (o *outbox) ids(n int, now time.Time) []uint64 {
	if src, ok := o.store.(IDSource); ok && n > 0 {
		ids, err := src.OutboxIDs(n)
		if err == nil && len(ids) == n {
			o.mu.Lock()
			o.last = max(o.last, ids[n-1])
			o.mu.Unlock()
			return ids
		}
		o.log.Error("outbox: ids from the store; using the clock", "err", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	// Ids are nanosecond clock readings kept strictly increasing, seeded at
	// start from the highest id the store has seen, so they keep growing
	// across restarts.
	o.last = max(o.last, uint64(now.UnixNano()))
	out := make([]uint64, n)
	for i := range out {
		o.last++
		out[i] = o.last
	}
	return out
}

// claim marks records as being sent; it returns false for one already busy.
func (o *outbox) claim(id uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, gone := o.gone[id]; gone || o.busy[id] {
		return false
	}
	o.busy[id] = true
	return true
}

func (o *outbox) release(id uint64) {
	o.mu.Lock()
	delete(o.busy, id)
	o.mu.Unlock()
}

// listing registers a read of the outbox about to be taken; done ends it
// and forgets the gone ids that no listing in use can still show.
func (o *outbox) listing() (done func()) {
	o.mu.Lock()
	o.epoch++
	e := o.epoch
	o.active[e]++
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.active[e]--; o.active[e] == 0 {
			delete(o.active, e)
		}
		oldest := o.epoch + 1
		for a := range o.active {
			oldest = min(oldest, a)
		}
		for id, at := range o.gone {
			if at < oldest {
				delete(o.gone, id)
			}
		}
	}
}

// drainPass takes the right to run one Drain pass; the caller calls the
// result when done.
func (o *outbox) drainPass() (done func()) {
	o.drainMu.Lock()
	return o.drainMu.Unlock
}

// view is the message showing an invoice: the one this process sent, if
// its mark is not written yet, else the store's.
func (o *outbox) view(invoiceID string) (View, bool) {
	o.mu.Lock()
	v, ok := o.viewMem[invoiceID]
	o.mu.Unlock()
	if ok {
		return v, true
	}
	v, ok, err := o.store.InvoiceView(invoiceID)
	if err != nil {
		o.log.Warn("outbox: invoice view", "err", err)
	}
	return v, ok && err == nil
}

// sent queues the mark of a record the platform accepted, with the view it
// became (if any) and the hide to schedule (if any). It reports whether no
// flush is under way, so the caller must start one (flushLater).
func (o *outbox) sent(id uint64, view *View, hide *Scheduled) (startFlush bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queueLocked(id, view, hide)
	start := !o.flushing
	o.flushing = true
	return start
}

func (o *outbox) queueLocked(id uint64, view *View, hide *Scheduled) {
	o.done = append(o.done, id)
	if view != nil {
		o.views = append(o.views, *view)
		o.viewMem[view.InvoiceID] = *view
	}
	if hide != nil {
		o.hides = append(o.hides, *hide)
	}
}

// markNow writes the mark of a record the platform accepted (with its view
// and hide) durably before it returns, so that a restart cannot send it
// again. Marks queued by other sends meanwhile go in the same write (group
// commit): under load a code's mark costs no write of its own; alone it
// costs one. It reports false when the write failed: the mark then waits
// in the queue, and the caller starts a flush.
func (o *outbox) markNow(id uint64, view *View, hide *Scheduled) bool {
	o.mu.Lock()
	o.queueLocked(id, view, hide)
	o.mu.Unlock()

	o.writeMu.Lock()
	if o.queued(id) { // no write has taken it yet: this one takes it, and whatever else is queued
		o.writeMarksLocked()
	}
	o.writeMu.Unlock()

	// It may have gone with another write, or with a commit (takeMarks):
	// wait for that one's outcome.
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.busy[id] && !o.queuedLocked(id) {
		o.marked.Wait()
	}
	return !o.busy[id]
}

func (o *outbox) queued(id uint64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queuedLocked(id)
}

func (o *outbox) queuedLocked(id uint64) bool { return slices.Contains(o.done, id) }

// markDelay is how long a "sent" mark may wait for the session's next commit
// to carry it (Commit.Done), before it is written on its own. On the hot
// path the next commit comes first, so a purchase pays no extra fsync for
// these marks; the price is a crash window (a message repeated after
// restart) of at most this long after a send, which is why a code's mark
// does not wait (markNow).
const markDelay = 100 * time.Millisecond

// takeMarks hands pending "sent" marks to a commit about to be written.
func (o *outbox) takeMarks() []uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	done := o.done
	o.done = nil
	return done
}

// marksWritten ends the marks' wait after their commit (ok) or gives them
// back to the flusher (failed commit).
func (o *outbox) marksWritten(ids []uint64, ok bool) {
	if len(ids) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if ok {
		o.forget(ids)
	} else {
		o.done = append(ids, o.done...)
		o.marked.Broadcast()
	}
}

// forget records that the marks of ids are durable. o.mu is held.
func (o *outbox) forget(ids []uint64) {
	for _, id := range ids {
		delete(o.busy, id)
		o.gone[id] = o.epoch
	}
	o.marked.Broadcast()
}

// flush writes pending marks until none are left, or a write fails (the
// marks then wait for the next commit or flush).
func (o *outbox) flush() {
	for {
		o.mu.Lock()
		if len(o.done) == 0 && len(o.views) == 0 && len(o.hides) == 0 {
			o.flushing = false
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
		if !o.writeMarks() {
			o.mu.Lock()
			o.flushing = false
			o.mu.Unlock()
			return
		}
	}
}

// writeMarks writes the marks pending now in one transaction. On failure
// they are kept for the next try: the records stay in the store, so a
// crash meanwhile means a repeat, not a loss.
func (o *outbox) writeMarks() bool {
	o.writeMu.Lock()
	defer o.writeMu.Unlock()
	return o.writeMarksLocked()
}

// writeMarksLocked is writeMarks with o.writeMu held. Every write of marks
// holds it, so that whoever holds it knows that a mark no longer queued
// was written, or was given back to the queue by a failed write.
func (o *outbox) writeMarksLocked() bool {
	o.mu.Lock()
	done, views, hides := o.done, o.views, o.hides
	o.done, o.views, o.hides = nil, nil, nil
	o.mu.Unlock()
	if len(done) == 0 && len(views) == 0 && len(hides) == 0 {
		return true
	}
	err := o.store.OutboxDone(done, views, hides)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.done = append(done, o.done...)
		o.views = append(views, o.views...)
		o.hides = append(hides, o.hides...)
		o.log.Error("outbox: mark sent", "err", err)
		o.marked.Broadcast()
		return false
	}
	o.forget(done)
	for _, v := range views {
		if o.viewMem[v.InvoiceID] == v {
			delete(o.viewMem, v.InvoiceID)
		}
	}
	return true
}

// startFlush reports whether no flush is under way, claiming the right to
// start one (the caller then calls flushLater).
func (o *outbox) startFlush() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	start := !o.flushing
	o.flushing = true
	return start
}

// A code message is delivered into a placeholder where the platform can
// (Holder): the placeholder is sent, its reference recorded durably as the
// View named holdKey(record id), and only then edited into the code. A
// restart that finds the record unsent finds the view too, and repeats the
// edit, which leaves the message as it is, instead of sending the code in
// a second message. A crash between the placeholder's send and its view
// being durable leaves that placeholder behind (its text says where the
// code is), never a second code.

// holdKey names the View of the placeholder of code record id. Bitrefill's
// invoice ids never start so.
func holdKey(id uint64) string { return "hold:" + strconv.FormatUint(id, 10) }

// held returns the placeholder recorded for a code record, and whether its
// record is durable (read from the store) rather than only in this
// process's memory (sent, its write not done or failed).
func (o *outbox) held(key string) (v View, durable, found bool) {
	o.mu.Lock()
	v, ok := o.viewMem[key]
	o.mu.Unlock()
	if ok {
		return v, false, true
	}
	v, ok, err := o.store.InvoiceView(key)
	if err != nil {
		o.log.Warn("outbox: placeholder view", "err", err)
	}
	return v, true, ok && err == nil
}

// markHold writes a placeholder's view durably before it returns, grouped
// with whatever marks are queued (as markNow). It reports false when the
// write failed: the view then stays queued for the next write, and in
// memory for the next attempt.
func (o *outbox) markHold(v View) bool {
	o.mu.Lock()
	o.views = append(o.views, v)
	o.viewMem[v.InvoiceID] = v
	o.mu.Unlock()

	o.writeMu.Lock()
	defer o.writeMu.Unlock()
	o.mu.Lock()
	queued := slices.Contains(o.views, v)
	o.mu.Unlock()
	if !queued {
		return true // a write that took it succeeded (a failed one gives it back)
	}
	return o.writeMarksLocked()
}
