package bitrefilltest

import (
	"encoding/json"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
)

// The catalogue is generated from tables rather than stored as a fixture so
// that it is large (hundreds of products) yet reviewable, and identical on
// every run: nothing here depends on time or randomness, only on FNV hashes
// of product ids.

type country struct {
	code, name, label, currency, calling string
}

// label is how brand names spell the country ("Amazon US", "Amazon Germany").
var countries = []country{
	{"US", "United States", "US", "USD", "1"},
	{"CA", "Canada", "Canada", "CAD", "1"},
	{"MX", "Mexico", "Mexico", "MXN", "52"},
	{"BR", "Brazil", "Brazil", "BRL", "55"},
	{"AR", "Argentina", "Argentina", "ARS", "54"},
	{"CO", "Colombia", "Colombia", "COP", "57"},
	{"CL", "Chile", "Chile", "CLP", "56"},
	{"PE", "Peru", "Peru", "PEN", "51"},
	{"GB", "United Kingdom", "UK", "GBP", "44"},
	{"IE", "Ireland", "Ireland", "EUR", "353"},
	{"DE", "Germany", "Germany", "EUR", "49"},
	{"FR", "France", "France", "EUR", "33"},
	{"ES", "Spain", "Spain", "EUR", "34"},
	{"IT", "Italy", "Italy", "EUR", "39"},
	{"NL", "Netherlands", "Netherlands", "EUR", "31"},
	{"BE", "Belgium", "Belgium", "EUR", "32"},
	{"PT", "Portugal", "Portugal", "EUR", "351"},
	{"AT", "Austria", "Austria", "EUR", "43"},
	{"CH", "Switzerland", "Switzerland", "CHF", "41"},
	{"SE", "Sweden", "Sweden", "SEK", "46"},
	{"NO", "Norway", "Norway", "NOK", "47"},
	{"DK", "Denmark", "Denmark", "DKK", "45"},
	{"FI", "Finland", "Finland", "EUR", "358"},
	{"PL", "Poland", "Poland", "PLN", "48"},
	{"TR", "Turkey", "Turkey", "TRY", "90"},
	{"AE", "United Arab Emirates", "UAE", "AED", "971"},
	{"SA", "Saudi Arabia", "Saudi Arabia", "SAR", "966"},
	{"EG", "Egypt", "Egypt", "EGP", "20"},
	{"NG", "Nigeria", "Nigeria", "NGN", "234"},
	{"KE", "Kenya", "Kenya", "KES", "254"},
	{"ZA", "South Africa", "South Africa", "ZAR", "27"},
	{"MA", "Morocco", "Morocco", "MAD", "212"},
	{"IN", "India", "India", "INR", "91"},
	{"PK", "Pakistan", "Pakistan", "PKR", "92"},
	{"BD", "Bangladesh", "Bangladesh", "BDT", "880"},
	{"ID", "Indonesia", "Indonesia", "IDR", "62"},
	{"PH", "Philippines", "Philippines", "PHP", "63"},
	{"VN", "Vietnam", "Vietnam", "VND", "84"},
	{"TH", "Thailand", "Thailand", "THB", "66"},
	{"MY", "Malaysia", "Malaysia", "MYR", "60"},
	{"SG", "Singapore", "Singapore", "SGD", "65"},
	{"JP", "Japan", "Japan", "JPY", "81"},
	{"KR", "South Korea", "South Korea", "KRW", "82"},
	{"AU", "Australia", "Australia", "AUD", "61"},
	{"NZ", "New Zealand", "New Zealand", "NZD", "64"},
}

// Pseudo-countries for regional eSIM plans, which have no single ISO code.
var pseudoCountries = map[string]string{"EU": "Europe", "WW": "Global", "XA": "Asia", "XL": "Latin America"}

// currency: USD value of one unit in micro-dollars (fixed fake rates, so
// invoice totals are reproducible), and the factor by which "10 dollars
// worth" of denominations is scaled to look local.
type currency struct {
	microUSD int64
	scale    int64
}

var currencies = map[string]currency{
	"USD": {1_000_000, 1}, "EUR": {1_080_000, 1}, "GBP": {1_270_000, 1}, "CAD": {730_000, 1},
	"AUD": {660_000, 1}, "NZD": {610_000, 1}, "CHF": {1_130_000, 1}, "SGD": {740_000, 1},
	"MXN": {50_000, 20}, "BRL": {180_000, 5}, "ARS": {1_100, 1000}, "COP": {250, 4000},
	"CLP": {1_050, 1000}, "PEN": {270_000, 4}, "SEK": {95_000, 10}, "NOK": {93_000, 10},
	"DKK": {145_000, 10}, "PLN": {250_000, 4}, "TRY": {31_000, 30}, "AED": {272_000, 4},
	"SAR": {267_000, 4}, "EGP": {20_500, 50}, "NGN": {650, 1500}, "KES": {7_700, 150},
	"ZAR": {54_000, 20}, "MAD": {100_000, 10}, "INR": {12_000, 100}, "PKR": {3_600, 300},
	"BDT": {8_500, 100}, "IDR": {62, 15000}, "PHP": {17_500, 50}, "VND": {39, 25000},
	"THB": {28_500, 35}, "MYR": {220_000, 5}, "JPY": {6_700, 100}, "KRW": {730, 1000},
}

var countryByCode = func() map[string]country {
	m := make(map[string]country, len(countries))
	for _, c := range countries {
		m[c.code] = c
	}
	return m
}()

// Alias bits: which seen-on-the-wire variants a product is emitted with.
const (
	aliasCountry   = 1 << iota // country_code + country_name instead of country
	aliasPackageID             // packages[].id instead of package_id
	aliasValueStr              // packages[].value as a string
	aliasPriceRate             // range.price_rate
)

type pkg struct {
	label      string // the value as written in package_id and orders
	cents      int64  // numeric value in the product currency; 0 for eSIM plans
	dataMB     int64  // eSIM plans only
	days       int    // eSIM plans only
	priceCents int64  // eSIM plans only: USD price
}

type valueRange struct {
	min, max, step int64 // cents
}

type product struct {
	id, name, typ, country, currency string
	inStock                          bool
	categories                       []string
	packages                         []pkg
	rng                              *valueRange
	recipientType                    string
	coverage                         []string
	test                             bool
	fail                             bool
	redeem                           string
	aliases                          int
	hash                             uint64
	raw                              json.RawMessage
}

func (p *product) isESIM() bool { return p.typ == "esim" }

func (p *product) packageID(label string) string { return p.id + "<&>" + label }

// findPackageByCents finds a numeric package by value; eSIM plans are
// matched by label with findPackageByLabel.
func (p *product) findPackageByCents(c int64) (pkg, bool) {
	for _, k := range p.packages {
		if !p.isESIM() && k.cents == c {
			return k, true
		}
	}
	return pkg{}, false
}

func (p *product) findPackageByLabel(l string) (pkg, bool) {
	for _, k := range p.packages {
		if k.label == l {
			return k, true
		}
	}
	return pkg{}, false
}

func (p *product) inRange(c int64) bool {
	r := p.rng
	return r != nil && c >= r.min && c <= r.max && (c-r.min)%r.step == 0
}

// usdCents is what one unit of value costs in USD, rounded half up.
func (p *product) usdCents(k pkg) int64 {
	if p.test {
		return 0 // test products are free, as on the real API
	}
	if p.isESIM() {
		return k.priceCents
	}
	cur := currencies[p.currency]
	return (k.cents*cur.microUSD + 500_000) / 1_000_000
}

func hashID(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// ---- denominations ----

type denom struct {
	pkgs       []string // base amounts, scaled by the currency
	rmin, rmax string   // base range, scaled; "" = no range
	step       string   // not scaled; 0.01 becomes 1 for high-unit currencies
}

var (
	dAmazon   = denom{pkgs: []string{"25", "50", "100"}, rmin: "10", rmax: "200", step: "1"}
	dPkg4     = denom{pkgs: []string{"10", "25", "50", "100"}}
	dPkgSmall = denom{pkgs: []string{"5", "10", "20", "50"}}
	dRange1   = denom{rmin: "5", rmax: "500", step: "1"}
	dRange5   = denom{rmin: "10", rmax: "200", step: "5"}
	dRange001 = denom{rmin: "1", rmax: "100", step: "0.01"}
	dBoth5    = denom{pkgs: []string{"20", "50", "100"}, rmin: "10", rmax: "300", step: "5"}
	dBoth001  = denom{pkgs: []string{"25", "50"}, rmin: "5", rmax: "250", step: "0.01"}
	autoDenom = []denom{dPkg4, dPkgSmall, dRange1, dRange5, dRange001, dBoth5, dBoth001, dPkg4}
)

func (d denom) apply(p *product) {
	scale := currencies[p.currency].scale
	for _, s := range d.pkgs {
		c := mustCents(s) * scale
		p.packages = append(p.packages, pkg{label: fmtCents(c), cents: c})
	}
	if d.rmin != "" {
		step := mustCents(d.step)
		if step < 100 && scale > 1 {
			step = 100
		}
		p.rng = &valueRange{min: mustCents(d.rmin) * scale, max: mustCents(d.rmax) * scale, step: step}
	}
}

// ---- tables ----

type brand struct {
	stem, name string
	cats       []string
	d          *denom // nil = chosen by hash
	redeem     string // "" = chosen by hash
	countries  string
}

func dp(d denom) *denom { return &d }

var brands = []brand{
	{"amazon", "Amazon", []string{"shopping"}, &dAmazon, "code_link", "US CA MX BR GB DE FR ES IT NL SE PL TR AE SA IN JP AU SG"},
	{"netflix", "Netflix", []string{"streaming", "entertainment"}, dp(denom{pkgs: []string{"15", "25", "50", "100"}}), "code", "US CA MX BR AR CO CL PE GB DE FR ES IT NL TR IN ID PH TH MY JP KR AU NZ ZA NG"},
	{"spotify", "Spotify", []string{"streaming", "music"}, dp(denom{pkgs: []string{"10", "30", "60"}}), "code", "US CA MX BR GB DE FR ES IT NL SE NO DK FI PL IN ID AU NZ ZA"},
	{"steam", "Steam", []string{"games"}, dp(denom{pkgs: []string{"5", "10", "20", "25", "50", "100"}}), "code", "US CA BR GB DE FR ES IT PL TR IN ID PH JP KR AU"},
	{"playstation", "PlayStation", []string{"games"}, dp(denom{pkgs: []string{"10", "25", "50", "60", "100"}}), "code_exp", "US CA MX BR GB DE FR ES IT NL AT BE PT CH SE PL TR AE SA IN JP AU"},
	{"xbox", "Xbox", []string{"games"}, dp(denom{pkgs: []string{"15", "25", "50", "100"}}), "code", "US CA MX BR GB DE FR ES IT NL PL TR SA AE JP AU"},
	{"google-play", "Google Play", []string{"games", "apps"}, dp(denom{pkgs: []string{"10", "25", "50"}, rmin: "5", rmax: "200", step: "1"}), "code_instr_exp", "US CA MX BR GB DE FR ES IT NL TR IN ID PH TH VN MY JP KR AU ZA NG EG"},
	{"apple", "Apple Gift Card", []string{"apps", "entertainment"}, dp(denom{rmin: "2", rmax: "500", step: "1"}), "code_extra", "US CA MX BR GB DE FR ES IT NL SE CH IN JP AU"},
	{"uber", "Uber", []string{"travel", "transport"}, &dRange5, "link", "US CA MX BR GB FR ES IN AU ZA EG NG KE"},
	{"airbnb", "Airbnb", []string{"travel"}, &dBoth5, "code_pin", "US CA GB DE FR ES IT AU"},
	{"nintendo", "Nintendo eShop", []string{"games"}, dp(denom{pkgs: []string{"10", "20", "50"}}), "code", "US CA GB DE FR ES IT JP AU"},
	{"starbucks", "Starbucks", []string{"food"}, dp(denom{rmin: "5", rmax: "100", step: "0.01"}), "code_pin_extra", "US CA MX GB DE TH SG"},
	{"roblox", "Roblox", []string{"games"}, nil, "", "US GB DE FR CA AU BR"},
	{"razer-gold", "Razer Gold", []string{"games"}, nil, "", "US MY SG PH ID TH VN BR TR IN"},
	{"free-fire", "Free Fire", []string{"games"}, nil, "", "ID TH VN BR IN PH"},
	{"pubg-mobile", "PUBG Mobile", []string{"games"}, nil, "", "US TR IN PK SA AE"},
	{"uber-eats", "Uber Eats", []string{"food"}, nil, "link", "US CA MX FR GB AU"},
	{"zalando", "Zalando", []string{"apparel"}, nil, "", "DE FR NL BE AT CH PL SE"},
	{"ikea", "IKEA", []string{"home"}, nil, "", "US DE FR ES IT NL SE NO DK PL"},
	{"hm", "H&M", []string{"apparel"}, nil, "", "US DE GB FR SE"},
	{"nike", "Nike", []string{"apparel", "sports"}, nil, "", "US GB DE FR"},
	{"sephora", "Sephora", []string{"beauty"}, nil, "", "US FR ES IT"},
	{"walmart", "Walmart", []string{"shopping", "groceries"}, nil, "", "US"},
	{"target", "Target", []string{"shopping"}, nil, "", "US"},
	{"best-buy", "Best Buy", []string{"electronics"}, nil, "", "US"},
	{"home-depot", "The Home Depot", []string{"home"}, nil, "", "US"},
	{"doordash", "DoorDash", []string{"food"}, nil, "", "US"},
	{"lowes", "Lowe's", []string{"home"}, nil, "", "US"},
	{"ebay", "eBay", []string{"shopping"}, &dPkg4, "string", "US DE GB"},
	{"deliveroo", "Deliveroo", []string{"food"}, nil, "", "GB FR IE BE IT"},
	{"decathlon", "Decathlon", []string{"sports"}, nil, "", "FR ES IT PT BE"},
	{"carrefour", "Carrefour", []string{"groceries"}, nil, "", "FR ES IT AE SA EG MA"},
	{"mediamarkt", "MediaMarkt", []string{"electronics"}, nil, "", "DE ES NL AT"},
	{"flipkart", "Flipkart", []string{"shopping"}, nil, "", "IN"},
	{"swiggy", "Swiggy", []string{"food"}, nil, "", "IN"},
	{"myntra", "Myntra", []string{"apparel"}, nil, "", "IN"},
	{"zomato", "Zomato", []string{"food"}, nil, "", "IN"},
	{"grab", "Grab", []string{"food", "transport"}, nil, "", "SG MY PH TH ID VN"},
	{"shopee", "Shopee", []string{"shopping"}, nil, "", "SG MY PH TH ID VN"},
	{"lazada", "Lazada", []string{"shopping"}, nil, "", "SG MY PH TH ID VN"},
	{"jumia", "Jumia", []string{"shopping"}, nil, "", "NG KE EG MA"},
	{"noon", "noon", []string{"shopping"}, nil, "", "AE SA EG"},
	{"takealot", "Takealot", []string{"shopping"}, nil, "", "ZA"},
	{"mercado-libre", "Mercado Libre", []string{"shopping"}, nil, "", "MX BR AR CO CL"},
	{"rappi", "Rappi", []string{"food"}, nil, "", "MX CO PE AR CL"},
	{"ifood", "iFood", []string{"food"}, nil, "", "BR"},
	{"jb-hi-fi", "JB Hi-Fi", []string{"electronics"}, nil, "", "AU NZ"},
	{"rakuten", "Rakuten", []string{"shopping"}, nil, "", "JP"},
	{"disney-plus", "Disney+", []string{"streaming", "entertainment"}, nil, "", "US GB DE FR ES IT CA AU"},
	{"twitch", "Twitch", []string{"streaming", "games"}, nil, "", "US GB DE FR"},
	{"crunchyroll", "Crunchyroll", []string{"streaming"}, nil, "", "US BR MX"},
	{"hotels-com", "Hotels.com", []string{"travel"}, nil, "", "US GB DE"},
	{"booking", "Booking.com", []string{"travel"}, nil, "", "US GB DE FR ES IT NL"},
	{"visa-prepaid", "Prepaid Visa", []string{"prepaid"}, nil, "link_instr", "US GB DE"},
}

type operator struct {
	id, name, cc string
	d            *denom
	cats         []string
	pinOnly      bool // delivers a PIN instead of crediting a number
}

// Two US operators (and two in IN, BR, NG, PH) make those numbers ambiguous
// in check_phone_number, which clients must handle.
var operators = []operator{
	{"at-t-usa", "AT&T USA", "US", dp(denom{pkgs: []string{"15", "25", "50", "100"}}), []string{"refill"}, false},
	{"t-mobile-usa", "T-Mobile USA", "US", dp(denom{pkgs: []string{"10", "25", "50"}, rmin: "10", rmax: "100", step: "1"}), []string{"refill", "data"}, false},
	{"vodafone-de", "Vodafone Germany", "DE", dp(denom{pkgs: []string{"15", "25", "50"}}), []string{"refill"}, false},
	{"orange-fr", "Orange France", "FR", dp(denom{pkgs: []string{"10", "20", "30", "50"}}), []string{"refill"}, false},
	{"movistar-es", "Movistar Spain", "ES", dp(denom{rmin: "5", rmax: "100", step: "5"}), []string{"refill"}, false},
	{"claro-mx", "Claro Mexico", "MX", dp(denom{pkgs: []string{"2.5", "5", "10", "25"}}), []string{"refill"}, false},
	{"airtel-in", "Airtel India", "IN", dp(denom{pkgs: []string{"1.99", "2.99", "5.99"}, rmin: "0.1", rmax: "50", step: "1"}), []string{"refill", "data"}, false},
	{"jio-in", "Jio India", "IN", dp(denom{pkgs: []string{"1.49", "2.39", "6.66"}}), []string{"refill", "data"}, false},
	{"ee-gb", "EE UK", "GB", nil, []string{"refill"}, false},
	{"claro-br", "Claro Brazil", "BR", nil, []string{"refill"}, false},
	{"vivo-br", "Vivo Brazil", "BR", nil, []string{"refill"}, false},
	{"claro-co", "Claro Colombia", "CO", nil, []string{"refill"}, false},
	{"personal-ar", "Personal Argentina", "AR", nil, []string{"refill"}, false},
	{"movistar-pe", "Movistar Peru", "PE", nil, []string{"refill"}, false},
	{"entel-cl", "Entel Chile", "CL", nil, []string{"refill"}, false},
	{"tim-it", "TIM Italy", "IT", nil, []string{"refill"}, false},
	{"kpn-nl", "KPN Netherlands", "NL", nil, []string{"refill"}, false},
	{"orange-pl", "Orange Poland", "PL", nil, []string{"refill"}, false},
	{"turkcell-tr", "Turkcell Turkey", "TR", nil, []string{"refill", "bundles"}, false},
	{"mtn-ng", "MTN Nigeria", "NG", nil, []string{"refill", "data"}, false},
	{"airtel-ng", "Airtel Nigeria", "NG", nil, []string{"refill"}, false},
	{"safaricom-ke", "Safaricom Kenya", "KE", nil, []string{"refill", "data"}, false},
	{"vodacom-za", "Vodacom South Africa", "ZA", nil, []string{"refill"}, false},
	{"vodafone-eg", "Vodafone Egypt", "EG", nil, []string{"refill"}, false},
	{"maroc-telecom-ma", "Maroc Telecom", "MA", nil, []string{"refill"}, false},
	{"jazz-pk", "Jazz Pakistan", "PK", nil, []string{"refill"}, false},
	{"grameenphone-bd", "Grameenphone Bangladesh", "BD", nil, []string{"refill"}, false},
	{"telkomsel-id", "Telkomsel Indonesia", "ID", nil, []string{"refill", "data"}, false},
	{"globe-ph", "Globe Philippines", "PH", nil, []string{"refill"}, false},
	{"smart-ph", "Smart Philippines", "PH", nil, []string{"refill"}, false},
	{"viettel-vn", "Viettel Vietnam", "VN", nil, []string{"refill"}, false},
	{"ais-th", "AIS Thailand", "TH", nil, []string{"refill"}, false},
	{"maxis-my", "Maxis Malaysia", "MY", nil, []string{"refill"}, false},
	{"etisalat-ae", "Etisalat UAE", "AE", nil, []string{"refill"}, false},
	{"stc-sa", "STC Saudi Arabia", "SA", nil, []string{"refill"}, false},
	{"lebara-gb", "Lebara UK PIN", "GB", dp(denom{pkgs: []string{"10", "15", "20"}}), []string{"pin"}, true},
	{"lycamobile-de", "Lycamobile Germany PIN", "DE", dp(denom{pkgs: []string{"10", "15", "30"}}), []string{"pin"}, true},
	{"digicel-dth-mx", "Sky Mexico TV", "MX", dp(denom{pkgs: []string{"10", "20"}}), []string{"dth"}, true},
}

type esimPlanSet []pkg

var (
	esimRegional = esimPlanSet{
		{label: "1GB, 7 Days", dataMB: 1000, days: 7, priceCents: 450},
		{label: "3GB, 30 Days", dataMB: 3000, days: 30, priceCents: 1100},
		{label: "5GB, 30 Days", dataMB: 5000, days: 30, priceCents: 1600},
		{label: "10GB, 30 Days", dataMB: 10000, days: 30, priceCents: 2700},
		{label: "20GB, 30 Days", dataMB: 20000, days: 30, priceCents: 4500},
	}
	esimGlobal = esimPlanSet{
		{label: "1GB, 7 Days", dataMB: 1000, days: 7, priceCents: 900},
		{label: "3GB, 30 Days", dataMB: 3000, days: 30, priceCents: 2200},
		{label: "5GB, 30 Days", dataMB: 5000, days: 30, priceCents: 3300},
	}
	esimLocal = esimPlanSet{
		{label: "1GB, 7 Days", dataMB: 1000, days: 7, priceCents: 300},
		{label: "3GB, 15 Days", dataMB: 3000, days: 15, priceCents: 700},
		{label: "5GB, 30 Days", dataMB: 5000, days: 30, priceCents: 1100},
		{label: "10GB, 30 Days", dataMB: 10000, days: 30, priceCents: 1800},
	}
)

type esimPlan struct {
	id, name, cc string
	coverage     string
	plans        esimPlanSet
}

var esimPlans = []esimPlan{
	{"bitrefill-esim-europe", "Bitrefill eSIM Europe", "EU", "AT BE DE DK ES FI FR GB IE IT NL NO PL PT SE CH", esimRegional},
	{"bitrefill-esim-global", "Bitrefill eSIM Global", "WW", "*", esimGlobal},
	{"bitrefill-esim-asia", "Bitrefill eSIM Asia", "XA", "IN ID PH VN TH MY SG JP KR BD PK", esimRegional},
	{"bitrefill-esim-latam", "Bitrefill eSIM Latin America", "XL", "MX BR AR CO CL PE", esimRegional},
	{"bitrefill-esim-usa", "Bitrefill eSIM USA", "US", "US", esimLocal},
	{"bitrefill-esim-canada", "Bitrefill eSIM Canada", "CA", "CA", esimLocal},
	{"bitrefill-esim-mexico", "Bitrefill eSIM Mexico", "MX", "MX", esimLocal},
	{"bitrefill-esim-germany", "Bitrefill eSIM Germany", "DE", "DE", esimLocal},
	{"bitrefill-esim-france", "Bitrefill eSIM France", "FR", "FR", esimLocal},
	{"bitrefill-esim-spain", "Bitrefill eSIM Spain", "ES", "ES", esimLocal},
	{"bitrefill-esim-italy", "Bitrefill eSIM Italy", "IT", "IT", esimLocal},
	{"bitrefill-esim-united-kingdom", "Bitrefill eSIM United Kingdom", "GB", "GB", esimLocal},
	{"bitrefill-esim-turkey", "Bitrefill eSIM Turkey", "TR", "TR", esimLocal},
	{"bitrefill-esim-japan", "Bitrefill eSIM Japan", "JP", "JP", esimLocal},
	{"bitrefill-esim-south-korea", "Bitrefill eSIM South Korea", "KR", "KR", esimLocal},
	{"bitrefill-esim-thailand", "Bitrefill eSIM Thailand", "TH", "TH", esimLocal},
	{"bitrefill-esim-indonesia", "Bitrefill eSIM Indonesia", "ID", "ID", esimLocal},
	{"bitrefill-esim-india", "Bitrefill eSIM India", "IN", "IN", esimLocal},
	{"bitrefill-esim-brazil", "Bitrefill eSIM Brazil", "BR", "BR", esimLocal},
	{"bitrefill-esim-australia", "Bitrefill eSIM Australia", "AU", "AU", esimLocal},
	{"bitrefill-esim-uae", "Bitrefill eSIM UAE", "AE", "AE", esimLocal},
}

type bill struct {
	id, name, cc string
	cats         []string
	d            denom
}

var bills = []bill{
	{"comed-us", "ComEd Electricity", "US", []string{"utilities"}, denom{rmin: "5", rmax: "1000", step: "0.01"}},
	{"pge-us", "PG&E", "US", []string{"utilities"}, denom{rmin: "5", rmax: "1000", step: "0.01"}},
	{"con-edison-us", "Con Edison", "US", []string{"utilities"}, denom{rmin: "10", rmax: "2000", step: "0.01"}},
	{"xfinity-us", "Xfinity Internet", "US", []string{"internet"}, denom{rmin: "20", rmax: "500", step: "0.01"}},
	{"eon-de", "E.ON Strom", "DE", []string{"utilities"}, denom{rmin: "10", rmax: "1000", step: "0.01"}},
	{"edf-fr", "EDF", "FR", []string{"utilities"}, denom{rmin: "10", rmax: "1000", step: "0.01"}},
	{"british-gas-gb", "British Gas", "GB", []string{"utilities"}, denom{rmin: "5", rmax: "500", step: "0.01"}},
	{"iberdrola-es", "Iberdrola", "ES", []string{"utilities"}, denom{rmin: "10", rmax: "1000", step: "0.01"}},
	{"enel-it", "Enel Energia", "IT", []string{"utilities"}, denom{rmin: "10", rmax: "1000", step: "0.01"}},
	{"cfe-mx", "CFE Luz", "MX", []string{"utilities"}, denom{rmin: "5", rmax: "250", step: "1"}},
	{"tata-power-in", "Tata Power", "IN", []string{"utilities"}, denom{rmin: "1", rmax: "500", step: "1"}},
	{"bescom-in", "BESCOM Electricity", "IN", []string{"utilities"}, denom{rmin: "1", rmax: "500", step: "1"}},
	{"tata-play-in", "Tata Play DTH", "IN", []string{"dth"}, denom{pkgs: []string{"2.5", "5", "10"}}},
	{"meralco-ph", "Meralco", "PH", []string{"utilities"}, denom{rmin: "2", rmax: "400", step: "1"}},
	{"pln-id", "PLN Token Listrik", "ID", []string{"utilities"}, denom{pkgs: []string{"2", "5", "10", "20"}}},
	{"eskom-za", "Eskom Prepaid Electricity", "ZA", []string{"utilities"}, denom{rmin: "1", rmax: "100", step: "1"}},
	{"dstv-za", "DStv", "ZA", []string{"dth"}, denom{pkgs: []string{"5", "15", "40"}}},
	{"kplc-ke", "Kenya Power Tokens", "KE", []string{"utilities"}, denom{rmin: "1", rmax: "200", step: "1"}},
	{"ikeja-electric-ng", "Ikeja Electric", "NG", []string{"utilities"}, denom{rmin: "1", rmax: "200", step: "1"}},
	{"gotv-ng", "GOtv", "NG", []string{"dth"}, denom{pkgs: []string{"2", "5", "8"}}},
	{"cemig-br", "Cemig Energia", "BR", []string{"utilities"}, denom{rmin: "2", rmax: "400", step: "1"}},
	{"epm-co", "EPM Servicios Públicos", "CO", []string{"utilities"}, denom{rmin: "1", rmax: "300", step: "1"}},
}

// protected products keep the documented shape and stay in stock: they are
// the ones named in docs, demos and other packages' tests.
var protected = map[string]bool{
	"amazon-us": true, "amazon-de": true, "spotify-us": true, "steam-us": true, "steam-de": true,
	"netflix-us": true, "playstation-us": true, "xbox-us": true, "google-play-us": true,
	"apple-us": true, "uber-us": true, "airbnb-us": true, "starbucks-us": true,
	"at-t-usa": true, "t-mobile-usa": true, "vodafone-de": true, "orange-fr": true,
	"movistar-es": true, "claro-mx": true, "airtel-in": true, "jio-in": true,
	"bitrefill-esim-europe": true, "bitrefill-esim-global": true, "bitrefill-esim-asia": true,
	"bitrefill-esim-usa": true, "comed-us": true,
}

// outOfStock lists fixed out-of-stock products; a hash rule adds a few more.
var outOfStock = map[string]bool{
	"playstation-tr": true, "netflix-ar": true, "steam-tr": true, "personal-ar": true,
	"zalando-pl": true, "bitrefill-esim-south-korea": true, "gotv-ng": true,
}

// redeemOverride gives single products a redemption shape their brand's
// other countries do not have.
var redeemOverride = map[string]string{
	"starbucks-us": "code_barcode", // scanned at the till: a CODE_128 barcode
}

var autoRedeem = []string{"code", "code_link", "code_pin", "code_exp", "code_instr_exp", "code_extra", "link", "string", "code"}

var catalogue = sync.OnceValue(buildCatalogue)

func buildCatalogue() []*product {
	var ps []*product
	add := func(p *product) {
		p.hash = hashID(p.id)
		ps = append(ps, p)
	}
	for _, b := range brands {
		for _, cc := range strings.Fields(b.countries) {
			c := countryByCode[cc]
			p := &product{
				id: b.stem + "-" + strings.ToLower(cc), name: b.name + " " + c.label,
				typ: "gift_card", country: cc, currency: c.currency, inStock: true,
				categories: b.cats, redeem: b.redeem,
			}
			h := hashID(p.id)
			d := b.d
			if d == nil {
				d = &autoDenom[h%uint64(len(autoDenom))]
			}
			d.apply(p)
			if p.redeem == "" {
				p.redeem = autoRedeem[(h>>16)%uint64(len(autoRedeem))]
			}
			if r, ok := redeemOverride[p.id]; ok {
				p.redeem = r
			}
			add(p)
		}
	}
	for _, o := range operators {
		c := countryByCode[o.cc]
		p := &product{
			id: o.id, name: o.name, typ: "phone_refill", country: o.cc, currency: c.currency,
			inStock: true, categories: o.cats, redeem: "none", recipientType: "phone_number",
		}
		if o.pinOnly {
			p.recipientType, p.redeem = "", "pin"
		}
		d := o.d
		if d == nil {
			d = &[]denom{dPkgSmall, dRange1, dBoth5, dPkg4}[hashID(o.id)%4]
		}
		d.apply(p)
		add(p)
	}
	for _, e := range esimPlans {
		p := &product{
			id: e.id, name: e.name, typ: "esim", country: e.cc, currency: "USD", inStock: true,
			categories: []string{"esim", "data"}, redeem: "esim", packages: e.plans,
		}
		if e.coverage == "*" {
			for _, c := range countries {
				p.coverage = append(p.coverage, c.code)
			}
		} else {
			p.coverage = strings.Fields(e.coverage)
		}
		add(p)
	}
	for _, b := range bills {
		c := countryByCode[b.cc]
		p := &product{
			id: b.id, name: b.name, typ: "bill_payment", country: b.cc, currency: c.currency,
			inStock: true, categories: b.cats, redeem: "bill",
		}
		b.d.apply(p)
		add(p)
	}
	for _, t := range []struct {
		id, name, typ, redeem, recipient string
	}{
		{"test-gift-card-code", "Test Gift Card (code)", "gift_card", "code", ""},
		{"test-gift-card-link", "Test Gift Card (link)", "gift_card", "link", ""},
		{"test-phone-refill", "Test Phone Refill", "phone_refill", "none", "phone_number"},
	} {
		for _, fail := range []bool{false, true} {
			p := &product{
				id: t.id, name: t.name, typ: t.typ, country: "US", currency: "USD", inStock: true,
				categories: []string{"test"}, redeem: t.redeem, recipientType: t.recipient, test: true, fail: fail,
			}
			if fail {
				p.id += "-fail"
				p.name += " (always fails)"
			}
			denom{pkgs: []string{"1", "5", "10", "25", "50", "100"}, rmin: "1", rmax: "1000", step: "1"}.apply(p)
			add(p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	for _, p := range ps {
		if strings.HasSuffix(p.id, "-fail") {
			p.fail = true
		}
		if outOfStock[p.id] || (!protected[p.id] && !p.test && p.hash%37 == 11) {
			p.inStock = false
		}
		if !protected[p.id] && !p.test && p.hash%4 == 1 {
			p.aliases = int((p.hash>>8)%15) + 1
		}
		p.raw = renderProduct(p)
	}
	return ps
}

// renderProduct builds the product's JSON once; products are immutable.
func renderProduct(p *product) json.RawMessage {
	o := obj{{"id", p.id}, {"name", p.name}, {"type", p.typ}}
	if p.aliases&aliasCountry != 0 {
		name := countryByCode[p.country].name
		if name == "" {
			name = pseudoCountries[p.country]
		}
		o = append(o, kv{"country_code", p.country}, kv{"country_name", name})
	} else {
		o = append(o, kv{"country", p.country})
	}
	o = append(o, kv{"currency", p.currency}, kv{"in_stock", p.inStock}, kv{"image", p.id}, kv{"categories", p.categories})
	if p.recipientType != "" {
		o = append(o, kv{"recipient_type", p.recipientType})
	}
	if p.coverage != nil {
		o = append(o, kv{"coverage", p.coverage})
	}
	if len(p.packages) > 0 {
		list := make([]obj, 0, len(p.packages))
		for _, k := range p.packages {
			idKey := "package_id"
			if p.aliases&aliasPackageID != 0 {
				idKey = "id"
			}
			var v any = num(k.label)
			if p.isESIM() || p.aliases&aliasValueStr != 0 {
				v = k.label
			}
			po := obj{{idKey, p.packageID(k.label)}, {"value", v}}
			if p.isESIM() {
				po = append(po, kv{"price", num(fmtCents(k.priceCents))}, kv{"data_mb", k.dataMB}, kv{"duration_days", k.days})
			}
			list = append(list, po)
		}
		o = append(o, kv{"packages", list})
	} else if p.hash&2 != 0 {
		o = append(o, kv{"packages", []obj{}})
	}
	if p.rng != nil {
		r := obj{{"min", num(fmtCents(p.rng.min))}, {"max", num(fmtCents(p.rng.max))}, {"step", num(fmtCents(p.rng.step))}}
		if p.aliases&aliasPriceRate != 0 {
			r = append(r, kv{"price_rate", num(trimDecimal(fmtFixed(currencies[p.currency].microUSD, 6)))})
		}
		o = append(o, kv{"range", r})
	} else if p.hash&4 != 0 {
		o = append(o, kv{"range", nil})
	}
	b, err := marshal(o)
	if err != nil {
		panic(err)
	}
	return b
}
