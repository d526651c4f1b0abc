package conversation

import (
	"slices"
	"strconv"
	"strings"
)

// The complete conversation hooks into the purchase engine (engine.go) at a
// few points; everything it adds is dispatched from here.

// More steps of the dialogue.
const (
	StepCountry       Step = "country"        // picking the user's country
	StepDestination   Step = "destination"    // picking where an eSIM should work
	StepKinds         Step = "kinds"          // picking a gift card category
	StepPhone         Step = "phone"          // asking for a phone number
	StepCheckingPhone Step = "checking_phone" // waiting for PhoneChecked
	StepOperators     Step = "operators"      // candidate operators for a number
	StepCart          Step = "cart"           // the cart
	StepCartLine      Step = "cart_line"      // one cart line: quantity, remove
	StepCartPay       Step = "cart_pay"       // the cart's total: choose a payment method
	StepPayBalance    Step = "pay_balance"    // a balance invoice waits for an explicit yes
	StepOrders        Step = "orders"         // the order history
	StepOrder         Step = "order"          // one invoice of the history
	StepReveal        Step = "reveal"         // confirming to show codes again
	StepESIMs         Step = "esims"          // the user's eSIMs
	StepICCID         Step = "iccid"          // asking for an ICCID
	StepLoadingESIM   Step = "loading_esim"   // waiting for ESIMLoaded
	StepESIM          Step = "esim"           // one eSIM's status
)

// More actions kept in State.Actions.
const (
	doAddCart    ActionKind = "add_cart"
	doCart       ActionKind = "cart"
	doCartLine   ActionKind = "line"
	doQty        ActionKind = "qty"
	doRemove     ActionKind = "remove"
	doEmpty      ActionKind = "empty"
	doCheckout   ActionKind = "checkout"
	doCartMethod ActionKind = "cart_method"
	doCountry    ActionKind = "country"
	doCountryPg  ActionKind = "country_page"
	doCountryAsk ActionKind = "country_ask"
	doLang       ActionKind = "lang"
	doKind       ActionKind = "kind"
	doCategory   ActionKind = "category"
	doPhoneAsk   ActionKind = "phone_ask"
	doOperator   ActionKind = "operator"
	doOrders     ActionKind = "orders"
	doOrder      ActionKind = "order"
	doRevealAsk  ActionKind = "reveal_ask"
	doReveal     ActionKind = "reveal"
	doESIMs      ActionKind = "esims"
	doESIM       ActionKind = "esim"
	doTopUp      ActionKind = "topup"
	doICCIDAsk   ActionKind = "iccid_ask"
	doDest       ActionKind = "dest"
	doPay        ActionKind = "pay"
	doHome       ActionKind = "home"
)

const (
	maxLabel      = 64 // button text: well inside Telegram's and Discord's limits
	maxOptions    = 25 // Discord's select menu and a sane keyboard
	methodBalance = "balance"
)

// buyCommand loads a product by id, or searches when the words are not one.
func (t *turn) buyCommand(args string) {
	id := strings.ToLower(strings.TrimSpace(args))
	switch {
	case id == "":
		t.clearFlow()
		t.s.Actions = nil
		t.say(t.tx("ask.query"))
	case validProductID(id) && strings.ContainsAny(id, "-_"):
		t.clearFlow()
		t.say(t.tx("loading", id))
		t.load(id)
	default:
		t.search(args)
	}
}

// listNumber reads "2" or "#2" as the second item of a list of n.
func listNumber(in string, n int) (int, bool) {
	k, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(in), "#"))
	return k, err == nil && k >= 1 && k <= n
}

// cardExtra adds what the card says beyond the product's facts.
func (t *turn) cardExtra(spans []Span) []Span {
	p, lang := t.s.Product, t.s.Lang
	if p.NeedsPhone && t.s.Phone != "" {
		spans = appendText(spans, lang, "product.for_phone", t.s.Phone)
	}
	if p.Kind == KindESIM {
		if len(p.Coverage) > 0 {
			spans = appendText(spans, lang, "product.coverage", t.coverage(p.Coverage))
		}
		if t.s.TopUp && t.s.ESIMTarget != "" {
			spans = appendText(spans, lang, "product.for_esim", t.s.ESIMTarget)
		}
	}
	if p.Kind == KindBillPayment {
		spans = appendText(spans, lang, "product.bill")
	}
	return spans
}

// coverage names the countries of an eSIM plan, shortened when long.
func (t *turn) coverage(codes []string) string {
	const show = 8
	names := make([]string, 0, min(len(codes), show))
	for i, c := range codes {
		if i == show {
			break
		}
		names = append(names, countryName(t.s.Lang, c))
	}
	s := strings.Join(names, ", ")
	if len(codes) > show {
		s += strings.Replace(lookup(t.s.Lang, "product.coverage.more"), "{1}", strconv.Itoa(len(codes)-show), 1)
	}
	return s
}

func (t *turn) confirmText(p *Product, c *Choice) []Span {
	switch {
	case p.NeedsPhone && t.s.Phone != "":
		return t.tx("confirm.phone", p.Name, c.Label, t.s.Phone)
	case t.s.TopUp && t.s.ESIMTarget != "":
		return t.tx("confirm.esim", p.Name, c.Label, t.s.ESIMTarget)
	}
	total := c.Label
	if c.Amount == 0 {
		total = lookup(t.s.Lang, "confirm.on_invoice") // a plan, not a sum: the invoice names the price
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

// item is the product and value on the card as a cart line.
func (t *turn) item() CartItem {
	p, c := t.s.Product, t.s.Choice
	it := CartItem{ProductID: p.ID, Name: p.Name, Kind: p.Kind, PackageID: c.PackageID, Label: c.Label, Amount: c.Amount, Currency: p.Currency, Quantity: 1}
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

// reconfirmFor shows the payment choice again for a cart or one item.
func (t *turn) reconfirmFor(items []CartItem) {
	if len(items) == 1 && t.s.Step == StepConfirm {
		t.confirm()
		return
	}
	t.cartPay()
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
