package parsemode_test

import (
	"strings"
	"testing"

	"refillbot/platforms/telegram/telegramtest/parsemode"
)

// What Telegram accepts reads as the text a user sees; what it refuses
// gets Telegram's own "can't parse entities" error.
func TestHTML(t *testing.T) {
	for _, c := range []struct {
		in, text, err string
		ents          int
	}{
		{in: "plain", text: "plain"},
		{in: "<b>bold</b> <i>it</i> <code>c</code>", text: "bold it c", ents: 3},
		{in: "a &lt;b&gt; &amp; &quot;q&quot; &#33; &#x41;", text: `a <b> & "q" ! A`},
		{in: "AT&T &nbsp;", text: "AT&T &nbsp;"},
		{in: `<a href="https://x.example/?a=1&amp;b=2">x</a>`, text: "x", ents: 1},
		{in: `<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`, text: "st", ents: 2},
		{in: "<b>open", err: `can't find end tag corresponding to start tag "b"`},
		{in: "close</b>", err: "unexpected end tag"},
		{in: "<b><i>x</b></i>", err: `can't find end tag corresponding to start tag "i"`},
		{in: "<script>x</script>", err: `unsupported start tag "script"`},
		{in: "1 < 2", err: "can't find end of the tag"},
		{in: "<span>x</span>", err: `must have class "tg-spoiler"`},
		{in: "<br/>", err: "unsupported start tag"},
	} {
		text, ents, err := parsemode.HTML(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "can't parse entities: ") {
				t.Errorf("HTML(%q) error %v, want %q", c.in, err, c.err)
			}
		case err != nil:
			t.Errorf("HTML(%q): %v", c.in, err)
		case text != c.text || len(ents) != c.ents:
			t.Errorf("HTML(%q) = %q with %d entities, want %q with %d", c.in, text, len(ents), c.text, c.ents)
		}
	}
}
