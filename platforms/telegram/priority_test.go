package telegram_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
)

func textReply(s string) conversation.Reply {
	return conversation.Reply{Text: []conversation.Span{{Text: s}}}
}

func addressOf(u *telegramtest.User) conversation.Address {
	return conversation.Address{Platform: telegram.Platform, Chat: strconv.FormatInt(u.ID, 10), Private: true}
}

// A buyer's replies are not held back by 2,000 reminders queued for other
// users: each reply comes within the buyer's own chat pacing, while the
// reminders go on flowing with what the replies leave of the budget. All
// at Telegram's real limits, which the fake enforces: it answers no 429.
func TestReplyNotDelayedByBulk(t *testing.T) {
	const others = 2000
	srv := telegramtest.NewServer(t, telegramtest.Options{Limits: &telegramtest.TelegramLimits})
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(),
		PollTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	users := make([]*telegramtest.User, others)
	for i := range users {
		users[i] = srv.NewUser("U"+strconv.Itoa(i), "en")
		users[i].Send(users[i].Chat(), "/start") // a chat the bot may write to
	}
	buyer := srv.NewUser("Buyer", "en")
	var seen atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ad.Run(ctx, func(ctx context.Context, in bot.Incoming) {
			seen.Add(1)
			if in.Key.User != strconv.FormatInt(buyer.ID, 10) {
				return
			}
			// The reply goes with the context of the update: interactive.
			txt := in.Event.(conversation.Text).Text
			if _, err := ad.Send(ctx, in.Address, textReply("re: "+txt), nil); err != nil {
				t.Errorf("reply to %q: %v", txt, err)
			}
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitFor(t, "the others' /start handled", func() bool { return seen.Load() == others })

	// The reminders: sent with a background context, as the shell's
	// notifier does, all queued at once.
	bulkCtx, stopBulk := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var sent atomic.Int64
	for _, u := range users {
		wg.Go(func() {
			if _, err := ad.Send(bulkCtx, addressOf(u), textReply("reminder"), nil); err == nil {
				sent.Add(1)
			}
		})
	}
	defer func() { stopBulk(); wg.Wait() }()
	waitFor(t, "reminders flowing", func() bool { return sent.Load() >= 20 })

	for i := range 6 {
		say := fmt.Sprintf("step %d", i)
		from := srv.Mark(buyer.Chat())
		t0 := time.Now()
		buyer.Send(buyer.Chat(), say)
		ev, _, err := srv.Await(buyer.Chat(), from, "the reply", func(e telegramtest.Event) bool {
			return e.Kind == telegramtest.Sent && e.Message.Text == "re: "+say
		})
		if err != nil {
			t.Fatal(err)
		}
		// Telegram's pace for one chat is about a message a second: a
		// buyer who waits for each answer gets it within that (the bound
		// leaves room for a busy machine), not after the minute the
		// reminders ahead of it would take.
		if d := ev.At.Sub(t0); d > 10*time.Second {
			t.Errorf("reply %d came after %v, behind the reminders", i, d)
		}
	}
	if n := sent.Load(); n >= others {
		t.Errorf("all %d reminders went out before the buyer's replies: the test proves nothing", n)
	}
	if th := srv.Throttled(); len(th) > 0 {
		t.Errorf("the fake had to answer 429 %d times, first %+v", len(th), th[0])
	}
}

// Under load — 30 chats each sent 5 notifications at once, while 10 users
// get replies — the adapter keeps within Telegram's limits: the fake,
// enforcing them, answers no 429, and every message arrives.
func TestPacingHoldsTelegramLimits(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{Limits: &telegramtest.TelegramLimits})
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(),
		PollTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	const chats, each, talkers = 30, 5, 10
	users := make([]*telegramtest.User, chats)
	for i := range users {
		users[i] = srv.NewUser("N"+strconv.Itoa(i), "en")
		users[i].Send(users[i].Chat(), "/start")
	}
	var replies atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ad.Run(ctx, func(ctx context.Context, in bot.Incoming) {
			if txt, ok := in.Event.(conversation.Text); ok {
				if _, err := ad.Send(ctx, in.Address, textReply("re: "+txt.Text), nil); err != nil {
					t.Errorf("reply: %v", err)
				}
				replies.Add(1)
			}
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			for i := range each {
				if _, err := ad.Send(context.Background(), addressOf(u), textReply(fmt.Sprintf("note %d", i)), nil); err != nil {
					t.Errorf("note to %d: %v", u.ID, err)
				}
			}
		})
	}
	for _, u := range users[:talkers] {
		for i := range 3 {
			u.Send(u.Chat(), "hi "+strconv.Itoa(i))
		}
	}
	wg.Wait()
	waitFor(t, "every reply sent", func() bool { return replies.Load() == talkers*3 })
	if th := srv.Throttled(); len(th) > 0 {
		t.Errorf("the fake had to answer 429 %d times, first %+v", len(th), th[0])
	}
	if got, want := srv.CallCounts()["sendMessage"], chats*each+talkers*3; got != want {
		t.Errorf("%d sendMessage calls, want %d", got, want)
	}
}
