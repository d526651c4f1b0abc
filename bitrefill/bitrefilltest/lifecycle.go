package bitrefilltest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"
)

// SimulatePayment is MarkPaid with the signature the product's sandbox
// expects (interface{ SimulatePayment(context.Context, string) error }).
func (f *Fake) SimulatePayment(ctx context.Context, invoiceID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.MarkPaid(invoiceID)
}

// MarkPaid moves an unpaid invoice to payment_detected now. It becomes
// payment_confirmed ConfirmAfter later, pending while orders are processed,
// and complete DeliverAfter after confirmation.
func (f *Fake) MarkPaid(invoiceID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked()
	inv := f.invIdx[invoiceID]
	if inv == nil {
		return fmt.Errorf("invoice %s: %w", invoiceID, ErrNotFound)
	}
	if inv.status != statusUnpaid {
		return fmt.Errorf("invoice %s is %s: %w", invoiceID, inv.status, ErrState)
	}
	f.markPaidLocked(inv)
	return nil
}

// markPaidLocked does not advance: payment_detected stays visible until the
// next request or tick even when ConfirmAfter is zero.
func (f *Fake) markPaidLocked(inv *invoice) {
	now := f.now()
	inv.status, inv.paid, inv.paidAt = statusDetected, true, now
	inv.confirmAt = now.Add(f.opts.ConfirmAfter)
	inv.deliverAt = inv.confirmAt.Add(f.opts.DeliverAfter)
	for _, o := range inv.orders {
		if o.status == "created" {
			o.status = statusDetected
		}
	}
}

// Deny rejects the payment: the invoice ends "denied".
func (f *Fake) Deny(invoiceID string) error { return f.endInvoice(invoiceID, "denied") }

// Block fails the fraud check: the invoice ends "blocked".
func (f *Fake) Block(invoiceID string) error { return f.endInvoice(invoiceID, "blocked") }

// FailPayment makes payment processing fail: the invoice ends "payment_error".
func (f *Fake) FailPayment(invoiceID string) error { return f.endInvoice(invoiceID, "payment_error") }

// endInvoice ends a not-yet-final invoice. Orders of an unpaid invoice stay
// "created" (nothing was attempted); orders already under way fail. Balance
// payments go back to the balance.
func (f *Fake) endInvoice(invoiceID, status string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked()
	inv := f.invIdx[invoiceID]
	if inv == nil {
		return fmt.Errorf("invoice %s: %w", invoiceID, ErrNotFound)
	}
	if isFinal(inv.status) {
		return fmt.Errorf("invoice %s is %s: %w", invoiceID, inv.status, ErrState)
	}
	inv.status = status
	for _, o := range inv.orders {
		if o.status == statusDetected || o.status == "processing" {
			o.status = "failed"
		}
	}
	if inv.fromBalance {
		f.balance += inv.totalCents
		inv.fromBalance = false
	}
	f.finalLocked(inv)
	return nil
}

// FailOrder makes an order fail: at once, and its delivery will not happen.
func (f *Fake) FailOrder(orderID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked()
	o := f.orderIdx[orderID]
	if o == nil {
		return fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	switch o.status {
	case "delivered", "refunded", "failed":
		return fmt.Errorf("order %s is %s: %w", orderID, o.status, ErrState)
	}
	o.status, o.forceFail = "failed", true
	return nil
}

// Refund marks a paid order refunded (crediting the balance if it was paid
// from it).
func (f *Fake) Refund(orderID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked()
	o := f.orderIdx[orderID]
	if o == nil {
		return fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if o.status == "refunded" || !o.inv.paid {
		return fmt.Errorf("order %s is %s (invoice %s): %w", orderID, o.status, o.inv.status, ErrState)
	}
	o.status = "refunded"
	if o.inv.fromBalance {
		f.balance += o.cost
	}
	return nil
}

// advanceLocked applies every transition due at Now. Transitions are
// computed from stored instants, so the outcome does not depend on how
// often this runs.
func (f *Fake) advanceLocked() {
	now := f.now()
	for _, inv := range f.invoices {
		switch inv.status {
		case statusUnpaid:
			if !now.Before(inv.expires) {
				inv.status = statusExpired
				f.finalLocked(inv)
			}
		case statusDetected, statusConfirm, statusPending:
			if now.Before(inv.confirmAt) {
				continue
			}
			if inv.status == statusDetected {
				inv.status = statusConfirm
				for _, o := range inv.orders {
					if o.status == statusDetected {
						o.status = "processing"
					}
				}
			}
			if !now.Before(inv.deliverAt) {
				for _, o := range inv.orders {
					f.deliverLocked(o, inv.deliverAt)
				}
				inv.status = statusComplete
				f.finalLocked(inv)
			} else if now.After(inv.confirmAt) {
				inv.status = statusPending
			}
		}
	}
}

func (f *Fake) deliverLocked(o *order, at time.Time) {
	if o.status != "processing" {
		return
	}
	if o.forceFail || o.p.fail {
		o.status = "failed"
		return
	}
	o.status, o.delivered = "delivered", at
	if o.p.isESIM() {
		f.fulfilESIMLocked(o, at)
	}
}

// ---- webhooks ----

// finalLocked sends the invoice to its webhook_url, once per final state,
// from a goroutine Close waits for.
func (f *Fake) finalLocked(inv *invoice) {
	if inv.webhookURL == "" || inv.hooked[inv.status] || f.closed {
		return
	}
	inv.hooked[inv.status] = true
	body, err := marshal(f.renderInvoice(inv))
	if err != nil {
		return
	}
	target := inv.webhookURL
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "bitrefilltest-webhook/1")
		resp, err := f.hc.Do(req)
		if err != nil {
			return
		}
		resp.Body.Close()
	}()
}
