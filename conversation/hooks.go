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
	doAddCart    = "add_cart"
	doCart       = "cart"
	doCartLine   = "line"
	doQty        = "qty"
	doRemove     = "remove"
	doEmpty      = "empty"
	doCheckout   = "checkout"
	doCartMethod = "cart_method"
	doCountry    = "country"
	doCountryPg  = "country_page"
	doCountryAsk = "country_ask"
	doLang       = "lang"
	doKind       = "kind"
	doCategory   = "category"
	doPhoneAsk   = "phone_ask"
	doOperator   = "operator"
	doOrders     = "orders"
	doOrder      = "order"
	doRevealAsk  = "reveal_ask"
	doReveal     = "reveal"
	doESIMs      = "esims"
	doESIM       = "esim"
	doTopUp      = "topup"
	doICCIDAsk   = "iccid_ask"
	doDest       = "dest"
	doPay        = "pay"
	doHome       = "home"
)

const (
	maxLabel      = 64 // button text: well inside Telegram's and Discord's limits
	maxOptions    = 25 // Discord's select menu and a sane keyboard
	methodBalance = "balance"
)

// pre runs before the engine's own dispatch. It keeps the last-seen time,
// ends idle flows, and handles the events the purchase engine does not know.
// It reports whether the event was fully handled.
func (t *turn) pre(ev Event) bool {
	switch ev := ev.(type) {
	case Start, Command, Text, Chose:
		idle := t.e.IdleAfter > 0 && !t.s.Seen.IsZero() && t.now.Sub(t.s.Seen) > t.e.IdleAfter
		t.s.Seen = t.now
		if !idle || t.s.Step == StepIdle && t.s.BrowseCountry == "" && t.s.ICCIDFor == "" {
			return false
		}
		t.clearFlow()
		t.s.Actions = nil
		t.s.Menu++ // every option shown before is stale
		if _, ok := ev.(Chose); ok {
			t.say(t.tx("idle.expired"))
			t.home(nil)
			return true
		}
		if _, ok := ev.(Start); !ok {
			t.say(t.tx("idle.expired"))
		}
		return false
	case PhoneChecked:
		t.phoneChecked(ev)
		return true
	case ESIMLoaded:
		t.esimLoaded(ev.ESIM)
		return true
	case InvoiceUpdated:
		t.historyUpdate(ev.Invoice)
		t.unpaidEnd(ev.Invoice)
		t.balanceDetected(ev.Invoice)
		if ev.Reveal {
			t.reveal(ev.Invoice)
			return true
		}
		if t.purchase(ev.Invoice.ID) == nil && t.s.Step == StepOrder && t.s.Invoice == ev.Invoice.ID {
			if ev.Requested {
				t.orderView()
			}
			return true
		}
	}
	return false
}

func (t *turn) commandMore(name, args string) bool {
	switch name {
	case "cart":
		t.showCart()
	case "orders", "history":
		t.orders(0)
	case "esims":
		t.esims()
	case "esim":
		if args == "" {
			t.esims()
			return true
		}
		t.esimCommand(args)
	case "topup":
		t.topupCommand(args)
	case "phone":
		t.clearFlow()
		t.askPhone(nil)
	case "country":
		t.countryCommand(args)
	case "language", "lang", "idioma":
		t.languageCommand(args)
	case "buy":
		t.buyCommand(args)
	default:
		return false
	}
	return true
}

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

// textMore answers typed text in the steps added here; false leaves it to
// the engine (a search, an amount).
func (t *turn) textMore(in string) bool {
	switch t.s.Step {
	case StepCountry, StepDestination:
		t.typedCountry(in)
	case StepPhone:
		t.typedPhone(in)
	case StepICCID:
		t.typedICCID(in)
	case StepCartLine:
		t.typedQuantity(in)
	case StepCheckingPhone, StepLoadingESIM:
		t.say(t.tx("busy"))
	case StepProduct:
		if p := t.s.Product; p != nil && p.NeedsPhone && t.s.Phone == "" && p.InStock {
			t.typedPhone(in)
			return true
		}
		return false
	case StepESIMs:
		if id, prob := NormalizeICCID(in); prob == ICCIDOK {
			t.loadESIM(id, ForStatus)
			return true
		}
		if n, ok := listNumber(in, len(t.s.ESIMs)); ok {
			t.loadESIM(t.s.ESIMs[n-1].ICCID, ForStatus)
			return true
		}
		return false
	case StepCart:
		// A line's number opens it, as the list shows them numbered.
		if n, ok := listNumber(in, len(t.s.Cart)); ok {
			t.cartLine(n - 1)
			return true
		}
		return false
	case StepOrders:
		if n, ok := listNumber(in, len(t.s.History)); ok {
			t.s.Invoice = t.s.History[len(t.s.History)-n].Invoice
			t.orderView()
			return true
		}
		return false
	case StepKinds:
		// Browsing menus: nothing is lost by searching at once.
		return false
	case StepOperators, StepCartPay, StepPayBalance, StepRepay, StepOrder, StepReveal, StepESIM:
		if looksLikeWords(in) {
			t.offerSearch(in, t.tx("hint.menu"))
			return true
		}
		cur := t.current()
		t.rerender()
		t.out = slices.Insert(t.out, cur, Effect(Reply{Text: t.tx("hint.menu")}))
	default:
		return false
	}
	return true
}

// listNumber reads "2" or "#2" as the second item of a list of n.
func listNumber(in string, n int) (int, bool) {
	k, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(in), "#"))
	return k, err == nil && k >= 1 && k <= n
}

func (t *turn) choseMore(a Action) {
	switch a.Do {
	case doAddCart:
		t.addToCart()
	case doCart:
		t.showCart()
	case doCartLine:
		n, _ := strconv.Atoi(a.Arg)
		t.cartLine(n)
	case doQty:
		n, _ := strconv.Atoi(a.Arg)
		t.setQuantity(n)
	case doRemove:
		t.removeLine()
	case doEmpty:
		// Emptying cannot be undone: it asks first.
		if len(t.s.Cart) == 0 {
			t.showCart()
			return
		}
		var o options
		o.add(lookup(t.s.Lang, "opt.empty_yes"), doEmptyYes, "")
		t.opt(&o, "opt.to_cart", doCart)
		t.menu(t.tx("cart.empty_ask", strconv.Itoa(cartUnits(t.s.Cart))), ExpectNothing, o.acts, o.labels)
	case doEmptyYes:
		t.s.Cart = nil
		t.say(t.tx("cart.emptied"))
		t.home(nil)
	case doCheckout:
		t.cartPay()
	case doCartMethod:
		t.cartCheckout(a.Arg)
	case doCountry:
		t.setCountry(a.Arg)
	case doCountryPg:
		n, _ := strconv.Atoi(a.Arg)
		t.countryPicker(t.s.Step, n)
	case doCountryAsk:
		t.clearFlow()
		t.countryPicker(StepCountry, 0)
	case doLang:
		t.setLang(a.Arg)
	case doKind:
		t.browseKind(a.Arg)
	case doCategory:
		t.browse(KindGiftCard, a.Arg, t.s.Country, false)
	case doPhoneAsk:
		keep := t.s.Product
		if keep != nil && !keep.NeedsPhone {
			keep = nil
		}
		t.s.Phone, t.s.Operators = "", nil
		t.askPhone(keep)
	case doOperator:
		t.say(t.tx("loading", t.operatorName(a.Arg)))
		t.load(a.Arg)
	case doOrders:
		n, _ := strconv.Atoi(a.Arg)
		t.orders(n)
	case doOrder:
		t.s.Invoice = a.Arg
		t.orderView()
	case doRevealAsk:
		t.revealAsk()
	case doReveal:
		t.revealGo(a.Arg)
	case doESIMs:
		t.esims()
	case doESIM:
		t.loadESIM(a.Arg, ForStatus)
	case doTopUp:
		t.topUp(a.Arg)
	case doICCIDAsk:
		t.askICCID(ICCIDPurpose(a.Arg))
	case doDest:
		t.countryPicker(StepDestination, 0)
	case doPay:
		t.payBalance(a.Arg)
	case doAmount:
		n, err := strconv.ParseInt(a.Arg, 10, 64)
		if err != nil || t.s.Step != StepProduct || t.s.Product == nil {
			t.stale()
			return
		}
		t.typedAmount(Amount(n).String())
	case doDecline:
		t.declineBalance(a.Arg, nil)
	case doRepay:
		t.repay(a.Arg)
	case doHome:
		t.clearFlow()
		t.home(nil)
	}
}

func (t *turn) rerenderMore() {
	switch t.s.Step {
	case StepCountry, StepDestination:
		t.countryPicker(t.s.Step, t.s.CountryPage)
	case StepKinds:
		t.categories()
	case StepPhone:
		t.askPhone(t.s.Product)
	case StepOperators:
		t.operators(t.tx("phone.pick", t.s.Phone))
	case StepCart:
		t.showCart()
	case StepCartLine:
		t.cartLine(t.s.Line)
	case StepCartPay:
		t.cartPay()
	case StepPayBalance:
		if p := t.purchase(t.s.Invoice); p != nil {
			t.balanceConfirm(p.Invoice, p.Summary)
		}
	case StepRepay:
		t.repayMenu(nil)
	case StepOrders:
		t.orders(t.s.OrdersPage)
	case StepOrder:
		t.orderView()
	case StepReveal:
		t.revealAsk()
	case StepESIMs:
		t.esims()
	case StepICCID:
		t.askICCID(t.s.ICCIDFor)
	case StepCheckingPhone, StepLoadingESIM:
		t.say(t.tx("busy"))
	case StepESIM:
		t.loadESIM(t.s.ESIMTarget, ForStatus)
	}
}

func (t *turn) backMore() bool {
	switch t.s.Step {
	case StepCountry, StepDestination, StepKinds, StepOrders, StepESIMs, StepCart:
		t.clearFlow()
		t.home(nil)
	case StepPhone, StepCheckingPhone:
		if len(t.s.Results) > 0 {
			t.s.Product, t.s.Phone = nil, ""
			t.results(t.s.Page)
			return true
		}
		t.clearFlow()
		t.home(nil)
	case StepOperators:
		t.s.Phone, t.s.Operators = "", nil
		t.askPhone(t.s.Product)
	case StepCartLine, StepCartPay:
		t.showCart()
	case StepPayBalance:
		t.declineBalance(t.s.Invoice, nil)
	case StepRepay:
		if t.s.RepayCart && len(t.s.Cart) > 0 {
			t.showCart()
			return true
		}
		t.clearFlow()
		t.home(nil)
	case StepOrder:
		t.orders(t.s.OrdersPage)
	case StepReveal:
		t.orderView()
	case StepICCID, StepLoadingESIM, StepESIM:
		t.esims()
	default:
		return false
	}
	return true
}

func (t *turn) failedMore(ev Failed, reason string) {
	lang := t.s.Lang
	switch ev.Op {
	case OpCheckPhone:
		if t.s.Step != StepCheckingPhone {
			return
		}
		var why []Span
		switch ev.Kind {
		case ErrNotFound:
			why = text(lang, "phone.none", t.s.Phone)
		case ErrInvalid:
			why = text(lang, "phone.rejected", t.s.Phone)
		default:
			why = text(lang, "err.phone", reason)
		}
		t.s.Phone = ""
		t.askPhoneWith(t.s.Product, why)
	case OpLoadESIM:
		if t.s.Step != StepLoadingESIM {
			return
		}
		iccid := t.s.ESIMTarget
		cur := t.current()
		t.esims()
		var why []Span
		if ev.Kind == ErrNotFound {
			why = text(lang, "esim.notfound", iccid)
		} else {
			why = text(lang, "err.esim", reason)
		}
		t.out = slices.Insert(t.out, cur, Effect(Reply{Text: why}))
	case OpPay:
		t.payFailed(ev, reason)
	}
}

// productMore runs when a product has loaded, before its card is shown.
func (t *turn) productMore() bool {
	p := t.s.Product
	if t.s.TopUp && p.Kind != KindESIM {
		t.s.TopUp, t.s.Want = false, ""
		t.say(t.tx("esim.not_plan", p.Name))
		t.esims()
		return true
	}
	if want := t.s.Want; want != "" {
		t.s.Want = ""
		for _, pk := range p.Packages {
			if pk.ID == want {
				t.s.Step = StepProduct
				t.pickPackage(want)
				return true
			}
		}
		t.card()
		t.out = slices.Insert(t.out, len(t.out)-1, Effect(Reply{Text: t.tx("esim.no_package", want)}))
		return true
	}
	if p.NeedsPhone && t.s.Phone == "" && p.InStock {
		t.askPhone(p)
		return true
	}
	return false
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
