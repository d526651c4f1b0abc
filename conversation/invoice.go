package conversation

import (
	"strconv"
	"strings"
	"time"
)

// The invoice view: what to pay, where, until when, and its status.

// StepInvoice is the invoice view.
const StepInvoice Step = "invoice"

const (
	doRefresh  ActionKind = "refresh"  // ask for invoice Arg's state
	doSimulate ActionKind = "simulate" // pay invoice Arg with sandbox money
)

// invoiceView shows what to pay, where, until when, and the status.
func (t *turn) invoiceView(inv Invoice, summary string) {
	lang := t.s.Lang
	var spans []Span
	if t.e.Sandbox {
		spans = text(lang, "invoice.sandbox")
	}
	spans = appendText(spans, lang, "invoice.title", summary)
	if inv.Price != "" {
		spans = appendText(spans, lang, "invoice.pay", inv.Price, inv.PriceCurrency)
	}
	switch {
	case inv.Method == "lightning" && inv.PaymentURI != "":
		spans = appendText(spans, lang, "invoice.request", strings.TrimPrefix(inv.PaymentURI, "lightning:"))
	case inv.Address != "":
		spans = appendText(spans, lang, "invoice.address", inv.Address)
	}
	if !inv.Expires.IsZero() {
		when := inv.Expires.UTC().Format("2006-01-02 15:04 UTC")
		if left := inv.Expires.Sub(t.now); left > 0 && inv.Status == StatusUnpaid {
			spans = appendText(spans, lang, "invoice.expires", when, t.duration(left))
		} else if inv.Status == StatusUnpaid || inv.Status == StatusExpired {
			spans = appendText(spans, lang, "invoice.expired_at", when)
		}
	}
	spans = appendText(spans, lang, "invoice.status", lookup(lang, statusMsg(inv.Status)))
	if inv.Status == StatusUnpaid && inv.Method != methodBalance {
		spans = appendText(spans, lang, "invoice.scan")
	}
	var o options
	o.add(lookup(lang, "opt.refresh"), doRefresh, inv.ID)
	if t.e.Sandbox && inv.Status == StatusUnpaid {
		o.add(lookup(lang, "opt.simulate"), doSimulate, inv.ID)
	}
	t.opt(&o, "opt.search", doAsk)
	t.out = append(t.out, markView(t.menuReply(spans, ExpectQuery, o.acts, o.labels), inv))
}

func (t *turn) invoiceAgain() {
	if p := t.purchase(t.s.Invoice); p != nil {
		t.invoiceView(p.Invoice, p.Summary)
	}
}

// markView tags the invoice view so that the shell remembers its message,
// and attaches the payment QR (BIP21 for bitcoin, the BOLT11 request for
// lightning) while there is something to pay.
func markView(r Reply, inv Invoice) Reply {
	r.Invoice = inv.ID
	if inv.Status == StatusUnpaid && inv.PaymentURI != "" {
		r.QR = qrPayload(inv.PaymentURI)
	}
	return r
}

// qrPayload upper-cases a lightning URI: BOLT11 is bech32, which is
// case-insensitive but must not mix cases, and upper case fits QR's
// alphanumeric mode, so the code has fewer, larger modules and scans more
// easily (wallets expect this). Bitcoin URIs stay as they are: BIP21
// parameter names are case-sensitive.
func qrPayload(uri string) string {
	if len(uri) > len("lightning:") && strings.EqualFold(uri[:len("lightning:")], "lightning:") && uri == strings.ToLower(uri) {
		return strings.ToUpper(uri)
	}
	return uri
}

func (t *turn) duration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m >= 60 {
		return strings.NewReplacer("{1}", strconv.Itoa(m/60), "{2}", strconv.Itoa(m%60)).Replace(lookup(t.s.Lang, "unit.h"))
	}
	return strings.Replace(lookup(t.s.Lang, "unit.m"), "{1}", strconv.Itoa(max(m, 1)), 1)
}

func statusMsg(status string) Msg {
	switch status {
	case StatusUnpaid:
		return "status.unpaid"
	case StatusPaymentDetected:
		return "status.detected"
	case StatusPaymentConfirmed, StatusPending:
		return "status.confirmed"
	case StatusComplete:
		return "status.complete"
	case StatusBlocked:
		return "status.blocked"
	case StatusDenied:
		return "status.denied"
	case StatusAbandoned:
		return "status.abandoned"
	case StatusPaymentError:
		return "status.error"
	case StatusExpired:
		return "status.expired"
	}
	return Msg("status." + status)
}

// invoiceUpdate answers news of an invoice: the history, a cart given back,
// a balance payment seen, codes asked for again, and then the purchase.
func (t *turn) invoiceUpdate(ev InvoiceUpdated) {
	t.historyUpdate(ev.Invoice)
	t.unpaidEnd(ev.Invoice)
	t.balanceDetected(ev.Invoice)
	if ev.Reveal {
		t.reveal(ev.Invoice)
		return
	}
	if t.purchase(ev.Invoice.ID) == nil && t.s.Step == StepOrder && t.s.Invoice == ev.Invoice.ID {
		if ev.Requested {
			t.orderView()
		}
		return
	}
	t.invoiceUpdated(ev.Invoice, ev.Requested)
}
