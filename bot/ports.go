package bot

import (
	"context"
	"errors"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// Incoming is one event from a chat platform, addressed to a session. Every
// adapter (platforms/*) produces this one type and hands it to a handler
// func(context.Context, Incoming), so cmd wires adapter.Run(ctx, b.Handle).
type Incoming struct {
	Key     conversation.SessionKey
	Address conversation.Address
	Event   conversation.Event
	// Locale is the user's language as the platform reports it ("es",
	// "en-GB", "pt-BR"); it seeds a new session's language and country guess.
	Locale string
}

// Platform sends replies to a chat. png, when not nil, is an image to attach
// (Reply.QR drawn by the shell as a QR code, or as the 1-D barcode that
// Reply.Barcode names). It returns the platform's
// message reference so a later edit could find it.
//
// ctx is the one given to Bot.Handle for replies caused by that event (an
// adapter may carry its own request there, e.g. the interaction to answer),
// and a background context for notifications.
//
// Errors are classified by behaviour, so adapters need not import this
// package: an error with a method Unreachable() bool returning true means the
// user cannot be reached now (blocked the bot, closed DMs) and the message
// should wait, not be retried soon; an error with RetryAfter() time.Duration
// means the platform asked us to slow down.
type Platform interface {
	Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error)
}

// Editor is the ability to replace a message already shown (the invoice that
// turns into a receipt). Platforms without it get a new message instead.
type Editor interface {
	Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error
}

// Holder is the ability to hold a message's place before showing it. Hold
// shows notice (a short text without secrets) in a message that Edit can
// later turn into r with png — for an image, a placeholder image to be
// replaced — and returns that message's reference. The shell delivers
// codes (Reply.Secret) so: placeholder, its reference made durable, then
// the edit, so that a delivery repeated after a crash is the same edit
// again instead of a second message carrying the code. Edit must therefore
// take a repeat of an edit already applied as a success (Telegram's
// "message is not modified"). When r cannot be shown by one edit (too long
// for one message) Hold sends nothing and returns an error wrapping
// ErrCannotHold: the shell sends r as a new message. Platforms without the
// ability get that too.
type Holder interface {
	Hold(ctx context.Context, to conversation.Address, notice, r conversation.Reply, png []byte) (string, error)
}

// ErrCannotHold is Holder's answer for a reply one edit cannot show.
var ErrCannotHold = errors.New("the reply does not fit a placeholder")

// Deleter is the ability to remove a message already shown (codes hidden
// after reading).
type Deleter interface {
	Delete(ctx context.Context, to conversation.Address, ref string) error
}

// API is the part of the Bitrefill client the shell uses (*bitrefill.Client).
type API interface {
	Search(ctx context.Context, f bitrefill.SearchFilter) (bitrefill.Page[bitrefill.Product], error)
	Product(ctx context.Context, id string) (bitrefill.Product, error)
	CreateInvoice(ctx context.Context, r bitrefill.InvoiceRequest) (bitrefill.Invoice, error)
	Invoice(ctx context.Context, id string) (bitrefill.Invoice, error)
	Invoices(ctx context.Context, f bitrefill.ListFilter) ([]bitrefill.Invoice, error)
	Order(ctx context.Context, id string) (bitrefill.Order, error)
	CheckPhoneNumber(ctx context.Context, phoneE164, operator string) (bitrefill.PhoneCheck, error)
	PayInvoice(ctx context.Context, id string) (bitrefill.Invoice, error)
	ESIM(ctx context.Context, iccid string) (bitrefill.ESIM, error)
}

// PaymentSimulator pretends an invoice was paid. Only the sandbox has one.
type PaymentSimulator interface {
	SimulatePayment(ctx context.Context, invoiceID string) error
}
