package conversation

import (
	"slices"
	"strings"
	"unicode"
)

// Countries: names in each language, calling codes, and reading the ones
// people type.

// A country the bot knows: for search ranking, phone numbers (its calling
// code and whether national numbers drop a leading trunk 0) and display.
type countryInfo struct {
	code, en, es, calling string
	nsn                   int // digits of a national significant number, 0 when it varies
}

// countries is sorted by code; the picker sorts by the name in the user's language.
var countries = []countryInfo{
	{"AE", "United Arab Emirates", "Emiratos Árabes Unidos", "971", 9},
	{"AR", "Argentina", "Argentina", "54", 10},
	{"AT", "Austria", "Austria", "43", 0},
	{"AU", "Australia", "Australia", "61", 9},
	{"BD", "Bangladesh", "Bangladés", "880", 10},
	{"BE", "Belgium", "Bélgica", "32", 9},
	{"BR", "Brazil", "Brasil", "55", 0},
	{"CA", "Canada", "Canadá", "1", 10},
	{"CH", "Switzerland", "Suiza", "41", 9},
	{"CL", "Chile", "Chile", "56", 9},
	{"CO", "Colombia", "Colombia", "57", 10},
	{"DE", "Germany", "Alemania", "49", 0},
	{"DK", "Denmark", "Dinamarca", "45", 8},
	{"EG", "Egypt", "Egipto", "20", 10},
	{"ES", "Spain", "España", "34", 9},
	{"FI", "Finland", "Finlandia", "358", 0},
	{"FR", "France", "Francia", "33", 9},
	{"GB", "United Kingdom", "Reino Unido", "44", 10},
	{"ID", "Indonesia", "Indonesia", "62", 0},
	{"IE", "Ireland", "Irlanda", "353", 9},
	{"IN", "India", "India", "91", 10},
	{"IT", "Italy", "Italia", "39", 0},
	{"JP", "Japan", "Japón", "81", 10},
	{"KE", "Kenya", "Kenia", "254", 9},
	{"KR", "South Korea", "Corea del Sur", "82", 0},
	{"MA", "Morocco", "Marruecos", "212", 9},
	{"MX", "Mexico", "México", "52", 10},
	{"MY", "Malaysia", "Malasia", "60", 0},
	{"NG", "Nigeria", "Nigeria", "234", 10},
	{"NL", "Netherlands", "Países Bajos", "31", 9},
	{"NO", "Norway", "Noruega", "47", 8},
	{"NZ", "New Zealand", "Nueva Zelanda", "64", 0},
	{"PE", "Peru", "Perú", "51", 9},
	{"PH", "Philippines", "Filipinas", "63", 10},
	{"PK", "Pakistan", "Pakistán", "92", 10},
	{"PL", "Poland", "Polonia", "48", 9},
	{"PT", "Portugal", "Portugal", "351", 9},
	{"SA", "Saudi Arabia", "Arabia Saudí", "966", 9},
	{"SE", "Sweden", "Suecia", "46", 0},
	{"SG", "Singapore", "Singapur", "65", 8},
	{"TH", "Thailand", "Tailandia", "66", 9},
	{"TR", "Turkey", "Turquía", "90", 10},
	{"US", "United States", "Estados Unidos", "1", 10},
	{"VN", "Vietnam", "Vietnam", "84", 9},
	{"ZA", "South Africa", "Sudáfrica", "27", 9},
}

// Regions some eSIM plans are listed under instead of a country.
var regions = map[string][2]string{
	"EU": {"Europe", "Europa"}, "WW": {"Global", "Global"}, "XA": {"Asia", "Asia"}, "XL": {"Latin America", "Latinoamérica"},
}

func findCountry(code string) (countryInfo, bool) {
	code = strings.ToUpper(code)
	i, ok := slices.BinarySearchFunc(countries, code, func(c countryInfo, code string) int { return strings.Compare(c.code, code) })
	if !ok {
		return countryInfo{}, false
	}
	return countries[i], true
}

// countryName names a country (or an eSIM region) in lang; unknown codes stay codes.
func countryName(lang, code string) string {
	if c, ok := findCountry(code); ok {
		if lang == "es" {
			return c.es
		}
		return c.en
	}
	if r, ok := regions[strings.ToUpper(code)]; ok {
		if lang == "es" {
			return r[1]
		}
		return r[0]
	}
	return code
}

// fold lowers case and drops accents and punctuation, so "México", "mexico"
// and "MEXICO." compare equal.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'á', 'à', 'ä', 'â', 'ã':
			r = 'a'
		case 'é', 'è', 'ë', 'ê':
			r = 'e'
		case 'í', 'ì', 'ï', 'î':
			r = 'i'
		case 'ó', 'ò', 'ö', 'ô', 'õ':
			r = 'o'
		case 'ú', 'ù', 'ü', 'û':
			r = 'u'
		case 'ñ':
			r = 'n'
		case 'ç':
			r = 'c'
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		} else if unicode.IsSpace(r) && b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	return strings.TrimSpace(b.String())
}

// countryAliases are other names people type.
var countryAliases = map[string]string{
	"usa": "US", "america": "US", "eeuu": "US", "ee uu": "US", "united states of america": "US",
	"uk": "GB", "england": "GB", "great britain": "GB", "britain": "GB", "inglaterra": "GB",
	"holland": "NL", "holanda": "NL", "uae": "AE", "emirates": "AE", "korea": "KR", "corea": "KR",
	"turkiye": "TR", "deutschland": "DE", "espana": "ES",
}

// parseCountry reads a typed country: an ISO code, or a name in either language.
func parseCountry(in string) (string, bool) {
	f := fold(in)
	if f == "" {
		return "", false
	}
	if len(f) == 2 {
		if c, ok := findCountry(f); ok {
			return c.code, true
		}
	}
	if c, ok := countryAliases[f]; ok {
		return c, true
	}
	for _, c := range countries {
		if fold(c.en) == f || fold(c.es) == f {
			return c.code, true
		}
	}
	// A unique prefix is enough: "argen", "philip".
	found := ""
	if len(f) >= 4 {
		for _, c := range countries {
			if strings.HasPrefix(fold(c.en), f) || strings.HasPrefix(fold(c.es), f) {
				if found != "" && found != c.code {
					return "", false
				}
				found = c.code
			}
		}
	}
	return found, found != ""
}

// regionOf returns the region of a locale such as "es-MX" or "en_GB", when it
// names a country the bot knows.
func regionOf(locale string) string {
	i := strings.IndexAny(locale, "-_")
	if i < 0 {
		return ""
	}
	r := locale[i+1:]
	if j := strings.IndexAny(r, "-_.@"); j >= 0 {
		r = r[:j]
	}
	if len(r) != 2 {
		return ""
	}
	if c, ok := findCountry(r); ok {
		return c.code
	}
	return ""
}
