package bot

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
//     error. A store may also mark an update done in the transaction that
//     commits the step it caused (see Commit), which closes the window in
//     which a crash after the step's commit and before DoneUpdate would
//     hand the update over again.
//
// With several replicas sharing one store, PutUpdates decides which of
// them saw an update first: only that one gets it back as fresh.
type Inbox interface {
	PutUpdates(platform string, batch []InboxUpdate) (fresh []InboxUpdate, err error)
	PendingUpdates(platform string) ([]InboxUpdate, error)
	DoneUpdate(platform string, id int64) error
}
