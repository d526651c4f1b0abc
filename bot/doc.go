// Package bot is the shell around the pure conversation engine.
//
// For every incoming event it takes the session's lock (one session's events
// in order, different sessions in parallel), loads the state, calls
// conversation.Engine.Step, commits the new state and the invoice-tracking
// changes in one storage transaction, and only then sends the replies and runs
// the work the engine asked for. Results of that work are fed back as events
// under the same lock. A crash can therefore lose at most a message in flight,
// never a session or a paid order. The one exception to holding the lock
// while the work runs is a screen load (a product card, an eSIM, a phone
// lookup): it runs outside the lock so the user's next event is not
// held behind it, and its result, still fed back under the lock, is dropped
// by the engine when the user has left that screen — no dead menus.
//
// Delivery follows the same rule: every reply is written to the
// outbox in the step's transaction, sent, and marked sent (the record is
// deleted) afterwards, so a crash loses no message; it can repeat one only
// if it falls between the platform's acceptance and the mark. The mark of a
// message whose repeat would be seen (a code, a menu, any answer) is durable
// before the session's next message goes out (grouped with the marks of
// other sends under way), so for them that window is the send itself — and
// where the platform can hold a message's place (Holder) a code goes into a
// placeholder whose reference is durable first, so that a repeat edits that
// message instead of sending the code again; the marks of status edits,
// which a repeat leaves unchanged, wait a little to ride on a commit. Records not
// sent (a crash, a user who blocked the bot, a platform asking to slow down)
// are retried by the drain job with back-off. The outbox type (outbox.go)
// keeps the process's side of it under its own lock — ids, records being
// sent, marks not yet written; send.go decides what to send and in what
// order, and the courier (courier.go) hands each record to its platform.
// Invoices are tracked by webhooks (webhook.go: a final invoice at the
// secret URL is trusted for its status, codes come only from order fetches,
// batched in paid.go) and by a poller for invoices whose webhook is overdue,
// or every tick without webhooks (poller.go); both funnel into one check per
// invoice at a time (checks.go), and the engine announces each change once.
// Every Bitrefill request passes the client's budget (bitrefill.Client):
// the shell only says whose request it is (Paid, Interactive, Background),
// and a checkout whose turn is minutes away waits for it (queue.go).
// Scheduled work (jobs.go) is a set of plain functions of now.
//
// A step that starts work and only says so ("Searching…") has its replies
// held for a short grace (interim.go): an answer in time replaces them, so
// the chat shows the answer alone and the platform's message budget is
// spent on screens; a real wait shows them and edits the last into the
// answer. Platforms that confirm updates before handling them keep the
// updates in an inbox (inbox.go, a role of the store); the first commit an
// update causes marks it done in the same transaction.
//
// The package speaks to chat platforms and storage through the small
// interfaces declared here; it never imports platforms/* or storage, so
// cmd/refillbot is the only place that knows the concrete types. Platforms
// hand it one type, Incoming (ports.go), through Handle. The store is split
// by role in store.go — Sessions, Outbox, WatchList, Timers, Upkeep, joined
// as Store, and the platforms' Inbox (inbox.go) — each with its contract (atomicity, durability, ordering), and
// carries the records of records.go; there is no other definition of them. A
// new store implements those interfaces and passes storage/storetest, the
// conformance suite; nothing here changes. A store shared by several
// processes (PostgreSQL) adds two abilities the shell looks for
// (replicas.go): a session lock that orders one user's events across all of
// them, and outbox ids from one sequence; Config.Leading keeps the scheduled
// jobs to the one replica that leads them. It does import the Bitrefill
// client, because translating the vendor's types into the engine's
// vocabulary is its job.
//
// The shop's operators (operators.go, alerts.go, broadcast.go) are told of
// sales and trouble through the same outbox, as bulk traffic: the news is
// read from what a step announced for the first time (observe.go), so each
// payment, delivery and failure is counted and alerted once, in the same
// transaction as the state that announces it. Metrics are an Observer the
// shell calls with bounded categories only; bot/metrics implements it with
// Prometheus, so the shell imports no metrics library. A store may also
// implement StatsStore (daily statistics for /stats), BroadcastStore
// (/broadcast and its progress) and OutboxCount (the outbox gauge); one
// without them still runs the shop, without those features.
package bot
