package conversation

import (
	"slices"
	"strconv"
	"strings"
)

// Settings: the user's country (or where an eSIM should work) and the language.

const (
	StepCountry     Step = "country"     // picking the user's country
	StepDestination Step = "destination" // picking where an eSIM should work
)

const (
	doCountry    ActionKind = "country"
	doCountryPg  ActionKind = "country_page"
	doCountryAsk ActionKind = "country_ask"
	doDest       ActionKind = "dest" // pick an eSIM's destination
	doLang       ActionKind = "lang"
)

const countryPage = 20

func (t *turn) countryCommand(args string) {
	t.clearFlow()
	if args == "" {
		t.countryPicker(StepCountry, 0)
		return
	}
	t.s.Step = StepCountry
	t.typedCountry(args)
}

// countryPicker lists countries by name, a page at a time; typing a name works too.
func (t *turn) countryPicker(step Step, page int) {
	lang := t.s.Lang
	sorted := slices.Clone(countries)
	slices.SortFunc(sorted, func(a, b countryInfo) int {
		return strings.Compare(fold(countryName(lang, a.code)), fold(countryName(lang, b.code)))
	})
	pages := (len(sorted) + countryPage - 1) / countryPage
	page = max(0, min(page, pages-1))
	// The results' page is left behind with the results (Back from here goes
	// home), so a Page in a country step can only be schema 1's (Migrate).
	t.s.Step, t.s.CountryPage, t.s.Page = step, page, 0
	var o options
	for _, c := range sorted[page*countryPage : min(len(sorted), (page+1)*countryPage)] {
		o.add(countryName(lang, c.code), doCountry, c.code)
	}
	t.pager(&o, page, pages, doCountryPg)
	t.opt(&o, "opt.back", doBack)
	key := Msg("country.pick")
	if step == StepDestination {
		key = "country.pick.dest"
	}
	t.menu(t.tx(key, strconv.Itoa(page+1), strconv.Itoa(pages)), ExpectQuery, o.acts, o.labels)
}

func (t *turn) countryAgain() { t.countryPicker(t.s.Step, t.s.CountryPage) }

func (t *turn) typedCountry(in string) {
	code, ok := parseCountry(in)
	if q, region := regionQuery(in); !ok && region && t.s.Step == StepDestination && !t.s.TopUp {
		// Regional plans are found by name: a search among eSIMs.
		t.searchKind(q, KindESIM)
		return
	}
	if !ok {
		if looksLikeWords(in) && t.s.Step == StepCountry {
			t.offerSearch(in, t.tx("country.unknown", truncate(in, 40)))
			return
		}
		t.say(t.tx("country.unknown", truncate(in, 40)))
		t.countryPicker(t.s.Step, t.s.CountryPage)
		return
	}
	t.setCountry(code)
}

// regionQuery maps a typed region ("europe", "latinoamérica", "worldwide")
// to the words the catalogue's regional eSIM plans are named with.
func regionQuery(in string) (string, bool) {
	f := fold(in)
	for _, r := range regions {
		if f == fold(r[0]) || f == fold(r[1]) {
			return r[0], true
		}
	}
	switch f {
	case "world", "worldwide", "mundo", "mundial", "international", "internacional":
		return regions["WW"][0], true
	case "latam", "south america", "sudamerica", "america latina":
		return regions["XL"][0], true
	}
	return "", false
}

func (t *turn) setCountry(code string) {
	if _, ok := findCountry(code); !ok {
		t.stale()
		return
	}
	if t.s.Step == StepDestination {
		// Where an eSIM should work is not where the user lives.
		t.browse(KindESIM, "", code, t.s.TopUp)
		return
	}
	t.s.Country, t.s.CountryAsked = code, true
	t.clearFlow()
	t.home(t.tx("country.set", countryName(t.s.Lang, code)))
}

// languageNames are shown in their own language, so anyone finds theirs.
var languageNames = map[string]string{"en": "English", "es": "Español"}

func (t *turn) languageCommand(args string) {
	if code, ok := parseLang(args); ok {
		t.setLang(code)
		return
	}
	var o options
	for _, code := range Languages {
		o.add(languageNames[code], doLang, code)
	}
	// The current flow stays as it is: the menu only adds a choice on top.
	t.menu(t.tx("lang.pick"), ExpectNothing, o.acts, o.labels)
	t.s.LangMenu = t.s.Menu // a language typed next answers this menu
}

// parseLang reads a language as people type it: "es", "español", "spanish".
func parseLang(in string) (string, bool) {
	switch fold(in) {
	case "en", "english", "ingles", "eng":
		return "en", true
	case "es", "espanol", "spanish", "castellano", "esp":
		return "es", true
	}
	return "", false
}

// setLang switches the language and shows the current step again in it.
func (t *turn) setLang(code string) {
	if _, ok := languageNames[code]; !ok {
		t.stale()
		return
	}
	t.s.Lang = code
	t.say(t.tx("lang.set"))
	if !t.drawable() {
		t.home(nil)
		return
	}
	t.redraw()
}
