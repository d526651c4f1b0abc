// Package console lets a person talk to the bot from a terminal.
//
// It exists so that the bot can be tried, demonstrated and debugged without a
// chat platform account or token: with no token configured this is what the
// shell falls back to, and it is the first thing a newcomer sees. It is also
// the simplest honest rendering of the engine's neutral reply model, which
// keeps the model from drifting towards any one platform's features.
//
// A terminal has no buttons, so choices become typed numbers. That collides
// with the one place the user types numbers themselves: amounts. When a reply
// expects an amount, its options are lettered instead, so a typed number is
// always an amount and never silently picks a preset.
//
// Everything printed is treated as untrusted: product names and codes come
// from a remote catalogue, so control characters are neutralised rather than
// passed to the terminal, where an escape sequence could repaint the screen
// or forge a prompt. QR images are written with owner-only permissions because
// they encode payment requests and, once paid, are worth protecting.
//
// The package depends only on the conversation vocabulary; the shell adapts
// it to its platform interface, so no import cycle can form.
package console
