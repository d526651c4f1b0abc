package format

import (
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"

	"refillbot/conversation"
	"refillbot/platforms/telegram/telegramtest/parsemode"
)

func sp(t string, s conversation.Style) conversation.Span {
	return conversation.Span{Text: t, Style: s}
}

func TestRenderHTML(t *testing.T) {
	for _, c := range []struct {
		name   string
		spans  []conversation.Span
		want   string
		secret bool
	}{
		{"plain", []conversation.Span{sp("hello", conversation.Plain)}, "hello", false},
		{"escaped", []conversation.Span{sp("<b>Tom & Jerry</b>", conversation.Plain)}, "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;", false},
		{"styles", []conversation.Span{sp("A", conversation.Bold), sp(" b ", conversation.Plain), sp("c", conversation.Italic), sp("X-1", conversation.Code)},
			"<b>A</b> b <i>c</i><code>X-1</code>", false},
		{"escaped inside a style", []conversation.Span{sp("a<b", conversation.Code)}, "<code>a&lt;b</code>", false},
		{"empty spans vanish", []conversation.Span{sp("", conversation.Bold), sp("x", conversation.Plain)}, "x", false},
		{"white space is not styled", []conversation.Span{sp(" ", conversation.Bold), sp("x", conversation.Plain)}, " x", false},
		{"control characters", []conversation.Span{sp("a\x00b\x1bc\r\nd", conversation.Plain)}, "a\uFFFDb\uFFFDc\nd", false},
		{"invalid UTF-8", []conversation.Span{sp("a\xffb", conversation.Plain)}, "a\uFFFDb", false},
		{"quotes stay", []conversation.Span{sp(`"q" 'r'`, conversation.Plain)}, `"q" 'r'`, false},
		{"secret: links under a spoiler, codes copyable",
			[]conversation.Span{sp("Code: ", conversation.Plain), sp("AB-1", conversation.Code), sp("\nLink: https://r.example/a?b=1&c=<2> ok", conversation.Plain)},
			"Code: <code>AB-1</code>\nLink: <tg-spoiler>https://r.example/a?b=1&amp;c=&lt;2&gt;</tg-spoiler> ok", true},
		{"not secret: links as they are", []conversation.Span{sp("see https://x.example", conversation.Plain)}, "see https://x.example", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := HTML(c.spans, c.secret); got != c.want {
				t.Errorf("HTML = %q, want %q", got, c.want)
			}
		})
	}
}

func plainOf(chunks [][]conversation.Span) []string {
	var out []string
	for _, c := range chunks {
		out = append(out, conversation.PlainText(c))
	}
	return out
}

func TestSplitSpans(t *testing.T) {
	long := strings.Repeat("x", 10)
	for _, c := range []struct {
		name  string
		spans []conversation.Span
		limit int
		want  []string
	}{
		{"fits", []conversation.Span{sp("one\ntwo", conversation.Plain)}, 20, []string{"one\ntwo"}},
		{"at line boundaries", []conversation.Span{sp("aaaa\nbbbb\ncccc", conversation.Plain)}, 9, []string{"aaaa\nbbbb", "cccc"}},
		{"a long line at a space", []conversation.Span{sp("aaaa bbbb cccc", conversation.Plain)}, 10, []string{"aaaa bbbb ", "cccc"}},
		{"a long word is cut", []conversation.Span{sp(long+long, conversation.Plain)}, 10, []string{long, long}},
		{"surrogate pairs are not cut", []conversation.Span{sp("😀😀😀", conversation.Plain)}, 5, []string{"😀😀", "😀"}},
		{"blank chunks are dropped", []conversation.Span{sp("a\n\n\n\n\nb", conversation.Plain)}, 1, []string{"a", "b"}},
		{"styles carry over", []conversation.Span{sp("ab\n", conversation.Plain), sp("cd\nef", conversation.Bold)}, 5, []string{"ab\ncd", "ef"}},
		{"empty", nil, 10, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := plainOf(Split(c.spans, c.limit))
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Errorf("Split = %q, want %q", got, c.want)
			}
		})
	}
	// The style of a span cut in two survives in both halves.
	chunks := Split([]conversation.Span{sp("aaaa\nbbbb", conversation.Bold)}, 4)
	for _, c := range chunks {
		if h := HTML(c, false); !strings.HasPrefix(h, "<b>") || !strings.HasSuffix(h, "</b>") {
			t.Errorf("chunk %q lost its bold", h)
		}
	}
}

func TestKeyboardLayout(t *testing.T) {
	opts := func(labels ...string) []conversation.Option {
		var out []conversation.Option
		for i, l := range labels {
			out = append(out, conversation.Option{Label: l, Token: "n.1." + string(rune('0'+i))})
		}
		return out
	}
	rows := func(kb *InlineKeyboard) [][]string {
		var out [][]string
		for _, r := range kb.InlineKeyboard {
			var row []string
			for _, b := range r {
				row = append(row, b.Text)
			}
			out = append(out, row)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   string
	}{
		{"short values share rows", []string{"10 USD", "25 USD", "50 USD", "100 USD", "‹ Back"}, "[[10 USD 25 USD 50 USD] [100 USD ‹ Back]]"},
		{"long names get a row each", []string{"Amazon United States of America", "Amazon Germany and Austria edition"}, "[[Amazon United States of America] [Amazon Germany and Austria edition]]"},
		{"mixed", []string{"Bitcoin", "Lightning", "‹ Back", "✖ Cancel"}, "[[Bitcoin Lightning] [‹ Back ✖ Cancel]]"},
		{"a long label after short ones", []string{"Next ›", "🔍 New search for something else"}, "[[Next ›] [🔍 New search for something else]]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(strings.Fields(strings.ReplaceAll(fmtRows(rows(Keyboard(opts(c.labels...), &Tokens{}))), "\n", " ")), " ")
			if got != c.want {
				t.Errorf("layout %s, want %s", got, c.want)
			}
		})
	}
	if Keyboard(nil, &Tokens{}) != nil {
		t.Error("no options must mean no keyboard")
	}
}

func fmtRows(rows [][]string) string {
	var b strings.Builder
	b.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("[" + strings.Join(r, " ") + "]")
	}
	b.WriteString("]")
	return b.String()
}

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{
		"  Amazon\nUS ":         "Amazon US",
		"":                      "…",
		strings.Repeat("é", 50): strings.Repeat("é", MaxLabel-1) + "…",
	} {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLongTokens(t *testing.T) {
	var m Tokens
	short := "abcdefgh.z.3"
	if d := m.Data(short); d != short {
		t.Errorf("a short token %q became %q", short, d)
	}
	long := strings.Repeat("t", 100)
	d := m.Data(long)
	if len(d) > MaxData || d == long {
		t.Errorf("a 100-byte token became %q (%d bytes)", d, len(d))
	}
	if got := m.Token(d); got != long {
		t.Errorf("the digest resolves to %q", got)
	}
	if got := m.Token("~unknown"); got != "~unknown" {
		t.Errorf("an unknown digest resolves to %q: it should reach the engine as stale", got)
	}
}

func TestParseCommands(t *testing.T) {
	for _, c := range []struct {
		in   string
		want conversation.Event
	}{
		{"/start", conversation.Start{}},
		{"/start amazon-us", conversation.Start{Payload: "amazon-us"}},
		{"/START@Refill_Test_Bot amazon-us", conversation.Start{Payload: "amazon-us"}},
		{"/search  steam games ", conversation.Command{Name: "search", Args: "steam games"}},
		{"/help@refill_test_bot", conversation.Command{Name: "help"}},
		{"/help@other_bot", nil},
		{"amazon", conversation.Text{Text: "amazon"}},
		{"/ not a command", conversation.Text{Text: "/ not a command"}},
		{"/50%", conversation.Text{Text: "/50%"}},
	} {
		if got := parse(c.in); got != c.want {
			t.Errorf("parse(%q) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

// Whatever the engine says, the rendered chunks parse as Telegram HTML, each
// within the text limit, and together carry every visible character.
func TestRenderedHTMLIsAccepted(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "spans")
		limit := rapid.SampledFrom([]int{MaxText, MaxCaption, 64, 7}).Draw(t, "limit")
		secret := rapid.Bool().Draw(t, "secret")
		var spans []conversation.Span
		for i := range n {
			text := rapid.StringOf(rapid.OneOf(
				rapid.SampledFrom([]rune("<>&;\"'/\n #amp lt gt https://x.")),
				rapid.Rune(),
				rapid.RuneFrom([]rune("😀é€\u200d\u202e")),
			)).Draw(t, "text")
			if rapid.IntRange(0, 9).Draw(t, "long") == 0 {
				text = strings.Repeat(text+"x", 200)
			}
			spans = append(spans, conversation.Span{Text: text, Style: conversation.Style(rapid.IntRange(0, 3).Draw(t, "style"))})
			_ = i
		}
		var got strings.Builder
		for _, chunk := range Split(spans, limit) {
			html := HTML(chunk, secret)
			plain, _, err := parsemode.HTML(html)
			if err != nil {
				t.Fatalf("%q: %v", html, err)
			}
			if want := Clean(conversation.PlainText(chunk)); plain != want {
				t.Fatalf("%q parses to %q, want %q", html, plain, want)
			}
			if l := parsemode.UTF16Len(plain); l > limit {
				t.Fatalf("chunk of %d UTF-16 units over the limit %d", l, limit)
			}
			if strings.TrimSpace(plain) == "" {
				t.Fatalf("blank chunk %q", html)
			}
			got.WriteString(plain)
		}
		strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if want := strip(Clean(conversation.PlainText(spans))); strip(got.String()) != want {
			t.Fatalf("chunks carry %q, want %q", strip(got.String()), want)
		}
		if !utf8.ValidString(got.String()) {
			t.Fatal("invalid UTF-8")
		}
	})
}

func FuzzRender(f *testing.F) {
	f.Add("a<b>&c", uint8(1), 10)
	f.Add("😀\n\n<code>", uint8(2), 3)
	f.Fuzz(func(t *testing.T, text string, style uint8, limit int) {
		if limit < 2 || limit > MaxText {
			return
		}
		spans := []conversation.Span{{Text: text, Style: conversation.Style(style % 4)}, {Text: text}}
		for _, chunk := range Split(spans, limit) {
			html := HTML(chunk, style%2 == 0)
			plain, _, err := parsemode.HTML(html)
			if err != nil {
				t.Fatalf("%q: %v", html, err)
			}
			if parsemode.UTF16Len(plain) > limit {
				t.Fatalf("%q over the limit %d", plain, limit)
			}
		}
	})
}
