// Package sessioncache spares a store decoding a session it has just
// written. Decoding the stored JSON of a session was about a quarter of the
// bot's CPU under load: every event read back the state its previous step
// had committed a moment before (issue 12).
//
// A store puts the state it committed, with the exact bytes it wrote, and
// takes it back when it reads the session, but only if the bytes read are
// those same bytes. That byte comparison is the version check: any other
// writer — another replica on PostgreSQL, a restore, `refillbot migrate` —
// writes other bytes (a sealed record has a fresh random nonce every time),
// and the store then decodes what it read, as without a cache. A cached
// state is never served stale, and no replica needs to tell another.
//
// The cache holds a deep copy (conversation.State.Clone) and hands it out
// once: the reader owns it, as it would own a decoded state. It is the
// state committed rather than its decoded bytes: the same, but for what
// JSON does not carry (a time's monotonic clock reading, invalid UTF-8,
// which encoding replaces). Its size is bounded by the bytes it keeps.
package sessioncache
