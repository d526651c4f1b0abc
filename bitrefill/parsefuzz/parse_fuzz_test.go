package parsefuzz

import (
	"reflect"
	"strings"
	"testing"

	"refillbot/bitrefill"
)

// FuzzParseDecimal checks that canonical text re-parses to the same value and
// that cents conversions are exact.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "25.50", "-0.01", "1e3", ".5", "92233720368547758.07", "1e-5", "abc", "1e700", "1e-700"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := bitrefill.ParseDecimal(s)
		if err != nil {
			return
		}
		again, err := bitrefill.ParseDecimal(d.String())
		if err != nil || again != d {
			t.Fatalf("%q → %s → %v, %v", s, d, again, err)
		}
		if c, err := d.Cents(); err == nil {
			if bitrefill.FromCents(c) != d {
				t.Fatalf("%s → %d cents → %s", d, c, bitrefill.FromCents(c))
			}
		}
		if d.Cmp(d) != 0 || d.Sub(d).Sign() != 0 {
			t.Fatalf("%s not equal to itself", d)
		}
	})
}

// FuzzParseLimits: any input either fails with an error or yields limits
// that are all usable (positive counts and periods) and that survive a round
// trip through String.
func FuzzParseLimits(f *testing.F) {
	for _, s := range []string{"", "off", "general=600/10m,products=300/1m", "products=300/m+5000/h",
		"ping=off", "esims=1/1ms", "general=60/1h30m", "general=60/10m,general=1/s", "x=1/s", "general=1/9999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := bitrefill.ParseLimits(s)
		if err != nil {
			return
		}
		for c, rs := range l {
			for _, r := range rs {
				if r.N <= 0 || r.Per <= 0 {
					t.Fatalf("ParseLimits(%q): %v has unusable rate %+v", s, c, r)
				}
			}
		}
		back, err := bitrefill.ParseLimits(l.String())
		if err != nil {
			t.Fatalf("ParseLimits(%q).String() = %q does not parse: %v", s, l.String(), err)
		}
		if !reflect.DeepEqual(normal(back), normal(l)) {
			t.Fatalf("round trip of %q: %v then %v", s, l, back)
		}
	})
}

// normal treats a class with no rates and a missing class alike.
func normal(l bitrefill.Limits) map[bitrefill.Class][]bitrefill.Rate {
	out := map[bitrefill.Class][]bitrefill.Rate{}
	for c, rs := range l {
		if len(rs) > 0 {
			out[c] = rs
		}
	}
	return out
}

// apiWords are the fixed segments of the API's paths.
var apiWords = map[string]bool{"ping": true, "accounts": true, "balance": true, "check_phone_number": true, "products": true,
	"search": true, "esims": true, "invoices": true, "pay": true, "orders": true, "{id}": true}

// Whatever path the client requests, its metric label is "other" or a
// template made of the API's words and {id} only, so no product, invoice or
// order id and no ICCID reaches a label; a template is its own route.
func FuzzRoute(f *testing.F) {
	f.Add("/products/amazon-us")
	f.Add("/invoices/abc/pay")
	f.Add("/products/search?q=x")
	f.Fuzz(func(t *testing.T, path string) {
		r := bitrefill.Route(path)
		if r == "other" {
			return
		}
		for _, seg := range strings.Split(strings.TrimPrefix(r, "/"), "/") {
			if !apiWords[seg] {
				t.Fatalf("Route(%q) = %q, which keeps %q", path, r, seg)
			}
		}
		if again := bitrefill.Route(r); again != r {
			t.Fatalf("Route(%q) = %q, whose own route is %q", path, r, again)
		}
	})
}
