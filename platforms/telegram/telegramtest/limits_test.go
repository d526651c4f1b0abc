package telegramtest_test

import (
	"errors"
	"testing"

	tgbot "github.com/go-telegram/bot"

	"refillbot/platforms/telegram/telegramtest"
)

// With flood limits on, a bot sending faster than they allow gets 429 with
// retry_after, as from Telegram, and the fake records each one; calls are
// counted per method, the refused ones too. Chat actions are not limited.
func TestFloodLimits(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.Options{Limits: &telegramtest.Limits{
		PerChat: telegramtest.Bucket{Rate: 1, Burst: 2},
		Global:  telegramtest.Bucket{Rate: 100, Burst: 100},
	}})
	b := newBot(t, s)
	u := s.NewUser("Flo", "en")
	u.Send(u.Chat(), "/start")
	var tooMany []*tgbot.TooManyRequestsError
	for range 4 {
		_, err := b.SendMessage(t.Context(), &tgbot.SendMessageParams{ChatID: u.Chat(), Text: "hi"})
		var tm *tgbot.TooManyRequestsError
		if errors.As(err, &tm) {
			tooMany = append(tooMany, tm)
		} else if err != nil {
			t.Fatal(err)
		}
		if _, err := b.SendChatAction(t.Context(), &tgbot.SendChatActionParams{ChatID: u.Chat(), Action: "typing"}); err != nil {
			t.Errorf("chat action: %v", err)
		}
	}
	if len(tooMany) != 2 || tooMany[0].RetryAfter < 1 {
		t.Errorf("429 answers %+v, want 2 with retry_after", tooMany)
	}
	th := s.Throttled()
	if len(th) != 2 || th[0].Method != "sendMessage" || th[0].Chat != u.Chat() || th[0].Status != 429 {
		t.Errorf("throttled calls %+v, want the 2 sends over the chat's burst", th)
	}
	if n := len(s.Messages(u.Chat())); n != 2 {
		t.Errorf("%d bot messages in the chat, want the 2 within the burst", n)
	}
	counts := s.CallCounts()
	if counts["sendMessage"] != 4 || counts["sendChatAction"] != 4 {
		t.Errorf("call counts %v, want 4 sendMessage and 4 sendChatAction", counts)
	}
	// An injected 429 is not the fake's own limit.
	s.InjectFault(telegramtest.Fault{Method: "sendChatAction", Status: 429, RetryAfter: 1})
	b.SendChatAction(t.Context(), &tgbot.SendChatActionParams{ChatID: u.Chat(), Action: "typing"})
	if n := len(s.Throttled()); n != 2 {
		t.Errorf("%d throttled calls after an injected fault, want still 2", n)
	}
}
