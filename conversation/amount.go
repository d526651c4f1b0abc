package conversation

import (
	"strconv"
	"strings"
)

// Amount is money in hundredths of the product's currency unit. Face values on
// Bitrefill never have more precision than that, and integers keep range and
// step checks exact.
type Amount int64

// maxAmount bounds what a user may type: far above any real face value, far
// below int64 overflow in any sum the engine makes.
const maxAmount Amount = 1_000_000_000_00 // one billion units

// String renders the amount without trailing zero cents: "25", "25.50".
func (a Amount) String() string {
	neg := a < 0
	if neg {
		a = -a
	}
	s := strconv.FormatInt(int64(a/100), 10)
	if c := a % 100; c != 0 {
		s += "." + string([]byte{byte('0' + c/10), byte('0' + c%10)})
	}
	if neg {
		s = "-" + s
	}
	return s
}

// AmountProblem says why typed text is not an amount, so the reply can say what to fix.
type AmountProblem string

const (
	AmountOK         AmountProblem = ""
	AmountEmpty      AmountProblem = "empty"
	AmountNotANumber AmountProblem = "not_a_number"
	AmountNegative   AmountProblem = "negative"
	AmountZero       AmountProblem = "zero"
	AmountTooPrecise AmountProblem = "too_precise"
	AmountTooLarge   AmountProblem = "too_large"
	AmountWrongMoney AmountProblem = "wrong_currency"
	// AmountAmbiguous: "5,000" or "5.000" — a separator followed by exactly
	// three digits is a thousands separator in some countries and a decimal
	// mark in others; ParseAmount then returns the thousands reading so the
	// reply can name both (see AmbiguousReadings).
	AmountAmbiguous   AmountProblem = "ambiguous"
	maxAmountInputLen               = 40
)

var currencySymbols = map[string]string{"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}

// ParseAmount reads an amount as people type it in a chat: "25", "25.50",
// "25,50", "$25", "25 USD", " 25 ". It accepts ASCII digits only: scientific
// notation, hex, NaN, other scripts' digits and thousands separators are
// refused rather than guessed at, because a wrong guess spends real money.
// currency, when not empty, is the only currency code or symbol accepted.
func ParseAmount(s, currency string) (Amount, AmountProblem) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, AmountEmpty
	}
	if len(s) > maxAmountInputLen {
		return 0, AmountTooLarge
	}
	neg := false
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−") {
		neg = true
		s = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "−"))
	}
	// A currency may stand before or after the number, as a symbol or an ISO code.
	var code string
	for sym, c := range currencySymbols {
		if rest, ok := strings.CutPrefix(s, sym); ok {
			s, code = strings.TrimSpace(rest), c
			break
		}
		if rest, ok := strings.CutSuffix(s, sym); ok {
			s, code = strings.TrimSpace(rest), c
			break
		}
	}
	if code == "" {
		if i := strings.LastIndexByte(s, ' '); i >= 0 && isLetters(s[i+1:]) {
			s, code = strings.TrimSpace(s[:i]), strings.ToUpper(s[i+1:])
		} else if i := strings.IndexByte(s, ' '); i >= 0 && isLetters(s[:i]) {
			s, code = strings.TrimSpace(s[i+1:]), strings.ToUpper(s[:i])
		}
	}
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	whole, frac, hasSep := s, "", false
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		whole, frac, hasSep = s[:i], s[i+1:], true
	}
	if whole == "" && hasSep {
		whole = "0"
	}
	if !allDigits(whole) || !allDigits(frac) || (hasSep && frac == "") {
		return 0, AmountNotANumber
	}
	if code != "" && currency != "" && code != strings.ToUpper(currency) {
		return 0, AmountWrongMoney
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 10 {
		return 0, AmountTooLarge
	}
	// "5,000" is five thousand to an English reader and five to a Spanish
	// one; guessing either way can cost a thousandfold, so it is refused.
	ambiguous := hasSep && len(frac) == 3 && whole != ""
	var thousands Amount
	if ambiguous {
		w, _ := strconv.ParseInt(whole, 10, 64)
		f, _ := strconv.ParseInt(frac, 10, 64)
		thousands = Amount((w*1000 + f) * 100)
	}
	if len(frac) > 2 && !ambiguous {
		if strings.Trim(frac[2:], "0") != "" {
			return 0, AmountTooPrecise
		}
		frac = frac[:2]
	}
	if len(frac) > 2 {
		frac = frac[:2]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, _ := strconv.ParseInt("0"+whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	a := Amount(w*100 + f)
	switch {
	case neg && a != 0:
		return 0, AmountNegative
	case a == 0:
		return 0, AmountZero
	case ambiguous:
		return thousands, AmountAmbiguous
	case a > maxAmount:
		return 0, AmountTooLarge
	}
	return a, AmountOK
}

// AmbiguousReadings gives the two ways to read the amount ParseAmount
// returned with AmountAmbiguous: with thousands ("5000") and with a decimal
// point ("5.00"). asDecimal is empty when that reading is not money (5.125).
func AmbiguousReadings(thousands Amount) (asThousands, asDecimal string) {
	units := int64(thousands / 100)
	w, f := units/1000, units%1000
	if f%10 == 0 {
		asDecimal = strconv.FormatInt(w, 10) + "." + string([]byte{byte('0' + f/100), byte('0' + f/10%10)})
	}
	return strconv.FormatInt(units, 10), asDecimal
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLetters(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// Valid reports whether a is a value the range accepts.
func (r Range) Valid(a Amount) bool {
	if a < r.Min || a > r.Max {
		return false
	}
	return r.Step <= 0 || (a-r.Min)%r.Step == 0
}

// Nearest returns the valid values just below and above a (equal when a is valid);
// either is zero when there is none on that side.
func (r Range) Nearest(a Amount) (below, above Amount) {
	if a < r.Min {
		return 0, r.Min
	}
	if a > r.Max {
		step := r.Step
		if step <= 0 {
			return r.Max, 0
		}
		return r.Min + (r.Max-r.Min)/step*step, 0
	}
	step := r.Step
	if step <= 0 {
		return a, a
	}
	below = r.Min + (a-r.Min)/step*step
	if below == a {
		return a, a
	}
	above = below + step
	if above > r.Max {
		above = 0
	}
	return below, above
}
