package bot

import (
	"context"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// Incoming is one event from a chat platform, addressed to a session.
type Incoming struct {
	Key     conversation.SessionKey
	Address conversation.Address
	Event   conversation.Event
}

// Platform sends replies to a chat. png, when not nil, is an image to attach
// (the QR of Reply.QR, rendered by the shell). It returns the platform's
// message reference so a later edit could find it.
type Platform interface {
	Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error)
}

// Store is the persistence the shell needs. Commit must be atomic and durable
// before it returns: replies are sent only after it succeeds.
type Store interface {
	Session(key conversation.SessionKey) (conversation.State, bool, error)
	Commit(c Commit) error
	Tracked() ([]Tracked, error)
	UpdateTracked(t Tracked) error
	CheckoutInvoice(checkout string) (invoiceID string, ok bool, err error)
	PutCheckoutInvoice(checkout, invoiceID string) error
}

// Commit is one step's durable outcome.
type Commit struct {
	Key     conversation.SessionKey
	State   conversation.State
	Track   []Tracked
	Untrack []string
}

// Tracked is an invoice being watched for the session that bought it.
type Tracked struct {
	InvoiceID string
	Session   conversation.SessionKey
	Address   conversation.Address
	Status    string
	Created   time.Time
	Expires   time.Time
	NextCheck time.Time
}

// API is the part of the Bitrefill client the shell uses (*bitrefill.Client).
type API interface {
	Search(ctx context.Context, f bitrefill.SearchFilter) (bitrefill.Page[bitrefill.Product], error)
	Product(ctx context.Context, id string) (bitrefill.Product, error)
	CreateInvoice(ctx context.Context, r bitrefill.InvoiceRequest) (bitrefill.Invoice, error)
	Invoice(ctx context.Context, id string) (bitrefill.Invoice, error)
	Invoices(ctx context.Context, f bitrefill.ListFilter) ([]bitrefill.Invoice, error)
	Order(ctx context.Context, id string) (bitrefill.Order, error)
}

// PaymentSimulator pretends an invoice was paid. Only the sandbox has one.
type PaymentSimulator interface {
	SimulatePayment(ctx context.Context, invoiceID string) error
}
