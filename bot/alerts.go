package bot

// What the shop's operators are told, in their private chat: each paid
// invoice, each failed or refunded order, Bitrefill in trouble for minutes,
// the account balance running low. The texts are built from the fields
// that describe the sale (product, value, price, method) and never from an
// order's redemption or an invoice's payment address: no code, PIN or link
// ever reaches an operator.

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// shortInvoice is the part of an invoice id an operator needs to find it in
// Bitrefill's dashboard.
func shortInvoice(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// orderText names what an order bought: "Amazon US 50 USD".
func orderText(o conversation.Order) string {
	name := o.Product
	if name == "" {
		name = o.ProductID
	}
	if o.Value == "" {
		return name
	}
	v := o.Value
	if o.Currency != "" && !strings.Contains(v, o.Currency) {
		v += " " + o.Currency
	}
	return name + " " + v
}

// linesText groups an invoice's orders: "Amazon US 50 USD ×2, Steam 20 EUR".
func linesText(orders []conversation.Order) string {
	var names []string
	count := map[string]int{}
	for _, o := range orders {
		t := orderText(o)
		if count[t] == 0 {
			names = append(names, t)
		}
		count[t]++
	}
	for i, n := range names {
		if count[n] > 1 {
			names[i] = fmt.Sprintf("%s ×%d", n, count[n])
		}
	}
	return strings.Join(names, ", ")
}

// saleAlert tells operators an invoice was paid. summary is the purchase's
// own description, for an invoice whose orders are not listed yet.
func saleAlert(inv conversation.Invoice, summary string) string {
	var b strings.Builder
	b.WriteString("💰 Paid: ")
	switch lines := linesText(inv.Orders); {
	case lines != "":
		b.WriteString(lines)
	case summary != "":
		b.WriteString(summary)
	default:
		b.WriteString("(no order details)")
	}
	if inv.Price != "" {
		fmt.Fprintf(&b, " — %s %s", inv.Price, inv.PriceCurrency)
	}
	if inv.Method != "" {
		b.WriteString(" via " + inv.Method)
	}
	b.WriteString(" — invoice " + shortInvoice(inv.ID))
	return b.String()
}

// orderTroubleAlert tells operators an order failed or was refunded.
func orderTroubleAlert(invoiceID string, o conversation.Order) string {
	what := "failed"
	if o.Status == conversation.OrderRefunded {
		what = "refunded"
	}
	return fmt.Sprintf("⚠️ Order %s: %s — invoice %s", what, orderText(o), shortInvoice(invoiceID))
}

// apiTroubleAfter is how long Bitrefill must be unreachable, or answer
// 429s, before operators hear of it: a blip is not news.
const apiTroubleAfter = 3 * time.Minute

// apiWatch follows Bitrefill's answers (fed from the client's observer) and
// says when trouble has lasted apiTroubleAfter, and when it is over.
type apiWatch struct {
	mu      sync.Mutex
	since   time.Time // when the current trouble began; zero when healthy
	kind    string    // "unreachable" or "rate limited"
	alerted bool
}

// observe returns an alert for operators, or "".
func (w *apiWatch) observe(r bitrefill.Request, now time.Time) string {
	var kind string
	switch {
	case r.Status == 0 || r.Status >= 500:
		kind = "unreachable"
	case r.Status == 429:
		kind = "rate limited"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if kind == "" {
		if !w.since.IsZero() && w.alerted {
			d := now.Sub(w.since).Round(time.Minute)
			w.since, w.alerted = time.Time{}, false
			return fmt.Sprintf("✅ Bitrefill answers again (after %s).", d)
		}
		w.since, w.alerted = time.Time{}, false
		return ""
	}
	if w.since.IsZero() || w.kind != kind && !w.alerted {
		w.since, w.kind = now, kind
	}
	if w.alerted || now.Sub(w.since) < apiTroubleAfter {
		return ""
	}
	w.alerted = true
	if w.kind == "rate limited" {
		return fmt.Sprintf("🐢 Bitrefill has been answering 429 (too many requests) for %s: buyers wait. Ask Bitrefill for higher limits (then set BITREFILL_RATE_LIMITS).", now.Sub(w.since).Round(time.Minute))
	}
	return fmt.Sprintf("🔌 Bitrefill has been unreachable for %s: no invoice can be created and no code fetched.", now.Sub(w.since).Round(time.Minute))
}

// balanceWatch says when the account balance falls below the operator's
// threshold, once per fall (it re-arms when the balance is back above).
type balanceWatch struct {
	mu        sync.Mutex
	threshold bitrefill.Decimal // zero: off
	low       bool
}

func (w *balanceWatch) check(b bitrefill.Balance) string {
	if w.threshold.IsZero() {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	below := b.Amount.Cmp(w.threshold) < 0
	defer func() { w.low = below }()
	if !below || w.low {
		return ""
	}
	return fmt.Sprintf("🪫 Bitrefill balance is %s %s, below your alert level of %s. Top up the account to keep selling.",
		moneyText(b.Amount), b.Currency, moneyText(w.threshold))
}
