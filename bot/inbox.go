package bot

import (
	"context"
	"sync/atomic"
)

// InboxUpdate is one update a chat platform delivered, kept as received.
type InboxUpdate struct {
	// ID is the platform's id for the update (Telegram's update_id):
	// unique per platform, and how a delivery of it again is recognised.
	ID int64
	// Raw is the update as the platform sent it, opaque to the store.
	Raw []byte
}

// Inbox is the store's role for updates received and not yet handled. It
// lets an adapter tell the platform at once that an update was received —
// Telegram's next getUpdates offset, or the 200 answer to its webhook
// request — without losing the update if the process dies before handling
// it, and without handling it twice when the platform sends it again.
//
// Updates are kept per platform (Telegram's, say); platform is a short
// name such as "telegram". The contract, which every store (bbolt,
// PostgreSQL) keeps and the conformance tests check:
//
//   - PutUpdates stores the updates of batch that it has not seen and
//     returns those, in batch order; it returns only once they are durable
//     (a crash after it returns loses none). An update seen before — still
//     pending, or done within the last 24 hours — is left out: a platform
//     sends an update again when its confirmation was lost, and Telegram
//     keeps an undelivered update for 24 hours, so after that an id may be
//     forgotten. A batch is stored whole or not at all.
//   - PendingUpdates returns the updates stored and not done, ordered by
//     ID. An adapter reads them when it starts, to hand over what an
//     earlier run received and did not handle.
//   - DoneUpdate records that an update has been handled, durably when it
//     returns: it is no longer pending, and is still seen by PutUpdates.
//     Marking an update done that is unknown or already done is not an
//     error.
//   - Sessions.Commit with Commit.Handled set marks that update done in
//     the commit's transaction: the step an update caused and its done mark
//     are durable together, so a crash can neither lose the update nor
//     apply it twice. (DoneUpdate after Handle returns leaves a window: a
//     crash between the step's commit and the mark hands the update over
//     again after the restart. The shell closes it for every update that
//     commits a step; see HandledUpdate.)
//
// With several replicas sharing one store, PutUpdates decides which of
// them saw an update first: only that one gets it back as fresh. And
// PendingUpdates returns only the updates stored by this replica or by one
// no longer running, taking them over, so an update a live replica is
// handling is never handed over to another, nor one to two replicas.
type Inbox interface {
	PutUpdates(platform string, batch []InboxUpdate) (fresh []InboxUpdate, err error)
	PendingUpdates(platform string) ([]InboxUpdate, error)
	DoneUpdate(platform string, id int64) error
}

// InboxRef names one update in the inbox.
type InboxRef struct {
	Platform string
	ID       int64
}

// HandledUpdate is what an adapter learns of the update it handed over:
// whether the shell marked it done in the inbox with the first commit the
// update caused (Commit.Handled), so that the state it changed and its
// done mark are durable together. An update that committed nothing — an
// ignored message, a press of an old menu — is still pending: the adapter
// marks it done itself (Inbox.DoneUpdate) once Handle returns.
type HandledUpdate struct {
	ref       InboxRef
	committed atomic.Bool
}

// Committed reports whether a commit marked the update done.
func (h *HandledUpdate) Committed() bool { return h.committed.Load() }

type handledKey struct{}

// WithInboxUpdate tells the shell, through the context given to Handle,
// which inbox update the event comes from. The adapter's inbox must be the
// shell's store: that is where the commit marks it.
func WithInboxUpdate(ctx context.Context, platform string, id int64) (context.Context, *HandledUpdate) {
	h := &HandledUpdate{ref: InboxRef{Platform: platform, ID: id}}
	return context.WithValue(ctx, handledKey{}, h), h
}

// inboxUpdate is the update ctx's event comes from, if it still needs its
// done mark.
func inboxUpdate(ctx context.Context) *HandledUpdate {
	h, _ := ctx.Value(handledKey{}).(*HandledUpdate)
	if h == nil || h.committed.Load() {
		return nil
	}
	return h
}
