package conversation

// languageNames are shown in their own language, so anyone finds theirs.
var languageNames = map[string]string{"en": "English", "es": "Español"}

func (t *turn) languageCommand(args string) {
	if code, ok := parseLang(args); ok {
		t.setLang(code)
		return
	}
	var o options
	for _, code := range Languages {
		o.add(languageNames[code], doLang, code)
	}
	// The current flow stays as it is: the menu only adds a choice on top.
	t.menu(t.tx("lang.pick"), ExpectNothing, o.acts, o.labels)
	t.s.LangMenu = t.s.Menu // a language typed next answers this menu
}

// parseLang reads a language as people type it: "es", "español", "spanish".
func parseLang(in string) (string, bool) {
	switch fold(in) {
	case "en", "english", "ingles", "eng":
		return "en", true
	case "es", "espanol", "spanish", "castellano", "esp":
		return "es", true
	}
	return "", false
}

// setLang switches the language and shows the current step again in it.
func (t *turn) setLang(code string) {
	if _, ok := languageNames[code]; !ok {
		t.stale()
		return
	}
	t.s.Lang = code
	t.say(t.tx("lang.set"))
	if !t.drawable() {
		t.home(nil)
		return
	}
	t.redraw()
}
