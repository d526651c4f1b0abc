package bot

import (
	"errors"
	"time"

	"refillbot/conversation"
)

// The store, split by role. A store (storage's bbolt one, the PostgreSQL
// one) implements every interface below with the records of records.go and
// proves it by passing storage/storetest. Unless a method says otherwise:
//
//   - a write is atomic (all of it or none of it is visible) and durable
//     before it returns: the shell sends nothing before its write returned;
//   - methods are safe for concurrent use. The shell holds a session's lock
//     around its Commit, so two commits of one session never overlap in
//     one process; with several processes the store must order them itself
//     (a row or advisory lock);
//   - values returned are copies the caller may keep and change;
//   - a listing skips a record it cannot read (corrupt, written by a newer
//     version) and returns the others together with an error naming each
//     one skipped: one bad record never hides the rest. Callers use the
//     records even when err != nil;
//   - times come back equal (time.Time.Equal) to what was stored, at least
//     to the microsecond.

// Store is everything the shell persists.
type Store interface {
	Sessions
	Outbox
	WatchList
	Timers
	Upkeep
}

// Sessions keeps each session's state, where it was last reached privately,
// and which invoice each checkout created.
type Sessions interface {
	// Session returns the state last committed for key and true, or the
	// zero State and false (nil error) for a session never committed.
	Session(key conversation.SessionKey) (conversation.State, bool, error)
	// Commit writes one engine step's outcome in a single transaction:
	//   - the session's state is replaced by c.State, and its change time
	//     (SessionInfo.Changed) set to now;
	//   - if c.Address is private it becomes the session's Address; a
	//     non-private address is never stored;
	//   - c.Track upserted into the watch list (a zero Session means c.Key),
	//     then c.Untrack removed from it;
	//   - c.Outbox inserted into the outbox (a record with a zero ID fails
	//     the whole commit); c.Done deleted from it (ids not there are
	//     ignored);
	//   - c.Schedule inserted into the timers, except an entry whose (Due,
	//     Name) is already there, which is kept as it is;
	//   - c.Handled, when set, marked done in the inbox as Inbox.DoneUpdate
	//     does (a store without an inbox ignores it).
	// Either all of it is durable when Commit returns nil, or none of it is
	// visible and Commit returns an error.
	Commit(c Commit) error
	// Address is the last private address committed for key, if any.
	Address(key conversation.SessionKey) (conversation.Address, bool, error)
	// AllSessions lists every stored session, in no particular order. The
	// scheduled jobs call it rarely; it may be slow.
	AllSessions() ([]SessionInfo, error)
	// CheckoutInvoice returns the invoice recorded for a checkout id, if any.
	CheckoutInvoice(checkout string) (invoiceID string, ok bool, err error)
	// PutCheckoutInvoice records the invoice created for a checkout, so that
	// a replayed checkout never creates a second one. The first invoice
	// recorded stays: recording it again returns nil (idempotent), recording
	// a different one returns an error wrapping ErrCheckoutExists.
	PutCheckoutInvoice(checkout, invoiceID string) error
}

// ErrCheckoutExists is PutCheckoutInvoice's refusal to record a second,
// different invoice for one checkout: two invoices were created.
var ErrCheckoutExists = errors.New("checkout already has an invoice")

// Outbox keeps the messages owed to users until a platform accepted them
// (OutboxRecord), and the references of messages showing invoices (View).
// Records enter by Commit.Outbox or Enqueue and leave by Commit.Done or
// OutboxDone; nothing else deletes one, however old or often retried.
type Outbox interface {
	// Enqueue inserts records not caused by a session's step (reminders),
	// like Commit.Outbox. Every record has a non-zero ID that the shell
	// never reuses; a zero ID is an error.
	Enqueue(recs []OutboxRecord) error
	// OutboxDue returns, for every session whose oldest pending record has
	// NextTry at or before now, that session's records in increasing ID
	// order, from the oldest up to (not including) the first later record
	// whose NextTry is after now. Sessions come in the order their oldest
	// record fell due (by NextTry), each session's records together. A
	// session whose oldest record is not due contributes nothing, however
	// many of its later records are: they wait behind it. At most limit
	// records are returned (all when limit <= 0); a session cut short is
	// continued by the next call, its oldest record being still due.
	OutboxDue(now time.Time, limit int) ([]OutboxRecord, error)
	// OutboxSession returns up to limit of one session's pending records
	// (all when limit <= 0) in increasing ID order, whatever their NextTry.
	OutboxSession(key conversation.SessionKey, limit int) ([]OutboxRecord, error)
	// OutboxLast is at least the highest ID pending and the highest ID ever
	// marked by OutboxDone (0 for an empty store), so that IDs handed out
	// after a restart keep increasing.
	OutboxLast() (uint64, error)
	// OutboxDone writes, in one transaction, the "sent" marks of records a
	// platform accepted: it deletes the records with ids (ids not there are
	// ignored), sets each view as its invoice's View (replacing an older
	// one), and inserts hides as timers (replacing an entry with the same
	// Due and Name). Repeating a call changes nothing more.
	OutboxDone(ids []uint64, views []View, hides []Scheduled) error
	// OutboxRetry records a failed attempt: the pending record id gets
	// Attempts and NextTry, so OutboxDue holds it (and its session's later
	// records) back until next. A record no longer there is no error: it
	// was sent meanwhile.
	OutboxRetry(id uint64, attempts int, next time.Time) error
	// InvoiceView returns the View recorded for an invoice, if any (Prune
	// may forget old ones).
	InvoiceView(invoiceID string) (View, bool, error)
}

// WatchList keeps the invoices the poller watches (Tracked). Entries are
// added and removed only by Commit (Track, Untrack).
type WatchList interface {
	// Tracked lists every tracked invoice, oldest Created first, ties by
	// InvoiceID.
	Tracked() ([]Tracked, error)
	// TrackedInvoice returns one tracked invoice, if it is tracked.
	TrackedInvoice(id string) (Tracked, bool, error)
	// UpdateTracked records the poller's bookkeeping for t.InvoiceID: its
	// Status and NextCheck, nothing else. An invoice no longer tracked is
	// left untracked (nil error), so a poll racing an Untrack cannot bring
	// it back.
	UpdateTracked(t Tracked) error
}

// Timers keep scheduled work (Scheduled), identified by (Due, Name), and
// the once-only marks of periodic jobs.
type Timers interface {
	// Due returns up to limit entries (all when limit <= 0) whose Due is at
	// or before now, earliest Due first, ties by Name.
	Due(now time.Time, limit int) ([]Scheduled, error)
	// ScheduleDone removes entries carried out, by (Due, Name); entries not
	// there are ignored.
	ScheduleDone(done []Scheduled) error
	// ScheduleRetry moves the entry (sc.Due, sc.Name) to (next, sc.Name),
	// keeping sc's other fields (Attempts counted by the caller), so it
	// waits behind the work due before next. An entry no longer there is
	// left alone (nil error): done or moved meanwhile.
	ScheduleRetry(sc Scheduled, next time.Time) error
	// MarkOnce records name (at is when, for Prune) and reports whether it
	// was new: of any number of calls with one name, concurrent or across
	// restarts, exactly one gets true (until Prune forgets the mark).
	MarkOnce(name string, at time.Time) (bool, error)
}

// Upkeep is the store's housekeeping, run by the daily jobs.
type Upkeep interface {
	// Prune forgets bookkeeping recorded before before: invoice views,
	// MarkOnce marks and the marks of settled invoices. It never removes
	// sessions, pending outbox records, tracked invoices or timers. It
	// returns how many entries it removed.
	Prune(before time.Time) (int, error)
	// BackupTo writes a consistent copy of the store, taken while it is in
	// use, into dir (created if missing) under a name made from now, keeps
	// only the newest keep copies there (all when keep <= 0), and returns
	// the copy's path. A store backed up by other means (PostgreSQL's own
	// tools) returns an error wrapping errors.ErrUnsupported.
	BackupTo(dir string, now time.Time, keep int) (string, error)
}
