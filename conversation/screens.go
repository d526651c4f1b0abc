package conversation

// The dialogue's tables: what each step does with typed text, Back and a
// redraw; what each kind of option does; and which commands there are. A new
// screen is its Step, ActionKinds and drawing function in the file of its
// part, and its entries here.

// screen is what one step does with what the user does. A nil typed searches
// for the words; a nil back has nothing to go back to; a nil redraw has no
// menu to show again.
type screen struct {
	typed  func(t *turn, in string)
	back   func(t *turn)
	redraw func(t *turn)
	// shown, when set, tells whether redraw has anything to draw.
	shown func(t *turn) bool
}

var screens map[Step]screen

// actions maps each kind of option to what choosing it does; arg is the
// option's operand.
var actions map[ActionKind]func(t *turn, arg string)

// The tables refer to functions that refer back to them, so they are filled
// in init rather than in their declarations.
func init() {
	screens = map[Step]screen{
		StepIdle:      {},
		StepSearching: {redraw: busySearching},
		StepResults:   {back: backFromResults, redraw: func(t *turn) { t.results(t.s.Page) }},
		StepKinds:     {back: backHome, redraw: (*turn).categories},
		StepLoading:   {back: backFromProduct, redraw: busySearching},
		StepProduct:   {typed: (*turn).typedOnCard, back: backFromProduct, redraw: (*turn).card},
		StepConfirm: {typed: hinted("confirm.hint"), redraw: (*turn).confirm,
			back: func(t *turn) { t.s.Choice = nil; t.card() }},
		StepCreating: {typed: func(t *turn, _ string) { t.creatingWait() }, back: (*turn).creatingWait, redraw: (*turn).creatingWait},
		StepInvoice:  {back: (*turn).cancel, redraw: (*turn).invoiceAgain, shown: invoiceOnScreen},

		StepCart:     {typed: (*turn).typedCartLine, back: backHome, redraw: (*turn).showCart},
		StepCartLine: {typed: (*turn).typedQuantity, back: (*turn).showCart, redraw: func(t *turn) { t.cartLine(t.s.Line) }},
		StepCartPay:  {typed: hinted("hint.menu"), back: (*turn).showCart, redraw: (*turn).cartPay},

		StepPayBalance: {typed: hinted("hint.menu"), back: func(t *turn) { t.declineBalance(t.s.Invoice, nil) },
			redraw: (*turn).balanceAgain, shown: invoiceOnScreen},
		StepRepay: {typed: hinted("hint.menu"), back: backFromRepay, redraw: func(t *turn) { t.repayMenu(nil) }},

		StepOrders: {typed: (*turn).typedOrder, back: backHome, redraw: func(t *turn) { t.orders(t.s.OrdersPage) }},
		StepOrder:  {typed: hinted("hint.menu"), back: func(t *turn) { t.orders(t.s.OrdersPage) }, redraw: (*turn).orderView},
		StepReveal: {typed: hinted("hint.menu"), back: (*turn).orderView, redraw: (*turn).revealAsk},

		StepESIMs:       {typed: (*turn).typedESIMs, back: backHome, redraw: (*turn).esims},
		StepICCID:       {typed: (*turn).typedICCID, back: (*turn).esims, redraw: func(t *turn) { t.askICCID(t.s.ICCIDFor) }},
		StepLoadingESIM: {typed: busyTyped, back: (*turn).esims, redraw: busy},
		StepESIM:        {typed: hinted("hint.menu"), back: (*turn).esims, redraw: func(t *turn) { t.loadESIM(t.s.ESIMTarget, ForStatus) }},

		StepPhone:         {typed: (*turn).typedPhone, back: backFromPhone, redraw: func(t *turn) { t.askPhone(t.s.Product) }},
		StepCheckingPhone: {typed: busyTyped, back: backFromPhone, redraw: busy},
		StepOperators: {typed: hinted("hint.menu"), back: backFromOperators,
			redraw: func(t *turn) { t.operators(t.tx("phone.pick", t.s.Phone)) }},

		StepCountry:     {typed: (*turn).typedCountry, back: backHome, redraw: (*turn).countryAgain},
		StepDestination: {typed: (*turn).typedCountry, back: backHome, redraw: (*turn).countryAgain},
	}

	actions = map[ActionKind]func(t *turn, arg string){
		doHome:   func(t *turn, _ string) { t.clearFlow(); t.home(nil) },
		doHelp:   func(t *turn, _ string) { t.say(t.tx("help")) },
		doBack:   func(t *turn, _ string) { t.back() },
		doCancel: func(t *turn, _ string) { t.cancel() },
		doKind:   func(t *turn, kind string) { t.browseKind(kind) },
		doCategory: func(t *turn, c string) {
			t.browse(KindGiftCard, c, t.s.Country, false)
		},

		doSearch:  func(t *turn, q string) { t.search(q) },
		doAsk:     func(t *turn, _ string) { t.askQuery() },
		doPage:    func(t *turn, n string) { t.results(atoi(n)) },
		doProduct: func(t *turn, id string) { t.say(t.tx("loading", t.resultName(id))); t.load(id) },

		doPackage: func(t *turn, id string) { t.pickPackage(id) },
		doAmount:  (*turn).quickPick,

		doMethod:  func(t *turn, m string) { t.createInvoice(m) },
		doRetry:   func(t *turn, _ string) { t.confirm() },
		doRefresh: func(t *turn, id string) { t.out = append(t.out, RefreshInvoice{InvoiceID: id}) },
		doSimulate: func(t *turn, id string) {
			t.say(t.tx("simulating"))
			t.out = append(t.out, SimulatePayment{InvoiceID: id})
		},

		doAddCart:    func(t *turn, _ string) { t.addToCart() },
		doCart:       func(t *turn, _ string) { t.showCart() },
		doCartLine:   func(t *turn, n string) { t.cartLine(atoi(n)) },
		doQty:        func(t *turn, n string) { t.setQuantity(atoi(n)) },
		doRemove:     func(t *turn, _ string) { t.removeLine() },
		doEmpty:      func(t *turn, _ string) { t.emptyAsk() },
		doEmptyYes:   func(t *turn, _ string) { t.emptyCart() },
		doCheckout:   func(t *turn, _ string) { t.cartPay() },
		doCartMethod: func(t *turn, m string) { t.cartCheckout(m) },

		doPay:     func(t *turn, id string) { t.payBalance(id) },
		doDecline: func(t *turn, id string) { t.declineBalance(id, nil) },
		doRepay:   func(t *turn, m string) { t.repay(m) },

		doOrders:    func(t *turn, n string) { t.orders(atoi(n)) },
		doOrder:     func(t *turn, id string) { t.s.Invoice = id; t.orderView() },
		doRevealAsk: func(t *turn, _ string) { t.revealAsk() },
		doReveal:    func(t *turn, id string) { t.revealGo(id) },

		doESIMs:    func(t *turn, _ string) { t.esims() },
		doESIM:     func(t *turn, iccid string) { t.loadESIM(iccid, ForStatus) },
		doTopUp:    func(t *turn, iccid string) { t.topUp(iccid) },
		doICCIDAsk: func(t *turn, p string) { t.askICCID(ICCIDPurpose(p)) },
		doDest:     func(t *turn, _ string) { t.countryPicker(StepDestination, 0) },

		doPhoneAsk:  func(t *turn, _ string) { t.phoneAgain() },
		doOperator:  func(t *turn, id string) { t.say(t.tx("loading", t.operatorName(id))); t.load(id) },
		doCountry:   func(t *turn, code string) { t.setCountry(code) },
		doCountryPg: func(t *turn, n string) { t.countryPicker(t.s.Step, atoi(n)) },
		doCountryAsk: func(t *turn, _ string) {
			t.clearFlow()
			t.countryPicker(StepCountry, 0)
		},
		doLang: func(t *turn, code string) { t.setLang(code) },
	}

	commands = []command{
		// Listed: the platforms' command menus, in this order.
		{name: "start", run: (*turn).start, listed: true, help: "cmd.start"},
		{name: "search", run: (*turn).searchCommand, listed: true, help: "cmd.search"},
		{name: "cart", run: func(t *turn, _ string) { t.showCart() }, listed: true, help: "cmd.cart"},
		{name: "orders", run: (*turn).ordersCommand, listed: true, help: "cmd.orders"},
		{name: "esims", run: func(t *turn, _ string) { t.esims() }, listed: true, help: "cmd.esims"},
		{name: "country", run: (*turn).countryCommand, listed: true, help: "cmd.country"},
		{name: "language", run: (*turn).languageCommand, listed: true, help: "cmd.language"},
		{name: "help", run: func(t *turn, _ string) { t.say(t.tx("help")) }, listed: true, help: "cmd.help"},
		{name: "cancel", run: func(t *turn, _ string) { t.cancel() }, listed: true, help: "cmd.cancel"},
		// Understood but not listed: the help text names them, links use them.
		{name: "buy", run: (*turn).buyCommand, help: "cmd.buy"},
		{name: "esim", run: (*turn).esimsCommand, help: "cmd.esim"},
		{name: "topup", run: (*turn).topupCommand},
		{name: "phone", run: func(t *turn, _ string) { t.clearFlow(); t.askPhone(nil) }},
		{name: "back", run: func(t *turn, _ string) { t.back() }},
		{name: "history", run: (*turn).ordersCommand, help: "cmd.orders"},
		{name: "lang", run: (*turn).languageCommand, help: "cmd.language"},
		{name: "idioma", run: (*turn).languageCommand, help: "cmd.language"},
	}
}

// hinted answers text typed at a menu that expects a tap: words may be a
// product name, so a search is offered; anything else gets the hint and the
// menu again.
func hinted(hint Msg) func(t *turn, in string) {
	return func(t *turn, in string) {
		if looksLikeWords(in) {
			t.offerSearch(in, t.tx(hint))
			return
		}
		t.say(t.tx(hint))
		t.redraw()
	}
}

// busy answers while the shell looks something up for this step.
func busy(t *turn) { t.say(t.tx("busy")) }

func busyTyped(t *turn, _ string) { busy(t) }

func busySearching(t *turn) { t.say(t.tx("busy.search")) }

func backHome(t *turn) {
	t.clearFlow()
	t.home(nil)
}

func invoiceOnScreen(t *turn) bool { return t.purchase(t.s.Invoice) != nil }

// command is one command the dialogue answers.
type command struct {
	name string
	run  func(t *turn, args string)
	// listed puts it in the platforms' command menus, described by help.
	listed bool
	help   Msg
}

var commands []command

// CommandInfo is one command as a platform's command menu lists it.
type CommandInfo struct {
	Name        string
	Description string
}

// Commands lists the commands with their descriptions in lang, for
// platforms that register a command menu (Telegram setMyCommands, Discord
// slash commands).
func Commands(lang string) []CommandInfo {
	var out []CommandInfo
	for _, c := range commands {
		if c.listed {
			out = append(out, CommandInfo{Name: c.name, Description: lookup(lang, c.help)})
		}
	}
	return out
}
