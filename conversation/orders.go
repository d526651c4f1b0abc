package conversation

import (
	"slices"
	"strconv"
)

// The order history, one past invoice, and showing its codes again.

const (
	StepOrders Step = "orders" // the order history
	StepOrder  Step = "order"  // one invoice of the history
	StepReveal Step = "reveal" // confirming to show codes again
)

const (
	doOrders    ActionKind = "orders"
	doOrder     ActionKind = "order"
	doRevealAsk ActionKind = "reveal_ask"
	doReveal    ActionKind = "reveal"
)

const ordersPage = 10

func (t *turn) ordersCommand(string) { t.orders(0) }

// orderValue is an order's value with its currency when it is money.
func orderValue(o Order) string {
	if _, prob := ParseAmount(o.Value, ""); (prob == AmountOK || prob == AmountAmbiguous) && o.Currency != "" {
		return o.Value + " " + o.Currency
	}
	return o.Value
}

func (t *turn) historyIndex(id string) int {
	for i, h := range t.s.History {
		if h.Invoice == id {
			return i
		}
	}
	return -1
}

// historyUpdate keeps the history's status current; it never stores codes.
func (t *turn) historyUpdate(inv Invoice) {
	i := t.historyIndex(inv.ID)
	if i < 0 || inv.Status == "" || t.s.History[i].Status == inv.Status {
		return
	}
	if t.s.History[i].Status == StatusAbandoned && (inv.Status == StatusUnpaid || inv.Status == StatusExpired) {
		return // declined by the user: "abandoned" says more than "expired"
	}
	t.s.History = slices.Clone(t.s.History)
	t.s.History[i].Status = inv.Status
}

// orders lists the history, newest first, a page at a time.
func (t *turn) orders(page int) {
	lang := t.s.Lang
	t.clearFlow()
	if len(t.s.History) == 0 {
		t.home(text(lang, "orders.none"))
		return
	}
	n := len(t.s.History)
	pages := (n + ordersPage - 1) / ordersPage
	page = max(0, min(page, pages-1))
	t.s.Step, t.s.OrdersPage = StepOrders, page
	spans := text(lang, "orders.title", strconv.Itoa(page+1), strconv.Itoa(pages))
	var o options
	for k := page * ordersPage; k < min(n, (page+1)*ordersPage); k++ {
		h := t.s.History[n-1-k]
		spans = appendText(spans, lang, "orders.line", strconv.Itoa(k+1), h.Date.UTC().Format("2006-01-02"), h.Summary, lookup(lang, statusMsg(h.Status)))
		o.add(strconv.Itoa(k+1)+". "+truncate(h.Summary, 40), doOrder, h.Invoice)
	}
	t.pager(&o, page, pages, doOrders)
	t.opt(&o, "opt.back", doBack)
	t.menu(spans, ExpectNothing, o.acts, o.labels)
}

func (t *turn) typedOrder(in string) {
	if n, ok := listNumber(in, len(t.s.History)); ok {
		t.s.Invoice = t.s.History[len(t.s.History)-n].Invoice
		t.orderView()
		return
	}
	t.search(in)
}

// orderView is one invoice of the history. A live purchase has its own view.
func (t *turn) orderView() {
	i := t.historyIndex(t.s.Invoice)
	if i < 0 {
		t.orders(t.s.OrdersPage)
		return
	}
	h := t.s.History[i]
	if p := t.purchase(h.Invoice); p != nil && p.Invoice.Status == StatusUnpaid {
		t.s.Step = StepInvoice
		t.invoiceView(p.Invoice, p.Summary)
		return
	}
	lang := t.s.Lang
	t.s.Step = StepOrder
	spans := text(lang, "order.title", h.Summary, h.Date.UTC().Format("2006-01-02 15:04 UTC"), lookup(lang, statusMsg(h.Status)), h.Invoice)
	var o options
	o.add(lookup(lang, "opt.refresh"), doRefresh, h.Invoice)
	if h.Status == StatusComplete {
		t.opt(&o, "opt.reveal", doRevealAsk)
	}
	t.opt(&o, "opt.back", doBack)
	t.menu(spans, ExpectNothing, o.acts, o.labels)
}

// revealAsk makes the user confirm before codes are shown again: codes are
// money, and a chat can be read over a shoulder.
func (t *turn) revealAsk() {
	i := t.historyIndex(t.s.Invoice)
	if i < 0 || t.s.Step != StepOrder && t.s.Step != StepReveal {
		t.stale()
		return
	}
	t.s.Step = StepReveal
	var o options
	o.add(lookup(t.s.Lang, "opt.reveal.yes"), doReveal, t.s.Invoice)
	t.opt(&o, "opt.back", doBack)
	t.menu(t.tx("reveal.ask", t.s.History[i].Summary), ExpectNothing, o.acts, o.labels)
}

func (t *turn) revealGo(id string) {
	if t.s.Step != StepReveal || t.s.Invoice != id || t.historyIndex(id) < 0 {
		t.stale()
		return
	}
	t.s.Actions = nil
	t.s.Menu++
	t.say(t.tx("reveal.fetching"))
	t.out = append(t.out, RefreshInvoice{InvoiceID: id, Reveal: true})
}

// reveal shows the delivered codes of an invoice in the history once more.
// The reply is Secret, like the first delivery.
func (t *turn) reveal(inv Invoice) {
	if t.s.Step != StepReveal || t.s.Invoice != inv.ID || t.historyIndex(inv.ID) < 0 {
		return // not asked for, or not this user's
	}
	lang := t.s.Lang
	spans := text(lang, "reveal.title", shortID(inv.ID))
	shown := 0
	for _, o := range inv.Orders {
		if o.Status != OrderDelivered {
			continue
		}
		shown++
		spans = appendText(spans, lang, "reveal.order", o.Product, orderValue(o))
		if o.ESIM != "" {
			spans = appendText(spans, lang, "reveal.esim", o.ESIM)
		}
		r := o.Redemption
		if r == nil {
			spans = appendText(spans, lang, "reveal.nothing")
			continue
		}
		if r.Code != "" {
			spans = appendText(spans, lang, "reveal.code", r.Code)
		}
		if r.PIN != "" {
			spans = appendText(spans, lang, "reveal.pin", r.PIN)
		}
		if r.Link != "" {
			spans = appendText(spans, lang, "reveal.link", r.Link)
		}
		if r.BarcodeValue != "" && r.BarcodeValue != r.Code && r.BarcodeValue != r.PIN {
			spans = appendText(spans, lang, "reveal.barcode", r.BarcodeValue)
		}
		if r.Instructions != "" {
			spans = appendText(spans, lang, "reveal.instructions", r.Instructions)
		}
		for _, f := range r.Extra {
			spans = appendText(spans, lang, "reveal.extra", f.Name, f.Value)
		}
		if r.Expires != "" {
			spans = appendText(spans, lang, "reveal.expires", r.Expires)
		}
	}
	if shown == 0 {
		t.say(t.tx("reveal.none"))
	} else {
		t.out = append(t.out, Reply{Text: spans, Secret: true})
	}
	t.orderView()
}
