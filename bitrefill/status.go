package bitrefill

import (
	"encoding/json"
	"strings"
)

// InvoiceStatus is an invoice's state, normalised to the documented vocabulary.
// Values the client does not know are kept verbatim (never an error), so a new
// server state shows up in logs instead of breaking polling.
type InvoiceStatus string

// Documented invoice states, plus InvoiceExpired (ours: the REST API's name for
// an unpaid invoice past its TTL is unpublished).
const (
	InvoiceUnpaid           InvoiceStatus = "unpaid"
	InvoicePaymentDetected  InvoiceStatus = "payment_detected"
	InvoicePaymentConfirmed InvoiceStatus = "payment_confirmed"
	InvoicePending          InvoiceStatus = "pending"
	InvoiceComplete         InvoiceStatus = "complete"
	InvoiceBlocked          InvoiceStatus = "blocked"
	InvoiceDenied           InvoiceStatus = "denied"
	InvoicePaymentError     InvoiceStatus = "payment_error"
	InvoiceExpired          InvoiceStatus = "expired"
)

// Older API versions reported delivery progress in the invoice status. The
// mapping keeps the one property callers rely on, "is this final?":
//
//	not_delivered          → pending        (paid, orders still processing)
//	delivered/all_delivered → complete
//	partial_delivery       → complete       (final; some orders failed: check each order)
//	all_error              → payment_error  (final; nothing was delivered)
//	completed              → complete
//	payment_expired, invoice_expired, timeout → expired
var invoiceAliases = map[string]InvoiceStatus{
	"not_delivered":    InvoicePending,
	"delivered":        InvoiceComplete,
	"all_delivered":    InvoiceComplete,
	"partial_delivery": InvoiceComplete,
	"all_error":        InvoicePaymentError,
	"completed":        InvoiceComplete,
	"payment_expired":  InvoiceExpired,
	"invoice_expired":  InvoiceExpired,
	"timeout":          InvoiceExpired,
}

// ParseInvoiceStatus normalises a status string from the API.
func ParseInvoiceStatus(s string) InvoiceStatus {
	k := normStatus(s)
	switch st := InvoiceStatus(k); st {
	case InvoiceUnpaid, InvoicePaymentDetected, InvoicePaymentConfirmed, InvoicePending,
		InvoiceComplete, InvoiceBlocked, InvoiceDenied, InvoicePaymentError, InvoiceExpired:
		return st
	}
	if st, ok := invoiceAliases[k]; ok {
		return st
	}
	return InvoiceStatus(strings.TrimSpace(s))
}

// Final reports whether the invoice can no longer change. complete is final but
// does not mean every order was delivered: check each order.
func (s InvoiceStatus) Final() bool {
	switch s {
	case InvoiceComplete, InvoiceBlocked, InvoiceDenied, InvoicePaymentError, InvoiceExpired:
		return true
	}
	return false
}

// Paid reports whether payment has at least been seen.
func (s InvoiceStatus) Paid() bool {
	switch s {
	case InvoicePaymentDetected, InvoicePaymentConfirmed, InvoicePending, InvoiceComplete:
		return true
	}
	return false
}

// UnmarshalJSON normalises while decoding.
func (s *InvoiceStatus) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	*s = ParseInvoiceStatus(rawString(b))
	return nil
}

// OrderStatus is an order's state, normalised; unknown values are kept verbatim.
type OrderStatus string

// Documented order states.
const (
	OrderCreated         OrderStatus = "created"
	OrderPaymentDetected OrderStatus = "payment_detected"
	OrderProcessing      OrderStatus = "processing"
	OrderDelivered       OrderStatus = "delivered"
	OrderFailed          OrderStatus = "failed"
	OrderRefunded        OrderStatus = "refunded"
)

// permanent_failure was seen on the live API and means failed; the other
// aliases are ours, guesses at spellings that would otherwise stay unknown.
var orderAliases = map[string]OrderStatus{
	"permanent_failure": OrderFailed,
	"failure":           OrderFailed,
	"error":             OrderFailed,
	"complete":          OrderDelivered,
	"completed":         OrderDelivered,
	"pending":           OrderProcessing,
	"refund":            OrderRefunded,
}

// ParseOrderStatus normalises a status string from the API.
func ParseOrderStatus(s string) OrderStatus {
	k := normStatus(s)
	switch st := OrderStatus(k); st {
	case OrderCreated, OrderPaymentDetected, OrderProcessing, OrderDelivered, OrderFailed, OrderRefunded:
		return st
	}
	if st, ok := orderAliases[k]; ok {
		return st
	}
	return OrderStatus(strings.TrimSpace(s))
}

// Final reports whether the order can no longer change.
func (s OrderStatus) Final() bool {
	switch s {
	case OrderDelivered, OrderFailed, OrderRefunded:
		return true
	}
	return false
}

// UnmarshalJSON normalises while decoding.
func (s *OrderStatus) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	*s = ParseOrderStatus(rawString(b))
	return nil
}

func normStatus(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

var (
	_ json.Unmarshaler = (*InvoiceStatus)(nil)
	_ json.Unmarshaler = (*OrderStatus)(nil)
)
