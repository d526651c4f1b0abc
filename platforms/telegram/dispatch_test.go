package telegram_test

import (
	"context"
	"log/slog"
	"refillbot/bot"
	"strconv"
	"sync"
	"testing"
	"time"

	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
)

// runCapture runs an adapter whose handler is fn, until the test ends.
func runCapture(t *testing.T, srv *telegramtest.Server, fn func(context.Context, bot.Incoming)) {
	t.Helper()
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), NoPacing: true, PollTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	runAdapter(t, ad, fn)
}

// runAdapter runs ad with the handler fn until the test ends.
func runAdapter(t *testing.T, ad *telegram.Adapter, fn func(context.Context, bot.Incoming)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ad.Run(ctx, fn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// Updates become the shell's events with the user's session key, the
// private chat's address and the user's language.
func TestIncomingEvents(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	got := make(chan bot.Incoming, 10)
	runCapture(t, srv, func(_ context.Context, in bot.Incoming) { got <- in })
	u := srv.NewUser("Lola", "es")
	id := strconv.FormatInt(u.ID, 10)
	u.Send(u.Chat(), "/start@"+srv.BotUsername()+" amazon-us")
	u.Send(u.Chat(), "/orders@another_bot")
	u.Send(u.Chat(), "/Search netflix")
	u.Send(u.Chat(), "hola")
	want := []conversation.Event{
		conversation.Start{Payload: "amazon-us"},
		conversation.Command{Name: "search", Args: "netflix"},
		conversation.Text{Text: "hola"},
	}
	for i, w := range want {
		select {
		case in := <-got:
			if in.Event != w {
				t.Errorf("event %d: %#v, want %#v", i, in.Event, w)
			}
			if in.Key != (conversation.SessionKey{Platform: "telegram", User: id}) ||
				in.Address != (conversation.Address{Platform: "telegram", Chat: id, Private: true}) || in.Locale != "es" {
				t.Errorf("event %d: key %v, address %v, locale %q", i, in.Key, in.Address, in.Locale)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d never came", i)
		}
	}
}

// One chat's updates are handled strictly in order, one at a time, while
// another chat is handled in parallel: here chat A's first event waits until
// chat B's event has been handled, which could never happen on one queue.
func TestChatsInOrderAndInParallel(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	a, b := srv.NewUser("A", "en"), srv.NewUser("B", "en")
	bDone := make(chan struct{})
	var mu sync.Mutex
	var order []string
	busy := map[string]bool{}
	allA := make(chan struct{})
	const n = 30
	runCapture(t, srv, func(_ context.Context, in bot.Incoming) {
		txt := in.Event.(conversation.Text).Text
		mu.Lock()
		if busy[in.Key.User] {
			t.Errorf("two events of user %s at once", in.Key.User)
		}
		busy[in.Key.User] = true
		mu.Unlock()
		if in.Key.User == strconv.FormatInt(a.ID, 10) && txt == "0" {
			select {
			case <-bDone:
			case <-time.After(10 * time.Second):
				t.Error("chat B was not handled while chat A was busy")
			}
		}
		mu.Lock()
		busy[in.Key.User] = false
		if in.Key.User == strconv.FormatInt(b.ID, 10) {
			close(bDone)
		} else {
			order = append(order, txt)
			if len(order) == n {
				close(allA)
			}
		}
		mu.Unlock()
	})
	for i := range n {
		a.Send(a.Chat(), strconv.Itoa(i))
	}
	b.Send(b.Chat(), "b")
	select {
	case <-allA:
	case <-time.After(15 * time.Second):
		t.Fatal("chat A's events were not all handled")
	}
	mu.Lock()
	defer mu.Unlock()
	for i, s := range order {
		if s != strconv.Itoa(i) {
			t.Fatalf("chat A handled out of order: %v", order)
		}
	}
}

// Events still queued when Run stops and its grace period is over are not
// lost: they are not handed over with a dead context, nor marked done, so
// the next run finds them in the inbox and handles them, in order. Telegram
// was told at once that they were received: it holds none of them.
func TestShutdownKeepsUnhandledUpdates(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	inbox := telegram.NewMemoryInbox() // kept across the restart, as the store is
	newAdapter := func() *telegram.Adapter {
		ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), NoPacing: true,
			PollTimeout: 5 * time.Second, ShutdownGrace: time.Millisecond, Logger: slog.New(slog.DiscardHandler), Inbox: inbox})
		if err != nil {
			t.Fatal(err)
		}
		return ad
	}
	u := srv.NewUser("Sid", "en")
	for _, s := range []string{"one", "two", "three"} {
		u.Send(u.Chat(), s)
	}

	// The first run gets stuck on "one" until its context ends, the grace
	// period with it.
	var mu sync.Mutex
	var first []string
	started := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newAdapter().Run(ctx, func(ctx context.Context, in bot.Incoming) {
			mu.Lock()
			first = append(first, in.Event.(conversation.Text).Text)
			n := len(first)
			mu.Unlock()
			if n == 1 {
				close(started)
			}
			<-ctx.Done()
		})
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first event never came")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(first) != 1 {
		t.Errorf("events handed over during the shutdown: %q, want only the first", first)
	}
	mu.Unlock()
	if pending, err := inbox.PendingUpdates("telegram"); err != nil || len(pending) != 3 {
		t.Errorf("%d updates left in the inbox for the next run (%v), want the 3 not handled", len(pending), err)
	}
	if n := srv.Pending(); n != 0 {
		t.Errorf("Telegram still holds %d updates: they were not confirmed when stored", n)
	}

	got := make(chan string, 3)
	ad := newAdapter()
	runAdapter(t, ad, func(_ context.Context, in bot.Incoming) { got <- in.Event.(conversation.Text).Text })
	for _, want := range []string{"one", "two", "three"} {
		select {
		case s := <-got:
			if s != want {
				t.Errorf("after the restart: %q, want %q", s, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q never came after the restart", want)
		}
	}
}
