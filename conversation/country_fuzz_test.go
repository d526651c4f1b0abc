package conversation

import (
	"strings"
	"testing"
)

// The other parsers of what users type are fuzzed in conversation/inputfuzz,
// whose binary links only what they reach; this one reads unexported tables.

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
