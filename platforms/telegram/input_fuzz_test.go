package telegram

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram/telegramtest"
)

// The fuzz targets of this file cover what Telegram hands the bot (updates,
// from getUpdates or the webhook, and the callback data of its buttons) and
// what the bot hands Telegram (HTML, checked against the fake's parser,
// which follows Telegram's rules).

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// Whatever an update holds, decoding and dispatching it never panics, and a
// private update becomes at most one event, for the user who sent it, in
// the chat it came from: text as typed, a command by its lower-case name, a
// button by its data.
func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"date":0,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A","language_code":"es-MX"},"text":"amazon us"}}`,
		`{"update_id":2,"message":{"message_id":2,"date":0,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A"},"text":"/START@refill_test_bot amazon-us"}}`,
		`{"update_id":3,"message":{"message_id":3,"date":0,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A"},"text":"/search@other_bot x"}}`,
		`{"update_id":4,"callback_query":{"id":"q","from":{"id":42,"is_bot":false,"first_name":"A"},"chat_instance":"c","data":"n.1.0","message":{"message_id":9,"date":0,"chat":{"id":42,"type":"private"},"photo":[{"file_id":"f","file_unique_id":"u","width":1,"height":1}]}}}`,
		`{"update_id":5,"callback_query":{"id":"q","from":{"id":42,"is_bot":false,"first_name":"A"},"chat_instance":"c","data":"~zz","message":{"message_id":9,"date":0,"chat":{"id":42,"type":"private"}}}}`,
		`{"update_id":6,"callback_query":{"id":"q","from":{"id":7,"is_bot":false,"first_name":"B"},"chat_instance":"c","data":"x","message":{"message_id":9,"date":0,"chat":{"id":42,"type":"private"}}}}`,
		`{"update_id":7,"message":{"message_id":1,"date":0,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":true,"first_name":"B"},"text":"hi"}}`,
		`{"update_id":8,"edited_message":{"message_id":1,"date":0,"chat":{"id":42,"type":"private"},"text":"x"}}`,
		`{"update_id":9}`, `{}`, `[]`, `{"update_id":"1"}`, `{"update_id":10,"message":null}`,
	} {
		f.Add([]byte(s))
	}
	a := &Adapter{username: "refill_test_bot"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		u := new(models.Update)
		if json.Unmarshal(raw, u) != nil {
			return
		}
		// Groups are answered through the Bot API, not the engine; what the
		// engine gets is what this checks.
		var from *models.User
		var chat models.Chat
		switch {
		case u.Message != nil:
			from, chat = u.Message.From, u.Message.Chat
		case u.CallbackQuery != nil:
			c, ok := callbackChat(u.CallbackQuery)
			if !ok {
				return
			}
			from, chat = &u.CallbackQuery.From, c
		default:
			return
		}
		if chat.Type != models.ChatTypePrivate {
			return
		}
		var got []bot.Incoming
		a.process(context.Background(), func(_ context.Context, in bot.Incoming) { got = append(got, in) }, u)
		if len(got) > 1 {
			t.Fatalf("one update became %d events", len(got))
		}
		if len(got) == 0 {
			return
		}
		in := got[0]
		if from == nil || in.Key.User != strconv.FormatInt(from.ID, 10) || in.Key.Platform != Platform {
			t.Fatalf("event for %+v, from %+v", in.Key, from)
		}
		if in.Address.Chat != strconv.FormatInt(chat.ID, 10) || !in.Address.Private || in.Address.Platform != Platform {
			t.Fatalf("event to %+v, from chat %d", in.Address, chat.ID)
		}
		switch ev := in.Event.(type) {
		case conversation.Text:
			if u.Message == nil || ev.Text != u.Message.Text || ev.Text == "" {
				t.Fatalf("text %q from %+v", ev.Text, u.Message)
			}
		case conversation.Command:
			if u.Message == nil || !commandName.MatchString(ev.Name) || ev.Args != strings.TrimSpace(ev.Args) {
				t.Fatalf("command %+v", ev)
			}
		case conversation.Start:
			if u.Message == nil {
				t.Fatal("a start without a message")
			}
		case conversation.Chose:
			if u.CallbackQuery == nil || (ev.Token != u.CallbackQuery.Data && !strings.HasPrefix(u.CallbackQuery.Data, longTokenPrefix)) {
				t.Fatalf("token %q from data %q", ev.Token, u.CallbackQuery.Data)
			}
		default:
			t.Fatalf("event %T", ev)
		}
	})
}

// A typed command reads back from the text it was typed as: "/name args"
// and "/name@bot args" give the same command, and a command for another bot
// is left alone.
func FuzzCommandText(f *testing.F) {
	for _, s := range []string{"/start", "/start amazon-us", "/START@Refill_Test_Bot x", "/search  steam ", "/help@other_bot", "amazon", "/ x", "/50%", "/a\nb", "/" + strings.Repeat("a", 40)} {
		f.Add(s)
	}
	a := &Adapter{username: "refill_test_bot"}
	f.Fuzz(func(t *testing.T, text string) {
		ev := a.parse(text)
		switch ev := ev.(type) {
		case nil:
			if _, _, to, _ := a.command(text); to != "" && strings.EqualFold(to, a.username) {
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
			for _, again := range []string{"/" + ev.Name + " " + ev.Args, "/" + strings.ToUpper(ev.Name) + "@" + a.username + " " + ev.Args} {
				if back := a.parse(again); back != conversation.Event(ev) {
					t.Fatalf("%q read as %+v; %q reads as %+v", text, ev, again, back)
				}
			}
		case conversation.Start:
			if back := a.parse("/start " + ev.Payload); back != conversation.Event(ev) {
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
	var m tokenMap
	f.Fuzz(func(t *testing.T, token string) {
		data := m.data(token)
		if len(data) == 0 || len(data) > maxData || !utf8.ValidString(data) {
			t.Fatalf("token %q becomes data %q (%d bytes)", token, data, len(data))
		}
		if back := m.token(data); back != token {
			t.Fatalf("token %q → data %q → %q", token, data, back)
		}
	})
}

// Rendered HTML is what Telegram accepts, and once parsed its text is the
// spans' text exactly (made valid and free of control characters, as
// cleanText promises), with each code span one tap-to-copy code entity; in a
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
		html := renderHTML(spans, secret)
		plain, ents, err := telegramtest.ParseHTML(html)
		if err != nil {
			t.Fatalf("%q: %v", html, err)
		}
		want := cleanText(before) + cleanText(code) + cleanText(after)
		if plain != want {
			t.Fatalf("%q parses to %q, want %q", html, plain, want)
		}
		start := telegramtest.UTF16Len(cleanText(before))
		n := telegramtest.UTF16Len(cleanText(code))
		type span struct{ at, n int }
		var wantCodes, gotCodes []span
		if style%4 == uint8(conversation.Code) && strings.TrimSpace(cleanText(before)) != "" {
			wantCodes = append(wantCodes, span{0, start})
		}
		if strings.TrimSpace(cleanText(code)) != "" {
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
		for _, loc := range urlRE.FindAllStringIndex(cleanText(after), -1) {
			from := start + n + telegramtest.UTF16Len(cleanText(after)[:loc[0]])
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
