// Package bitrefilltest is an in-process fake of the Bitrefill API v2.
//
// It exists for two reasons. Tests need a server that behaves like Bitrefill
// (envelopes, error codes, pagination, the invoice lifecycle, webhooks) without
// network access or real money, and need to steer it: move time forward, pay
// an invoice, fail an order, inject 5xx/429/latency/dropped connections. And
// the product needs a sandbox that works with no credentials at all, so a new
// operator can try the whole purchase flow before configuring an API key.
//
// The fake speaks only the wire protocol described in shared/bitrefill-api.md
// and deliberately does not import the Go client: the client is tested against
// it, so sharing types would let a misunderstanding of the protocol pass on
// both sides at once. For the same reason the catalogue emits, for a fixed
// subset of products, the alias shapes seen on the live API (country_code,
// packages[].id, string values, range.price_rate), and _next links drop
// filters, so that clients are forced to cope with what the real service does.
//
// Everything is deterministic except identifiers: invoice and order ids mix a
// per-instance random salt so that a restarted sandbox never reissues an id a
// product may already have stored. Redemption details are derived from the
// order id, so their shape is fixed per product while values differ per order.
//
// Options.Limits makes the fake enforce Bitrefill's documented rate limits
// (DocumentedLimits, or FasterLimits for tests that cannot wait ten minutes)
// in sliding windows, the strictest reading, answering 429 with Retry-After;
// the request log records each answer's status, so a test can assert that
// no 429 was given and count requests per endpoint (Counts).
//
// Options.ESIMShape picks how a delivered eSIM order names its eSIM: as
// documented (the LPA, PIN and instructions, no ICCID: the ICCID is learned
// from GET /esims by the LPA) or one of the shapes seen on the wire.
//
// Time-driven transitions (confirmation, delivery, expiry) are measured on
// Options.Now and evaluated lazily on every request, on Advance, and by Run;
// tests drive a mutable clock instead of sleeping.
package bitrefilltest
