package conversation

import "slices"

// Stages of invoice-level news, in the order they can be announced.
const (
	stageDetected  = "detected"
	stageConfirmed = "confirmed"
	stageFinal     = "final"
)

// invoiceUpdated announces what changed since the last announcement, once.
func (t *turn) invoiceUpdated(inv Invoice, requested bool) {
	p := t.purchase(inv.ID)
	if p == nil {
		return // not ours, or already settled and forgotten
	}
	lang, short := t.s.Lang, shortID(inv.ID)
	announced := make(map[string]string, len(p.Announced)+len(inv.Orders))
	for k, v := range p.Announced {
		announced[k] = v
	}
	stage := p.Stage
	switch inv.Status {
	case StatusPaymentDetected:
		if stage == "" {
			stage = stageDetected
			t.say(text(lang, "note.detected", short))
		}
	case StatusPaymentConfirmed, StatusPending:
		if stage == "" || stage == stageDetected {
			stage = stageConfirmed
			t.say(text(lang, "note.confirmed", short))
		}
	}
	delivered := 0
	for _, o := range inv.Orders {
		if announced[o.ID] == o.Status {
			if o.Status == OrderDelivered {
				delivered++
			}
			continue
		}
		switch o.Status {
		case OrderDelivered:
			delivered++
			t.deliver(o)
		case OrderFailed:
			t.say(text(lang, "note.failed", o.Product, valueText(o)))
		case OrderRefunded:
			t.say(text(lang, "note.refunded", o.Product, valueText(o)))
		default:
			continue
		}
		announced[o.ID] = o.Status
	}
	final := false
	switch inv.Status {
	case StatusComplete:
		final = true
		if stage != stageFinal && delivered > 0 {
			t.say(text(lang, "note.complete"))
		}
	case StatusDenied, StatusBlocked, StatusPaymentError, StatusExpired:
		final = true
		if stage != stageFinal {
			t.say(text(lang, Msg("note."+map[string]string{
				StatusDenied: "denied", StatusBlocked: "blocked", StatusPaymentError: "payment_error", StatusExpired: "expired",
			}[inv.Status]), inv.ID)) // the full id: the user may have to quote it to support
		}
	}
	if final {
		stage = stageFinal
	}
	p.Invoice, p.Stage, p.Announced = inv, stage, announced
	settled := final && allSettled(inv)
	onScreen := t.s.Step == StepInvoice && t.s.Invoice == inv.ID
	if settled {
		t.s.Purchases = slices.DeleteFunc(t.s.Purchases, func(q Purchase) bool { return q.Invoice.ID == inv.ID })
		t.out = append(t.out, TrackInvoice{InvoiceID: inv.ID, Untrack: true})
		if onScreen {
			t.clearFlow()
			t.s.Actions = nil
		}
		return
	}
	if requested && onScreen && len(t.out) == 0 {
		// A refresh with no news: show the view again so the user sees it is current.
		t.invoiceView(inv, p.Summary)
	}
}

// allSettled reports whether no order can still change in a way worth telling.
func allSettled(inv Invoice) bool {
	if inv.Status != StatusComplete {
		return true // denied, blocked, payment_error, expired: orders will not be delivered
	}
	for _, o := range inv.Orders {
		if o.Status != OrderDelivered && o.Status != OrderFailed && o.Status != OrderRefunded {
			return false
		}
	}
	return true
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func valueText(o Order) string {
	if o.Currency == "" || !isNumeric(o.Value) {
		return o.Value
	}
	return o.Value + " " + o.Currency
}

func isNumeric(s string) bool {
	_, prob := ParseAmount(s, "")
	return prob == AmountOK
}

// deliver lays out one order's redemption details. The reply is Secret: the
// shell keeps it out of logs and out of chats others can read.
func (t *turn) deliver(o Order) {
	lang := t.s.Lang
	spans := text(lang, "note.delivered", o.Product, valueText(o))
	r := Reply{Secret: true}
	if red := o.Redemption; red != nil && (red.Code != "" || red.PIN != "" || red.Link != "" || red.Instructions != "" || red.BarcodeValue != "" || len(red.Extra) > 0) {
		if red.Code != "" {
			spans = appendText(spans, lang, "note.code", red.Code)
		}
		if red.PIN != "" {
			spans = appendText(spans, lang, "note.pin", red.PIN)
		}
		if red.Link != "" {
			spans = appendText(spans, lang, "note.link", red.Link)
		}
		if red.Instructions != "" {
			spans = appendText(spans, lang, "note.instructions", red.Instructions)
		}
		for _, f := range red.Extra {
			spans = appendText(spans, lang, "note.extra", f.Name, f.Value)
		}
		if red.Expires != "" {
			spans = appendText(spans, lang, "note.expires", red.Expires)
		}
		r.QR = red.BarcodeValue
	} else {
		spans = appendText(spans, lang, "note.nothing")
	}
	r.Text = spans
	t.out = append(t.out, r)
}
