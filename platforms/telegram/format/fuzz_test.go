package format

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"refillbot/conversation"
	"refillbot/platforms/telegram/telegramtest/parsemode"
)

// The fuzz targets of this file cover what users type (commands), what
// comes back from the buttons the bot drew (callback data) and what the bot
// hands Telegram (HTML, checked against parsemode, which follows
// Telegram's rules).

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// testBot is the username of the bot the tests talk to.
const testBot = "refill_test_bot"

// parse is Parse for that bot.
func parse(text string) conversation.Event { return Parse(text, testBot) }

// A typed command reads back from the text it was typed as: "/name args"
// and "/name@bot args" give the same command, and a command for another bot
// is left alone.
func FuzzCommandText(f *testing.F) {
	for _, s := range []string{"/start", "/start amazon-us", "/START@Refill_Test_Bot x", "/search  steam ", "/help@other_bot", "amazon", "/ x", "/50%", "/a\nb", "/" + strings.Repeat("a", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ev := parse(text)
		switch ev := ev.(type) {
		case nil:
			if _, _, to, _ := Command(text, testBot); to != "" && strings.EqualFold(to, testBot) {
				t.Fatalf("%q is ours but ignored", text)
			}
		case conversation.Text:
			if ev.Text != text {
				t.Fatalf("%q read as text %q", text, ev.Text)
			}
		case conversation.Command:
			if !commandName.MatchString(ev.Name) || ev.Name == "start" {
				t.Fatalf("%q read as command %q", text, ev.Name)
			}
			for _, again := range []string{"/" + ev.Name + " " + ev.Args, "/" + strings.ToUpper(ev.Name) + "@" + testBot + " " + ev.Args} {
				if back := parse(again); back != conversation.Event(ev) {
					t.Fatalf("%q read as %+v; %q reads as %+v", text, ev, again, back)
				}
			}
		case conversation.Start:
			if back := parse("/start " + ev.Payload); back != conversation.Event(ev) {
				t.Fatalf("%q read as %+v; written back it reads as %+v", text, ev, back)
			}
		default:
			t.Fatalf("%q read as %T", text, ev)
		}
	})
}

// Every engine token fits Telegram's 64 bytes of callback_data, and the
// data of a button reads back as its token.
func FuzzCallbackData(f *testing.F) {
	for _, s := range []string{"n.1.0", "", "~", "~abc", strings.Repeat("x", 64), strings.Repeat("é", 40), "\xff\xfe", "/topup 8900000000000000011"} {
		f.Add(s)
	}
	var m Tokens
	f.Fuzz(func(t *testing.T, token string) {
		data := m.Data(token)
		if len(data) == 0 || len(data) > MaxData || !utf8.ValidString(data) {
			t.Fatalf("token %q becomes data %q (%d bytes)", token, data, len(data))
		}
		if back := m.Token(data); back != token {
			t.Fatalf("token %q → data %q → %q", token, data, back)
		}
	})
}

// Rendered HTML is what Telegram accepts, and once parsed its text is the
// spans' text exactly (made valid and free of control characters, as
// Clean promises), with each code span one tap-to-copy code entity; in a
// secret reply every link outside a code sits under a spoiler.
func FuzzRenderHTML(f *testing.F) {
	f.Add("Code: ", "AB<&>CD", "\nhttps://redeem.example/?a=1&b=<2>", uint8(0), true)
	f.Add("a<b>&c", "", "x", uint8(1), false)
	f.Add(" ", "   ", "\r\n\x00", uint8(3), true)
	f.Add("😀&amp;", "&#60;", "</code>", uint8(2), false)
	f.Fuzz(func(t *testing.T, before, code, after string, style uint8, secret bool) {
		spans := []conversation.Span{
			{Text: before, Style: conversation.Style(style % 4)},
			{Text: code, Style: conversation.Code},
			{Text: after},
		}
		html := HTML(spans, secret)
		plain, ents, err := parsemode.HTML(html)
		if err != nil {
			t.Fatalf("%q: %v", html, err)
		}
		want := Clean(before) + Clean(code) + Clean(after)
		if plain != want {
			t.Fatalf("%q parses to %q, want %q", html, plain, want)
		}
		start := parsemode.UTF16Len(Clean(before))
		n := parsemode.UTF16Len(Clean(code))
		type span struct{ at, n int }
		var wantCodes, gotCodes []span
		if style%4 == uint8(conversation.Code) && strings.TrimSpace(Clean(before)) != "" {
			wantCodes = append(wantCodes, span{0, start})
		}
		if strings.TrimSpace(Clean(code)) != "" {
			wantCodes = append(wantCodes, span{start, n})
		}
		for _, e := range ents {
			if e.Type == "code" {
				gotCodes = append(gotCodes, span{e.Offset, e.Length})
			}
		}
		if !slices.Equal(gotCodes, wantCodes) {
			t.Fatalf("%q: code entities %v, want %v", html, gotCodes, wantCodes)
		}
		if !secret {
			return
		}
		for _, loc := range urlRE.FindAllStringIndex(Clean(after), -1) {
			from := start + n + parsemode.UTF16Len(Clean(after)[:loc[0]])
			hidden := false
			for _, e := range ents {
				if e.Type == "spoiler" && e.Offset <= from && from < e.Offset+e.Length {
					hidden = true
				}
			}
			if !hidden {
				t.Fatalf("%q: the link at %d is not under a spoiler", html, from)
			}
		}
	})
}
