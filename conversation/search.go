package conversation

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Searching by name, and the pages of results of a search or of browsing.

const (
	StepSearching Step = "searching" // waiting for ProductsFound
	StepResults   Step = "results"   // a page of search results is shown
)

const (
	doSearch  ActionKind = "search"  // search for Arg
	doAsk     ActionKind = "ask"     // ask what to search for
	doPage    ActionKind = "page"    // a page of results
	doProduct ActionKind = "product" // load product Arg
)

const (
	maxQueryLen     = 100 // Bitrefill's limit for /products/search
	defaultPageSize = 8
)

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

func (t *turn) searchCommand(args string) {
	if args == "" {
		t.clearFlow()
		t.say(t.tx("ask.query"))
		return
	}
	t.search(args)
}

func (t *turn) askQuery() {
	t.clearFlow()
	t.s.Actions = nil
	t.say(t.tx("ask.query"))
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
	t.resultsNav(&o)
	t.opt(&o, "opt.search", doAsk)
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(t.resultsTitle(page+1, pages), ExpectQuery, o.acts, o.labels)
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

func (t *turn) resultsNav(o *options) {
	if t.s.Query == "" && t.s.Kind == KindESIM {
		o.add(lookup(t.s.Lang, "opt.destination"), doDest, "")
	}
	t.opt(o, "opt.back", doBack)
}

func (t *turn) resultName(id string) string {
	for _, r := range t.s.Results {
		if r.ID == id {
			return r.Name
		}
	}
	return id
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

func backFromResults(t *turn) {
	if t.backFromBrowse() {
		return
	}
	t.clearFlow()
	t.s.Actions = nil
	t.home(nil) // options to go on with, not a bare question
}
