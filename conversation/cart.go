package conversation

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The cart: lines collected for one invoice, edited, paid together, and given
// back when their invoice ends unpaid.

const (
	StepCart     Step = "cart"      // the cart
	StepCartLine Step = "cart_line" // one cart line: quantity, remove
	StepCartPay  Step = "cart_pay"  // the cart's total: choose a payment method
)

const (
	doAddCart    ActionKind = "add_cart"
	doCart       ActionKind = "cart"
	doCartLine   ActionKind = "line"
	doQty        ActionKind = "qty"
	doRemove     ActionKind = "remove"
	doEmpty      ActionKind = "empty"
	doEmptyYes   ActionKind = "empty_yes"
	doCheckout   ActionKind = "checkout"
	doCartMethod ActionKind = "cart_method"
)

const (
	maxCartLines = 20 // Bitrefill's limit of product lines per invoice
	maxQuantity  = 20 // per line: each unit becomes its own order
	maxHistory   = 30
)

func cartUnits(c []CartItem) int {
	n := 0
	for _, it := range c {
		n += it.Quantity
	}
	return n
}

// sameLine reports whether two items would be the same invoice line.
func sameLine(a, b CartItem) bool {
	return a.ProductID == b.ProductID && a.PackageID == b.PackageID && a.Amount == b.Amount &&
		a.PhoneNumber == b.PhoneNumber && a.ESIMID == b.ESIMID
}

// addToCart puts the product and value on the confirmation into the cart.
func (t *turn) addToCart() {
	p, c := t.s.Product, t.s.Choice
	if t.s.Step != StepConfirm || p == nil || c == nil {
		t.stale()
		return
	}
	it := t.item()
	cart := slices.Clone(t.s.Cart)
	i := slices.IndexFunc(cart, func(x CartItem) bool { return sameLine(x, it) })
	switch {
	case i >= 0 && cart[i].Quantity >= maxQuantity:
		t.cartRefuse(t.tx("cart.max_qty", strconv.Itoa(maxQuantity)))
		return
	case i >= 0:
		cart[i].Quantity++
	case len(cart) >= maxCartLines:
		t.cartRefuse(t.tx("cart.full", strconv.Itoa(maxCartLines)))
		return
	default:
		cart = append(cart, it)
	}
	t.s.Cart = cart
	name := p.Name + " — " + c.Label
	t.clearFlow()
	t.s.Step = StepCart
	t.s.Actions = nil
	t.say(t.tx("cart.added", name))
	t.showCart()
}

// cartRefuse explains why the item cannot go in and keeps the confirmation.
func (t *turn) cartRefuse(why []Span) {
	t.say(why)
	t.confirm()
}

// cartText lists the lines and the totals per currency.
func (t *turn) cartText(head Msg) []Span {
	lang := t.s.Lang
	spans := text(lang, head)
	totals := map[string]Amount{}
	unpriced := 0
	for i, it := range t.s.Cart {
		spans = appendText(spans, lang, "cart.line", strconv.Itoa(i+1), it.Name, it.Label, strconv.Itoa(it.Quantity))
		switch {
		case it.PhoneNumber != "":
			spans = appendText(spans, lang, "cart.line.phone", it.PhoneNumber)
		case it.ESIMID != "":
			spans = appendText(spans, lang, "cart.line.esim", it.ESIMID)
		}
		switch {
		case it.Amount > 0:
			totals[it.Currency] += it.Amount * Amount(it.Quantity)
		case it.Price > 0:
			totals[it.Currency] += it.Price * Amount(it.Quantity)
		default:
			unpriced += it.Quantity
		}
	}
	curs := make([]string, 0, len(totals))
	for c := range totals {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	parts := make([]string, len(curs))
	for i, c := range curs {
		parts[i] = totals[c].String() + " " + c
	}
	if len(parts) > 0 {
		spans = appendText(spans, lang, "cart.total", strings.Join(parts, " + "))
	}
	if unpriced > 0 {
		spans = appendText(spans, lang, "cart.unpriced", strconv.Itoa(unpriced))
	}
	return spans
}

// showCart is the cart: every line, the totals, and what can be done.
func (t *turn) showCart() {
	if len(t.s.Cart) == 0 {
		t.clearFlow()
		t.home(t.tx("cart.empty"))
		return
	}
	t.clearFlow()
	t.s.Step = StepCart
	var o options
	t.opt(&o, "opt.checkout", doCheckout)
	for i, it := range t.s.Cart {
		o.add(strconv.Itoa(i+1)+". "+truncate(it.Name, 28)+" × "+strconv.Itoa(it.Quantity), doCartLine, strconv.Itoa(i))
	}
	t.opt(&o, "opt.empty", doEmpty)
	t.opt(&o, "opt.search", doAsk)
	t.opt(&o, "opt.back", doBack)
	t.menu(t.cartText("cart.title"), ExpectQuery, o.acts, o.labels)
}

// typedCartLine opens a line by its number, as the list shows them numbered.
func (t *turn) typedCartLine(in string) {
	if n, ok := listNumber(in, len(t.s.Cart)); ok {
		t.cartLine(n - 1)
		return
	}
	t.search(in)
}

// cartLine shows one line with its quantity controls; a typed number sets it.
func (t *turn) cartLine(i int) {
	if i < 0 || i >= len(t.s.Cart) {
		t.showCart()
		return
	}
	it := t.s.Cart[i]
	t.s.Step, t.s.Line = StepCartLine, i
	var o options
	if it.Quantity > 1 {
		o.add("➖ 1", doQty, strconv.Itoa(it.Quantity-1))
	}
	if it.Quantity < maxQuantity {
		o.add("➕ 1", doQty, strconv.Itoa(it.Quantity+1))
	}
	t.opt(&o, "opt.remove", doRemove)
	t.opt(&o, "opt.to_cart", doCart)
	t.menu(t.tx("cart.edit", it.Name, it.Label, strconv.Itoa(it.Quantity), strconv.Itoa(maxQuantity)), ExpectAmount, o.acts, o.labels)
}

func (t *turn) setQuantity(n int) {
	i := t.s.Line
	if t.s.Step != StepCartLine || i < 0 || i >= len(t.s.Cart) {
		t.stale()
		return
	}
	if n < 1 || n > maxQuantity {
		t.say(t.tx("cart.qty_range", strconv.Itoa(maxQuantity)))
		t.cartLine(i)
		return
	}
	t.s.Cart = slices.Clone(t.s.Cart)
	t.s.Cart[i].Quantity = n
	t.showCart()
}

func (t *turn) typedQuantity(in string) {
	in = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in), "x"))
	n, err := strconv.Atoi(in)
	if err != nil {
		if looksLikeWords(in) {
			t.offerSearch(in, t.tx("cart.qty_range", strconv.Itoa(maxQuantity)))
			return
		}
		n = -1
	}
	if n == 0 {
		t.removeLine()
		return
	}
	t.setQuantity(n)
}

func (t *turn) removeLine() {
	i := t.s.Line
	if t.s.Step != StepCartLine || i < 0 || i >= len(t.s.Cart) {
		t.stale()
		return
	}
	name := t.s.Cart[i].Name
	t.s.Cart = slices.Delete(slices.Clone(t.s.Cart), i, i+1)
	if len(t.s.Cart) == 0 {
		t.s.Cart = nil
	}
	t.say(t.tx("cart.removed", name))
	t.showCart()
}

// emptyAsk asks first: emptying the cart cannot be undone.
func (t *turn) emptyAsk() {
	if len(t.s.Cart) == 0 {
		t.showCart()
		return
	}
	var o options
	o.add(lookup(t.s.Lang, "opt.empty_yes"), doEmptyYes, "")
	t.opt(&o, "opt.to_cart", doCart)
	t.menu(t.tx("cart.empty_ask", strconv.Itoa(cartUnits(t.s.Cart))), ExpectNothing, o.acts, o.labels)
}

func (t *turn) emptyCart() {
	t.s.Cart = nil
	t.say(t.tx("cart.emptied"))
	t.home(nil)
}

// cartPay shows the cart's totals and the payment methods.
func (t *turn) cartPay() {
	if len(t.s.Cart) == 0 {
		t.showCart()
		return
	}
	t.s.Step = StepCartPay
	var o options
	t.payWith(&o, t.methods(), doCartMethod)
	t.opt(&o, "opt.to_cart", doCart)
	t.opt(&o, "opt.cancel", doCancel)
	spans := appendText(t.cartText("cart.confirm"), t.s.Lang, "cart.how")
	t.menu(spans, ExpectNothing, o.acts, o.labels)
}

// itemSummary names a cart line in invoices and the history: the product,
// the value, how many, and whose phone or which eSIM it tops up.
func itemSummary(it CartItem) string {
	s := it.Name + " — " + it.Label
	if it.Quantity > 1 {
		s += " × " + strconv.Itoa(it.Quantity)
	}
	switch {
	case it.PhoneNumber != "":
		s += " → " + it.PhoneNumber
	case it.ESIMID != "":
		s += " → eSIM " + shortICCID(it.ESIMID)
	}
	return s
}

// cartCheckout makes one invoice of the whole cart.
func (t *turn) cartCheckout(method string) {
	if t.s.Step != StepCartPay || len(t.s.Cart) == 0 || !slices.Contains(t.methods(), method) {
		t.stale()
		return
	}
	if method == methodBalance && t.overCap(t.s.Cart) {
		return
	}
	names := make([]string, len(t.s.Cart))
	for i, it := range t.s.Cart {
		names[i] = itemSummary(it)
	}
	summary := strings.Join(names, ", ")
	if len(names) > 3 {
		summary = strings.Join(names[:3], ", ") + strings.Replace(lookup(t.s.Lang, "cart.more"), "{1}", strconv.Itoa(len(names)-3), 1)
	}
	t.checkout(method, t.s.Cart, summary, true)
}

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
