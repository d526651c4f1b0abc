package main

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot/catalog"
	"refillbot/platforms/telegram/telegramtest"
	"refillbot/storage"
	"refillbot/storage/postgres"
	"refillbot/storage/postgres/pgtest"
)

// testKey is a REFILLBOT_SECRET_KEY for the replicas of one test.
func testKey(t *testing.T) string {
	t.Helper()
	return hex.EncodeToString([]byte(strings.Repeat(t.Name(), 32))[:32])
}

// A shop on PostgreSQL: the key is required (no key file beside a server),
// and a URL that is not postgres:// is refused, each with one clear line.
func TestDatabaseURLStartupErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no key":         {map[string]string{"REFILLBOT_DATABASE_URL": "postgres://u:pw@127.0.0.1:1/db"}, "REFILLBOT_SECRET_KEY is required with REFILLBOT_DATABASE_URL"},
		"not postgres":   {map[string]string{"REFILLBOT_DATABASE_URL": "mysql://u:pw@h/db", "REFILLBOT_SECRET_KEY": strings.Repeat("ab", 32)}, "postgres:// URL"},
		"bad key":        {map[string]string{"REFILLBOT_DATABASE_URL": "postgres://u:pw@127.0.0.1:1/db", "REFILLBOT_SECRET_KEY": "short"}, "REFILLBOT_SECRET_KEY"},
		"no server":      {map[string]string{"REFILLBOT_DATABASE_URL": "postgres://u:pw@127.0.0.1:1/db?connect_timeout=2", "REFILLBOT_SECRET_KEY": strings.Repeat("ab", 32)}, "cannot reach 127.0.0.1:1/db"},
		"telegram token": {map[string]string{"TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), []string{"-db", t.TempDir() + "/x.db"}, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), ":pw@") || strings.Contains(err.Error(), "abababab") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// The bot on PostgreSQL: a purchase through Telegram from start to code,
// and after a restart on the same database the user carries on.
func TestTelegramPurchaseOnPostgres(t *testing.T) {
	db := pgtest.URL(t)
	env := map[string]string{"REFILLBOT_DATABASE_URL": db, "REFILLBOT_SECRET_KEY": testKey(t)}
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	stop := tgRun(t, srv, env)
	u := srv.NewUser("Pia", "en")
	d := u.In(u.Chat())
	for _, step := range []struct{ say, tap, want string }{
		{say: "/start", want: "SANDBOX"},
		{say: "amazon us", want: "Results for"},
		{tap: "Amazon US", want: "Values:"},
		{say: "50", want: "Confirm your order"},
		{tap: "Bitcoin", want: "Invoice for"},
		{tap: "Simulate payment", want: "Code:"},
	} {
		if step.say != "" {
			d.Say(step.say)
		} else if _, err := d.Tap(step.tap); err != nil {
			t.Fatalf("tap %q: %v", step.tap, err)
		}
		if _, err := d.Await(step.want); err != nil {
			t.Fatalf("after %q: %v", step.say+step.tap, err)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	// The same database, a new process: the session is there.
	stop = tgRun(t, srv, env)
	d.Say("/orders")
	if _, err := d.Await("Amazon"); err != nil {
		t.Fatalf("orders after a restart: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TELEGRAM_WEBHOOK_SECRET is the token registered with setWebhook and the
// only one the webhook accepts.
func TestTelegramWebhookSecretFromEnv(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{LocalMode: true})
	addr := freeAddr(t)
	const secret = "shared-by-every-replica_1"
	stop := tgRun(t, srv, map[string]string{"TELEGRAM_MODE": "webhook", "REFILLBOT_LISTEN": addr,
		"REFILLBOT_PUBLIC_URL": "http://" + addr, "TELEGRAM_WEBHOOK_SECRET": secret})
	u := srv.NewUser("Sol", "en")
	d := u.In(u.Chat())
	d.Say("/start") // delivered by the fake with the registered token
	if _, err := d.Await("SANDBOX"); err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]int{secret: http.StatusOK, "another-token": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/telegram/webhook", strings.NewReader(`{"update_id": 1}`))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: %d, want %d", token, resp.StatusCode, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// The catalogue is walked once for all replicas: the leader fetches it from
// Bitrefill and keeps it; a follower loads the same products from the
// database without asking Bitrefill.
func TestFollowersLoadTheLeadersCatalogue(t *testing.T) {
	key, _ := storage.ParseKey(testKey(t))
	pg, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	fake, srv := bitrefilltest.NewServer(t, bitrefilltest.Options{})
	api, err := bitrefill.New(bitrefill.Config{BaseURL: srv.URL + "/v2", APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	l := leadership{pg: pg}
	yes, no := func() bool { return true }, func() bool { return false }
	follower := catalog.New(catalogueSource(api, l, no), catalog.Options{})
	if err := follower.Refresh(context.Background(), time.Now()); err == nil {
		t.Fatal("a follower loaded a catalogue nobody fetched")
	}
	leader := catalog.New(catalogueSource(api, l, yes), catalog.Options{})
	if err := leader.Refresh(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	before := len(fake.Requests())
	follower = catalog.New(catalogueSource(api, l, no), catalog.Options{})
	if err := follower.Refresh(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if follower.Len() != leader.Len() || follower.Len() == 0 {
		t.Errorf("follower has %d products, leader %d", follower.Len(), leader.Len())
	}
	if n := len(fake.Requests()) - before; n != 0 {
		t.Errorf("the follower made %d Bitrefill requests", n)
	}
	q := catalog.Query{Text: "amazon us"}
	if got := follower.Search(q); len(got) == 0 || got[0].ID != leader.Search(q)[0].ID {
		t.Errorf("follower's search differs from the leader's")
	}
}

func TestBudgetShareFollowsTheLiveReplicas(t *testing.T) {
	// Counts seen on successive refreshes, and the shares set: only
	// changes are set, a failed count keeps the last share, and no count
	// ever gives more than the whole budget.
	for _, tc := range []struct {
		name   string
		counts []int // -1: the count fails
		want   []int
	}{
		{"alone", []int{1, 1}, nil},
		{"a second joins and leaves", []int{1, 2, 2, 1}, []int{2, 1}},
		{"three, one dies", []int{3, 3, 2}, []int{3, 2}},
		{"a failed count keeps the share", []int{2, -1, 2}, []int{2}},
		{"never above the whole budget", []int{0, 2, 0}, []int{2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := 0
			count := func(context.Context) (int, error) {
				n := tc.counts[i]
				i++
				if n < 0 {
					return 0, errors.New("database down")
				}
				return n, nil
			}
			var got []int
			refresh := keepShare(count, func(n int) { got = append(got, n) }, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for range tc.counts {
				refresh(context.Background())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("shares set %v, want %v", got, tc.want)
			}
		})
	}
}
