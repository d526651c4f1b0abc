// Package parsemode reads text the way Telegram's HTML parse mode does: the
// plain text a user sees, its entities with offsets in UTF-16 code units, or
// the error Telegram answers for malformed markup.
//
// It is apart from telegramtest, which uses it, so that what checks the
// bot's HTML can be linked into a small test binary: a fuzzing binary is
// instrumented in every package it links, and the fake's HTTP server would
// cost the renderer's fuzz targets most of their speed.
package parsemode
