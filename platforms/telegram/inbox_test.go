package telegram_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
)

// The in-memory inbox keeps the contract every inbox keeps: fresh updates
// back in batch order, nothing seen twice, pending by id until done.
func TestMemoryInbox(t *testing.T) {
	in := telegram.NewMemoryInbox()
	up := func(ids ...int64) []bot.InboxUpdate {
		var out []bot.InboxUpdate
		for _, id := range ids {
			out = append(out, bot.InboxUpdate{ID: id, Raw: []byte(`{"update_id":` + string(rune('0'+id%10)) + `}`)})
		}
		return out
	}
	idsOf := func(us []bot.InboxUpdate) []int64 {
		var out []int64
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	steps := []struct {
		name        string
		put         []int64
		done        []int64
		fresh, want []int64
	}{
		{"a batch", []int64{12, 10, 11}, nil, []int64{12, 10, 11}, []int64{10, 11, 12}},
		{"the batch again, one new", []int64{10, 11, 12, 13}, nil, []int64{13}, []int64{10, 11, 12, 13}},
		{"two done", nil, []int64{10, 12}, nil, []int64{11, 13}},
		{"done ones come again", []int64{10, 12, 14}, nil, []int64{14}, []int64{11, 13, 14}},
		{"all done", nil, []int64{11, 13, 14}, nil, nil},
	}
	for _, s := range steps {
		fresh, err := in.PutUpdates("telegram", up(s.put...))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range s.done {
			if err := in.DoneUpdate("telegram", id); err != nil {
				t.Fatal(err)
			}
		}
		pending, err := in.PendingUpdates("telegram")
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(fresh); !slices.Equal(got, s.fresh) {
			t.Errorf("%s: fresh %v, want %v", s.name, got, s.fresh)
		}
		if got := idsOf(pending); !slices.Equal(got, s.want) {
			t.Errorf("%s: pending %v, want %v", s.name, got, s.want)
		}
	}
}

// Long polling confirms each batch as soon as it is stored: while a slow
// handler holds a chat, getUpdates never hands out an update twice, and
// takes one call per batch.
func TestPollingConfirmsAtOnce(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	inbox := telegram.NewMemoryInbox()
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), NoPacing: true,
		PollTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler), Inbox: inbox})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var handled atomic.Int64
	runAdapter(t, ad, func(ctx context.Context, in bot.Incoming) {
		<-release
		handled.Add(1)
	})
	u := srv.NewUser("Slow", "en")
	const n = 8
	start := time.Now()
	for i := range n {
		u.Send(u.Chat(), "msg "+string(rune('a'+i)))
		// Each one stored before the next is sent: a batch each.
		waitFor(t, "the update stored", func() bool {
			p, _ := inbox.PendingUpdates("telegram")
			return len(p) == i+1
		})
	}
	if r := srv.Redelivered(); r != 0 {
		t.Errorf("getUpdates handed out %d updates again while the first was being handled", r)
	}
	// One call per batch, the one waiting now, and one per long poll that
	// ran out (4s) on a slow machine.
	if c, most := len(srv.CallsTo("getUpdates")), n+1+int(time.Since(start)/(4*time.Second)); c > most {
		t.Errorf("%d getUpdates calls for %d updates, want at most %d: one per batch", c, n, most)
	}
	close(release)
	waitFor(t, "all handled", func() bool { return handled.Load() == n })
	waitFor(t, "all done in the inbox", func() bool {
		p, _ := inbox.PendingUpdates("telegram")
		return len(p) == 0
	})
}

// flakyInbox fails PutUpdates while failing is set.
type flakyInbox struct {
	bot.Inbox
	failing atomic.Bool
}

func (f *flakyInbox) PutUpdates(platform string, b []bot.InboxUpdate) ([]bot.InboxUpdate, error) {
	if f.failing.Load() {
		return nil, errors.New("disk full")
	}
	return f.Inbox.PutUpdates(platform, b)
}

// Webhook mode answers 200 only once the update is stored: while the inbox
// fails, Telegram is told to try again, and does; an update delivered twice
// (its 200 lost on the way) is handled once.
func TestWebhookStoresBeforeAnswering(t *testing.T) {
	var h atomic.Pointer[http.Handler]
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := h.Load(); p != nil {
			(*p).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	srv := telegramtest.NewServer(t, telegramtest.Options{WebhookClient: hook.Client()})
	inbox := &flakyInbox{Inbox: telegram.NewMemoryInbox()}
	inbox.failing.Store(true)
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), NoPacing: true,
		WebhookURL: hook.URL + telegram.WebhookPath, Logger: slog.New(slog.DiscardHandler), Inbox: inbox})
	if err != nil {
		t.Fatal(err)
	}
	handler := ad.WebhookHandler()
	h.Store(&handler)
	var mu sync.Mutex
	var got []string
	runAdapter(t, ad, func(ctx context.Context, in bot.Incoming) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, in.Event.(conversation.Text).Text)
	})
	waitFor(t, "the webhook set", func() bool { return srv.Webhook() != "" })
	u := srv.NewUser("Web", "en")
	u.Send(u.Chat(), "hello")
	waitFor(t, "a refused delivery", func() bool { return strings.Contains(srv.WebhookError(), "503") })
	if srv.Pending() != 1 {
		t.Fatalf("Telegram holds %d updates, want the one not stored", srv.Pending())
	}
	inbox.failing.Store(false)
	waitFor(t, "the update handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	// The same update again, as Telegram sends it when our 200 was lost.
	body := `{"update_id":1,"message":{"message_id":9,"date":1,"chat":{"id":` + "7" + `,"type":"private"},"from":{"id":7,"is_bot":false,"first_name":"x"},"text":"twice"}}`
	secret := srv.CallsTo("setWebhook")[0].Params["secret_token"]
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, hook.URL+telegram.WebhookPath, strings.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := hook.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("delivery: status %d", resp.StatusCode)
		}
	}
	waitFor(t, "the duplicated update handled", func() bool {
		p, _ := inbox.PendingUpdates("telegram")
		mu.Lock()
		defer mu.Unlock()
		return len(p) == 0 && slices.Contains(got, "twice")
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []string{"hello", "twice"}) {
		t.Errorf("handled %q, want hello and twice, once each", got)
	}
}
