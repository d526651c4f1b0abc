package conversation

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		in, country, want string
		prob              PhoneProblem
	}{
		{"+1 (555) 123-4567", "", "+15551234567", PhoneOK},
		{"+52 55 1234 5678", "US", "+525512345678", PhoneOK},
		{"0044 20 7946 0958", "", "+442079460958", PhoneOK},
		{"555.123.4567", "US", "+15551234567", PhoneOK},
		{"1 555 123 4567", "US", "+15551234567", PhoneOK},
		{"55 1234 5678", "MX", "+525512345678", PhoneOK},
		{"06 12 34 56 78", "FR", "+33612345678", PhoneOK},
		{"030 1234567", "DE", "+49301234567", PhoneOK},
		{"333 123 4567", "IT", "+393331234567", PhoneOK},
		{"  +34 612 345 678  ", "", "+34612345678", PhoneOK},
		{"", "US", "", PhoneEmpty},
		{"555 123 4567", "", "", PhoneNoCountry},
		{"555 123 4567", "ZZ", "", PhoneNoCountry},
		{"55 1234", "MX", "", PhoneBadLength},
		{"55 1234 5678 9", "MX", "", PhoneBadLength},
		{"+12", "", "", PhoneTooShort},
		{"+1 234 567 890 123 456", "", "", PhoneTooLong},
		{"+0 555 123 4567", "", "", PhoneNotDigits},
		{"call me", "US", "", PhoneNotDigits},
		{"+1 555 123 456x", "", "", PhoneNotDigits},
		{"+١٢٣٤٥٦٧٨٩", "", "", PhoneNotDigits}, // other scripts' digits are not guessed at
		{"+1-555-123-4567; DROP", "", "", PhoneNotDigits},
		{strings.Repeat("5", 60), "US", "", PhoneTooLong},
	} {
		got, prob := NormalizePhone(tc.in, tc.country)
		if got != tc.want || prob != tc.prob {
			t.Errorf("NormalizePhone(%q, %q) = %q, %q; want %q, %q", tc.in, tc.country, got, prob, tc.want, tc.prob)
		}
	}
}

func TestNormalizeICCID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		prob     ICCIDProblem
	}{
		{"8900000000000000011", "8900000000000000011", ICCIDOK},
		{"8900 0000 0000 0000 011", "8900000000000000011", ICCIDOK},
		{"89-0000-0000-0000-0001-1", "8900000000000000011", ICCIDOK},
		{"8900000000000000012", "", ICCIDChecksum},
		{"1234", "", ICCIDLength},
		{"", "", ICCIDLength},
		{strings.Repeat("1", 23), "", ICCIDLength},
		{"89000000000000000a1", "", ICCIDNotDigits},
		{"٨٩٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠١١", "", ICCIDNotDigits},
	} {
		got, prob := NormalizeICCID(tc.in)
		if got != tc.want || prob != tc.prob {
			t.Errorf("NormalizeICCID(%q) = %q, %q; want %q, %q", tc.in, got, prob, tc.want, tc.prob)
		}
	}
}

func TestParseCountry(t *testing.T) {
	for in, want := range map[string]string{
		"mexico": "MX", "México": "MX", "MX": "MX", "mx": "MX", "Alemania": "DE", "germany": "DE", "UK": "GB",
		"usa": "US", "EEUU": "US", "argen": "AR", "españa": "ES", "Spain.": "ES", "narnia": "", "": "", "a": "",
		"united": "", // United States, United Kingdom, United Arab Emirates: ambiguous
	} {
		got, ok := parseCountry(in)
		if got != want || ok != (want != "") {
			t.Errorf("parseCountry(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestNewStateFromLocale(t *testing.T) {
	key := SessionKey{Platform: "telegram", User: "42"}
	for _, tc := range []struct{ locale, lang, guess string }{
		{"es-MX", "es", "MX"}, {"es_ES.UTF-8", "es", "ES"}, {"en-GB", "en", "GB"}, {"es", "es", ""},
		{"pt-BR", "en", "BR"}, {"", "en", ""}, {"en_US@euro", "en", "US"}, {"en-419", "en", ""}, {"de-XX", "en", ""},
	} {
		s := NewState(key, "nonce", tc.locale)
		if s.Lang != tc.lang || s.CountryGuess != tc.guess || s.Country != "" || s.User != "telegram:42" || s.Nonce != "nonce" || s.V != SchemaVersion {
			t.Errorf("NewState(%q) = lang %q guess %q country %q user %q", tc.locale, s.Lang, s.CountryGuess, s.Country, s.User)
		}
	}
}

// A user who typed a name instead of answering "Are you in Mexico?" still
// sees Mexico's products first: the guess ranks, it hides nothing.
func TestSearchRanksByGuessedCountry(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ locale, confirmed, want string }{
		{"es-MX", "", "MX"}, {"es-MX", "ES", "ES"}, {"es", "", ""},
	} {
		s := NewState(SessionKey{Platform: "telegram", User: "7"}, "nonce", tc.locale)
		s.Country = tc.confirmed
		_, effects := Engine{Methods: []string{"bitcoin"}}.Step(s, Text{Text: "netflix"}, now)
		var got *SearchProducts
		for _, e := range effects {
			if sp, ok := e.(SearchProducts); ok {
				got = &sp
			}
		}
		if got == nil || got.Country != tc.want || got.Query != "netflix" {
			t.Errorf("locale %q, confirmed %q: search %+v, want country %q", tc.locale, tc.confirmed, got, tc.want)
		}
	}
}

func TestDataText(t *testing.T) {
	for b, want := range map[int64]string{0: "0 MB", -5: "0 MB", 999_999: "0 MB", 500_000_000: "500 MB", 1_000_000_000: "1 GB", 2_345_000_000: "2.3 GB", 20_000_000_000: "20 GB"} {
		if got := dataText(b); got != want {
			t.Errorf("dataText(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestBundleState(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		b    Bundle
		want string
	}{
		{Bundle{Status: "active", DataMB: 1000, RemainingBytes: 10, Expires: now.Add(time.Hour)}, "active"},
		{Bundle{Status: "active", DataMB: 1000, RemainingBytes: 0, Expires: now.Add(time.Hour)}, "depleted"},
		{Bundle{Status: "active", DataMB: 1000, RemainingBytes: 10, Expires: now}, "expired"},
		{Bundle{Status: "expired"}, "expired"},
		{Bundle{Status: "depleted"}, "depleted"},
		{Bundle{Status: "purchased"}, "purchased"},
		{Bundle{Status: "suspended"}, "other"},
	} {
		if got := bundleState(tc.b, now); got != tc.want {
			t.Errorf("bundleState(%+v) = %q, want %q", tc.b, got, tc.want)
		}
	}
}

func TestInvoiceCost(t *testing.T) {
	for price, want := range map[string]Amount{"25.00": 2500, "25": 2500, "0.011": 2, "12.3": 1230, "0": 0, "": -1, "abc": -1, "-3": -1, "1e3": -1} {
		got, ok := invoiceCost(Invoice{Price: price})
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("invoiceCost(%q) = %d, want %d", price, got, want)
		}
	}
}

// Every menu label in every language fits the platforms' limits.
func TestCatalogueLabelsFit(t *testing.T) {
	for lang, m := range catalog {
		for k, v := range m {
			if strings.HasPrefix(string(k), "opt.") && utf8.RuneCountInString(v) > 40 {
				t.Errorf("%s %q is %d characters: too long for a button", lang, k, utf8.RuneCountInString(v))
			}
		}
	}
}
