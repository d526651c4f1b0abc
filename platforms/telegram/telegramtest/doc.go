// Package telegramtest is a fake Telegram Bot API server for tests: the
// unmodified github.com/go-telegram/bot library talks to it over HTTP as it
// would to api.telegram.org.
//
// It keeps chats and messages in memory, enforces the limits Telegram
// enforces (text and caption length after entity parsing, callback data
// bytes, well-formed HTML, "message is not modified") with Telegram's own
// error answers, serves getUpdates with real long-poll semantics or pushes
// updates to a webhook (on up to 40 connections, one chat's updates in
// order), records every call and counts them per method, and
// can inject 429, 403 and 5xx answers. With Options.Limits it enforces
// Telegram's flood limits (per chat, per group, overall) and records every
// 429 it had to give; a user who blocked the bot gets 403 for sends, edits and
// deletes. Scripted users (User, Dialog) send messages and commands, wait
// for the bot's answers and tap inline buttons by their labels.
package telegramtest
