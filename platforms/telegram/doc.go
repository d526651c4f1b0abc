// Package telegram is the Telegram adapter, built on github.com/go-telegram/bot
// (imported as tgbot: the shell is also called bot).
//
// It turns updates into the engine's events and the engine's neutral replies
// into Bot API calls: HTML with every string escaped, inline keyboards
// carrying the engine's short tokens, menus edited in place after a button
// press, QR images uploaded with sendPhoto, long texts split within
// Telegram's limits. Edit (the shell's invoice → payment seen → receipt)
// edits text or caption, swaps the image with editMessageMedia, and puts a
// photo whose image no longer applies (the paid invoice's QR) under a
// spoiler; a reference to a photo carries its file id for that. It owns what Telegram asks of a well-behaved bot: every
// callback query answered at once, updates of one chat handled in order (and
// different chats in parallel, on its own queues rather than the library's
// goroutine per update), outbound pacing per chat, per group and overall,
// 429 answers retried after retry_after, and purchases moved out of group
// chats into the private chat.
//
// Long polling is the default; in webhook mode WebhookHandler serves the
// updates and checks Telegram's secret token itself (the library only logs a
// mismatch).
package telegram
