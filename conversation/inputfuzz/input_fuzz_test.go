package inputfuzz

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"refillbot/conversation"
)

// maxAmount is the engine's ceiling on a typed amount (one billion units).
const maxAmount conversation.Amount = 1_000_000_000_00

// Whatever is typed, the parser never panics, and what it accepts is a
// positive amount that prints back to a string it parses the same way.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"25", "25,50", "$25", "25 USD", "1e9", "NaN", "-0", "٢٥", "0x10", ".5", "€ 12.30", "5,000", "1.250", strings.Repeat("1", 60)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, prob := conversation.ParseAmount(s, "USD")
		if prob == conversation.AmountAmbiguous {
			// Both readings are offered to the user; neither is taken.
			if th, _ := conversation.AmbiguousReadings(a); a <= 0 || th == "" {
				t.Fatalf("ambiguous %q: %v -> %q", s, a, th)
			}
			return
		}
		if prob != conversation.AmountOK {
			if a != 0 {
				t.Fatalf("refused %q but returned %v", s, a)
			}
			return
		}
		if a <= 0 || a > maxAmount {
			t.Fatalf("accepted %q as %v", s, a)
		}
		if b, p := conversation.ParseAmount(a.String(), "USD"); b != a || p != conversation.AmountOK {
			t.Fatalf("%q -> %v -> %q -> %v %q", s, a, a.String(), b, p)
		}
	})
}

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
		r := conversation.Range{Min: conversation.Amount(lo), Max: conversation.Amount(hi), Step: conversation.Amount(step)}
		if r.Min <= 0 || r.Max < r.Min || r.Max > maxAmount || r.Step < 0 || r.Step > r.Max {
			return // Bitrefill's ranges are positive and ordered; the shell drops others
		}
		a, prob := conversation.ParseAmount(s, "USD")
		if prob != conversation.AmountOK {
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
		for _, v := range []conversation.Amount{below, above} {
			if v != 0 && !r.Valid(v) {
				t.Fatalf("%v refused in %+v, suggesting %v, which is not valid either", a, r, v)
			}
		}
		if (below != 0 && below > a) || (above != 0 && above < a) {
			t.Fatalf("neighbours of %v in %+v are %v and %v", a, r, below, above)
		}
	})
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+1 (555) 123-4567", "0044 20 7946 0958", "55 1234 5678", "", "+", "00", "0", "++1", "+1 ٥٥٥"} {
		f.Add(s, "MX")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, in, country string) {
		got, prob := conversation.NormalizePhone(in, country)
		if prob != conversation.PhoneOK {
			if got != "" {
				t.Fatalf("a refusal (%s) returned %q", prob, got)
			}
			return
		}
		// Whatever was accepted is E.164, as Bitrefill checks it.
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || got[1] == '0' {
			t.Fatalf("NormalizePhone(%q, %q) = %q, not E.164", in, country, got)
		}
		for _, c := range got[1:] {
			if c < '0' || c > '9' {
				t.Fatalf("NormalizePhone(%q, %q) = %q, not digits", in, country, got)
			}
		}
	})
}

func FuzzNormalizeICCID(f *testing.F) {
	for _, s := range []string{"8900000000000000011", "8900 0000 0000 0000 011", "", "1", "89-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, prob := conversation.NormalizeICCID(in)
		if prob != conversation.ICCIDOK {
			return
		}
		if len(got) < 18 || len(got) > 22 || !luhnDigits(got) {
			t.Fatalf("NormalizeICCID(%q) accepted %q", in, got)
		}
	})
}

// luhnDigits tells whether s is ASCII digits whose last is a valid Luhn
// check digit; written apart from the parser's own so the two check each
// other.
func luhnDigits(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i]) - '0'
		if d < 0 || d > 9 {
			return false
		}
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
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
		c, ok := conversation.ParseCommandToken(tok)
		if !ok {
			if strings.HasPrefix(tok, "/") && len(tok) > 1 && tok[1] != ' ' {
				t.Fatalf("%q refused", tok)
			}
			return
		}
		if c.Name == "" || strings.Contains(c.Name, " ") {
			t.Fatalf("%q read as command %q", tok, c.Name)
		}
		if made := conversation.CommandToken(c.Name, c.Args); made != tok && "/"+c.Name != tok {
			t.Fatalf("%q read as %+v, which makes %q", tok, c, made)
		}
		if back, ok := conversation.ParseCommandToken(conversation.CommandToken(c.Name, c.Args)); !ok || back != c {
			t.Fatalf("%+v round trips to %+v, %v", c, back, ok)
		}
	})
}

// A button press carries an opaque token, which anyone can forge (Telegram's
// callback_data, Discord's custom_id). Whatever a token contains, it does
// what one of the buttons on screen does, or is refused politely: it starts
// no other work for the shell (no search, no invoice, no payment).
func FuzzChoseToken(f *testing.F) {
	eng := conversation.Engine{Methods: []string{"bitcoin", "lightning"}, Sandbox: true, IdleAfter: time.Hour}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	home, shown := eng.Step(conversation.NewState(conversation.SessionKey{Platform: "test", User: "u"}, "n", "en-US"), conversation.Start{}, now)
	var buttons [][]conversation.Effect // what pressing each button on screen does
	for _, e := range shown {
		if r, ok := e.(conversation.Reply); ok {
			for _, o := range r.Options {
				_, does := eng.Step(home, conversation.Chose{Token: o.Token}, now)
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
		if _, ok := conversation.ParseCommandToken(tok); ok {
			return // a notice's command token: the shell runs it as that command
		}
		_, effects := eng.Step(home, conversation.Chose{Token: tok}, now)
		if len(effects) == 0 {
			t.Fatalf("token %q got no answer", tok)
		}
		for _, b := range buttons {
			if reflect.DeepEqual(effects, b) {
				return
			}
		}
		for _, e := range effects {
			if _, ok := e.(conversation.Reply); !ok {
				t.Fatalf("token %q started %T, which no button on screen does", tok, e)
			}
		}
	})
}
