package conversation

import (
	"strconv"
	"strings"
)

// The start menu and browsing by kind, category and country.

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

func (t *turn) resultsTitle(page, pages int) []Span {
	if t.s.Query != "" {
		return t.tx("results", t.s.Query, strconv.Itoa(page), strconv.Itoa(pages))
	}
	kind := lookup(t.s.Lang, Msg("kinds."+t.s.Kind))
	if c := t.s.BrowseCountry; c != "" && len(c) == 2 {
		return t.tx("results.kind.in", kind, countryName(t.s.Lang, c), strconv.Itoa(page), strconv.Itoa(pages))
	}
	return t.tx("results.kind", kind, strconv.Itoa(page), strconv.Itoa(pages))
}

func (t *turn) resultsExtra(o *options) {
	if t.s.Query == "" && t.s.Kind == KindESIM {
		o.add(lookup(t.s.Lang, "opt.destination"), doDest, "")
	}
	t.opt(o, "opt.back", doBack)
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

func (t *turn) noResults() {
	if q := t.s.Query; q != "" {
		t.clearFlow()
		t.s.Actions = nil
		// Never a dead end: the home menu's options come with the news.
		why := t.tx("results.none", q)
		if looksLikePhone(q) {
			why = appendText(why, t.s.Lang, "results.none.phone")
		}
		t.home(why)
		return
	}
	kind := lookup(t.s.Lang, Msg("kinds."+t.s.Kind))
	where := t.s.BrowseCountry
	esim := t.s.Kind == KindESIM
	if !t.s.TopUp {
		t.clearFlow()
	}
	t.s.Step = StepIdle
	var o options
	if esim {
		o.add(lookup(t.s.Lang, "opt.destination"), doDest, "")
	} else {
		t.opt(&o, "opt.country.other", doCountryAsk)
	}
	t.opt(&o, "opt.search", doAsk)
	if where != "" {
		t.menu(t.tx("results.kind.none.in", kind, countryName(t.s.Lang, where)), ExpectQuery, o.acts, o.labels)
		return
	}
	t.menu(t.tx("results.kind.none", kind), ExpectQuery, o.acts, o.labels)
}

// looksLikePhone: seven or more digits and nothing but what people type in
// phone numbers — a search for it was probably meant as a top-up.
func looksLikePhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() .", r):
		default:
			return false
		}
	}
	return digits >= 7
}
