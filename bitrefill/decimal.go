package bitrefill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number for money and amounts.
//
// Bitrefill sends prices as JSON numbers, numeric strings and, depending on the
// payment method, in units with up to 18 decimals; a float64 would silently
// round them. Decimal keeps the canonical decimal text instead (no exponent, no
// leading zeros, no trailing fractional zeros), so two Decimals holding the same
// value are equal with ==, and the zero value is 0.
type Decimal struct {
	s string // canonical form; "" means zero
}

// Limits that keep hostile input ("1e999999999") from allocating gigabytes.
const (
	maxDecimalInput    = 512
	maxDecimalExponent = 1000
)

// ErrInvalidDecimal is returned (wrapped) when text is not a decimal number.
var ErrInvalidDecimal = errors.New("bitrefill: invalid decimal")

// ParseDecimal parses a decimal number such as "25", "-0.01", "25.50", ".5" or
// "1e3". Surrounding spaces are ignored; anything else that is not a number,
// including the empty string, is an error.
func ParseDecimal(s string) (Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxDecimalInput {
		return Decimal{}, fmt.Errorf("%w: %q", ErrInvalidDecimal, truncate(s, 40))
	}
	orig := s
	bad := func() (Decimal, error) {
		return Decimal{}, fmt.Errorf("%w: %q", ErrInvalidDecimal, truncate(orig, 40))
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" && frac == "" {
		return bad()
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return bad()
	}
	e := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if exp == "" {
			return bad()
		}
		v, err := strconv.Atoi(exp)
		if err != nil || v > maxDecimalExponent || v < -maxDecimalExponent {
			return bad()
		}
		e = v
	}
	digits := intPart + frac
	scale := len(frac) - e // value = digits * 10^-scale
	d := makeDecimal(neg, digits, scale)
	if len(d.s) > maxDecimalInput {
		return bad() // "1e700": short to write, too long to keep
	}
	return d, nil
}

// MustDecimal is ParseDecimal for constants in code and tests; it panics on bad input.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// FromCents returns the Decimal worth cents hundredths (FromCents(2550) is 25.5).
func FromCents(cents int64) Decimal {
	s := strconv.FormatInt(cents, 10)
	neg := strings.HasPrefix(s, "-")
	return makeDecimal(neg, strings.TrimPrefix(s, "-"), 2)
}

// makeDecimal builds the canonical form of ±digits×10^-scale.
func makeDecimal(neg bool, digits string, scale int) Decimal {
	if scale < 0 {
		digits += strings.Repeat("0", -scale)
		scale = 0
	}
	// Make sure there is at least one integer digit.
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	intPart, frac := digits[:len(digits)-scale], digits[len(digits)-scale:]
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if intPart == "" {
		intPart = "0"
	}
	if intPart == "0" && frac == "" {
		return Decimal{}
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(intPart)
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return Decimal{s: b.String()}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parts splits the canonical form.
func (d Decimal) parts() (neg bool, intPart, frac string) {
	s := d.s
	if s == "" {
		return false, "0", ""
	}
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	intPart, frac, _ = strings.Cut(s, ".")
	return neg, intPart, frac
}

// String returns the canonical decimal text, e.g. "25.5", "0", "-0.01".
func (d Decimal) String() string {
	if d.s == "" {
		return "0"
	}
	return d.s
}

// IsZero reports whether d is 0. It also lets `json:",omitzero"` drop unset amounts.
func (d Decimal) IsZero() bool { return d.s == "" }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.s == "":
		return 0
	case d.s[0] == '-':
		return -1
	default:
		return 1
	}
}

// Scale is the number of digits after the decimal point in the canonical form.
func (d Decimal) Scale() int {
	_, _, frac := d.parts()
	return len(frac)
}

// Cents converts d to hundredths exactly. It fails rather than round when d
// has more than two decimals, and when the result does not fit in an int64.
func (d Decimal) Cents() (int64, error) {
	neg, intPart, frac := d.parts()
	if len(frac) > 2 {
		return 0, fmt.Errorf("bitrefill: %s has more than 2 decimal places", d)
	}
	digits := intPart + frac + strings.Repeat("0", 2-len(frac))
	if neg {
		digits = "-" + digits
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bitrefill: %s does not fit in int64 cents", truncate(d.String(), 40))
	}
	return v, nil
}

// Cmp compares d and e: -1 if d < e, 0 if equal, +1 if d > e.
func (d Decimal) Cmp(e Decimal) int {
	ds, es := d.Sign(), e.Sign()
	if ds != es {
		if ds < es {
			return -1
		}
		return 1
	}
	if ds == 0 {
		return 0
	}
	c := cmpAbs(d, e)
	if ds < 0 {
		return -c
	}
	return c
}

func cmpAbs(d, e Decimal) int {
	_, di, df := d.parts()
	_, ei, ef := e.parts()
	if len(di) != len(ei) {
		if len(di) < len(ei) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(di, ei); c != 0 {
		return c
	}
	n := max(len(df), len(ef))
	df += strings.Repeat("0", n-len(df))
	ef += strings.Repeat("0", n-len(ef))
	return strings.Compare(df, ef)
}

// big returns d as mantissa × 10^-scale.
func (d Decimal) big() (*big.Int, int) {
	neg, intPart, frac := d.parts()
	m, _ := new(big.Int).SetString(intPart+frac, 10)
	if neg {
		m.Neg(m)
	}
	return m, len(frac)
}

func fromBig(m *big.Int, scale int) Decimal {
	s := m.String()
	neg := strings.HasPrefix(s, "-")
	return makeDecimal(neg, strings.TrimPrefix(s, "-"), scale)
}

// align returns the mantissas of d and e at a common scale.
func align(d, e Decimal) (a, b *big.Int, scale int) {
	a, as := d.big()
	b, bs := e.big()
	scale = max(as, bs)
	ten := big.NewInt(10)
	if as < scale {
		a.Mul(a, new(big.Int).Exp(ten, big.NewInt(int64(scale-as)), nil))
	}
	if bs < scale {
		b.Mul(b, new(big.Int).Exp(ten, big.NewInt(int64(scale-bs)), nil))
	}
	return a, b, scale
}

// Add returns d + e exactly.
func (d Decimal) Add(e Decimal) Decimal {
	a, b, scale := align(d, e)
	return fromBig(a.Add(a, b), scale)
}

// Sub returns d - e exactly.
func (d Decimal) Sub(e Decimal) Decimal {
	a, b, scale := align(d, e)
	return fromBig(a.Sub(a, b), scale)
}

// MulInt returns d × n exactly (a line total from a unit price and a quantity).
func (d Decimal) MulInt(n int64) Decimal {
	m, scale := d.big()
	return fromBig(m.Mul(m, big.NewInt(n)), scale)
}

// MarshalJSON writes d as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalJSON accepts a JSON number or a string holding one. null leaves d
// unchanged and "" reads as zero, because both appear for not-yet-known prices.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			*d = Decimal{}
			return nil
		}
		v, err := ParseDecimal(s)
		if err != nil {
			return err
		}
		*d = v
		return nil
	}
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText and UnmarshalText let Decimal be used with flag, env and map keys.
func (d Decimal) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses text with ParseDecimal.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
