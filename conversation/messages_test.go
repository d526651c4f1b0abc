package conversation

import (
	"slices"
	"strings"
	"testing"
)

// Every user-visible text exists in every language, with the same arguments.
func TestCatalogueComplete(t *testing.T) {
	for _, lang := range Languages {
		for _, other := range Languages {
			for k, v := range catalog[lang] {
				w, ok := catalog[other][k]
				if !ok {
					t.Errorf("%q has no %s text (%s: %q)", k, other, lang, v)
					continue
				}
				if a, b := placeholders(v), placeholders(w); a != b {
					t.Errorf("%q: %s uses %s, %s uses %s", k, lang, a, other, b)
				}
			}
		}
	}
	for lang := range catalog {
		if !slices.Contains(Languages, lang) {
			t.Errorf("catalogue has %q, which Languages does not list", lang)
		}
	}
}

func placeholders(s string) string {
	var seen [10]bool
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '{' && s[i+2] == '}' && s[i+1] >= '1' && s[i+1] <= '9' {
			seen[s[i+1]-'0'] = true
		}
	}
	var b strings.Builder
	for i, ok := range seen {
		if ok {
			b.WriteByte(byte('0' + i))
		}
	}
	return "{" + b.String() + "}"
}
