package conversation

import (
	"slices"
	"strings"
)

// StatusAbandoned marks, in the history only, a balance invoice the user
// declined or the cap refused: nobody will pay it, so it is not "waiting".
const StatusAbandoned = "abandoned"

// StepRepay offers the other payment methods for a declined balance invoice.
const StepRepay Step = "repay"

const (
	doDecline  ActionKind = "decline"
	doRepay    ActionKind = "repay"
	doEmptyYes ActionKind = "empty_yes"
	doAmount   ActionKind = "amount" // a quick pick within a range
)

// restoreCart gives a purchase's lines back to the cart once; it reports
// whether there was anything to give back.
func (t *turn) restoreCart(p *Purchase) bool {
	if p == nil || !p.FromCart || len(p.Items) == 0 {
		return false
	}
	cart := append(slices.Clone(p.Items), t.s.Cart...)
	if len(cart) > maxCartLines {
		cart = cart[:maxCartLines]
	}
	t.s.Cart = cart
	p.Items, p.FromCart = nil, false
	return true
}

// abandonBalance drops a balance invoice that will not be paid: it stops
// being tracked, the history says so, and its lines are kept to pay another way.
func (t *turn) abandonBalance(id string) (items []CartItem, fromCart bool, summary string, ok bool) {
	i := slices.IndexFunc(t.s.Purchases, func(p Purchase) bool { return p.Invoice.ID == id })
	if i < 0 {
		return nil, false, "", false
	}
	p := t.s.Purchases[i]
	items, fromCart, summary = p.Items, p.FromCart, p.Summary
	t.restoreCart(&p)
	t.s.Purchases = slices.Delete(slices.Clone(t.s.Purchases), i, i+1)
	if h := t.historyIndex(id); h >= 0 {
		t.s.History = slices.Clone(t.s.History)
		t.s.History[h].Status = StatusAbandoned
	}
	t.out = append(t.out, TrackInvoice{InvoiceID: id, Untrack: true})
	return items, fromCart, summary, true
}

// declineBalance answers "Don't pay" and a balance invoice over the cap: the
// invoice is left unpaid and the same lines are offered with other methods.
func (t *turn) declineBalance(id string, why []Span) {
	if t.s.Step != StepPayBalance || t.s.Invoice != id {
		t.stale()
		return
	}
	items, fromCart, summary, ok := t.abandonBalance(id)
	if !ok {
		t.stale()
		return
	}
	t.clearFlow()
	t.s.Repay, t.s.RepayCart = items, fromCart
	if why == nil {
		why = t.tx("balance.declined", summary)
	}
	t.repayMenu(why)
}

// repayMethods are the enabled methods other than the balance.
func (t *turn) repayMethods() []string {
	return slices.DeleteFunc(slices.Clone(t.methods()), func(m string) bool { return m == methodBalance })
}

func (t *turn) repayMenu(why []Span) {
	if len(t.s.Repay) == 0 && !t.s.RepayCart {
		t.home(why)
		return
	}
	t.s.Step = StepRepay
	var o options
	spans := slices.Clone(why)
	if ms := t.repayMethods(); len(ms) > 0 && len(t.s.Repay) > 0 {
		spans = appendText(spans, t.s.Lang, "repay.how")
		for _, m := range ms {
			o.add(methodName(t.s.Lang, m), doRepay, m)
		}
	}
	if t.s.RepayCart && len(t.s.Cart) > 0 {
		t.opt(&o, "opt.to_cart", doCart)
	}
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(spans, ExpectNothing, o.acts, o.labels)
}

// repay makes a new invoice of the declined lines with another method.
func (t *turn) repay(method string) {
	if t.s.Step != StepRepay || len(t.s.Repay) == 0 || !slices.Contains(t.repayMethods(), method) {
		t.stale()
		return
	}
	if t.s.RepayCart && len(t.s.Cart) > 0 {
		// The lines are back in the cart: pay the cart as it now stands.
		t.s.Repay, t.s.RepayCart = nil, false
		t.s.Step = StepCartPay
		t.cartCheckout(method)
		return
	}
	items := t.s.Repay
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = itemSummary(it)
	}
	t.s.Repay, t.s.RepayCart = nil, false
	t.checkout(method, items, strings.Join(names, ", "), false)
}

// balanceDetected tells a balance payment in its own words: no network
// confirms it. Marking the stage leaves delivery nothing more to say about it.
func (t *turn) balanceDetected(inv Invoice) {
	p := t.purchase(inv.ID)
	if p == nil || p.Stage != "" || inv.Status != StatusPaymentDetected || p.Invoice.Method != methodBalance && inv.Method != methodBalance {
		return
	}
	summary := p.Summary
	if summary == "" {
		summary = shortID(inv.ID)
	}
	p.Stage = stageDetected
	t.report(inv.ID, t.tx("balance.detected", summary, shortID(inv.ID)))
}

// unpaidEnd gives a cart's lines back when its invoice ends without payment.
func (t *turn) unpaidEnd(inv Invoice) {
	switch inv.Status {
	case StatusExpired, StatusDenied, StatusBlocked:
	default:
		return
	}
	if t.restoreCart(t.purchase(inv.ID)) {
		t.say(t.tx("cart.restored"))
	}
}
