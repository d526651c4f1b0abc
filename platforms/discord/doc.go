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
// interaction.
//
// discordgo's endpoints are fixed at start-up, so the adapter routes its HTTP
// client through a transport that rewrites discord.com to Options.APIURL (the
// fake in discordtest, in tests). Interactions replayed by a gateway resume
// are recognised by id and handled once.
package discord
