package conversation

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Engine holds the operator's settings that shape the dialogue. It has no
// mutable state: one Engine serves every session concurrently.
type Engine struct {
	// Methods are the payment methods offered, in order (Bitrefill's names).
	Methods []string
	// Sandbox marks every invoice as test money and offers a simulated payment.
	Sandbox bool
	// PageSize is how many search results one menu shows (default 8).
	PageSize int
	// Balance lists who may pay from the operator's account balance.
	Balance BalancePolicy
	// IdleAfter ends a flow left alone this long (0: never); purchases,
	// the cart and the history are kept.
	IdleAfter time.Duration
}

const (
	maxQueryLen     = 100 // Bitrefill's limit for /products/search
	defaultPageSize = 8
	maxPackageOpts  = 20
)

// action names kept in State.Actions.
const (
	doSearch   ActionKind = "search"
	doAsk      ActionKind = "ask"
	doPage     ActionKind = "page"
	doProduct  ActionKind = "product"
	doPackage  ActionKind = "package"
	doMethod   ActionKind = "method"
	doBack     ActionKind = "back"
	doCancel   ActionKind = "cancel"
	doHelp     ActionKind = "help"
	doRetry    ActionKind = "retry"
	doRefresh  ActionKind = "refresh"
	doSimulate ActionKind = "simulate"
)

// turn is the scratch space of one Step.
type turn struct {
	e   Engine
	s   State
	now time.Time
	out []Effect
	// aside, when set, goes into the next menu drawn (offerSearch).
	aside *aside
}

func (t *turn) say(spans []Span) { t.out = append(t.out, Reply{Text: spans}) }

func (t *turn) tx(key Msg, args ...string) []Span { return text(t.s.Lang, key, args...) }

// menu sends a message whose options replace the current menu.
func (t *turn) menu(spans []Span, expect Expect, actions []Action, labels []string) {
	t.out = append(t.out, t.menuReply(spans, expect, actions, labels))
}

// menuReply makes the options of a message the current menu.
func (t *turn) menuReply(spans []Span, expect Expect, actions []Action, labels []string) Reply {
	if a := t.aside; a != nil {
		t.aside = nil
		spans = append(slices.Clone(a.why), append([]Span{{Text: "\n\n"}}, spans...)...)
		actions = append(slices.Clone(actions), Action{Do: doSearch, Arg: a.query})
		labels = append(slices.Clone(labels), a.label)
	}
	t.s.Menu++
	t.s.Actions = actions
	opts := make([]Option, len(actions))
	// Every token is a slice of one string: a menu costs one allocation for
	// its tokens however many options it has.
	var buf [256]byte
	b := buf[:0]
	var endsBuf [32]int
	ends := endsBuf[:0]
	if len(actions) > len(endsBuf) {
		ends = make([]int, 0, len(actions))
	}
	for i := range actions {
		b = append(b, t.s.Nonce...)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(t.s.Menu), 36)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(i), 10)
		ends = append(ends, len(b))
	}
	all, start := string(b), 0
	for i := range actions {
		opts[i] = Option{Label: truncate(labels[i], maxLabel), Token: all[start:ends[i]]}
		start = ends[i]
	}
	return Reply{Text: spans, Options: opts, Expect: expect, Menu: true}
}

// options is a small builder for a menu's actions and labels.
type options struct {
	acts   []Action
	labels []string
}

func (o *options) add(label string, do ActionKind, arg string) {
	if o.acts == nil {
		// Most menus have a handful of options: grow once, not four times.
		o.acts, o.labels = make([]Action, 0, 8), make([]string, 0, 8)
	}
	o.acts = append(o.acts, Action{Do: do, Arg: arg})
	o.labels = append(o.labels, label)
}

func (t *turn) opt(o *options, key Msg, do ActionKind) { o.add(lookup(t.s.Lang, key), do, "") }

// clearFlow forgets the purchase in progress but never the purchases made,
// nor a checkout being paid.
func (t *turn) clearFlow() { t.s.Flow = Flow{} }

func (t *turn) start(payload string) {
	t.clearFlow()
	if id := strings.TrimSpace(payload); id != "" && validProductID(id) {
		t.load(id)
		return
	}
	spans := t.tx("welcome")
	if t.e.Sandbox {
		spans = appendText(spans, t.s.Lang, "welcome.sandbox")
	}
	t.welcomeMenu(spans)
}

// validProductID accepts the characters Bitrefill uses in slugs, so a deep-link
// payload cannot smuggle anything else into an API path.
func validProductID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// creatingWait answers anything said while the invoice is being made. It
// offers Cancel, so a session left waiting by a crash is never stuck.
func (t *turn) creatingWait() {
	var o options
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(t.tx("creating.wait"), ExpectNothing, o.acts, o.labels)
}

// looksLikeWords tells a product name typed mid-flow from a mistyped number.
func looksLikeWords(s string) bool {
	letters, digits := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
	}
	return letters >= 2 && letters > digits
}

func (t *turn) token(i int) string {
	return t.s.Nonce + "." + strconv.FormatInt(int64(t.s.Menu), 36) + "." + strconv.Itoa(i)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (t *turn) search(q string) { t.searchKind(q, "") }

// searchKind searches among products of one kind ("" for all).
func (t *turn) searchKind(q, kind string) {
	q = strings.Join(strings.Fields(q), " ")
	if q == "" {
		t.say(t.tx("ask.query"))
		return
	}
	if utf8.RuneCountInString(q) > maxQueryLen {
		t.say(t.tx("query.too_long", strconv.Itoa(maxQueryLen)))
		return
	}
	t.clearFlow()
	t.s.Step, t.s.Query = StepSearching, q
	t.s.Actions = nil
	t.say(t.tx("searching", q))
	// An unconfirmed guess from the locale still beats no country for
	// ranking: it only orders results, it never hides any.
	country := t.s.Country
	if country == "" {
		country = t.s.CountryGuess
	}
	t.out = append(t.out, SearchProducts{Query: q, Kind: kind, Country: country})
}

func (t *turn) load(id string) {
	t.s.Step, t.s.Loading = StepLoading, id
	t.s.Actions = nil
	t.out = append(t.out, LoadProduct{ID: id})
}

func (t *turn) cancel() {
	if t.s.Step == StepPayBalance {
		t.abandonBalance(t.s.Invoice) // not paid: the cart gets its lines back
	}
	if t.s.Step == StepInvoice {
		t.clearFlow()
		t.s.Actions = nil
		t.say(t.tx("cancelled.invoice"))
		return
	}
	t.clearFlow()
	t.s.Actions = nil
	t.say(t.tx("cancelled"))
}

// resolve maps a token to the action it names in the current menu.
func (t *turn) resolve(token string) (Action, bool) {
	rest, ok := strings.CutPrefix(token, t.s.Nonce+".")
	if !ok || t.s.Nonce == "" {
		return Action{}, false
	}
	menu, idx, ok := strings.Cut(rest, ".")
	if !ok {
		return Action{}, false
	}
	m, err := strconv.ParseInt(menu, 36, 64)
	if err != nil || int(m) != t.s.Menu {
		return Action{}, false
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(t.s.Actions) {
		return Action{}, false
	}
	return t.s.Actions[i], true
}

func (t *turn) resultName(id string) string {
	for _, r := range t.s.Results {
		if r.ID == id {
			return r.Name
		}
	}
	return id
}

func (t *turn) productsFound(ev ProductsFound) {
	if t.s.Step != StepSearching || ev.Query != t.s.Query {
		return // an answer to a search the user has moved on from
	}
	if len(ev.Products) == 0 {
		t.noResults()
		return
	}
	t.s.Results = ev.Products
	t.results(0)
}

func (t *turn) pageSize() int {
	if t.e.PageSize > 0 {
		return t.e.PageSize
	}
	return defaultPageSize
}

func (t *turn) results(page int) {
	size := t.pageSize()
	pages := (len(t.s.Results) + size - 1) / size
	page = max(0, min(page, pages-1))
	t.s.Step, t.s.Page = StepResults, page
	var o options
	for _, r := range t.s.Results[page*size : min(len(t.s.Results), (page+1)*size)] {
		label := r.Name
		if r.Country != "" && !strings.Contains(strings.ToUpper(r.Name), r.Country) {
			label += " (" + r.Country + ")"
		}
		if !r.InStock {
			label = strings.Replace(lookup(t.s.Lang, "result.out"), "{1}", label, 1)
		}
		o.add(label, doProduct, r.ID)
	}
	t.pager(&o, page, pages, doPage)
	t.resultsExtra(&o)
	t.opt(&o, "opt.search", doAsk)
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(t.resultsTitle(page+1, pages), ExpectQuery, o.acts, o.labels)
}

// pager adds "‹ Previous" and "Next ›" after a page's items: both, always in
// that order, whenever there is more than one page (they wrap around), so
// the navigation never moves under the user's finger from page to page.
func (t *turn) pager(o *options, page, pages int, do ActionKind) {
	if pages <= 1 {
		return
	}
	o.add(lookup(t.s.Lang, "opt.prev"), do, strconv.Itoa((page+pages-1)%pages))
	o.add(lookup(t.s.Lang, "opt.next"), do, strconv.Itoa((page+1)%pages))
}

// card shows the product and what values can be bought.
func (t *turn) card() { t.cardWith(nil) }

// refuse explains a bad value in place of the card's text, with its options.
func (t *turn) refuse(why []Span) { t.cardWith(why) }

func (t *turn) cardWith(why []Span) {
	p := t.s.Product
	if p == nil {
		t.clearFlow()
		t.say(t.tx("ask.query"))
		return
	}
	t.s.Step = StepProduct
	lang := t.s.Lang
	spans := t.tx("product.title", p.Name)
	spans = appendText(spans, lang, "product.facts", t.productCountry(p), p.Currency, lookup(lang, Msg("kind."+p.Kind)))
	if p.InStock {
		spans = appendText(spans, lang, "product.in_stock")
	}
	spans = t.cardExtra(spans)
	var o options
	expect := ExpectNothing
	switch {
	case !p.InStock:
		spans = appendText(spans, lang, "product.out", p.Name)
	case p.NeedsPhone && t.s.Phone == "":
		spans = appendText(spans, lang, "product.phone", p.Name)
	case len(p.Packages) == 0 && p.Range == nil:
		spans = appendText(spans, lang, "product.unpriced", p.Name)
	default:
		if len(p.Packages) > 0 {
			labels := make([]string, 0, len(p.Packages))
			for i, pk := range p.Packages {
				labels = append(labels, pk.Label)
				if i < maxPackageOpts {
					o.add(packageLabel(pk, p.Currency), doPackage, pk.ID)
				}
			}
			money := currencyIfMoney(p)
			spans = appendText(spans, lang, "product.packages", strings.Join(labels, listSep(money)), money)
			if money != "" {
				// A typed "5" must mean 5 EUR, never option 5: the shell reads
				// digits as an amount (and letters the options) only when told.
				expect = ExpectAmount
			}
		}
		if r := p.Range; r != nil {
			spans = appendText(spans, lang, "product.range", r.Min.String(), r.Max.String(), p.Currency, t.stepText(*r))
			expect = ExpectAmount
			if len(p.Packages) == 0 {
				for _, a := range quickPicks(*r) {
					o.add(a.String()+" "+p.Currency, doAmount, strconv.FormatInt(int64(a), 10))
				}
			}
		}
		switch {
		case p.Range != nil && (len(p.Packages) > 0 || len(quickPicks(*p.Range)) > 0):
			spans = appendText(spans, lang, "product.pick.type", example(p))
		case p.Range != nil:
			spans = appendText(spans, lang, "product.type", example(p))
		default:
			spans = appendText(spans, lang, "product.pick")
		}
	}
	t.opt(&o, "opt.back", doBack)
	t.opt(&o, "opt.cancel", doCancel)
	if why != nil {
		spans = why
	}
	t.menu(spans, expect, o.acts, o.labels)
}

// productCountry names a product's country for people: "Germany (DE)".
func (t *turn) productCountry(p *Product) string {
	if p.Country == "" {
		return "—"
	}
	if name := countryName(t.s.Lang, p.Country); name != "" && !strings.EqualFold(name, p.Country) {
		return name + " (" + strings.ToUpper(p.Country) + ")"
	}
	return p.Country
}

// quickPicks are a few round values a range accepts, offered as options so
// that a range product can be bought with taps alone.
func quickPicks(r Range) []Amount {
	var valid []Amount
	for _, u := range []Amount{5, 10, 15, 20, 25, 30, 50, 75, 100, 150, 200, 250, 500, 1000, 2000, 5000} {
		if a := u * 100; r.Valid(a) {
			valid = append(valid, a)
		}
	}
	if len(valid) < 2 {
		valid = valid[:0]
		for _, a := range []Amount{r.Min, r.Max} {
			if r.Valid(a) && !slices.Contains(valid, a) {
				valid = append(valid, a)
			}
		}
		return valid
	}
	if len(valid) <= 4 {
		return valid
	}
	n := len(valid) - 1
	return []Amount{valid[0], valid[n/3], valid[2*n/3], valid[n]}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func packageLabel(pk Package, currency string) string {
	if pk.Amount > 0 {
		return pk.Amount.String() + " " + currency
	}
	return pk.Label
}

// listSep joins values: plan names such as "5GB, 30 Days" contain commas, so
// a list of them needs a separator that cannot be mistaken for part of one.
func listSep(money string) string {
	if money == "" {
		return " · "
	}
	return ", "
}

func currencyIfMoney(p *Product) string {
	for _, pk := range p.Packages {
		if pk.Amount == 0 {
			return "" // plan names such as "5GB, 30 Days" carry no currency
		}
	}
	return " " + p.Currency
}

func (t *turn) stepText(r Range) string {
	if r.Step <= 0 || r.Step == 100 && r.Min%100 == 0 {
		return "" // whole units: nothing to explain
	}
	return strings.Replace(lookup(t.s.Lang, "product.range.step"), "{1}", r.Step.String(), 1)
}

// example picks a typical valid amount to show in hints.
func example(p *Product) string {
	if r := p.Range; r != nil {
		a := r.Min
		if want := Amount(2500); r.Valid(want) {
			a = want
		} else if _, above := r.Nearest(want); above != 0 {
			a = above
		}
		return a.String()
	}
	for _, pk := range p.Packages {
		if pk.Amount > 0 {
			return pk.Amount.String()
		}
	}
	return "25"
}

func (t *turn) pickPackage(id string) {
	p := t.s.Product
	if p == nil || t.s.Step != StepProduct {
		t.stale()
		return
	}
	for _, pk := range p.Packages {
		if pk.ID == id {
			t.s.Choice = &Choice{PackageID: pk.ID, Label: packageLabel(pk, p.Currency), Amount: pk.Amount}
			t.confirm()
			return
		}
	}
	t.stale()
}

// typedAmount checks a typed value against the product on the card; every
// refusal names what would be accepted.
func (t *turn) typedAmount(in string) {
	p := t.s.Product
	if p == nil {
		t.search(in)
		return
	}
	lang, ex := t.s.Lang, example(p)
	if !p.InStock || p.NeedsPhone && t.s.Phone == "" || (p.Range == nil && len(p.Packages) == 0) {
		t.search(in) // nothing to type an amount for: the words are a new search
		return
	}
	a, prob := ParseAmount(in, p.Currency)
	var why []Span
	switch prob {
	case AmountEmpty:
		why = t.tx("amount.empty", ex)
	case AmountNotANumber:
		why = t.tx("amount.nan", truncate(in, 40), ex)
		if looksLikeWords(in) {
			t.offerSearch(in, t.withValid(why))
			return
		}
	case AmountNegative:
		why = t.tx("amount.negative", ex)
	case AmountZero:
		why = t.tx("amount.zero", ex)
	case AmountTooPrecise:
		why = t.tx("amount.precise", ex)
	case AmountAmbiguous:
		if th, dec := AmbiguousReadings(a); dec != "" {
			why = t.tx("amount.ambiguous", truncate(in, 40), th, dec)
		} else {
			why = t.tx("amount.ambiguous.thousands", truncate(in, 40), th)
		}
	case AmountTooLarge:
		why = t.tx("amount.large", p.Name, maxOf(p).String(), p.Currency)
	case AmountWrongMoney:
		why = t.tx("amount.currency", p.Name, p.Currency, ex)
	}
	if why != nil {
		t.refuse(t.withValid(why))
		return
	}
	// A typed value equal to a package buys that package.
	for _, pk := range p.Packages {
		if pk.Amount == a {
			t.s.Choice = &Choice{PackageID: pk.ID, Label: packageLabel(pk, p.Currency), Amount: a}
			t.confirm()
			return
		}
	}
	r := p.Range
	if r == nil {
		labels := make([]string, 0, len(p.Packages))
		for _, pk := range p.Packages {
			labels = append(labels, pk.Label)
		}
		t.refuse(t.tx("amount.packages", p.Name, strings.Join(labels, listSep(currencyIfMoney(p))), currencyIfMoney(p)))
		return
	}
	switch {
	case a < r.Min:
		t.refuse(t.withValid(text(lang, "amount.below", a.String(), p.Currency, r.Min.String())))
	case a > r.Max:
		t.refuse(t.withValid(text(lang, "amount.above", a.String(), p.Currency, r.Max.String())))
	case !r.Valid(a):
		below, above := r.Nearest(a)
		near := below.String()
		if above != 0 {
			near += lookup(lang, "or") + above.String()
		}
		t.refuse(text(lang, "amount.step", a.String(), p.Currency, r.Min.String(), r.Step.String(), near, r.Max.String()))
	default:
		t.s.Choice = &Choice{Label: a.String() + " " + p.Currency, Amount: a}
		t.confirm()
	}
}

func maxOf(p *Product) Amount {
	var m Amount
	if p.Range != nil {
		m = p.Range.Max
	}
	for _, pk := range p.Packages {
		m = max(m, pk.Amount)
	}
	return m
}

// withValid appends the valid range to a refusal.
func (t *turn) withValid(why []Span) []Span {
	p := t.s.Product
	if p == nil || p.Range == nil {
		return why
	}
	return appendText(slices.Clone(why), t.s.Lang, "amount.valid", p.Range.Min.String(), p.Range.Max.String(), p.Currency, t.stepText(*p.Range))
}

func (t *turn) confirm() {
	p, c := t.s.Product, t.s.Choice
	if p == nil || c == nil {
		t.back()
		return
	}
	t.s.Step = StepConfirm
	var o options
	for _, m := range t.methods() {
		o.add(methodName(t.s.Lang, m), doMethod, m)
	}
	t.opt(&o, "opt.add_cart", doAddCart)
	t.opt(&o, "opt.back", doBack)
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(t.confirmText(p, c), ExpectNothing, o.acts, o.labels)
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

func (t *turn) checkoutID() string { return t.s.Nonce + "-" + strconv.Itoa(t.s.Checkouts) }

func (t *turn) summary() string {
	if p, c := t.s.Product, t.s.Choice; p != nil && c != nil {
		return p.Name + " — " + c.Label
	}
	return ""
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

func (t *turn) purchase(id string) *Purchase {
	for i := range t.s.Purchases {
		if t.s.Purchases[i].Invoice.ID == id {
			return &t.s.Purchases[i]
		}
	}
	return nil
}

// invoiceView shows what to pay, where, until when, and the status.
func (t *turn) invoiceView(inv Invoice, summary string) {
	lang := t.s.Lang
	var spans []Span
	if t.e.Sandbox {
		spans = text(lang, "invoice.sandbox")
	}
	spans = appendText(spans, lang, "invoice.title", summary)
	if inv.Price != "" {
		spans = appendText(spans, lang, "invoice.pay", inv.Price, inv.PriceCurrency)
	}
	switch {
	case inv.Method == "lightning" && inv.PaymentURI != "":
		spans = appendText(spans, lang, "invoice.request", strings.TrimPrefix(inv.PaymentURI, "lightning:"))
	case inv.Address != "":
		spans = appendText(spans, lang, "invoice.address", inv.Address)
	}
	if !inv.Expires.IsZero() {
		when := inv.Expires.UTC().Format("2006-01-02 15:04 UTC")
		if left := inv.Expires.Sub(t.now); left > 0 && inv.Status == StatusUnpaid {
			spans = appendText(spans, lang, "invoice.expires", when, t.duration(left))
		} else if inv.Status == StatusUnpaid || inv.Status == StatusExpired {
			spans = appendText(spans, lang, "invoice.expired_at", when)
		}
	}
	spans = appendText(spans, lang, "invoice.status", lookup(lang, statusMsg(inv.Status)))
	if inv.Status == StatusUnpaid && inv.Method != methodBalance {
		spans = appendText(spans, lang, "invoice.scan")
	}
	var o options
	o.add(lookup(lang, "opt.refresh"), doRefresh, inv.ID)
	if t.e.Sandbox && inv.Status == StatusUnpaid {
		o.add(lookup(lang, "opt.simulate"), doSimulate, inv.ID)
	}
	t.opt(&o, "opt.search", doAsk)
	t.out = append(t.out, markView(t.menuReply(spans, ExpectQuery, o.acts, o.labels), inv))
}

func (t *turn) duration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m >= 60 {
		return strings.NewReplacer("{1}", strconv.Itoa(m/60), "{2}", strconv.Itoa(m%60)).Replace(lookup(t.s.Lang, "unit.h"))
	}
	return strings.Replace(lookup(t.s.Lang, "unit.m"), "{1}", strconv.Itoa(max(m, 1)), 1)
}

func statusMsg(status string) Msg {
	switch status {
	case StatusUnpaid:
		return "status.unpaid"
	case StatusPaymentDetected:
		return "status.detected"
	case StatusPaymentConfirmed, StatusPending:
		return "status.confirmed"
	case StatusComplete:
		return "status.complete"
	case StatusBlocked:
		return "status.blocked"
	case StatusDenied:
		return "status.denied"
	case StatusAbandoned:
		return "status.abandoned"
	case StatusPaymentError:
		return "status.error"
	case StatusExpired:
		return "status.expired"
	}
	return Msg("status." + status)
}

// Step applies one event to a session and returns the new state and what the
// shell must do. It never mutates the slices of the state it is given.
func (e Engine) Step(s State, ev Event, now time.Time) (State, []Effect) {
	s = Migrate(s)
	if s.Lang == "" {
		s.Lang = DefaultLang
	}
	s.Purchases = slices.Clone(s.Purchases)
	t := turn{e: e, s: s, now: now, out: make([]Effect, 0, 4)}
	switch ev := ev.(type) {
	case Start:
		if !t.expired(ev) {
			t.start(ev.Payload)
		}
	case Command:
		if !t.expired(ev) {
			t.command(strings.ToLower(ev.Name), strings.TrimSpace(ev.Args))
		}
	case Text:
		if !t.expired(ev) {
			t.text(ev.Text)
		}
	case Chose:
		if !t.expired(ev) {
			t.chose(ev.Token)
		}
	case ProductsFound:
		t.productsFound(ev)
	case ProductLoaded:
		t.productLoaded(ev.Product)
	case PhoneChecked:
		t.phoneChecked(ev)
	case ESIMLoaded:
		t.esimLoaded(ev.ESIM)
	case InvoiceCreated:
		t.invoiceCreated(ev)
	case InvoiceUpdated:
		t.invoiceUpdate(ev)
	case Failed:
		t.failed(ev)
	}
	return t.s, t.out
}

// expired keeps the last-seen time and ends a flow left idle too long. It
// reports whether the event was fully answered: a tap on an option of the
// expired flow gets the home menu instead.
func (t *turn) expired(ev Event) bool {
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
}

func (t *turn) command(name, args string) {
	for _, c := range commands {
		if c.name == name {
			c.run(t, args)
			return
		}
	}
	t.say(t.tx("unknown.command", name))
}

// text handles typed words. A few bare words work like commands because people
// type them; anything else means what the current step expects.
func (t *turn) text(raw string) {
	in := strings.TrimSpace(raw)
	switch strings.ToLower(in) {
	case "cancel", "stop":
		t.cancel()
		return
	case "back":
		t.back()
		return
	case "help", "?":
		t.say(t.tx("help"))
		return
	case "menu", "start":
		t.start("")
		return
	}
	if t.s.LangMenu != 0 && t.s.LangMenu == t.s.Menu {
		if code, ok := parseLang(in); ok {
			t.s.LangMenu = 0
			t.setLang(code)
			return
		}
	}
	if typed := screens[t.s.Step].typed; typed != nil {
		typed(t, in)
		return
	}
	t.search(in)
}

func (t *turn) back() {
	if back := screens[t.s.Step].back; back != nil {
		back(t)
		return
	}
	t.say(t.tx("nothing.to.go.back"))
}

func (t *turn) chose(token string) {
	a, ok := t.resolve(token)
	if !ok {
		t.stale()
		return
	}
	if do := actions[a.Do]; do != nil {
		do(t, a.Arg)
	}
}

// stale answers an option from an old or foreign menu with the current one.
func (t *turn) stale() {
	if !t.drawable() {
		t.say(t.tx("expired.none"))
		return
	}
	t.say(t.tx("expired.menu"))
	t.redraw()
}

// drawable tells whether the current step has a menu to show again.
func (t *turn) drawable() bool {
	sc := screens[t.s.Step]
	return sc.redraw != nil && (sc.shown == nil || sc.shown(t))
}

// redraw shows the current step's menu again, with fresh tokens.
func (t *turn) redraw() {
	if t.drawable() {
		screens[t.s.Step].redraw(t)
	}
}

// offerSearch answers text that may be a product name typed mid-flow: it keeps
// the current step and adds a one-tap way to search instead. The step's menu
// is drawn with the explanation first and the offer after its options, so the
// step's own options keep their numbers.
func (t *turn) offerSearch(q string, why []Span) {
	if utf8.RuneCountInString(q) > maxQueryLen || !t.drawable() {
		t.say(why)
		return
	}
	label := strings.Replace(lookup(t.s.Lang, "offer.search"), "{1}", truncate(q, 30), 1)
	t.aside = &aside{why: why, query: q, label: label}
	t.redraw()
	if t.aside != nil { // the step drew no menu after all
		t.aside = nil
		t.say(why)
	}
}

// aside is an offer to search instead, drawn into the next menu.
type aside struct {
	why          []Span
	query, label string
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// failed explains an operation that did not work and shows where the user
// stands, if the answer is still awaited.
func (t *turn) failed(ev Failed) {
	lang := t.s.Lang
	reason := lookup(lang, Msg("err."+string(ev.Kind)))
	if ev.Kind == ErrRateLimited {
		secs := int(ev.RetryAfter.Round(time.Second) / time.Second)
		reason = strings.Replace(reason, "{1}", strconv.Itoa(max(secs, 1)), 1)
	}
	if reason == "err."+string(ev.Kind) {
		reason = lookup(lang, "err.internal")
	}
	switch ev.Op {
	case OpSearch:
		t.searchFailed(reason)
	case OpLoadProduct:
		t.productFailed(reason)
	case OpCreateInvoice:
		t.invoiceFailed(reason)
	case OpRefreshInvoice:
		t.say(text(lang, "err.refresh", reason))
	case OpSimulatePayment:
		t.say(text(lang, "err.simulate", reason))
	case OpCheckPhone:
		t.phoneFailed(ev, reason)
	case OpLoadESIM:
		t.esimFailed(ev, reason)
	case OpPay:
		t.payFailed(ev, reason)
	}
}

func (t *turn) productLoaded(p Product) {
	if t.s.Step != StepLoading || p.ID != t.s.Loading {
		return
	}
	t.s.Loading = ""
	t.s.Product = &p
	t.s.Choice = nil
	if t.s.TopUp && p.Kind != KindESIM {
		t.s.TopUp, t.s.Want = false, ""
		t.say(t.tx("esim.not_plan", p.Name))
		t.esims()
		return
	}
	if want := t.s.Want; want != "" {
		// The topup command named a package: pick it at once.
		t.s.Want = ""
		for _, pk := range p.Packages {
			if pk.ID == want {
				t.s.Step = StepProduct
				t.pickPackage(want)
				return
			}
		}
		t.say(t.tx("esim.no_package", want))
		t.card()
		return
	}
	if p.NeedsPhone && t.s.Phone == "" && p.InStock {
		t.askPhone(t.s.Product)
		return
	}
	t.card()
}

// invoiceUpdate answers news of an invoice: the history, a cart given back,
// a balance payment seen, codes asked for again, and then the purchase.
func (t *turn) invoiceUpdate(ev InvoiceUpdated) {
	t.historyUpdate(ev.Invoice)
	t.unpaidEnd(ev.Invoice)
	t.balanceDetected(ev.Invoice)
	if ev.Reveal {
		t.reveal(ev.Invoice)
		return
	}
	if t.purchase(ev.Invoice.ID) == nil && t.s.Step == StepOrder && t.s.Invoice == ev.Invoice.ID {
		if ev.Requested {
			t.orderView()
		}
		return
	}
	t.invoiceUpdated(ev.Invoice, ev.Requested)
}

func backFromResults(t *turn) {
	if t.backFromBrowse() {
		return
	}
	t.clearFlow()
	t.s.Actions = nil
	t.home(nil) // options to go on with, not a bare question
}

func backFromProduct(t *turn) {
	if len(t.s.Results) > 0 {
		t.s.Product, t.s.Choice, t.s.Loading = nil, nil, ""
		t.results(t.s.Page)
		return
	}
	t.clearFlow()
	t.s.Actions = nil
	t.say(t.tx("ask.query"))
}

func backFromPhone(t *turn) {
	if len(t.s.Results) > 0 {
		t.s.Product, t.s.Phone = nil, ""
		t.results(t.s.Page)
		return
	}
	t.clearFlow()
	t.home(nil)
}

func backFromOperators(t *turn) {
	t.s.Phone, t.s.Operators = "", nil
	t.askPhone(t.s.Product)
}

func backFromRepay(t *turn) {
	if t.s.RepayCart && len(t.s.Cart) > 0 {
		t.showCart()
		return
	}
	t.clearFlow()
	t.home(nil)
}

// typedOnCard reads a phone number while the card waits for one, else an amount.
func (t *turn) typedOnCard(in string) {
	if p := t.s.Product; p != nil && p.NeedsPhone && t.s.Phone == "" && p.InStock {
		t.typedPhone(in)
		return
	}
	t.typedAmount(in)
}

func (t *turn) invoiceAgain() {
	if p := t.purchase(t.s.Invoice); p != nil {
		t.invoiceView(p.Invoice, p.Summary)
	}
}

func (t *turn) balanceAgain() {
	if p := t.purchase(t.s.Invoice); p != nil {
		t.balanceConfirm(p.Invoice, p.Summary)
	}
}

// typedCartLine opens a line by its number, as the list shows them numbered.
func (t *turn) typedCartLine(in string) {
	if n, ok := listNumber(in, len(t.s.Cart)); ok {
		t.cartLine(n - 1)
		return
	}
	t.search(in)
}

func (t *turn) typedOrder(in string) {
	if n, ok := listNumber(in, len(t.s.History)); ok {
		t.s.Invoice = t.s.History[len(t.s.History)-n].Invoice
		t.orderView()
		return
	}
	t.search(in)
}

// typedESIMs opens an eSIM by its ICCID or its number in the list.
func (t *turn) typedESIMs(in string) {
	if id, prob := NormalizeICCID(in); prob == ICCIDOK {
		t.loadESIM(id, ForStatus)
		return
	}
	if n, ok := listNumber(in, len(t.s.ESIMs)); ok {
		t.loadESIM(t.s.ESIMs[n-1].ICCID, ForStatus)
		return
	}
	t.search(in)
}

func (t *turn) countryAgain() { t.countryPicker(t.s.Step, t.s.CountryPage) }

func (t *turn) askQuery() {
	t.clearFlow()
	t.s.Actions = nil
	t.say(t.tx("ask.query"))
}

func (t *turn) searchCommand(args string) {
	if args == "" {
		t.clearFlow()
		t.say(t.tx("ask.query"))
		return
	}
	t.search(args)
}

func (t *turn) ordersCommand(string) { t.orders(0) }

func (t *turn) esimsCommand(args string) {
	if args == "" {
		t.esims()
		return
	}
	t.esimCommand(args)
}

// quickPick is a value offered on a range product's card.
func (t *turn) quickPick(arg string) {
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || t.s.Step != StepProduct || t.s.Product == nil {
		t.stale()
		return
	}
	t.typedAmount(Amount(n).String())
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

// phoneAgain asks for a phone number, keeping a card that needs one.
func (t *turn) phoneAgain() {
	keep := t.s.Product
	if keep != nil && !keep.NeedsPhone {
		keep = nil
	}
	t.s.Phone, t.s.Operators = "", nil
	t.askPhone(keep)
}

func (t *turn) searchFailed(reason string) {
	if t.s.Step != StepSearching {
		return
	}
	q := t.s.Query
	t.clearFlow()
	var o options
	o.add(lookup(t.s.Lang, "opt.retry"), doSearch, q)
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(t.tx("err.search", reason), ExpectQuery, o.acts, o.labels)
}

func (t *turn) productFailed(reason string) {
	if t.s.Step != StepLoading {
		return
	}
	t.s.Loading = ""
	t.say(t.tx("err.product", reason))
	if len(t.s.Results) > 0 {
		t.results(t.s.Page)
		return
	}
	t.clearFlow()
	t.s.Actions = nil
}

// invoiceFailed keeps the cart: back to the confirmation with the reason on top.
func (t *turn) invoiceFailed(reason string) {
	if t.s.Step != StepCreating {
		return
	}
	t.say(t.tx("err.invoice", reason))
	t.reconfirm()
}

func (t *turn) phoneFailed(ev Failed, reason string) {
	if t.s.Step != StepCheckingPhone {
		return
	}
	var why []Span
	switch ev.Kind {
	case ErrNotFound:
		why = t.tx("phone.none", t.s.Phone)
	case ErrInvalid:
		why = t.tx("phone.rejected", t.s.Phone)
	default:
		why = t.tx("err.phone", reason)
	}
	t.s.Phone = ""
	t.askPhoneWith(t.s.Product, why)
}

func (t *turn) esimFailed(ev Failed, reason string) {
	if t.s.Step != StepLoadingESIM {
		return
	}
	if ev.Kind == ErrNotFound {
		t.say(t.tx("esim.notfound", t.s.ESIMTarget))
	} else {
		t.say(t.tx("err.esim", reason))
	}
	t.esims()
}
