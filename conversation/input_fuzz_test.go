package conversation

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// The fuzz targets of this file cover what a user can type or press besides
// amounts, phone numbers and ICCIDs (amount_test.go, parsers_test.go):
// typed amounts against a product's range, country names, the one-tap
// command tokens of notices, and menu tokens from anywhere.

// A typed amount the parser accepts is either a valid value of the range —
// inside it and on its step — or refused with a nearest valid value on at
// least one side; a suggested neighbour is itself valid.
func FuzzAmountInRange(f *testing.F) {
	for _, s := range []string{"25", "10", "200", "12.5", "12.50", "199.99", "5", "1000", "$50", "50 USD", "0.01"} {
		f.Add(s, int64(1000), int64(20000), int64(500))
		f.Add(s, int64(1), int64(100_000_00), int64(1))
		f.Add(s, int64(1000), int64(1000), int64(0))
	}
	f.Fuzz(func(t *testing.T, s string, lo, hi, step int64) {
		r := Range{Min: Amount(lo), Max: Amount(hi), Step: Amount(step)}
		if r.Min <= 0 || r.Max < r.Min || r.Max > maxAmount || r.Step < 0 || r.Step > r.Max {
			return // Bitrefill's ranges are positive and ordered; the shell drops others
		}
		a, prob := ParseAmount(s, "USD")
		if prob != AmountOK {
			return
		}
		if r.Valid(a) {
			if a < r.Min || a > r.Max || (r.Step > 0 && (a-r.Min)%r.Step != 0) {
				t.Fatalf("%v is called valid in %+v", a, r)
			}
			if below, above := r.Nearest(a); below != a || above != a {
				t.Fatalf("valid %v has neighbours %v, %v in %+v", a, below, above, r)
			}
			return
		}
		below, above := r.Nearest(a)
		if below == 0 && above == 0 {
			t.Fatalf("%v refused in %+v with nothing to suggest", a, r)
		}
		for _, v := range []Amount{below, above} {
			if v != 0 && !r.Valid(v) {
				t.Fatalf("%v refused in %+v, suggesting %v, which is not valid either", a, r, v)
			}
		}
		if (below != 0 && below > a) || (above != 0 && above < a) {
			t.Fatalf("neighbours of %v in %+v are %v and %v", a, r, below, above)
		}
	})
}

// A typed country is an ISO code the bot knows, or nothing; the code it
// gives reads back as itself, so a country once chosen is stable.
func FuzzParseCountry(f *testing.F) {
	for _, s := range []string{"mexico", "México", "MX", "mx", "Alemania", "UK", "usa", "EEUU", "argen", "españa",
		"Spain.", "narnia", "", "a", "united", "  de  ", "Espan\u0303a", "\xff", "côte d'ivoire", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, ok := parseCountry(in)
		if !ok {
			if code != "" {
				t.Fatalf("parseCountry(%q) refused but gave %q", in, code)
			}
			return
		}
		if _, known := findCountry(code); !known || len(code) != 2 || strings.ToUpper(code) != code {
			t.Fatalf("parseCountry(%q) = %q, not a known code", in, code)
		}
		if again, ok := parseCountry(code); !ok || again != code {
			t.Fatalf("parseCountry(%q) = %q, which reads back as %q, %v", in, code, again, ok)
		}
		if name := countryName(DefaultLang, code); name == "" {
			t.Fatalf("%q has no name", code)
		}
	})
}

// A notice's one-tap token reads back as the command it was made from, and
// anything read as a command token is exactly "/name" or "/name args".
func FuzzParseCommandToken(f *testing.F) {
	f.Add("/topup 8900000000000000011")
	f.Add("/topup ")
	f.Add("/")
	f.Add("topup")
	f.Add("/ x")
	f.Add("n.1.0")
	f.Fuzz(func(t *testing.T, tok string) {
		c, ok := ParseCommandToken(tok)
		if !ok {
			if strings.HasPrefix(tok, "/") && len(tok) > 1 && tok[1] != ' ' {
				t.Fatalf("%q refused", tok)
			}
			return
		}
		if c.Name == "" || strings.Contains(c.Name, " ") {
			t.Fatalf("%q read as command %q", tok, c.Name)
		}
		if made := CommandToken(c.Name, c.Args); made != tok && "/"+c.Name != tok {
			t.Fatalf("%q read as %+v, which makes %q", tok, c, made)
		}
		if back, ok := ParseCommandToken(CommandToken(c.Name, c.Args)); !ok || back != c {
			t.Fatalf("%+v round trips to %+v, %v", c, back, ok)
		}
	})
}

// A button press carries an opaque token, which anyone can forge (Telegram's
// callback_data, Discord's custom_id). Whatever a token contains, it does
// what one of the buttons on screen does, or is refused politely: it starts
// no other work for the shell (no search, no invoice, no payment).
func FuzzChoseToken(f *testing.F) {
	eng := Engine{Methods: []string{"bitcoin", "lightning"}, Sandbox: true, IdleAfter: time.Hour}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	home, shown := eng.Step(NewState(SessionKey{Platform: "test", User: "u"}, "n", "en-US"), Start{}, now)
	var buttons [][]Effect // what pressing each button on screen does
	for _, e := range shown {
		if r, ok := e.(Reply); ok {
			for _, o := range r.Options {
				_, does := eng.Step(home, Chose{Token: o.Token}, now)
				buttons = append(buttons, does)
				f.Add(o.Token)
			}
		}
	}
	if len(buttons) == 0 {
		f.Fatal("the home screen offers no options")
	}
	for _, s := range []string{"", "n", "n.", "n.0", "n.1.99", "n.-1.0", "n.1.02", "x.1.0", "/search amazon", "/topup 89", "~abc", "n.1.0\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if _, ok := ParseCommandToken(tok); ok {
			return // a notice's command token: the shell runs it as that command
		}
		_, effects := eng.Step(home, Chose{Token: tok}, now)
		if len(effects) == 0 {
			t.Fatalf("token %q got no answer", tok)
		}
		for _, b := range buttons {
			if reflect.DeepEqual(effects, b) {
				return
			}
		}
		for _, e := range effects {
			if _, ok := e.(Reply); !ok {
				t.Fatalf("token %q started %T, which no button on screen does", tok, e)
			}
		}
	})
}
