package conversation

import "strings"

// languageNames are shown in their own language, so anyone finds theirs.
var languageNames = map[string]string{"en": "English", "es": "Español"}

func (t *turn) languageCommand(args string) {
	if a := strings.ToLower(strings.TrimSpace(args)); a != "" {
		for code, name := range languageNames {
			if a == code || a == strings.ToLower(name) || a == "espanol" && code == "es" || a == "spanish" && code == "es" || a == "ingles" && code == "en" || a == "inglés" && code == "en" {
				t.setLang(code)
				return
			}
		}
	}
	var o options
	for _, code := range Languages {
		o.add(languageNames[code], doLang, code)
	}
	// The current flow stays as it is: the menu only adds a choice on top.
	t.menu(t.tx("lang.pick"), ExpectNothing, o.acts, o.labels)
}

// setLang switches the language and shows the current step again in it.
func (t *turn) setLang(code string) {
	if _, ok := languageNames[code]; !ok {
		t.stale()
		return
	}
	t.s.Lang = code
	t.say(t.tx("lang.set"))
	cur := t.current()
	t.rerender()
	if len(t.out) == cur {
		t.home(nil)
	}
}
