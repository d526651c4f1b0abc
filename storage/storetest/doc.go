// Package storetest is the conformance suite for the shell's store: the
// contract that bot.Store's role interfaces (Sessions, Outbox, WatchList,
// Timers, Upkeep) document, as tests. Every store runs it against itself:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) bot.Store { return openFresh(t) })
//	}
//
// A new store is done when it implements those interfaces with bot's
// records and passes Run; nothing else in the bot needs to know about it.
// A store that also keeps the chat platforms' inbox (bot.Inbox, which the
// Telegram adapter uses) passes RunInbox too.
package storetest
