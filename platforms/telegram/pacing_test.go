package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
)

// maxInWindow is the most calls in any window of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// A burst of 500 notifications to 50 chats goes out paced per chat and
// overall, rides out injected 429 answers by waiting retry_after, and
// arrives complete and in order in every chat.
func TestNotificationBurstPacing(t *testing.T) {
	const chats, each = 50, 10
	perChat := telegram.Limit{Rate: 5, Burst: 2}
	global := telegram.Limit{Rate: 200, Burst: 20}
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(),
		PerChat: perChat, Global: global, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	users := make([]*telegramtest.User, chats)
	for i := range users {
		users[i] = srv.NewUser("U"+strconv.Itoa(i), "en")
		users[i].Send(users[i].Chat(), "/start") // the private chat exists
	}
	srv.InjectFault(telegramtest.Fault{Method: "sendMessage", Status: 429, RetryAfter: 1, Times: 3})
	srv.InjectFault(telegramtest.Fault{Method: "sendMessage", Chat: users[7].ID, Status: 429, RetryAfter: 1, Times: 2})

	var wg sync.WaitGroup
	errs := make(chan error, chats*each)
	for _, u := range users {
		wg.Go(func() {
			to := conversation.Address{Platform: telegram.Platform, Chat: strconv.FormatInt(u.ID, 10), Private: true}
			for i := range each {
				r := conversation.Reply{Text: []conversation.Span{{Text: fmt.Sprintf("note %d", i)}}}
				if _, err := ad.Send(context.Background(), to, r, nil); err != nil {
					errs <- fmt.Errorf("chat %d note %d: %w", u.ID, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	var all []time.Time
	byChat := map[int64][]time.Time{}
	n429 := 0
	for _, c := range srv.CallsTo("sendMessage") {
		if c.Status == 429 {
			n429++
			continue
		}
		all = append(all, c.At)
		byChat[c.Chat] = append(byChat[c.Chat], c.At)
	}
	if n429 != 5 {
		t.Errorf("%d answers 429, want the 5 injected", n429)
	}
	for _, u := range users {
		var got []string
		for _, m := range srv.Messages(u.Chat()) {
			got = append(got, m.Text)
		}
		var want []string
		for i := range each {
			want = append(want, fmt.Sprintf("note %d", i))
		}
		if !slices.Equal(got, want) {
			t.Errorf("chat %d got %q, want %q", u.ID, got, want)
		}
		// Within any second a chat gets at most its burst plus its rate
		// (and one more for timer jitter on the fake's side).
		if m := maxInWindow(byChat[u.ID], time.Second); m > perChat.Burst+int(perChat.Rate)+1 {
			t.Errorf("chat %d got %d messages within one second", u.ID, m)
		}
	}
	// Overall, the burst goes out no faster than the global rate allows.
	// (Measured as a lower bound on the time taken: arrival times at the
	// server can bunch up when the machine is busy, a lower bound cannot.)
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	took := all[len(all)-1].Sub(all[0])
	least := time.Duration(float64(len(all)-global.Burst-1) / global.Rate * float64(time.Second))
	if took < least*9/10 {
		t.Errorf("%d messages went out in %v, faster than the global limit %v allows (%v)", len(all), took, global, least)
	}
}

// A 429 that outlasts the retries comes back as an error with RetryAfter;
// a user who blocked the bot comes back Unreachable.
func TestSendErrorsClassified(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), NoPacing: true,
		Retries: 1, MaxRetryWait: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	u := srv.NewUser("Bo", "en")
	u.Send(u.Chat(), "/start")
	to := conversation.Address{Platform: telegram.Platform, Chat: strconv.FormatInt(u.ID, 10), Private: true}
	r := conversation.Reply{Text: []conversation.Span{{Text: "hello"}}}

	srv.InjectFault(telegramtest.Fault{Method: "sendMessage", Status: 429, RetryAfter: 30, Times: 1})
	_, err = ad.Send(t.Context(), to, r, nil)
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != 30*time.Second {
		t.Errorf("429 with retry_after 30 beyond MaxRetryWait: err %v, want RetryAfter 30s", err)
	}

	srv.InjectFault(telegramtest.Fault{Method: "sendMessage", Status: 500, Times: 1})
	if _, err := ad.Send(t.Context(), to, r, nil); err != nil {
		t.Errorf("one 500 then success: %v", err)
	}

	u.Block()
	_, err = ad.Send(t.Context(), to, r, nil)
	var un interface{ Unreachable() bool }
	if !errors.As(err, &un) || !un.Unreachable() {
		t.Errorf("send to a user who blocked the bot: err %v, want Unreachable", err)
	}
	if errors.As(err, &ra) {
		t.Errorf("a 403 must not look rate limited: %v", err)
	}
	if n := len(srv.Messages(u.Chat())); n != 1 {
		t.Errorf("%d messages delivered, want 1", n)
	}
	if err != nil && contains([]string{err.Error()}, srv.Token()) {
		t.Errorf("error %q holds the token", err)
	}
}

// A 429's retry_after holds for the chat, not only for the caller that got
// it: a second sender to the same chat does not go out before it is over
// (and earn a 429 of its own).
func TestRetryAfterHoldsForEverySender(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	// A generous pace, so that only the 429 can hold anyone back; a
	// MaxRetryWait below the retry_after, so that the first sender returns
	// at once with the 429 instead of waiting it out.
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(),
		PerChat: telegram.Limit{Rate: 1000, Burst: 100}, Global: telegram.Limit{Rate: 1000, Burst: 100},
		MaxRetryWait: 500 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	u := srv.NewUser("Flo", "en")
	u.Send(u.Chat(), "/start")
	to := conversation.Address{Platform: telegram.Platform, Chat: strconv.FormatInt(u.ID, 10), Private: true}
	r := conversation.Reply{Text: []conversation.Span{{Text: "hello"}}}

	srv.InjectFault(telegramtest.Fault{Method: "sendMessage", Chat: u.Chat(), Status: 429, RetryAfter: 1, Times: 1})
	_, err = ad.Send(t.Context(), to, r, nil)
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) {
		t.Fatalf("first send: %v, want the 429", err)
	}
	if _, err := ad.Send(t.Context(), to, r, nil); err != nil {
		t.Fatalf("second send: %v", err)
	}
	calls := srv.CallsTo("sendMessage")
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Status != 200 {
		t.Fatalf("calls %+v, want the 429 then one success", calls)
	}
	if gap := calls[1].At.Sub(calls[0].At); gap < time.Second {
		t.Errorf("the second sender went out %v after a 429 with retry_after 1s", gap)
	}
}
