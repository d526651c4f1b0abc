package conversation

import (
	"slices"
	"strconv"
	"time"
)

// Confirming a value, choosing how to pay, and creating the one invoice of a
// checkout.

const (
	StepConfirm  Step = "confirm"  // total shown: choose a payment method
	StepCreating Step = "creating" // waiting for InvoiceCreated
)

const (
	doMethod ActionKind = "method" // pay the card's value with method Arg
	doRetry  ActionKind = "retry"  // the confirmation again
)

func (t *turn) confirm() {
	p, c := t.s.Product, t.s.Choice
	if p == nil || c == nil {
		t.back()
		return
	}
	t.s.Step = StepConfirm
	var o options
	t.payWith(&o, t.methods(), doMethod)
	t.opt(&o, "opt.add_cart", doAddCart)
	t.opt(&o, "opt.back", doBack)
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(t.confirmText(p, c), ExpectNothing, o.acts, o.labels)
}

func (t *turn) confirmText(p *Product, c *Choice) []Span {
	total := c.Label
	switch {
	case c.Amount == 0 && c.Price > 0:
		total = c.Price.String() + " " + p.Currency
	case c.Amount == 0:
		total = lookup(t.s.Lang, "confirm.on_invoice") // a plan Bitrefill gave no price for: the invoice names it
	}
	switch {
	case p.NeedsPhone && t.s.Phone != "":
		return t.tx("confirm.phone", p.Name, c.Label, t.s.Phone)
	case t.s.TopUp && t.s.ESIMTarget != "":
		return t.tx("confirm.esim", p.Name, c.Label, t.s.ESIMTarget, total)
	}
	return t.tx("confirm", p.Name, c.Label, total)
}

// methods are the payment methods this user may choose: the operator's list,
// with the account balance only for the users the operator named.
func (t *turn) methods() []string {
	allowed := t.balanceAllowed()
	if !allowed && !slices.Contains(t.e.Methods, methodBalance) {
		return t.e.Methods
	}
	out := make([]string, 0, len(t.e.Methods)+1)
	for _, m := range t.e.Methods {
		if m != methodBalance {
			out = append(out, m)
		}
	}
	if allowed {
		out = append(out, methodBalance)
	}
	return out
}

// payWith offers one option per payment method, each doing do with its name.
func (t *turn) payWith(o *options, methods []string, do ActionKind) {
	for _, m := range methods {
		o.add(methodName(t.s.Lang, m), do, m)
	}
}

func methodName(lang, m string) string {
	k, ok := methodMsgs[m]
	if !ok {
		k = Msg("method." + m)
	}
	if s := lookup(lang, k); s != string(k) {
		return s
	}
	return m
}

var methodMsgs = map[string]Msg{"bitcoin": "method.bitcoin", "lightning": "method.lightning", "balance": "method.balance"}

// createInvoice starts the one invoice of this checkout. The step changes
// before the effect leaves, so a second tap finds StepCreating and is refused.
func (t *turn) createInvoice(method string) {
	p, c := t.s.Product, t.s.Choice
	if t.s.Step != StepConfirm || p == nil || c == nil || !slices.Contains(t.methods(), method) {
		t.stale()
		return
	}
	if method == methodBalance && t.overCap([]CartItem{t.item()}) {
		return
	}
	t.checkout(method, []CartItem{t.item()}, itemSummary(t.item()), false)
}

// checkout starts the one invoice of a confirmed purchase. The step changes
// before the effect leaves, so a second tap finds StepCreating and is refused.
func (t *turn) checkout(method string, items []CartItem, summary string, cart bool) {
	lines := make([]Line, len(items))
	for i, it := range items {
		lines[i] = t.itemLine(it)
	}
	t.s.PendingItems = slices.Clone(items)
	t.s.Checkouts++
	t.s.Step = StepCreating
	t.s.Actions = nil
	t.s.Menu++ // every option of the confirm menu is now stale
	t.s.Pending = summary
	t.s.CartCheckout = ""
	if cart {
		t.s.CartCheckout = t.checkoutID()
	}
	t.say(t.tx("creating"))
	t.out = append(t.out, CreateInvoice{Checkout: t.checkoutID(), Lines: lines, Method: method})
}

func (t *turn) checkoutID() string { return t.s.Nonce + "-" + strconv.Itoa(t.s.Checkouts) }

// AwaitsInvoice reports whether the session is still waiting for the
// invoice of checkout: the shell asks before sending a checkout that waited
// for its turn in Bitrefill's request budget, so a buyer who gave up gets no
// invoice.
func (s State) AwaitsInvoice(checkout string) bool {
	return s.Step == StepCreating && checkout == s.Nonce+"-"+strconv.Itoa(s.Checkouts)
}

// QueuedNotice tells a buyer, in plain words, that Bitrefill's request limit
// makes their invoice wait about wait, that it will appear in the chat once
// created, and how to give up instead.
func QueuedNotice(lang string, wait time.Duration) Reply {
	return Reply{
		Text:    text(lang, "creating.queued", about(lang, wait)),
		Options: []Option{{Label: lookup(lang, "opt.cancel"), Token: CommandToken("cancel", "")}},
	}
}

// item is the product and value on the card as a cart line.
func (t *turn) item() CartItem {
	p, c := t.s.Product, t.s.Choice
	it := CartItem{ProductID: p.ID, Name: p.Name, Kind: p.Kind, PackageID: c.PackageID, Label: c.Label, Amount: c.Amount, Price: c.Price, Currency: p.Currency, Quantity: 1}
	if p.NeedsPhone {
		it.PhoneNumber = t.s.Phone
	}
	if t.s.TopUp && p.Kind == KindESIM {
		it.ESIMID = t.s.ESIMTarget
	}
	return it
}

func (t *turn) itemLine(it CartItem) Line {
	l := Line{ProductID: it.ProductID, Quantity: max(it.Quantity, 1), PhoneNumber: it.PhoneNumber, ESIMID: it.ESIMID}
	if it.PackageID != "" {
		l.PackageID = it.PackageID
	} else {
		l.Value = it.Amount
	}
	return l
}

func (t *turn) summary() string {
	if p, c := t.s.Product, t.s.Choice; p != nil && c != nil {
		return p.Name + " — " + c.Label
	}
	return ""
}

// creatingWait answers anything said while the invoice is being made. It
// offers Cancel, so a session left waiting by a crash is never stuck.
func (t *turn) creatingWait() {
	var o options
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(t.tx("creating.wait"), ExpectNothing, o.acts, o.labels)
}

func (t *turn) invoiceCreated(ev InvoiceCreated) {
	// An invoice that exists is always adopted, even if the user cancelled
	// while it was being made: they may pay it, and then it must be delivered.
	summary := t.pendingSummary(ev.Checkout)
	if t.purchase(ev.Invoice.ID) == nil {
		t.s.Purchases = append(t.s.Purchases, Purchase{Invoice: ev.Invoice, Summary: summary})
	}
	t.created(ev, summary)
	t.out = append(t.out, TrackInvoice{InvoiceID: ev.Invoice.ID})
	if t.s.Step == StepCreating && ev.Checkout == t.checkoutID() || t.s.Step == StepIdle {
		t.clearFlow()
		t.s.Step, t.s.Invoice = StepInvoice, ev.Invoice.ID
		if ev.Invoice.Method == methodBalance && ev.Invoice.Status == StatusUnpaid {
			t.balanceConfirm(ev.Invoice, summary)
			return
		}
		t.invoiceView(ev.Invoice, summary)
	}
}

func (t *turn) pendingSummary(checkout string) string {
	if t.s.Pending != "" && checkout == t.checkoutID() {
		return t.s.Pending
	}
	return t.summary()
}

// created records a new invoice in the history and empties the cart it was
// made from.
func (t *turn) created(ev InvoiceCreated, summary string) {
	if i := t.historyIndex(ev.Invoice.ID); i < 0 {
		t.s.History = append(slices.Clone(t.s.History), HistoryEntry{Invoice: ev.Invoice.ID, Summary: summary, Status: ev.Invoice.Status, Date: t.now})
		if n := len(t.s.History); n > maxHistory {
			t.s.History = t.s.History[n-maxHistory:]
		}
	}
	fromCart := ev.Checkout != "" && ev.Checkout == t.s.CartCheckout
	if p := t.purchase(ev.Invoice.ID); p != nil && ev.Checkout == t.checkoutID() && p.Items == nil {
		// The cart's lines move to the purchase: they come back if the
		// invoice is declined, expires unpaid or is denied.
		p.Items, p.FromCart = t.s.PendingItems, fromCart
	}
	if fromCart {
		t.s.Cart, t.s.CartCheckout = nil, ""
	}
	if ev.Checkout == t.checkoutID() {
		t.s.Pending, t.s.PendingItems = "", nil
	}
}

func (t *turn) purchase(id string) *Purchase {
	for i := range t.s.Purchases {
		if t.s.Purchases[i].Invoice.ID == id {
			return &t.s.Purchases[i]
		}
	}
	return nil
}

// invoiceFailed keeps the cart: back to the confirmation with the reason on top.
func (t *turn) invoiceFailed(reason string) {
	if t.s.Step != StepCreating {
		return
	}
	t.say(t.tx("err.invoice", reason))
	t.reconfirm()
}

// reconfirm shows the payment choice again after the invoice could not be
// made: the cart's or the single product's.
func (t *turn) reconfirm() {
	if t.s.CartCheckout != "" && t.s.CartCheckout == t.checkoutID() && len(t.s.Cart) > 0 {
		t.cartPay()
		return
	}
	t.confirm()
}

// reconfirmFor shows the payment choice again for a cart or one item.
func (t *turn) reconfirmFor(items []CartItem) {
	if len(items) == 1 && t.s.Step == StepConfirm {
		t.confirm()
		return
	}
	t.cartPay()
}
