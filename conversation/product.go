package conversation

import (
	"slices"
	"strconv"
	"strings"
)

// The product card: loading a product, its values, and typed amounts.

const (
	StepLoading Step = "loading" // waiting for ProductLoaded
	StepProduct Step = "product" // the product card: pick or type a value
)

const (
	doPackage ActionKind = "package" // pick package Arg
	doAmount  ActionKind = "amount"  // a quick pick within a range
)

const maxPackageOpts = 20

func (t *turn) load(id string) {
	t.s.Step, t.s.Loading = StepLoading, id
	t.s.Actions = nil
	t.out = append(t.out, LoadProduct{ID: id})
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

func (t *turn) productFailed(ev Failed, reason string) {
	if t.s.Step != StepLoading || ev.For != "" && ev.For != t.s.Loading {
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
	spans = t.cardNotes(spans)
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
				label := pk.Label
				if pk.Amount == 0 {
					label = pricedLabel(pk, p.Currency)
				}
				labels = append(labels, label)
				if i < maxPackageOpts {
					o.add(pricedLabel(pk, p.Currency), doPackage, pk.ID)
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

// cardNotes adds what the card says beyond the product's facts.
func (t *turn) cardNotes(spans []Span) []Span {
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

func packageLabel(pk Package, currency string) string {
	if pk.Amount > 0 {
		return pk.Amount.String() + " " + currency
	}
	return pk.Label
}

// pricedLabel is how a package is offered: its value, and for a plan whose
// value is not money its price when Bitrefill gives one ("1GB, 7 Days —
// 4.50 USD"), so nobody learns the price only from the invoice.
func pricedLabel(pk Package, currency string) string {
	if pk.Amount == 0 && pk.Price > 0 {
		return pk.Label + " — " + pk.Price.String() + " " + currency
	}
	return packageLabel(pk, currency)
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
			t.s.Choice = &Choice{PackageID: pk.ID, Label: packageLabel(pk, p.Currency), Amount: pk.Amount, Price: pk.Price}
			t.confirm()
			return
		}
	}
	t.stale()
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

// typedOnCard reads a phone number while the card waits for one, else an amount.
func (t *turn) typedOnCard(in string) {
	if p := t.s.Product; p != nil && p.NeedsPhone && t.s.Phone == "" && p.InStock {
		t.typedPhone(in)
		return
	}
	t.typedAmount(in)
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
