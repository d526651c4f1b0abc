package conversation

import (
	"strings"
)

// Msg names one user-visible text. Every word the bot says comes from the
// catalogue so that a second language is a new column, not a code change.
type Msg string

// The catalogue's mini-markup: *bold*, `code`, _italic_ and {1}..{9} for
// arguments. Arguments are inserted as literal text in the surrounding style
// and are never parsed for markup, so nothing a user or the API supplies can
// change the formatting or inject platform markup.
//
// One table per language (messages_en.go, messages_es.go), keys sorted. A
// platform adapter's own words live there too, under keys that start with the
// platform's name, so that TestCatalogueComplete catches a missing translation
// for them as well.
var catalog = map[string]map[Msg]string{"en": english, "es": spanish}

// DefaultLang is used when the user's language has no catalogue.
const DefaultLang = "en"

// Languages are the catalogue's languages, the default first.
var Languages = []string{"en", "es"}

// LangFromLocale picks the catalogue language for a platform locale such as
// "es", "es-MX" or "en_GB"; anything unknown gets DefaultLang.
func LangFromLocale(locale string) string {
	l := strings.ToLower(locale)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	for _, x := range Languages {
		if x == l {
			return x
		}
	}
	return DefaultLang
}

// text renders one catalogue entry into spans.
func text(lang string, key Msg, args ...string) []Span {
	return appendText(nil, lang, key, args...)
}

func lookup(lang string, key Msg) string {
	if m, ok := catalog[lang]; ok {
		if s, ok := m[key]; ok {
			return s
		}
	}
	if s, ok := catalog[DefaultLang][key]; ok {
		return s
	}
	// A missing key is a bug; showing its name beats showing nothing.
	return string(key)
}

// appendText renders key with args after spans, merging runs of equal style.
func appendText(spans []Span, lang string, key Msg, args ...string) []Span {
	tpl := lookup(lang, key)
	style := Plain
	if spans == nil {
		spans = make([]Span, 0, 4)
	}
	// Runs are built in a stack buffer: one allocation per span, not per byte.
	var buf [512]byte
	cur := buf[:0]
	flush := func() {
		if len(cur) == 0 {
			return
		}
		spans = appendSpan(spans, Span{Text: string(cur), Style: style})
		cur = cur[:0]
	}
	toggle := func(s Style) {
		flush()
		if style == s {
			style = Plain
		} else {
			style = s
		}
	}
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		switch {
		case c == '*':
			toggle(Bold)
		case c == '`':
			toggle(Code)
		case c == '_':
			toggle(Italic)
		case c == '{' && i+2 < len(tpl) && tpl[i+2] == '}' && tpl[i+1] >= '1' && tpl[i+1] <= '9':
			if n := int(tpl[i+1] - '1'); n < len(args) {
				cur = append(cur, args[n]...)
			}
			i += 2
		default:
			cur = append(cur, c)
		}
	}
	flush()
	return spans
}

func appendSpan(spans []Span, s Span) []Span {
	if s.Text == "" {
		return spans
	}
	if n := len(spans); n > 0 && spans[n-1].Style == s.Style {
		spans[n-1].Text += s.Text
		return spans
	}
	return append(spans, s)
}
