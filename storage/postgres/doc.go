// Package postgres is the store for a bot that outgrew one machine: several
// replicas of the same binary share one PostgreSQL database, and coordinate
// through it alone — no other service to run.
//
// It implements the same interfaces as the embedded bbolt store (package
// storage) with the shell's own record types, and passes the same
// conformance suite; what it adds is what replicas need:
//
//   - the schema is versioned SQL (migrations/, embedded in the binary) run
//     by pressly/goose at Open, under goose's session advisory lock, so two
//     replicas starting at once migrate once;
//   - outbox rows are claimed (FOR UPDATE SKIP LOCKED, with a lease) by the
//     replica that sends them, so a message leaves once however many
//     replicas drain, and the claims of a replica killed mid-send are taken
//     over at once (each replica holds an advisory lock on its name for its
//     lifetime, which PostgreSQL drops with its connection), or when the
//     lease runs out if it is alive but cut off;
//   - leadership (Lead) is a session advisory lock held on a connection of
//     its own: exactly one replica long-polls Telegram, holds the Discord
//     gateway or runs the scheduled jobs, and when it dies PostgreSQL drops
//     its session and another replica takes over within the retry interval;
//   - secrets every replica must agree on — the Bitrefill webhook path
//     secret, the Telegram webhook secret token — are generated once and
//     kept in the database.
//
// Records that can hold a redemption code (sessions, queued messages) are
// sealed with the shared format of package sealed, under
// REFILLBOT_SECRET_KEY, which is required here: there is no key file beside
// a database server. A sealed check value refuses a replica started with
// another key.
//
// Times used in queries are timestamptz columns (microseconds); each record
// keeps its exact times in its body, so what the shell stored is what it
// reads back.
package postgres
