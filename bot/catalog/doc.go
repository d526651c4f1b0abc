// Package catalog keeps the whole Bitrefill catalogue in memory and searches
// it the way people type: any case, with or without accents and
// punctuation, several words in any order, typos ("amazn", "netflx",
// "play station"), and a country in English, Spanish or as a code ("steam
// germany", "amazon españa", "netflix us").
//
// A refresh walks the API's product list page by page within a request
// budget of its own (Bitrefill allows 60 product requests a minute and 1000
// an hour, shared with users' searches), then swaps in a new immutable
// snapshot; searches read whichever snapshot is current without locking. A
// failed or paused refresh keeps the old snapshot. When there is none yet,
// or it is older than its maximum age, Stale says so and the shell searches
// the API instead.
//
// Everything a search compares is prepared when a snapshot is built: folded
// names, names with country words replaced by codes, a sorted dictionary
// with each word's letter set (which rules out most words before an edit
// distance is computed) and postings from words to products. A search then
// costs a dictionary scan per query word plus the products those words
// reach, and allocates only its result.
//
// The package imports conversation (for its vocabulary) and bitrefill (for
// product types) and nothing else of ours.
package catalog
