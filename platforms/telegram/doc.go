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
// spoiler; a reference to a photo carries its file id for that. A QR whose
// text does not fit a caption goes as a photo then a text, and the
// reference names both, so that every later edit hides (or replaces) the
// image too; an edit that cannot be made hides the photo before it is
// refused. It owns what Telegram asks of a well-behaved bot: every
// callback query answered at once, updates of one chat handled in order (and
// different chats in parallel, on its own queues rather than the library's
// goroutine per update, optionally only so many at a time, to bound the
// memory a rush of buyers holds), outbound pacing per chat, per group and overall
// (golang.org/x/time/rate) that spends the budget on replies first — a
// message sent with the context its update was handled with, to that
// update's chat — and gives notifications what is left, 429 answers retried after retry_after (which holds for every sender to
// that chat), and purchases moved out of group chats into the private chat
// (addressed commands, and bare ones that are ours).
//
// Long polling is the default, by the adapter's own getUpdates loop. Every
// update is written to the Inbox before Telegram is told it was received —
// polling: the next call's offset, so one call per batch and no update
// fetched twice; webhook: the 200 answer — and marked done there once
// handled. A stop or a crash loses no update: the next run hands over those
// still pending, and one Telegram sends again is recognised by its
// update_id. In webhook mode, which Telegram allows only with an https://
// URL,
// WebhookHandler serves the updates and checks Telegram's secret token
// itself (the library only logs a mismatch).
package telegram
