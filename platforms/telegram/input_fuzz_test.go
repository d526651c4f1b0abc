package telegram

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram/format"
)

// The fuzz target of this file covers what Telegram hands the bot: updates,
// from getUpdates or the webhook. The text inside them (commands, callback
// data) and the HTML the bot sends back are fuzzed in package format.

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
			if u.CallbackQuery == nil || (ev.Token != u.CallbackQuery.Data && !strings.HasPrefix(u.CallbackQuery.Data, format.LongTokenPrefix)) {
				t.Fatalf("token %q from data %q", ev.Token, u.CallbackQuery.Data)
			}
		default:
			t.Fatalf("event %T", ev)
		}
	})
}
