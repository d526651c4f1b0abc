package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
	"refillbot/platforms/telegram/telegramtest"
)

// gate holds requests matching hold until opened, and tells when one is
// being held.
type gate struct {
	next    http.Handler
	hold    func(*http.Request) bool
	mu      sync.Mutex
	open    chan struct{}
	opened  bool
	waiting chan struct{} // closed when a request is first held
	once    sync.Once
}

func newGate(next http.Handler, hold func(*http.Request) bool) *gate {
	return &gate{next: next, hold: hold, open: make(chan struct{}), waiting: make(chan struct{})}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.hold(r) {
		g.once.Do(func() { close(g.waiting) })
		select {
		case <-g.open:
		case <-r.Context().Done():
			return // the bot died waiting
		}
	}
	g.next.ServeHTTP(w, r)
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.opened {
		g.opened = true
		close(g.open)
	}
}

// Kill -9 with updates in the inbox, in both modes: the updates Telegram
// was told were received — stored, not yet handled, because the chat was
// busy creating an invoice that hung — are each handled exactly once by the
// next run.
func TestKillWithUpdatesInInbox(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			fake := bitrefilltest.New(bitrefilltest.Options{})
			g := newGate(fake, func(r *http.Request) bool {
				return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/invoices")
			})
			api := httptest.NewServer(g)
			defer func() { g.release(); api.Close(); fake.Close() }()
			tg := telegramtest.NewServer(t, telegramtest.Options{LocalMode: true})
			env := map[string]string{
				"BITREFILL_API_KEY":   "test-key",
				"BITREFILL_API_URL":   api.URL + "/v2",
				"REFILLBOT_DB":        filepath.Join(t.TempDir(), "bot.db"),
				"REFILLBOT_LOG_LEVEL": "warn",
				"TELEGRAM_BOT_TOKEN":  tg.Token(),
				"TELEGRAM_API_URL":    tg.URL(),
				"TELEGRAM_RATE_LIMIT": "off",
			}
			if mode == "webhook" {
				addr := freeAddr(t)
				env["TELEGRAM_MODE"], env["REFILLBOT_LISTEN"], env["REFILLBOT_PUBLIC_URL"] = "webhook", addr, "http://"+addr
			}
			p := startProc(t, env)
			u := tg.NewUser("Kim", "en")
			d := u.In(u.Chat())
			for _, s := range []struct{ say, tap, want string }{
				{say: "/start", want: "Welcome"},
				{say: "amazon us", want: "Results for"},
				{tap: "Amazon US", want: "Values:"},
				{say: "50", want: "Confirm your order"},
			} {
				if s.tap != "" {
					if _, err := d.Tap(s.tap); err != nil {
						t.Fatal(err)
					}
				} else {
					d.Say(s.say)
				}
				if _, err := d.Await(s.want); err != nil {
					t.Fatalf("%v; stderr:\n%s", err, p.stderr.String())
				}
			}
			if _, err := d.Tap("Bitcoin"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-g.waiting: // the chat is busy: the invoice hangs
			case <-time.After(15 * time.Second):
				t.Fatal("no invoice request")
			}
			const n = 3
			for range n {
				u.Send(u.Chat(), "/help")
			}
			// Telegram holds none of them: they are stored, and confirmed.
			waitCond(t, "the updates confirmed to Telegram", func() bool { return tg.Pending() == 0 })
			p.cmd.Process.Kill()
			p.exit()
			g.release()

			q := startProc(t, env)
			// A round trip after the restart: the chat's updates are handled
			// in order, so once this is answered every earlier one has been.
			d.Say("/start")
			if _, err := d.Await("Welcome"); err != nil {
				t.Fatalf("%v; stderr:\n%s", err, q.stderr.String())
			}
			q.stop()
			if got := countIn(tg, u.Chat(), "How it works"); got != n {
				t.Errorf("%d answers to the %d /help sent before the kill, want each once", got, n)
			}
		})
	}
}

// countIn counts the bot's messages in a chat containing substr.
func countIn(tg *telegramtest.Server, chat int64, substr string) int {
	n := 0
	for _, m := range tg.Messages(chat) {
		if strings.Contains(m.Content(), substr) {
			n++
		}
	}
	return n
}

// waitCond waits for cond, failing the test after a deadline.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 20s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising on time
	}
}
