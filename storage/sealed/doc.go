// Package sealed encrypts the records that can hold a redemption code
// (sessions, queued messages) before they reach a store, so that a copy of
// the database — a backup, a stolen disk, a PostgreSQL dump — does not give
// the codes away without the key.
//
// Both stores use it, bbolt and PostgreSQL, so a record sealed by one opens
// in the other with the same key: that is what lets `refillbot migrate` move
// sealed rows across without re-encrypting them, and it is why there is one
// format (a magic prefix, a random nonce, AES-256-GCM) rather than one per
// store.
package sealed
