// Package bitrefill is a typed client for the Bitrefill API v2.
//
// It imports only the standard library and golang.org/x/time/rate, so that
// the bot core depends on nothing that could move under it, and so the wire
// contract in shared/bitrefill-api.md is the single source of truth for what
// is sent and accepted.
//
// # The request budget
//
// Bitrefill's limits, not CPU or chat platforms, cap how much a shop sells:
// most endpoints allow 60 requests per 10 minutes. Every request therefore
// passes one budget (Config.Limits, read from BITREFILL_RATE_LIMITS by
// ParseLimits) with a class per documented limit (ClassOf) and three
// priorities set on the context (WithPriority): Paid fetches of codes
// already paid for take the next token before anyone else waiting;
// Interactive requests (the default) come next; Background work takes only
// what is left. Each rate is a token bucket of small burst paced over the
// window plus a margin for network jitter (Config.LimitMargin), so nearly
// all of it is usable without ever overfilling a window at Bitrefill
// (57.8 of the documented 60 requests per 10 minutes). A request may give
// way to waiting users for a bounded time (WithGiveWay): the bot's paid
// order fetches do, so that one list call serves several paid invoices
// (OrdersFor). A request the budget would see refused is not sent: it waits its
// turn, or, past WithMaxWait or the context's deadline, fails at once with
// ErrBudgetSpent and RetryAfter saying when its turn comes (Client.Delay
// estimates it beforehand), so a caller can tell a user "about N minutes".
// A 429, or a reply reporting nothing remaining, pauses the class for every
// caller until the time Bitrefill names.
//
// # Leniency
//
// Bitrefill's documentation, its sample code and responses recorded from the
// live API disagree on field names and JSON types. Every response type
// therefore decodes all known shapes (package_id or id, country or
// country_code, values as numbers or strings, redemption_info as an object or
// a plain string, times as RFC 3339 or unix seconds), ignores unknown fields and
// keeps unknown enum values verbatim. A renamed field on the server should
// degrade one attribute, not break a purchase.
//
// # Money
//
// Amounts are Decimal, which keeps the exact decimal text. Payment prices come
// in units that differ per method (BTC with 8 decimals, satoshis, 6-decimal
// token units) and a float64 would silently round them; Decimal converts to
// integer cents only when that is exact.
//
// # Retries and double purchases
//
// GET requests are retried on network errors, 5xx and 429 with jittered
// exponential backoff, honouring Retry-After and the rate-limit reset headers.
// POST requests (creating or paying invoices, buying eSIMs) are sent exactly
// once: the API has no idempotency key, so a blind retry can buy twice. When a
// POST fails in a way that may have reached the server, the error matches
// ErrAmbiguous and the caller should look the invoice up (Invoices with After)
// or ask the user before trying again.
//
// # Secrets
//
// Credentials, request bodies (which may hold phone numbers) and redemption
// codes are never logged, and errors never contain credentials or query
// strings. Logging is at Debug level with the attribute component=bitrefill.
package bitrefill
