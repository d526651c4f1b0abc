// Package discord is the Discord chat platform, on the discordgo library.
//
// Users talk to the bot with slash commands (registered in bulk at start-up,
// in English with Spanish localisations), buttons, string selects and modals:
// a bot without the message content intent cannot read typed DMs, so typed
// values (amounts, phone numbers, ICCIDs) are asked for in modal forms.
//
// Every interaction is acknowledged within Discord's three seconds: the first
// reply answers it directly; when none is ready after Options.DeferAfter the
// interaction is deferred and later replies fill in or follow up the
// deferral, within the token's fifteen minutes. In a server, every answer is
// ephemeral, so invoices and codes are seen by their buyer alone.
// Notifications, which have no interaction to answer, go by direct message;
// a user whose DMs are closed (error 50007) gets an Unreachable error for the
// shell, is not sent to again for a while, and is told at their next
// interaction, where the shell then shows what waited for them.
//
// Edit replaces a message in place: a DM at any time (its reference holds
// the channel and message ids, so it outlives a restart), an interaction's
// answer while its token lives. An ephemeral answer edited for a
// notification is kept current but reported as not reaching the user (an
// edit notifies nobody, and an ephemeral message lives only on the screen
// that asked for it), so the shell sends the news anew, by DM; the same
// edit caused by the user's own press in that channel counts as seen. A
// reference that no longer finds its message (expired token, unknown
// message, a previous process's interaction) is an error, and the shell
// sends a new message instead.
//
// discordgo's endpoints are fixed at start-up, so the adapter routes its HTTP
// client through a transport that rewrites discord.com to Options.APIURL (the
// fake in discordtest, in tests). Interactions replayed by a gateway resume
// are recognised by id and handled once.
package discord
