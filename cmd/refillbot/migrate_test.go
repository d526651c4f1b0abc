package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram/telegramtest"
	"refillbot/storage"
	"refillbot/storage/postgres"
	"refillbot/storage/postgres/pgtest"
)

// migrate runs `refillbot migrate` with args and the environment env.
func migrate(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"migrate"}, args...), func(k string) string { return env[k] },
		strings.NewReader(""), &out, io.Discard)
	return out.String(), err
}

// A shop on bbolt moves to PostgreSQL: a delivered purchase, an invoice not
// yet paid and a message still queued all come along, and the bot carries
// on from them.
func TestMigrateRoundTrip(t *testing.T) {
	fake, apiSrv := bitrefilltest.NewServer(t, bitrefilltest.Options{})
	api, err := bitrefill.New(bitrefill.Config{BaseURL: apiSrv.URL + "/v2", APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	// Budgets a hundred times Bitrefill's: the poller, not the budget, paces
	// deliveries here (no webhook URL).
	apiEnv := map[string]string{"BITREFILL_API_KEY": "test-key", "BITREFILL_API_URL": apiSrv.URL + "/v2",
		"BITREFILL_RATE_LIMITS": fastLimits}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range apiEnv {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tg := telegramtest.NewServer(t, telegramtest.Options{})
	path := filepath.Join(t.TempDir(), "shop.db")
	newest := func() string {
		list, err := api.Invoices(context.Background(), bitrefill.ListFilter{Limit: 50})
		if err != nil || len(list) == 0 {
			t.Fatalf("invoices at the fake: %v", err)
		}
		return list[0].ID
	}
	toInvoice := func(d *telegramtest.Dialog) string {
		t.Helper()
		for _, step := range []struct{ say, tap, want string }{
			{say: "/start", want: "Welcome"},
			{say: "amazon us", want: "Results for"},
			{tap: "Amazon US", want: "Values:"},
			{say: "50", want: "Confirm your order"},
			{tap: "Bitcoin", want: "Invoice for"},
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
		return newest()
	}

	// On bbolt: Ann buys and gets her code; Bob's invoice waits unpaid.
	stop := tgRun(t, tg, with(), "-db", path)
	ann, bob := tg.NewUser("Ann", "en"), tg.NewUser("Bob", "en")
	da, db := ann.In(ann.Chat()), bob.In(bob.Chat())
	annInvoice := toInvoice(da)
	if err := fake.MarkPaid(annInvoice); err != nil {
		t.Fatal(err)
	}
	if _, err := da.Await("Code:"); err != nil {
		t.Fatal(err)
	}
	bobInvoice := toInvoice(db)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A message still queued when the shop stopped (a blocked user's).
	key, _, err := storage.LoadKey(path, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(path, storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	last, _ := st.OutboxLast()
	annKey := conversation.SessionKey{Platform: "telegram", User: strconv.FormatInt(ann.ID, 10)}
	err = st.Enqueue([]bot.OutboxRecord{{ID: last + 1, Session: annKey, Created: time.Now(),
		Address: conversation.Address{Platform: "telegram", Chat: strconv.FormatInt(ann.Chat(), 10), Private: true},
		Reply:   conversation.Reply{Text: []conversation.Span{{Text: "queued while moving"}}}}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	// The move, twice: the second finds nothing to do.
	pg := pgtest.URL(t)
	secret := map[string]string{"REFILLBOT_SECRET_KEY": testKey(t)}
	out, err := migrate(t, secret, "-from", path, "-to", pg)
	if err != nil || !strings.Contains(out, "copied 2 sessions, 1 watched invoices, 1 queued messages") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := migrate(t, secret, "-from", path, "-to", pg); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("migrate again: %v\n%s", err, out)
	}

	// On PostgreSQL: the queued message goes out, Bob's payment is seen
	// and delivered, Ann's order is still hers.
	stop = tgRun(t, tg, with("REFILLBOT_DATABASE_URL", pg, "REFILLBOT_SECRET_KEY", testKey(t)))
	if _, err := da.Await("queued while moving"); err != nil {
		t.Fatal(err)
	}
	if err := fake.MarkPaid(bobInvoice); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Await("Code:"); err != nil {
		t.Fatal(err)
	}
	da.Say("/orders")
	if _, err := da.Await("Amazon"); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for name, u := range map[string]*telegramtest.User{"Ann": ann, "Bob": bob} {
		n := 0
		for _, m := range tg.Messages(u.Chat()) {
			if strings.Contains(m.Content(), "Code:") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s got %d code messages, want 1", name, n)
		}
	}
	if n := len(fake.Requests()); n == 0 {
		t.Fatal("no Bitrefill requests")
	}
}

// A database that already holds a shop is not overwritten by mistake.
func TestMigrateRefusesANonEmptyTarget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	key, _, err := storage.LoadKey(path, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(path, storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	k := conversation.SessionKey{Platform: "telegram", User: "1"}
	if err := st.Commit(bot.Commit{Key: k, State: conversation.State{V: conversation.SchemaVersion, Profile: conversation.Profile{Nonce: "from-bbolt"}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	pg := pgtest.URL(t)
	other, err := postgres.Open(context.Background(), pg, postgres.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Commit(bot.Commit{Key: conversation.SessionKey{Platform: "discord", User: "2"}, State: conversation.State{V: conversation.SchemaVersion}}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, err := migrate(t, nil, "-from", path, "-to", pg); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("migrate into a shop: %v, want a refusal naming -force", err)
	}
	if out, err := migrate(t, nil, "-from", path, "-to", pg, "-force"); err != nil {
		t.Fatalf("migrate -force: %v\n%s", err, out)
	}
	check, err := postgres.Open(context.Background(), pg, postgres.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	got, ok, err := check.Session(k)
	if err != nil || !ok || got.Nonce != "from-bbolt" {
		t.Errorf("session after migrate -force: %v, %v, %v", got.Nonce, ok, err)
	}
	if _, ok, _ := check.Session(conversation.SessionKey{Platform: "discord", User: "2"}); !ok {
		t.Error("migrate -force removed the target's own session")
	}
}
