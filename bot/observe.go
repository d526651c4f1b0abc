package bot

// Observer is told what the shell does, for metrics (bot/metrics implements
// it with Prometheus). Every argument is a bounded category — a platform
// name, a payment method, a product type — never a user, invoice or order id,
// a code or a token, so an implementation may use them as metric labels.
// Calls are made on the hot path: implementations must be quick and safe for
// concurrent use.
type Observer interface {
	Update(platform string)            // an event arrived from a chat
	Reply(platform string)             // a message was accepted by the platform
	Throttled(platform string)         // the platform asked us to slow down (429)
	InvoiceCreated(method string)      // Bitrefill created an invoice
	InvoicePaid()                      // an invoice was seen paid (once per invoice)
	OrderDelivered(productType string) // an order's code or eSIM reached the session
	OrderFailed()                      // an order failed or was refunded
	OutboxPending(n int)               // messages waiting in the outbox now
}

// nopObserver is the Observer when none is configured.
type nopObserver struct{}

func (nopObserver) Update(string)         {}
func (nopObserver) Reply(string)          {}
func (nopObserver) Throttled(string)      {}
func (nopObserver) InvoiceCreated(string) {}
func (nopObserver) InvoicePaid()          {}
func (nopObserver) OrderDelivered(string) {}
func (nopObserver) OrderFailed()          {}
func (nopObserver) OutboxPending(int)     {}
