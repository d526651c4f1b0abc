package conversation

import (
	"slices"
	"strings"
)

// Paying from the operator's account balance spends real money at once and
// cannot be undone: only listed users see the method, each has a daily cap,
// and the invoice is paid only after an explicit yes on a screen that shows
// what it costs. A declined balance invoice is offered again with the other
// methods.

const (
	StepPayBalance Step = "pay_balance" // a balance invoice waits for an explicit yes
	StepRepay      Step = "repay"       // other payment methods for a declined balance invoice
)

const (
	doPay     ActionKind = "pay"     // pay balance invoice Arg
	doDecline ActionKind = "decline" // leave balance invoice Arg unpaid
	doRepay   ActionKind = "repay"   // pay the declined lines with method Arg
)

const methodBalance = "balance"

// StatusAbandoned marks, in the history only, a balance invoice the user
// declined or the cap refused: nobody will pay it, so it is not "waiting".
const StatusAbandoned = "abandoned"

func (t *turn) balanceAllowed() bool {
	b := t.e.Balance
	return b.DailyCap > 0 && t.s.User != "" && b.Users[t.s.User]
}

func (t *turn) balanceCurrency() string {
	if c := t.e.Balance.Currency; c != "" {
		return strings.ToUpper(c)
	}
	return "USD"
}

// spentToday is what the user paid from the balance today (UTC).
func (t *turn) spentToday() Amount {
	if t.s.SpentDay != t.now.UTC().Format("2006-01-02") {
		return 0
	}
	return t.s.Spent
}

// invoiceCost reads a balance invoice's price as an Amount in the account
// currency, rounding up what has more than two decimals.
func invoiceCost(inv Invoice) (Amount, bool) {
	s := strings.TrimSpace(inv.Price)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) || len(whole) > 12 {
		return 0, false
	}
	up := false
	if len(frac) > 2 {
		up = strings.Trim(frac[2:], "0") != ""
		frac = frac[:2]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	a, prob := ParseAmount(whole+"."+frac, "")
	if prob == AmountZero {
		a, prob = 0, AmountOK
	}
	if prob != AmountOK {
		return 0, false
	}
	if up {
		a++
	}
	return a, true
}

// overCap refuses, before any invoice is made, a balance payment whose face
// value alone is already over what the user may still spend today. Values in
// other currencies are left to the check on the invoice's own price.
func (t *turn) overCap(items []CartItem) bool {
	cur := t.balanceCurrency()
	var total Amount
	for _, it := range items {
		if !strings.EqualFold(it.Currency, cur) {
			continue
		}
		total += it.Amount * Amount(max(it.Quantity, 1))
	}
	spent, limit := t.spentToday(), t.e.Balance.DailyCap
	if spent+total <= limit {
		return false
	}
	left := (limit - max(0, min(limit, spent))).String()
	t.say(t.tx("balance.cap.before", total.String(), cur, limit.String(), left))
	t.reconfirmFor(items)
	return true
}

// balanceConfirm shows what a balance invoice costs and asks for a yes.
func (t *turn) balanceConfirm(inv Invoice, summary string) {
	lang, cur := t.s.Lang, t.balanceCurrency()
	t.s.Step, t.s.Invoice = StepPayBalance, inv.ID
	cost, ok := invoiceCost(inv)
	var o options
	if !ok || !strings.EqualFold(inv.PriceCurrency, cur) {
		t.declineBalance(inv.ID, t.tx("balance.unknown", summary))
		return
	}
	spent, limit := t.spentToday(), t.e.Balance.DailyCap
	if spent+cost > limit {
		t.declineBalance(inv.ID, t.tx("balance.cap", summary, cost.String(), cur, limit.String(), (limit-max(0, min(limit, spent))).String()))
		return
	}
	o.add(strings.NewReplacer("{1}", cost.String(), "{2}", cur).Replace(lookup(lang, "opt.pay_balance")), doPay, inv.ID)
	o.add(lookup(lang, "opt.dont_pay"), doDecline, inv.ID)
	t.menu(t.tx("balance.confirm", summary, cost.String(), cur, spent.String(), limit.String()), ExpectNothing, o.acts, o.labels)
}

func (t *turn) balanceAgain() {
	if p := t.purchase(t.s.Invoice); p != nil {
		t.balanceConfirm(p.Invoice, p.Summary)
	}
}

// payBalance pays after the yes. The cap is checked again and the amount
// counted before the effect leaves, so two quick taps cannot both pass it.
func (t *turn) payBalance(id string) {
	p := t.purchase(id)
	if t.s.Step != StepPayBalance || t.s.Invoice != id || p == nil || !t.balanceAllowed() {
		t.stale()
		return
	}
	cost, ok := invoiceCost(p.Invoice)
	spent := t.spentToday()
	if !ok || spent+cost > t.e.Balance.DailyCap {
		t.balanceConfirm(p.Invoice, p.Summary)
		return
	}
	t.s.SpentDay, t.s.Spent = t.now.UTC().Format("2006-01-02"), spent+cost
	t.s.Step = StepInvoice
	t.s.Actions = nil
	t.s.Menu++
	t.say(t.tx("balance.paying"))
	t.out = append(t.out, PayInvoice{InvoiceID: id})
}

// payFailed gives back the amount counted against the cap and says why.
func (t *turn) payFailed(ev Failed, reason string) {
	p := t.purchase(t.s.Invoice)
	if p == nil {
		t.say(text(t.s.Lang, "err.pay", reason))
		return
	}
	if ev.Kind == ErrTemporary {
		// The payment may have gone through: it stays counted, and nothing
		// is offered to pay again blindly; the invoice's state will tell.
		t.say(text(t.s.Lang, "err.pay.unsure"))
		t.out = append(t.out, RefreshInvoice{InvoiceID: p.Invoice.ID})
		return
	}
	if cost, ok := invoiceCost(p.Invoice); ok && t.s.SpentDay == t.now.UTC().Format("2006-01-02") {
		t.s.Spent = max(0, t.s.Spent-cost)
	}
	t.say(text(t.s.Lang, "err.pay", reason))
	t.balanceConfirm(p.Invoice, p.Summary)
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
		t.payWith(&o, ms, doRepay)
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

func backFromRepay(t *turn) {
	if t.s.RepayCart && len(t.s.Cart) > 0 {
		t.showCart()
		return
	}
	t.clearFlow()
	t.home(nil)
}
