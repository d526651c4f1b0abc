package telegram_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram/telegramtest"
)

// A code held in a placeholder (bot.Holder) ends up in that one message,
// however often its edit is repeated (a restart repeats it): a text, a
// photo whose text fits its caption, and a photo too long for a caption
// (photo and text) alike. A text too long for one message cannot be held.
func TestHoldThenEditOnce(t *testing.T) {
	img, err := qrcode.Encode("LPA:1$smdp.example$CODE-1", qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	notice := conversation.CodeComingNotice("en")
	secret := func(text string) conversation.Reply {
		return conversation.Reply{Text: []conversation.Span{{Text: text}, {Text: "CODE-1", Style: conversation.Code}}, Secret: true}
	}
	for _, tc := range []struct {
		name     string
		r        conversation.Reply
		png      []byte
		messages int // the placeholder's messages, and the code's
	}{
		{"text", secret("Code: "), nil, 1},
		{"photo with caption", secret("Scan it: "), img, 1},
		{"photo then text", secret(strings.Repeat("install it so ", 100)), img, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ad, u, to := adapterOnly(t)
			ctx := t.Context()
			m0 := srv.Mark(u.Chat())
			ref, err := ad.Hold(ctx, to, notice, tc.r, tc.png)
			if err != nil {
				t.Fatal(err)
			}
			held := srv.Events(u.Chat())[m0:]
			if len(held) != tc.messages {
				t.Fatalf("the placeholder took %d messages, want %d", len(held), tc.messages)
			}
			for _, e := range held {
				if strings.Contains(e.Message.Content(), "CODE-1") || (e.Message.Photo != nil && bytes.Equal(e.Message.Photo, img)) {
					t.Fatalf("the placeholder gives the code away: %q", e.Message.Content())
				}
			}
			for i := range 3 { // the first edit, then repeats after "restarts"
				if err := ad.Edit(ctx, to, ref, tc.r, tc.png); err != nil {
					t.Fatalf("edit %d: %v", i+1, err)
				}
			}
			ms := srv.Messages(u.Chat())
			var withCode []telegramtest.Message
			for _, m := range ms {
				if strings.Contains(m.Content(), "CODE-1") {
					withCode = append(withCode, m)
				}
				if strings.Contains(m.Content(), "on its way") {
					t.Errorf("message %d still shows the placeholder's text", m.ID)
				}
			}
			if len(withCode) != 1 || withCode[0].ID != held[len(held)-1].Message.ID {
				t.Fatalf("the code is in %d messages, want only the placeholder's (message %d)", len(withCode), held[len(held)-1].Message.ID)
			}
			if tc.png != nil {
				photo, _ := srv.Message(u.Chat(), held[0].Message.ID)
				if !bytes.Equal(photo.Photo, tc.png) || photo.Spoiler {
					t.Errorf("the placeholder photo does not show the code's image plainly (spoiler %v)", photo.Spoiler)
				}
			}
			if n := len(srv.Messages(u.Chat())) - len(ms); n != 0 {
				t.Errorf("%d new messages", n)
			}
		})
	}

	t.Run("too long", func(t *testing.T) {
		srv, ad, u, to := adapterOnly(t)
		m0 := srv.Mark(u.Chat())
		_, err := ad.Hold(t.Context(), to, notice, secret(strings.Repeat("long line\n", 600)), nil)
		if !errors.Is(err, bot.ErrCannotHold) {
			t.Errorf("holding a reply of several messages: %v, want bot.ErrCannotHold", err)
		}
		if ev := srv.Events(u.Chat())[m0:]; len(ev) != 0 {
			t.Errorf("%d messages sent for a reply that cannot be held", len(ev))
		}
	})
}
