package conversation

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The turn: one event applied to one session. What each step and option
// means is in the tables of screens.go; here are the pieces every part of the
// dialogue shares: menus, typed words that work everywhere, going back, stale
// options and failures.

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
	maxLabel   = 64 // button text: well inside Telegram's and Discord's limits
	maxOptions = 25 // Discord's select menu and a sane keyboard
)

// Step is where a session stands in the purchase dialogue.
type Step string

// StepIdle is the step with nothing in progress: text is a search.
const StepIdle Step = ""

// Options every part uses.
const (
	doBack   ActionKind = "back"
	doCancel ActionKind = "cancel"
	doHelp   ActionKind = "help"
	doHome   ActionKind = "home"
)

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

// turn is the scratch space of one Step.
type turn struct {
	e   Engine
	s   State
	now time.Time
	out []Effect
	// aside, when set, goes into the next menu drawn (offerSearch).
	aside *aside
}

// aside is an offer to search instead, drawn into the next menu.
type aside struct {
	why          []Span
	query, label string
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

// about says a wait in plain words: seconds under a minute and a half,
// else whole minutes, rounded up.
func about(lang string, d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 90 {
		return strings.Replace(lookup(lang, "dur.seconds"), "{1}", strconv.Itoa(max(secs, 1)), 1)
	}
	return strings.Replace(lookup(lang, "dur.minutes"), "{1}", strconv.Itoa((secs+59)/60), 1)
}

// failed explains an operation that did not work and shows where the user
// stands, if the answer is still awaited.
func (t *turn) failed(ev Failed) {
	lang := t.s.Lang
	reason := lookup(lang, Msg("err."+string(ev.Kind)))
	if ev.Kind == ErrRateLimited {
		reason = strings.Replace(reason, "{1}", about(lang, ev.RetryAfter), 1)
	}
	if reason == "err."+string(ev.Kind) {
		reason = lookup(lang, "err.internal")
	}
	switch ev.Op {
	case OpSearch:
		t.searchFailed(reason)
	case OpLoadProduct:
		t.productFailed(ev, reason)
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

// clearFlow forgets the purchase in progress but never the purchases made,
// nor a checkout being paid.
func (t *turn) clearFlow() { t.s.Flow = Flow{} }

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
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

// listNumber reads "2" or "#2" as the second item of a list of n.
func listNumber(in string, n int) (int, bool) {
	k, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(in), "#"))
	return k, err == nil && k >= 1 && k <= n
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
