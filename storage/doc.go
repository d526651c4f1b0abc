// Package storage keeps the bot's memory on disk so that a restart, a crash or
// a deploy loses nothing a user was promised: the conversation they were in,
// the invoices they paid or are about to pay, and the checkouts that already
// produced an invoice.
//
// It is a single bbolt file rather than a database server because the bot is
// one process: an embedded store needs no operations work, its transactions
// are serialisable, and the file lock turns "two bots on one database" — which
// would double-announce deliveries and double-create invoices — into an
// immediate, explicit error (ErrLocked) instead of silent corruption. A shop
// that needs more than one process runs on PostgreSQL (storage/postgres),
// and Dump hands `refillbot migrate` everything kept here to move it there.
//
// Store implements every role of the shell's store (bot.Sessions, bot.Outbox,
// bot.WatchList, bot.Timers, bot.Upkeep) with bot's own records, and passes
// the conformance suite in storetest, which any other store (PostgreSQL)
// runs too: a new store is "implement bot.Store, pass storetest.Run".
//
// The package speaks the engine's vocabulary (sessions, tracked invoices,
// checkouts) and never exposes a transaction: the atomicity the shell relies
// on — a session's new state and the invoices it watches change together or
// not at all — is decided here, once, instead of at every call site. Commit
// is durable (fsynced) when it returns, because the shell sends replies only
// afterwards: a user must never see a message about a state the bot could
// forget.
//
// The outbox lives here too: the messages a step causes are written in the
// step's transaction and deleted once the platform accepted them, so a crash
// can repeat a message but never lose one. Records that can hold a
// redemption code — sessions and outbox messages — are sealed with
// AES-256-GCM (package sealed, shared with PostgreSQL) when Options.Key is
// set (see LoadKey: REFILLBOT_SECRET_KEY or a generated 0600 key file beside
// the database); the file keeps a sealed check value so that opening it with
// another key fails at once.
//
// Every record carries its own version, and the file carries a schema version
// in the meta bucket, so a binary that is rolled back refuses data it does not
// understand (ErrVersion) rather than misreading it or dropping it. The
// engine's own State schema is a separate concern, handled by
// conversation.Migrate in the shell.
package storage
