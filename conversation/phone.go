package conversation

import (
	"slices"
	"strings"
)

// Phone top-ups: reading the number and picking its operator.

const (
	StepPhone         Step = "phone"          // asking for a phone number
	StepCheckingPhone Step = "checking_phone" // waiting for PhoneChecked
	StepOperators     Step = "operators"      // candidate operators for a number
)

const (
	doPhoneAsk ActionKind = "phone_ask"
	doOperator ActionKind = "operator"
)

// PhoneProblem says why typed text is not a phone number.
type PhoneProblem string

const (
	PhoneOK        PhoneProblem = ""
	PhoneEmpty     PhoneProblem = "empty"
	PhoneNotDigits PhoneProblem = "not_digits"
	PhoneTooShort  PhoneProblem = "too_short"
	PhoneTooLong   PhoneProblem = "too_long"
	PhoneNoCountry PhoneProblem = "no_country" // a national number, and no country to read it in
	PhoneBadLength PhoneProblem = "bad_length" // wrong number of digits for the country
)

// NormalizePhone reads a phone number as people type it — "+52 55 1234 5678",
// "0044 20 7946 0958", "(555) 123-4567", "06 12 34 56 78" — and returns it in
// E.164. A number without an international prefix is read in country (ISO
// alpha-2), dropping one trunk 0. Letters, other scripts' digits and lengths
// E.164 cannot hold are refused rather than guessed at: a top-up sent to the
// wrong number is lost money.
func NormalizePhone(in, country string) (string, PhoneProblem) {
	s := strings.TrimSpace(in)
	if s == "" {
		return "", PhoneEmpty
	}
	if len(s) > 40 {
		return "", PhoneTooLong
	}
	intl := false
	switch {
	case strings.HasPrefix(s, "+"):
		intl, s = true, s[1:]
	case strings.HasPrefix(s, "00"):
		intl, s = true, s[2:]
	}
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/':
		default:
			return "", PhoneNotDigits
		}
	}
	d := string(digits)
	if !intl {
		c, ok := findCountry(country)
		if !ok {
			return "", PhoneNoCountry
		}
		if c.calling == "1" && len(d) == 11 && d[0] == '1' {
			d = d[1:] // NANP numbers are often dialled with a leading 1
		} else if c.code != "IT" && strings.HasPrefix(d, "0") {
			d = d[1:]
		}
		if c.nsn > 0 && len(d) != c.nsn {
			return "", PhoneBadLength
		}
		d = c.calling + d
	}
	switch {
	case len(d) < 8:
		return "", PhoneTooShort
	case len(d) > 15:
		return "", PhoneTooLong
	case d[0] == '0':
		return "", PhoneNotDigits
	}
	return "+" + d, PhoneOK
}

// askPhone asks for the number to top up; p, when set, is the operator the
// user already chose.
func (t *turn) askPhone(p *Product) { t.askPhoneWith(p, nil) }

func (t *turn) askPhoneWith(p *Product, why []Span) {
	lang := t.s.Lang
	t.s.Step, t.s.Product, t.s.Phone = StepPhone, p, ""
	var spans []Span
	if why != nil {
		spans = append(slices.Clone(why), Span{Text: "\n\n"})
	}
	if p != nil {
		spans = appendText(spans, lang, "product.title", p.Name)
		spans = appendText(spans, lang, "product.facts", t.productCountry(p), p.Currency, lookup(lang, Msg("kind."+p.Kind)))
		spans = appendText(spans, lang, "phone.ask.for", p.Name)
	} else {
		spans = appendText(spans, lang, "phone.ask")
	}
	if c := t.phoneCountry(); c != "" {
		spans = appendText(spans, lang, "phone.ask.country", countryName(lang, c))
	} else {
		spans = appendText(spans, lang, "phone.ask.intl")
	}
	var o options
	t.opt(&o, "opt.back", doBack)
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(spans, ExpectPhone, o.acts, o.labels)
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

// phoneCountry is the country a national number is read in: the chosen
// operator's when there is one (a Mexican operator tops up Mexican numbers,
// whatever the user's own country), else the user's.
func (t *turn) phoneCountry() string {
	if p := t.s.Product; p != nil && p.Country != "" {
		if _, ok := findCountry(p.Country); ok {
			return p.Country
		}
	}
	return t.s.Country
}

func (t *turn) typedPhone(in string) {
	country := t.phoneCountry()
	num, prob := NormalizePhone(in, country)
	var why []Span
	switch prob {
	case PhoneOK:
		t.s.Step, t.s.Phone = StepCheckingPhone, num
		t.s.Actions = nil
		t.say(t.tx("phone.checking", num))
		t.out = append(t.out, CheckPhone{Number: num, Country: country})
		return
	case PhoneEmpty:
		why = t.tx("phone.empty")
	case PhoneNotDigits:
		if looksLikeWords(in) {
			t.offerSearch(in, t.tx("phone.words", truncate(in, 40)))
			return
		}
		why = t.tx("phone.digits", truncate(in, 40))
	case PhoneTooShort:
		why = t.tx("phone.short")
	case PhoneTooLong:
		why = t.tx("phone.long")
	case PhoneNoCountry:
		why = t.tx("phone.no_country")
	case PhoneBadLength:
		c, _ := findCountry(country)
		why = t.tx("phone.length", countryName(t.s.Lang, c.code), itoa(c.nsn))
	}
	t.askPhoneWith(t.s.Product, why)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func (t *turn) phoneChecked(ev PhoneChecked) {
	if t.s.Step != StepCheckingPhone || ev.Number != t.s.Phone {
		return // an answer for a number the user has moved on from
	}
	cands := ev.Operators
	if ev.Found {
		cands = []ProductSummary{{ID: ev.Product.ID, Name: ev.Product.Name, Country: ev.Product.Country, Kind: ev.Product.Kind, InStock: ev.Product.InStock}}
	}
	if len(cands) == 0 {
		t.s.Phone = ""
		t.askPhoneWith(t.s.Product, t.tx("phone.none", ev.Number))
		return
	}
	t.s.Operators = cands
	if p := t.s.Product; p != nil {
		if slices.ContainsFunc(cands, func(c ProductSummary) bool { return c.ID == p.ID }) {
			t.card()
			return
		}
		t.operators(t.tx("phone.mismatch", p.Name, ev.Number))
		return
	}
	if ev.Found {
		p := ev.Product
		t.s.Product = &p
		t.card()
		return
	}
	t.operators(t.tx("phone.pick", ev.Number))
}

func (t *turn) phoneFailed(ev Failed, reason string) {
	if t.s.Step != StepCheckingPhone || ev.For != "" && ev.For != t.s.Phone {
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

// operators lists the operators that may serve the number.
func (t *turn) operators(spans []Span) {
	t.s.Step = StepOperators
	var o options
	for i, c := range t.s.Operators {
		if i == maxPackageOpts {
			break
		}
		label := c.Name
		if !c.InStock {
			label = strings.Replace(lookup(t.s.Lang, "result.out"), "{1}", label, 1)
		}
		o.add(label, doOperator, c.ID)
	}
	t.opt(&o, "opt.other_number", doPhoneAsk)
	t.opt(&o, "opt.back", doBack)
	t.opt(&o, "opt.cancel", doCancel)
	t.menu(spans, ExpectPhone, o.acts, o.labels)
}

func (t *turn) operatorName(id string) string {
	for _, c := range t.s.Operators {
		if c.ID == id {
			return c.Name
		}
	}
	return t.resultName(id)
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
