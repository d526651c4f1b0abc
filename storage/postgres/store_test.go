package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/storage/postgres"
	"refillbot/storage/postgres/pgtest"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func open(t testing.TB, url string, key []byte, replica string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{Key: key, Replica: replica})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func session(i int) conversation.SessionKey {
	return conversation.SessionKey{Platform: "telegram", User: fmt.Sprintf("user%d", i)}
}

// codeState is a session holding a delivered code.
func codeState(code string) conversation.State {
	return conversation.State{
		V:       conversation.SchemaVersion,
		Profile: conversation.Profile{Lang: "en", Nonce: "n1"},
		Flow:    conversation.Flow{Step: conversation.StepConfirm},
		Ledger: conversation.Ledger{Purchases: []conversation.Purchase{{
			Invoice: conversation.Invoice{ID: "inv-1", Status: conversation.StatusPaymentConfirmed,
				Orders: []conversation.Order{{ID: "ord-1", Status: conversation.OrderDelivered,
					Redemption: &conversation.Redemption{Code: code}}}},
			Summary: "Steam $20", Announced: map[string]string{"ord-1": conversation.OrderDelivered},
		}}},
	}
}

func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), url, postgres.Options{Key: key})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var applied, versions int
	if err := conn.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &versions); err != nil {
		t.Fatal(err)
	}
	if applied != versions || applied == 0 {
		t.Errorf("migrations applied %d times for %d versions", applied, versions)
	}
}

func TestAnotherKeyOrNoKeyIsRefused(t *testing.T) {
	url := pgtest.URL(t)
	open(t, url, newKey(t), "a").Close()
	_, err := postgres.Open(context.Background(), url, postgres.Options{Key: newKey(t)})
	if !errors.Is(err, postgres.ErrWrongKey) {
		t.Errorf("other key: %v, want ErrWrongKey", err)
	}
	_, err = postgres.Open(context.Background(), url, postgres.Options{})
	if !errors.Is(err, postgres.ErrWrongKey) {
		t.Errorf("no key: %v, want ErrWrongKey", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	url := pgtest.URL(t)
	open(t, url, newKey(t), "a").Close()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(context.Background(), url, postgres.Options{Key: newKey(t)})
	if !errors.Is(err, postgres.ErrVersion) {
		t.Errorf("Open = %v, want ErrVersion", err)
	}
}

func TestUnreachableServerFailsAtOnce(t *testing.T) {
	start := time.Now()
	_, err := postgres.Open(context.Background(), "postgres://nobody:secret-pass@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", postgres.Options{Key: newKey(t)})
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	if bytes.Contains([]byte(err.Error()), []byte("secret-pass")) {
		t.Errorf("the error shows the password: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Open took %v to fail", d)
	}
}

func TestCodesAreSealedAtRest(t *testing.T) {
	url := pgtest.URL(t)
	s := open(t, url, newKey(t), "a")
	const code = "SECRET-CODE-9876"
	err := s.Commit(bot.Commit{Key: session(1), State: codeState(code),
		Address: conversation.Address{Platform: "telegram", Chat: "1", Private: true},
		Outbox: []bot.OutboxRecord{{ID: 1, Session: session(1), Reply: conversation.Reply{
			Text: []conversation.Span{{Text: code, Style: conversation.Code}}, Secret: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{`SELECT state FROM sessions`, `SELECT record FROM outbox`} {
		var b []byte
		if err := conn.QueryRow(context.Background(), q).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(code)) {
			t.Errorf("%s: the code is readable in the database", q)
		}
	}
	st, ok, err := s.Session(session(1))
	if err != nil || !ok || st.Purchases[0].Invoice.Orders[0].Redemption.Code != code {
		t.Errorf("Session = %v, %v: the code does not come back", ok, err)
	}
}

func TestCommitReadsBackExactly(t *testing.T) {
	s := open(t, pgtest.URL(t), newKey(t), "a")
	now := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC) // nanoseconds kept
	addr := conversation.Address{Platform: "telegram", Chat: "42", Private: true}
	tr := bot.Tracked{InvoiceID: "inv-1", Address: addr, Status: "unpaid", Created: now, Expires: now.Add(time.Hour), NextCheck: now.Add(time.Second)}
	rec := bot.OutboxRecord{ID: 7, Session: session(1), Address: addr, Reply: conversation.Reply{Text: []conversation.Span{{Text: "hi"}}},
		Invoice: "inv-1", View: true, NextTry: now, Created: now}
	sc := bot.Scheduled{Due: now.Add(time.Minute), Name: "gift:inv-1", Kind: "giftcard", Session: session(1), Address: addr, Subject: "Steam"}
	st := codeState("C1")
	if err := s.Commit(bot.Commit{Key: session(1), State: st, Track: []bot.Tracked{tr}, Address: addr,
		Outbox: []bot.OutboxRecord{rec}, Schedule: []bot.Scheduled{sc}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Session(session(1))
	if err != nil || !ok || !reflect.DeepEqual(got, st) {
		t.Errorf("Session = %+v, %v, %v", got, ok, err)
	}
	want := tr
	want.Session = session(1) // a zero Session means the committing one
	if list, err := s.Tracked(); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], want) {
		t.Errorf("Tracked = %+v, %v", list, err)
	}
	if list, err := s.OutboxSession(session(1), 0); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], rec) {
		t.Errorf("OutboxSession = %+v, %v", list, err)
	}
	if list, err := s.Due(sc.Due, 0); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], sc) {
		t.Errorf("Due = %+v, %v", list, err)
	}
	if list, err := s.Due(sc.Due.Add(-time.Nanosecond), 0); err != nil || len(list) != 0 {
		t.Errorf("Due a nanosecond early = %+v, %v", list, err)
	}
	if a, ok, err := s.Address(session(1)); err != nil || !ok || a != addr {
		t.Errorf("Address = %v, %v, %v", a, ok, err)
	}
	if last, err := s.OutboxLast(); err != nil || last != 7 {
		t.Errorf("OutboxLast = %d, %v", last, err)
	}
	// Untracking settles; a later track clears the mark.
	if err := s.Commit(bot.Commit{Key: session(1), State: st, Untrack: []string{"inv-1"}, Done: []uint64{7}}); err != nil {
		t.Fatal(err)
	}
	if settled, err := s.Settled("inv-1"); err != nil || !settled {
		t.Errorf("Settled = %v, %v", settled, err)
	}
	if last, err := s.OutboxLast(); err != nil || last != 7 {
		t.Errorf("OutboxLast after the last record was sent = %d, %v; ids must keep growing", last, err)
	}
}

func TestOneInvoicePerCheckoutAcrossReplicas(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	replicas := []*postgres.Store{open(t, url, key, "a"), open(t, url, key, "b")}
	var wg sync.WaitGroup
	results := make([]error, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = replicas[i%2].PutCheckoutInvoice("n1-3", fmt.Sprintf("inv-%d", i))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, bot.ErrCheckoutExists):
			t.Errorf("PutCheckoutInvoice: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d invoices recorded for one checkout, want 1", ok)
	}
	id, found, err := replicas[1].CheckoutInvoice("n1-3")
	if err != nil || !found || replicas[0].PutCheckoutInvoice("n1-3", id) != nil {
		t.Errorf("the recorded invoice %q (%v, %v) is not the one kept", id, found, err)
	}
}

func TestOutboxClaimsKeepReplicasApart(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	now := time.Now()
	var recs []bot.OutboxRecord
	for i := 1; i <= 6; i++ {
		recs = append(recs, bot.OutboxRecord{ID: uint64(i), Session: session(i % 3), NextTry: now.Add(-time.Second)})
	}
	if err := a.Enqueue(recs); err != nil {
		t.Fatal(err)
	}
	// Replica a's step commits a new message for session 0: its own.
	if err := a.Commit(bot.Commit{Key: session(0), State: codeState("x"),
		Outbox: []bot.OutboxRecord{{ID: 10, Session: session(0), NextTry: now.Add(-time.Second)}}}); err != nil {
		t.Fatal(err)
	}
	gotA, err := a.OutboxDue(now, 0)
	if err != nil || len(gotA) != 7 {
		t.Fatalf("replica a: %d records, %v; want all 7", len(gotA), err)
	}
	gotB, err := b.OutboxDue(now, 0)
	if err != nil || len(gotB) != 0 {
		t.Fatalf("replica b: %d records, %v; want none while a holds them", len(gotB), err)
	}
	if list, err := b.OutboxSession(session(0), 0); err != nil || len(list) != 0 {
		t.Errorf("replica b, one session: %d records, %v", len(list), err)
	}
	// a sends session 1's first record and fails on session 2's: the
	// failed one is free again, for whoever drains it when it is due.
	if err := a.OutboxDone([]uint64{1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.OutboxRetry(2, 1, now.Add(-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	gotB, err = b.OutboxDue(now, 0)
	if err != nil || len(gotB) != 1 || gotB[0].ID != 2 || gotB[0].Attempts != 1 {
		t.Fatalf("replica b after a's retry: %+v, %v; want record 2 alone (5, after it, is still a's)", gotB, err)
	}
	// a dies: after the lease, b takes over the rest, in order per session
	// (2 again too: b's own claim, which its in-memory bookkeeping guards).
	later := now.Add(postgres.DefaultClaimLease + time.Second)
	gotB, err = b.OutboxDue(later, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, r := range gotB {
		ids = append(ids, r.ID)
	}
	if want := []uint64{3, 6, 10, 4, 2, 5}; !sameSessionsInOrder(gotB, want) {
		t.Errorf("replica b after a's lease: %v, want %v (each session in id order)", ids, want)
	}
}

// sameSessionsInOrder: got holds exactly want's ids, each session's in
// increasing order.
func sameSessionsInOrder(got []bot.OutboxRecord, want []uint64) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[uint64]bool{}
	last := map[conversation.SessionKey]uint64{}
	for _, r := range got {
		if r.ID <= last[r.Session] {
			return false
		}
		last[r.Session] = r.ID
		seen[r.ID] = true
	}
	for _, id := range want {
		if !seen[id] {
			return false
		}
	}
	return true
}

func TestSecretsAreSharedByReplicas(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	for name, get := range map[string]func(*postgres.Store) (string, error){
		"bitrefill webhook": (*postgres.Store).WebhookSecret,
		"telegram webhook":  func(s *postgres.Store) (string, error) { return s.TelegramWebhookSecret("") },
	} {
		sa, err := get(a)
		if err != nil || len(sa) < 32 {
			t.Fatalf("%s: %q, %v", name, sa, err)
		}
		if sb, err := get(b); err != nil || sb != sa {
			t.Errorf("%s: replica b has another secret (%v)", name, err)
		}
	}
	if s, _ := a.TelegramWebhookSecret("from-env"); s != "from-env" {
		t.Errorf("TELEGRAM_WEBHOOK_SECRET ignored: %q", s)
	}
}

func TestMarksAndPruneAcrossReplicas(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	at := time.Now().Add(-48 * time.Hour)
	fresh, err := a.MarkOnce("esim-low:1", at)
	if err != nil || !fresh {
		t.Fatalf("first mark: %v, %v", fresh, err)
	}
	if fresh, err := b.MarkOnce("esim-low:1", at); err != nil || fresh {
		t.Errorf("second replica's mark: %v, %v; want not fresh", fresh, err)
	}
	if n, err := b.Prune(time.Now().Add(-24 * time.Hour)); err != nil || n != 1 {
		t.Errorf("Prune = %d, %v", n, err)
	}
	if fresh, _ := a.MarkOnce("esim-low:1", at); !fresh {
		t.Error("a pruned mark is still there")
	}
}

func TestOutboxIDsIncreaseAcrossReplicas(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a := open(t, url, key, "a")
	// An id from before (a bbolt shop's clock reading, far ahead).
	ahead := uint64(time.Now().Add(time.Hour).UnixNano())
	if err := a.Enqueue([]bot.OutboxRecord{{ID: ahead, Session: session(1)}}); err != nil {
		t.Fatal(err)
	}
	b := open(t, url, key, "b") // opened after: starts past every stored id
	var last uint64
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		ids, err := s.OutboxIDs(3)
		if err != nil || len(ids) != 3 {
			t.Fatalf("OutboxIDs: %v, %v", ids, err)
		}
		for _, id := range ids {
			if id <= last || id <= ahead {
				t.Fatalf("id %d after %d (stored %d): not increasing", id, last, ahead)
			}
			last = id
		}
	}
}

// A replica whose process is gone leaves its claims at once: its liveness
// lock went with its connection, so nobody waits out the lease.
func TestDeadReplicasClaimsAreTakenAtOnce(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	now := time.Now()
	if err := a.Commit(bot.Commit{Key: session(1), State: codeState("x"),
		Outbox: []bot.OutboxRecord{{ID: 1, Session: session(1)}, {ID: 2, Session: session(1)}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.OutboxDue(now, 0); err != nil || len(got) != 0 {
		t.Fatalf("replica b while a lives: %d records, %v", len(got), err)
	}
	a.Close() // as a killed process: its connections end
	got, err := b.OutboxDue(now, 0)
	if err != nil || len(got) != 2 || got[0].ID != 1 || got[1].ID != 2 {
		t.Fatalf("replica b after a died: %+v, %v; want records 1 and 2 at once", got, err)
	}
}

func TestPendingUpdatesStayWithTheLiveReplicaThatStoredThem(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	batch := []bot.InboxUpdate{{ID: 7, Raw: []byte(`{"update_id":7}`)}, {ID: 8, Raw: []byte(`{"update_id":8}`)}}
	if fresh, err := a.PutUpdates("telegram", batch); err != nil || len(fresh) != 2 {
		t.Fatalf("replica a stores: %d fresh, %v", len(fresh), err)
	}
	if got, err := b.PendingUpdates("telegram"); err != nil || len(got) != 0 {
		t.Fatalf("replica b restarting while a handles them: %d pending, %v; want none", len(got), err)
	}
	a.Close() // as a killed process: its connections end
	var got []bot.InboxUpdate
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		var err error
		if got, err = b.PendingUpdates("telegram"); err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			time.Sleep(10 * time.Millisecond) // polling a's session's end, as LiveReplicas' test does
		}
	}
	if len(got) != 2 || got[0].ID != 7 || got[1].ID != 8 || string(got[1].Raw) != `{"update_id":8}` {
		t.Fatalf("replica b after a died: %+v; want updates 7 and 8", got)
	}
	// b owns them now and is live: a third replica does not take them,
	// and b handing over again is its own (restarted) run's business.
	c := open(t, url, key, "c")
	if got, err := c.PendingUpdates("telegram"); err != nil || len(got) != 0 {
		t.Fatalf("replica c after b took them over: %d pending, %v; want none", len(got), err)
	}
}

// Each replica keeps the sessions it committed decoded (sessioncache); a
// commit by another replica in between must be what the next read returns,
// in either direction and however often they alternate.
func TestReplicaReadsAnotherReplicasCommit(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	k := session(1)
	at := func(menu int) conversation.State {
		st := codeState("CODE")
		st.Menu = menu
		return st
	}
	steps := []struct {
		writer, reader *postgres.Store
		menu           int
	}{
		{a, a, 1}, // a reads its own commit back
		{b, a, 2},
		{a, b, 3}, // b must not serve its cached menu 2
		{a, a, 4},
		{a, a, 5}, // a commit after a commit: the latest
		{b, b, 6},
		{b, a, 7},
		{a, b, 8}, // a keeps menu 8 cached…
		{b, a, 9}, // …which b's commit makes stale
	}
	for i, s := range steps {
		if err := s.writer.Commit(bot.Commit{Key: k, State: at(s.menu)}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second read has nothing cached left: it decodes
			got, found, err := s.reader.Session(k)
			if err != nil || !found || !reflect.DeepEqual(got, at(s.menu)) {
				t.Fatalf("step %d: Session = menu %d, %v, %v; want menu %d", i, got.Menu, found, err, s.menu)
			}
		}
	}
}
