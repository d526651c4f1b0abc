// Package format is the text the Telegram adapter exchanges with Telegram,
// without any I/O: the engine's spans rendered in Telegram's HTML parse mode
// (every string escaped, codes tap-to-copy, links in a secret reply under a
// spoiler), long texts split within Telegram's limits, button labels and
// keyboards, callback data for the engine's tokens, and the commands users
// type ("/name@bot args").
//
// It is a package of its own so that these parsers and renderers can be
// fuzzed in a small binary: Go instruments every package a fuzzing binary
// links, and linked with the adapter (its HTTP client, the shell, storage)
// each execution cost several times as much.
package format
