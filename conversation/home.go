package conversation

import (
	"strconv"
	"strings"
)

// The start menu, deep links and browsing by kind, category and country.

// StepKinds is picking a gift card category.
const StepKinds Step = "kinds"

const (
	doKind     ActionKind = "kind"     // browse a product kind
	doCategory ActionKind = "category" // browse a gift card category
)

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

// home is the start menu: what can be bought, the cart, the country.
func (t *turn) welcomeMenu(spans []Span) { t.home(spans) }

func (t *turn) home(spans []Span) {
	lang := t.s.Lang
	if spans == nil {
		spans = text(lang, "home")
	}
	var o options
	o.add(lookup(lang, "opt.giftcards"), doKind, KindGiftCard)
	o.add(lookup(lang, "opt.phone"), doPhoneAsk, "")
	o.add(lookup(lang, "opt.esims"), doKind, KindESIM)
	o.add(lookup(lang, "opt.bills"), doKind, KindBillPayment)
	if n := len(t.s.Cart); n > 0 {
		o.add(strings.Replace(lookup(lang, "opt.cart.n"), "{1}", strconv.Itoa(cartUnits(t.s.Cart)), 1), doCart, "")
	}
	if len(t.s.ESIMs) > 0 {
		o.add(lookup(lang, "opt.my_esims"), doESIMs, "")
	}
	if len(t.s.History) > 0 {
		o.add(lookup(lang, "opt.orders"), doOrders, "0")
	}
	switch {
	case t.s.Country != "":
		spans = appendText(spans, lang, "home.country", countryName(lang, t.s.Country))
	case t.s.CountryGuess != "" && !t.s.CountryAsked:
		t.s.CountryAsked = true
		name := countryName(lang, t.s.CountryGuess)
		spans = appendText(spans, lang, "home.country.guess", name)
		o.add(strings.Replace(lookup(lang, "opt.country.yes"), "{1}", name, 1), doCountry, t.s.CountryGuess)
		t.opt(&o, "opt.country.other", doCountryAsk)
	case !t.s.CountryAsked:
		t.s.CountryAsked = true
		spans = appendText(spans, lang, "home.country.ask")
		t.opt(&o, "opt.country.other", doCountryAsk)
	}
	t.opt(&o, "opt.help", doHelp)
	t.menu(spans, ExpectQuery, o.acts, o.labels)
}

// browseKind starts browsing one product type.
func (t *turn) browseKind(kind string) {
	switch kind {
	case KindGiftCard:
		t.clearFlow()
		t.categories()
	case KindPhoneRefill:
		t.clearFlow()
		t.askPhone(nil)
	default:
		t.browse(kind, "", t.s.Country, false)
	}
}

// giftCategories are Bitrefill's gift card categories offered for browsing.
var giftCategories = []string{"games", "streaming", "shopping", "food", "travel", "apparel", "electronics", "music"}

func (t *turn) categories() {
	t.s.Step = StepKinds
	var o options
	for _, c := range giftCategories {
		o.add(lookup(t.s.Lang, Msg("cat."+c)), doCategory, c)
	}
	o.add(lookup(t.s.Lang, "cat.all"), doCategory, "")
	t.opt(&o, "opt.back", doBack)
	t.menu(t.tx("categories"), ExpectQuery, o.acts, o.labels)
}

// browse lists products of a kind (and category) for a country. keep leaves
// the flow fields alone: an eSIM top-up browses plans for its eSIM.
func (t *turn) browse(kind, category, country string, keep bool) {
	if !keep {
		t.clearFlow()
	}
	t.s.Step, t.s.Query, t.s.Kind, t.s.Results, t.s.Page = StepSearching, "", kind, nil, 0
	t.s.Actions = nil
	t.s.BrowseCountry = country
	t.out = append(t.out, SearchProducts{Kind: kind, Category: category, Country: country})
}

// backFromBrowse leaves browsed results for where they were opened from.
func (t *turn) backFromBrowse() bool {
	switch {
	case t.s.TopUp:
		t.esims()
	case t.s.Query != "" || t.s.Kind == "":
		return false
	case t.s.Kind == KindGiftCard:
		t.clearFlow()
		t.categories()
	default:
		t.clearFlow()
		t.home(nil)
	}
	return true
}
