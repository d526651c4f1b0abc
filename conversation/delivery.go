package conversation

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What a buyer receives once an invoice moves: the invoice message that
// follows the payment (each status report carries Reply.Invoice, so the
// shell can edit the invoice view in place where the platform allows),
// one delivery per order laid out for humans, and notices for everything
// that can go wrong, each with a next step.

// Stages of invoice-level news, in the order they can be announced.
const (
	stageDetected  = "detected"
	stageConfirmed = "confirmed"
	stageFinal     = "final"
)

// report says something about an invoice as a whole. While the invoice is
// still the user's screen it may replace the invoice's own message; once
// the user has moved on, that message may have become another menu (where
// adapters edit menus in place), so the news comes as a message of its own.
func (t *turn) report(invoiceID string, spans []Span) {
	r := Reply{Text: spans}
	if t.s.Step == StepInvoice && t.s.Invoice == invoiceID {
		r.Invoice = invoiceID
	}
	t.out = append(t.out, r)
}

// invoiceUpdated announces what changed since the last announcement, once.
func (t *turn) invoiceUpdated(inv Invoice, requested bool) {
	p := t.purchase(inv.ID)
	if p == nil {
		return // not ours, or already settled and forgotten
	}
	lang, short := t.s.Lang, shortID(inv.ID)
	summary := p.Summary
	if summary == "" {
		summary = short
	}
	announced := make(map[string]string, len(p.Announced)+len(inv.Orders))
	for k, v := range p.Announced {
		announced[k] = v
	}
	stage := p.Stage
	switch inv.Status {
	case StatusPaymentDetected:
		if stage == "" {
			stage = stageDetected
			t.report(inv.ID, text(lang, "dlv.detected", summary, short))
		}
	case StatusPaymentConfirmed, StatusPending:
		if stage == "" || stage == stageDetected {
			stage = stageConfirmed
			t.report(inv.ID, text(lang, "dlv.confirmed", summary, short))
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
			t.say(text(lang, "dlv.failed", o.Product, valueText(o), inv.ID))
		case OrderRefunded:
			t.say(text(lang, "dlv.refunded", o.Product, valueText(o), inv.ID))
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
			spans := text(lang, "dlv.receipt", summary, inv.ID)
			if inv.Price != "" {
				spans = appendText(spans, lang, "dlv.receipt.paid", inv.Price, inv.PriceCurrency)
			}
			spans = appendText(spans, lang, "dlv.receipt.orders", strconv.Itoa(delivered), strconv.Itoa(len(inv.Orders)))
			t.report(inv.ID, appendText(spans, lang, "dlv.receipt.next"))
		}
	case StatusDenied, StatusBlocked, StatusPaymentError, StatusExpired:
		final = true
		if stage != stageFinal {
			// The full id: the user may have to quote it to support.
			t.report(inv.ID, text(lang, Msg("dlv."+inv.Status), summary, inv.ID))
		}
	}
	if final {
		stage = stageFinal
	}
	p.Invoice, p.Stage, p.Announced = inv, stage, announced
	settled := final && allSettled(inv)
	onScreen := t.s.Step == StepInvoice && t.s.Invoice == inv.ID
	if settled {
		if onScreen {
			t.clearFlow()
			t.s.Actions = nil
		}
		if refundPending(inv, t.now) {
			// The buyer was told "failed, refunded automatically": the
			// invoice stays watched so that the refund is announced too.
			return
		}
		t.s.Purchases = slices.DeleteFunc(t.s.Purchases, func(q Purchase) bool { return q.Invoice.ID == inv.ID })
		t.out = append(t.out, TrackInvoice{InvoiceID: inv.ID, Untrack: true})
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

// refundWatch is how long after its payment window an invoice with a failed
// order is still watched for the refund: Bitrefill refunds within hours, and
// a watch must end even if the refund is never reported.
const refundWatch = 7 * 24 * time.Hour

// refundPending reports whether an order failed and its refund is still to
// come (and worth waiting for). Without an expiry time there is nothing to
// bound the watch by, so the invoice is not kept.
func refundPending(inv Invoice, now time.Time) bool {
	if inv.Status != StatusComplete || inv.Expires.IsZero() || !now.Before(inv.Expires.Add(refundWatch)) {
		return false
	}
	for _, o := range inv.Orders {
		if o.Status == OrderFailed {
			return true
		}
	}
	return false
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

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// deliver lays out one order's redemption details. The reply is Secret: the
// shell keeps it out of logs and out of chats others can read.
func (t *turn) deliver(o Order) {
	red := o.Redemption
	if red != nil && strings.HasPrefix(strings.ToUpper(red.BarcodeValue), "LPA:") {
		t.deliverESIM(o, red)
		return
	}
	if o.ESIM != "" {
		t.own(o)
	}
	lang := t.s.Lang
	spans := text(lang, "dlv.delivered", o.Product, valueText(o))
	r := Reply{Secret: true}
	if red != nil && (red.Code != "" || red.PIN != "" || red.Link != "" || red.Instructions != "" || red.BarcodeValue != "" || len(red.Extra) > 0) {
		if red.Code != "" {
			spans = appendText(spans, lang, "dlv.code", red.Code)
		}
		if red.PIN != "" {
			spans = appendText(spans, lang, "dlv.pin", red.PIN)
		}
		for _, f := range red.Extra {
			spans = appendText(spans, lang, "dlv.extra", fieldName(f.Name), f.Value)
		}
		if red.Link != "" {
			spans = appendText(spans, lang, "dlv.link", red.Link)
		}
		if red.Expires != "" {
			spans = appendText(spans, lang, "dlv.expires", red.Expires)
		}
		if red.Instructions != "" {
			spans = appendText(spans, lang, "dlv.instructions", red.Instructions)
		}
		if red.BarcodeValue != "" {
			r.QR = red.BarcodeValue
			if !isQRFormat(red.BarcodeFormat) {
				r.Barcode = red.BarcodeFormat
			}
			if red.BarcodeValue == red.Code || red.BarcodeValue == red.PIN {
				spans = appendText(spans, lang, "dlv.barcode")
			} else {
				// The number is what a cashier types when the scanner fails,
				// and all there is if the shell cannot draw this symbology.
				spans = appendText(spans, lang, "dlv.barcode.number", red.BarcodeValue)
			}
		}
		if red.Code != "" {
			spans = appendText(spans, lang, "dlv.code.tip")
		}
	} else {
		spans = appendText(spans, lang, "dlv.nothing")
	}
	if o.ESIM != "" {
		spans = appendText(spans, lang, "dlv.esim.iccid", o.ESIM)
	}
	r.Text = spans
	t.out = append(t.out, r)
}

// isQRFormat tells whether a barcode_format names a QR code (or nothing,
// which is how eSIMs and older orders come): Bitrefill spells it "QRCODE",
// other sources "QR_CODE" or "qr-code".
func isQRFormat(f string) bool {
	f = strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToUpper(f))
	return f == "" || f == "QR" || f == "QRCODE"
}

// fieldName turns an API field name (card_number) into words (Card number).
func fieldName(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// AppleESIMLink is Apple's universal link that installs an eSIM in one tap
// on an iPhone (iOS 17.4 and later).
func AppleESIMLink(lpa string) string {
	return "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=" + url.QueryEscape(lpa)
}

// ParseLPA splits an eSIM activation string "LPA:1$<SM-DP+ address>$<activation code>[$…]"
// into the two values phones ask for on manual entry.
func ParseLPA(lpa string) (smdp, code string, ok bool) {
	rest, found := strings.CutPrefix(lpa, "LPA:")
	if !found {
		rest, found = strings.CutPrefix(lpa, "lpa:")
	}
	parts := strings.Split(rest, "$")
	if !found || len(parts) < 3 || parts[0] != "1" || parts[1] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// deliverESIM gives everything needed to install an eSIM from another
// screen, by hand, or with one tap on an iPhone, and remembers the eSIM for
// status checks and top-ups.
func (t *turn) deliverESIM(o Order, red *Redemption) {
	lang := t.s.Lang
	lpa := red.BarcodeValue
	spans := text(lang, "dlv.esim", o.Product, valueText(o))
	spans = appendText(spans, lang, "dlv.esim.scan")
	spans = appendText(spans, lang, "dlv.esim.apple", AppleESIMLink(lpa))
	if smdp, code, ok := ParseLPA(lpa); ok {
		spans = appendText(spans, lang, "dlv.esim.manual", smdp, code)
	} else {
		spans = appendText(spans, lang, "dlv.esim.lpa", lpa)
	}
	if red.PIN != "" {
		spans = appendText(spans, lang, "dlv.pin", red.PIN)
	}
	if o.ESIM != "" {
		spans = appendText(spans, lang, "dlv.esim.iccid", o.ESIM)
	}
	spans = appendText(spans, lang, "dlv.esim.steps")
	t.out = append(t.out, Reply{Text: spans, QR: lpa, Secret: true})
	if o.ESIM != "" {
		t.own(o)
	}
}

// own adds the order's eSIM to the user's eSIMs, once.
func (t *turn) own(o Order) {
	for _, e := range t.s.ESIMs {
		if e.ICCID == o.ESIM {
			return
		}
	}
	t.s.ESIMs = append(slices.Clone(t.s.ESIMs), OwnedESIM{ICCID: o.ESIM, Product: o.ProductID, Name: o.Product})
}

// CommandToken is an option token that means "/name args" to the shell,
// whatever menu is on screen: reminders use it for their one-tap actions,
// which must work without replacing the user's current menu.
func CommandToken(name, args string) string { return "/" + name + " " + args }

// ParseCommandToken reads a CommandToken back.
func ParseCommandToken(tok string) (Command, bool) {
	rest, ok := strings.CutPrefix(tok, "/")
	if !ok {
		return Command{}, false
	}
	name, args, _ := strings.Cut(rest, " ")
	if name == "" {
		return Command{}, false
	}
	return Command{Name: name, Args: args}, true
}

// ESIMDataNotice tells that an eSIM is running out of data, with a one-tap top-up.
func ESIMDataNotice(lang, name, iccid string, percentLeft int) Reply {
	return Reply{
		Text:    text(lang, "dlv.remind.data", orDash(name), iccid, strconv.Itoa(percentLeft)),
		Options: []Option{{Label: lookup(lang, "dlv.opt.topup"), Token: CommandToken("topup", iccid)}},
	}
}

// ESIMEndsNotice tells that an eSIM's plan ends soon, with a one-tap top-up.
func ESIMEndsNotice(lang, name, iccid string, ends time.Time) Reply {
	return Reply{
		Text:    text(lang, "dlv.remind.ends", orDash(name), iccid, ends.UTC().Format("2006-01-02 15:04 UTC")),
		Options: []Option{{Label: lookup(lang, "dlv.opt.topup"), Token: CommandToken("topup", iccid)}},
	}
}

// GiftCardExpiryNotice reminds that a card bought here expires soon.
func GiftCardExpiryNotice(lang, product, date string) Reply {
	return Reply{Text: text(lang, "dlv.remind.giftcard", product, date)}
}

// CodeHiddenNotice follows the removal of a code message.
func CodeHiddenNotice(lang string) Reply { return Reply{Text: text(lang, "dlv.hidden")} }

// CodeUndeliverableNotice stands in for a code message the chat platform
// keeps refusing (too long, a markup it rejects): plain text, no code.
func CodeUndeliverableNotice(lang string) Reply { return Reply{Text: text(lang, "dlv.undeliverable")} }

// CodeComingNotice holds the place of a code message: the shell shows it
// first and then edits it into the code, so that a delivery repeated after
// a crash edits the same message instead of sending the code twice. It
// never holds a code, and it reads true even if it is left as it is (a
// crash between showing it and recording where it is: the code then comes
// in a message of its own).
func CodeComingNotice(lang string) Reply { return Reply{Text: text(lang, "dlv.coming")} }
