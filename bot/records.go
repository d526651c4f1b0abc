package bot

import (
	"time"

	"refillbot/conversation"
)

// The records the shell hands to its store and gets back. They are the only
// definition: a store (storage's bbolt, PostgreSQL) keeps them as they are,
// in whatever encoding it likes, and returns them field for field.

// Commit is one engine step's outcome: a session's new state and everything
// it implies, stored together or not at all (see Sessions.Commit).
type Commit struct {
	Key   conversation.SessionKey
	State conversation.State
	// Track upserts these invoices. A zero Session defaults to Key.
	// Tracking an invoice clears any settled mark it had.
	Track []Tracked
	// Untrack removes these invoice ids from the watch list and marks them
	// settled. It is applied after Track.
	Untrack []string
	// Address is where the session was last reached; a private one is kept
	// (Sessions.Address) for notifications no user event prompts.
	Address conversation.Address
	// Outbox holds the messages this step causes, written with the state so
	// that a crash can neither lose them nor announce a state never saved.
	Outbox []OutboxRecord
	// Done deletes outbox records already handed to the platform (their
	// "sent" mark, carried by the next commit when that comes first).
	// Unknown ids are ignored.
	Done []uint64
	// Schedule adds timed work, keyed by (Due, Name) so a repeat is a no-op.
	Schedule []Scheduled
	// Handled, when set, is the inbox update whose event this step is the
	// first commit of: the store marks it done in the same transaction
	// (Inbox, inbox.go).
	Handled *InboxRef
}

// Tracked is an invoice being watched for the session that bought it.
type Tracked struct {
	InvoiceID string
	Session   conversation.SessionKey
	Address   conversation.Address // where to notify
	Status    string               // last status the shell saw
	Created   time.Time
	Expires   time.Time
	NextCheck time.Time // when the poller should look again
}

// OutboxRecord is a message owed to a user. It is written in the same
// transaction as the state that caused it and deleted once the platform
// has accepted it, so a crash between the two can only repeat a message,
// never lose one. A store must keep it as confidential as a session: a
// delivery may hold a redemption code.
type OutboxRecord struct {
	// ID orders records (the shell hands out increasing ids), so one
	// session's messages leave in the order the engine produced them.
	ID      uint64
	Session conversation.SessionKey
	Address conversation.Address
	Reply   conversation.Reply
	// Invoice is the invoice the message is about. With Edit, the message
	// replaces the invoice's own message where the platform can edit; View
	// marks that message itself, whose reference is remembered.
	Invoice string
	Edit    bool
	View    bool
	// Hide: a code message to remove after Config.HideCodesAfter.
	Hide     bool
	Attempts int
	NextTry  time.Time // not to be sent before; zero: at once
	Created  time.Time
}

// View is the platform's reference to the message showing an invoice, so
// that later news about it can edit that message.
type View struct {
	InvoiceID string
	Address   conversation.Address
	Ref       string
}

// Scheduled is timed work for a session: a reminder or a message to hide.
// (Due, Name) identifies it: scheduling the same name at the same time
// twice is a no-op.
type Scheduled struct {
	Due     time.Time
	Name    string
	Kind    string // schedHide, schedGiftCard
	Session conversation.SessionKey
	Address conversation.Address
	Ref     string // a platform message reference (hide)
	Subject string // what it is about (a product name)
	Date    string // a date to show (an expiration date)
	// Attempts counts failed tries (Timers.ScheduleRetry), for back-off
	// and giving up.
	Attempts int
}

// SessionInfo is one stored session, for the scheduled jobs.
type SessionInfo struct {
	Key     conversation.SessionKey
	State   conversation.State
	Changed time.Time // when it last changed; zero if never recorded
}
