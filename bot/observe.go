package bot

import (
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// Observer is told what the shell does, for metrics (bot/metrics implements
// it with Prometheus). Every argument is a bounded category — a platform
// name, a payment method, a product type — never a user, invoice or order id,
// a code or a token, so an implementation may use them as metric labels.
// Calls are made on the hot path: implementations must be quick and safe for
// concurrent use.
type Observer interface {
	Update(platform string)                    // an event arrived from a chat
	Reply(platform string, wait time.Duration) // the platform accepted a message, wait after it was committed
	Throttled(platform string)                 // the platform asked us to slow down (429)
	InvoiceCreated(method string)              // Bitrefill created an invoice
	InvoicePaid()                              // an invoice was seen paid (once per invoice)
	OrderDelivered(productType string)         // an order's code or eSIM reached the session
	OrderFailed()                              // an order failed or was refunded
	OutboxPending(n int)                       // messages waiting in the outbox now
}

// nopObserver is the Observer when none is configured.
type nopObserver struct{}

func (nopObserver) Update(string)               {}
func (nopObserver) Reply(string, time.Duration) {}
func (nopObserver) Throttled(string)            {}
func (nopObserver) InvoiceCreated(string)       {}
func (nopObserver) InvoicePaid()                {}
func (nopObserver) OrderDelivered(string)       {}
func (nopObserver) OrderFailed()                {}
func (nopObserver) OutboxPending(int)           {}

// purchaseSnapshot is what a session had announced of one invoice before a
// step: copied out, because the step may change the state's maps and slices.
type purchaseSnapshot struct {
	found     bool
	stage     string
	announced map[string]string
	summary   string
	kinds     map[string]string // product id → product type, from the purchase's lines
}

func snapshotPurchase(s conversation.State, invoiceID string) purchaseSnapshot {
	for _, p := range s.Purchases {
		if p.Invoice.ID != invoiceID {
			continue
		}
		snap := purchaseSnapshot{found: true, stage: p.Stage, summary: p.Summary,
			announced: make(map[string]string, len(p.Announced)), kinds: map[string]string{}}
		for k, v := range p.Announced {
			snap.announced[k] = v
		}
		for _, it := range p.Items {
			snap.kinds[it.ProductID] = it.Kind
		}
		return snap
	}
	return purchaseSnapshot{}
}

// invoiceNews is what one invoice update brought that the session had not
// announced yet — exactly what the engine announces (conversation's
// invoiceUpdated), so each payment and each order is counted once.
type invoiceNews struct {
	paid      bool
	delivered []string // product types of orders newly delivered
	troubles  int      // orders newly failed or refunded
	stats     DayStats
	alerts    []string
}

// paidStatuses are the invoice statuses that mean the buyer has paid.
var paidStatuses = map[string]bool{
	conversation.StatusPaymentDetected: true, conversation.StatusPaymentConfirmed: true,
	conversation.StatusPending: true, conversation.StatusComplete: true,
}

func newsOf(prior purchaseSnapshot, inv conversation.Invoice) invoiceNews {
	var n invoiceNews
	if prior.stage == "" && paidStatuses[inv.Status] {
		n.paid = true
		n.stats.Paid = 1
		for _, o := range inv.Orders {
			if v, err := bitrefill.ParseDecimal(o.Value); err == nil && o.Currency != "" {
				if n.stats.Sums == nil {
					n.stats.Sums = map[string]bitrefill.Decimal{}
				}
				n.stats.Sums[o.Currency] = n.stats.Sums[o.Currency].Add(v)
			}
			name := o.Product
			if name == "" {
				name = o.ProductID
			}
			addCounts(&n.stats.Products, map[string]int{name: 1})
		}
		n.alerts = append(n.alerts, saleAlert(inv, prior.summary))
	}
	for _, o := range inv.Orders {
		if prior.announced[o.ID] == o.Status {
			continue
		}
		switch o.Status {
		case conversation.OrderDelivered:
			kind := prior.kinds[o.ProductID]
			if kind == "" && o.ESIM != "" {
				kind = conversation.KindESIM
			}
			n.delivered = append(n.delivered, kind)
			addCounts(&n.stats.ByType, map[string]int{orDefault(kind, "other"): 1})
		case conversation.OrderFailed, conversation.OrderRefunded:
			// A failed order later refunded is one order in trouble (two alerts).
			if was := prior.announced[o.ID]; was != conversation.OrderFailed && was != conversation.OrderRefunded {
				n.troubles++
				n.stats.Failed++
			}
			n.alerts = append(n.alerts, orderTroubleAlert(inv.ID, o))
		}
	}
	return n
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
