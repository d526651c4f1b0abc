package bitrefilltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Money is kept in integer minor units (cents) everywhere; floats never touch
// an amount, because validation of ranges with step 0.01 and price totals
// must be exact for the client's own validation to be comparable.

var errBadDecimal = errors.New("not a decimal amount")

// parseCents parses a non-negative decimal ("50", "12.5", "0.01", "50.000")
// into hundredths. More than two significant decimals is an error: the API
// has no sub-cent denominations.
func parseCents(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, errBadDecimal
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, errBadDecimal
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, errBadDecimal
		}
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 2 {
		return 0, errBadDecimal
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if len(whole) > 12 {
		return 0, errBadDecimal
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, errBadDecimal
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}

// mustCents is for the literal amounts of the built-in catalogue.
func mustCents(s string) int64 {
	c, err := parseCents(s)
	if err != nil {
		panic("bitrefilltest: bad literal amount " + s)
	}
	return c
}

// fmtCents renders hundredths in the shortest exact form: 5000 -> "50",
// 1250 -> "12.5", 1 -> "0.01".
func fmtCents(c int64) string {
	neg := c < 0
	if neg {
		c = -c
	}
	s := strconv.FormatInt(c/100, 10)
	if r := c % 100; r != 0 {
		fr := strings.TrimRight(strconv.FormatInt(100+r, 10)[1:], "0")
		s += "." + fr
	}
	if neg {
		s = "-" + s
	}
	return s
}

// fmtCents2 renders hundredths with exactly two decimals ("50.00"), the
// usual form for account money.
func fmtCents2(c int64) string {
	return fmtFixed(c, 2)
}

// fmtFixed renders v * 10^-places with exactly places decimals.
func fmtFixed(v int64, places int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	for len(s) <= places {
		s = "0" + s
	}
	out := s
	if places > 0 {
		out = s[:len(s)-places] + "." + s[len(s)-places:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

// trimDecimal drops trailing fractional zeros ("0.00050000" -> "0.0005").
func trimDecimal(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// num makes a JSON number from decimal text without passing through float64.
func num(s string) json.Number { return json.Number(s) }

// ceilDiv is integer division rounding up, for non-negative operands.
func ceilDiv(a, b int64) int64 {
	if a == 0 {
		return 0
	}
	return (a + b - 1) / b
}

// kv/obj give JSON objects a stable, readable key order (meta first, then
// data), which a map cannot.
type kv struct {
	k string
	v any
}

type obj []kv

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshal(p.k)
		if err != nil {
			return nil, err
		}
		vb, err := marshal(p.v)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping: package ids contain the
// literal "<&>" and should read on the wire exactly as the docs show them.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
