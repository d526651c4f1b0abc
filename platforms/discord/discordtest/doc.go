// Package discordtest is a fake Discord: the REST API under /api/v9 and the
// gateway websocket, enough of both for the unmodified discordgo library to
// run a slash-command bot against it, plus scripted users who run commands,
// ask for autocomplete, press buttons, choose select items, submit modals and
// read what they can see (their ephemeral replies, their DMs, public channel
// messages).
//
// It enforces the rules a real bot trips over: an interaction must be
// acknowledged within three seconds and only once; its token works for
// fifteen minutes; DMs to a user who closed them fail with 50007; components
// must fit Discord's limits. Faults (429s, dropped gateway connections) are
// injected by tests.
package discordtest
