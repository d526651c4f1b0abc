package catalog

import "strings"

// countryNames lists, per ISO 3166 alpha-2 code, how people write the
// country in English and Spanish (and the short labels brands use: "US",
// "UK", "UAE"). Names are folded when the table is loaded, so accents and
// case do not matter here. The pseudo-codes at the end are the regions of
// regional eSIM plans.
var countryNames = []struct{ code, names string }{
	{"US", "united states|united states of america|usa|america|estados unidos|eeuu|ee uu|usa"},
	{"CA", "canada|canadá"},
	{"MX", "mexico|méxico|méjico"},
	{"BR", "brazil|brasil"},
	{"AR", "argentina"},
	{"CO", "colombia"},
	{"CL", "chile"},
	{"PE", "peru|perú"},
	{"VE", "venezuela"},
	{"EC", "ecuador"},
	{"BO", "bolivia"},
	{"UY", "uruguay"},
	{"PY", "paraguay"},
	{"CR", "costa rica"},
	{"PA", "panama|panamá"},
	{"GT", "guatemala"},
	{"HN", "honduras"},
	{"SV", "el salvador"},
	{"NI", "nicaragua"},
	{"DO", "dominican republic|república dominicana|republica dominicana"},
	{"PR", "puerto rico"},
	{"CU", "cuba"},
	{"JM", "jamaica"},
	{"HT", "haiti|haití"},
	{"GB", "united kingdom|uk|great britain|britain|england|reino unido|gran bretaña|inglaterra"},
	{"IE", "ireland|irlanda"},
	{"DE", "germany|deutschland|alemania"},
	{"FR", "france|francia"},
	{"ES", "spain|españa|espana"},
	{"IT", "italy|italia"},
	{"NL", "netherlands|the netherlands|holland|países bajos|paises bajos|holanda"},
	{"BE", "belgium|bélgica|belgica"},
	{"LU", "luxembourg|luxemburgo"},
	{"PT", "portugal"},
	{"AT", "austria"},
	{"CH", "switzerland|suiza"},
	{"SE", "sweden|suecia"},
	{"NO", "norway|noruega"},
	{"DK", "denmark|dinamarca"},
	{"FI", "finland|finlandia"},
	{"IS", "iceland|islandia"},
	{"PL", "poland|polonia"},
	{"CZ", "czech republic|czechia|república checa|republica checa|chequia"},
	{"SK", "slovakia|eslovaquia"},
	{"HU", "hungary|hungría|hungria"},
	{"RO", "romania|rumania|rumanía"},
	{"BG", "bulgaria"},
	{"GR", "greece|grecia"},
	{"HR", "croatia|croacia"},
	{"SI", "slovenia|eslovenia"},
	{"RS", "serbia"},
	{"UA", "ukraine|ucrania"},
	{"RU", "russia|rusia"},
	{"EE", "estonia"},
	{"LV", "latvia|letonia"},
	{"LT", "lithuania|lituania"},
	{"CY", "cyprus|chipre"},
	{"MT", "malta"},
	{"TR", "turkey|türkiye|turkiye|turquía|turquia"},
	{"IL", "israel"},
	{"AE", "united arab emirates|uae|emirates|emiratos árabes unidos|emiratos arabes unidos|emiratos"},
	{"SA", "saudi arabia|arabia saudita|arabia saudí|arabia saudi"},
	{"QA", "qatar|catar"},
	{"KW", "kuwait"},
	{"BH", "bahrain|baréin|barein"},
	{"OM", "oman|omán"},
	{"JO", "jordan|jordania"},
	{"LB", "lebanon|líbano|libano"},
	{"EG", "egypt|egipto"},
	{"MA", "morocco|marruecos"},
	{"DZ", "algeria|argelia"},
	{"TN", "tunisia|túnez|tunez"},
	{"NG", "nigeria"},
	{"GH", "ghana"},
	{"KE", "kenya|kenia"},
	{"UG", "uganda"},
	{"TZ", "tanzania"},
	{"ET", "ethiopia|etiopía|etiopia"},
	{"ZA", "south africa|sudáfrica|sudafrica"},
	{"CM", "cameroon|camerún|camerun"},
	{"SN", "senegal"},
	{"CI", "ivory coast|côte d'ivoire|cote divoire|costa de marfil"},
	{"IN", "india"},
	{"PK", "pakistan|pakistán"},
	{"BD", "bangladesh|bangladés|banglades"},
	{"LK", "sri lanka"},
	{"NP", "nepal"},
	{"ID", "indonesia"},
	{"PH", "philippines|filipinas"},
	{"VN", "vietnam|viet nam"},
	{"TH", "thailand|tailandia"},
	{"MY", "malaysia|malasia"},
	{"SG", "singapore|singapur"},
	{"KH", "cambodia|camboya"},
	{"CN", "china"},
	{"HK", "hong kong"},
	{"TW", "taiwan|taiwán"},
	{"JP", "japan|japón|japon"},
	{"KR", "south korea|korea|corea del sur|corea"},
	{"AU", "australia"},
	{"NZ", "new zealand|nueva zelanda"},
	{"KZ", "kazakhstan|kazajistán|kazajistan"},
	{"EU", "europe|europa|european union|unión europea|union europea"},
	{"WW", "global|worldwide|world|international|mundial|mundo|internacional"},
	{"XA", "asia"},
	{"XL", "latin america|latam|latinoamérica|latinoamerica|américa latina|america latina|south america|sudamérica|sudamerica|suramérica"},
}

// countryIndex maps folded country names to codes; isoCodes holds the codes.
// maxCountryWords is the longest name in words.
var countryIndex, isoCodes, maxCountryWords = func() (map[string]string, map[string]string, int) {
	names := map[string]string{}
	codes := map[string]string{}
	most := 1
	for _, c := range countryNames {
		codes[strings.ToLower(c.code)] = c.code
		for _, n := range strings.Split(c.names, "|") {
			f := Fold(n)
			names[f] = c.code
			most = max(most, strings.Count(f, " ")+1)
		}
	}
	return names, codes, most
}()

// stopwords are words that say what kind of thing is wanted rather than
// which one ("amazon gift card", "tarjeta de regalo steam"): a product need
// not contain them.
var stopwords = map[string]bool{
	"gift": true, "card": true, "cards": true, "giftcard": true, "giftcards": true, "voucher": true,
	"code": true, "the": true, "a": true, "an": true, "of": true, "for": true, "in": true, "and": true,
	"tarjeta": true, "tarjetas": true, "regalo": true, "de": true, "del": true, "la": true, "el": true,
	"los": true, "las": true, "en": true, "para": true, "y": true, "codigo": true, "recarga": true,
	"top": true, "up": true, "topup": true, "refill": true, "plan": true,
}
