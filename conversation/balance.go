package conversation

import (
	"strings"
)

// Paying from the operator's account balance spends real money at once and
// cannot be undone: only listed users see the method, each has a daily cap,
// and the invoice is paid only after an explicit yes on a screen that shows
// what it costs.

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
