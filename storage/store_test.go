package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"refillbot/bot"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/conversation"
)

func TestSessionRoundTrip(t *testing.T) {
	s, _ := openTemp(t, Options{})
	k := key(1)
	if st, ok, err := s.Session(k); err != nil || ok || !reflect.DeepEqual(st, conversation.State{}) {
		t.Fatalf("new session: %+v %v %v", st, ok, err)
	}
	want := sampleState(7)
	if err := s.Commit(bot.Commit{Key: k, State: want}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Session(k)
	if err != nil || !ok {
		t.Fatalf("Session: %v %v", ok, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	// Same user on another platform is another session.
	if _, ok, _ := s.Session(conversation.SessionKey{Platform: "discord", User: k.User}); ok {
		t.Fatal("session leaked across platforms")
	}
	if n, err := s.Sessions(); err != nil || n != 1 {
		t.Fatalf("Sessions = %d, %v", n, err)
	}
	if err := s.Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidKeys(t *testing.T) {
	s, _ := openTemp(t, Options{})
	for _, k := range []conversation.SessionKey{{}, {Platform: "telegram"}, {User: "u"}, {Platform: "a\x00b", User: "u"}} {
		if err := s.Commit(bot.Commit{Key: k}); err == nil {
			t.Errorf("Commit(%q) accepted", k)
		}
	}
	if err := s.Commit(bot.Commit{Key: key(1), Track: []bot.Tracked{{}}}); err == nil {
		t.Error("Track with empty invoice id accepted")
	}
	if err := s.Commit(bot.Commit{Key: key(1), Untrack: []string{""}}); err == nil {
		t.Error("Untrack of empty invoice id accepted")
	}
	if _, ok, _ := s.Session(key(1)); ok {
		t.Error("a refused commit was partly stored")
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "refillbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	tr := bot.Tracked{
		InvoiceID: "inv-1", Session: key(1), Address: conversation.Address{Platform: "telegram", Chat: "42", Private: true},
		Status: conversation.StatusUnpaid, Created: created, Expires: created.Add(time.Hour), NextCheck: created.Add(time.Minute),
	}
	if err := s.Commit(bot.Commit{Key: key(1), State: sampleState(1), Track: []bot.Tracked{tr}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(bot.Commit{Key: key(2), State: sampleState(2), Untrack: []string{"inv-old"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCheckoutInvoice("nonce0001:3", "inv-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", fi.Mode(), err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 1; i <= 2; i++ {
		got, ok, err := s.Session(key(i))
		if err != nil || !ok || !reflect.DeepEqual(got, sampleState(i)) {
			t.Errorf("session %d after reopen: ok=%v err=%v", i, ok, err)
		}
	}
	if n, _ := s.Sessions(); n != 2 {
		t.Errorf("Sessions = %d", n)
	}
	if got, ok, err := s.TrackedInvoice("inv-1"); err != nil || !ok || !reflect.DeepEqual(got, tr) {
		t.Errorf("tracked after reopen: %+v %v %v", got, ok, err)
	}
	if ok, err := s.Settled("inv-old"); err != nil || !ok {
		t.Errorf("settled after reopen: %v %v", ok, err)
	}
	if id, ok, err := s.CheckoutInvoice("nonce0001:3"); err != nil || !ok || id != "inv-1" {
		t.Errorf("checkout after reopen: %q %v %v", id, ok, err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	_, path := openTemp(t, Options{})
	s2, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		s2.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("unhelpful message: %v", err)
	}
}

func TestTrackUntrack(t *testing.T) {
	s, _ := openTemp(t, Options{})
	t0 := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	addr := conversation.Address{Platform: "telegram", Chat: "42", Private: true}
	a := bot.Tracked{InvoiceID: "inv-a", Session: key(1), Address: addr, Status: "unpaid", Created: t0.Add(time.Minute)}
	b := bot.Tracked{InvoiceID: "inv-b", Address: addr, Status: "unpaid", Created: t0} // Session defaults to the commit's key
	if err := s.Commit(bot.Commit{Key: key(1), State: sampleState(1), Track: []bot.Tracked{a, b}}); err != nil {
		t.Fatal(err)
	}
	b.Session = key(1)
	got, err := s.Tracked()
	if err != nil || !reflect.DeepEqual(got, []bot.Tracked{b, a}) {
		t.Fatalf("Tracked (by Created) = %+v, %v", got, err)
	}

	if err := s.Commit(bot.Commit{Key: key(1), State: sampleState(2), Untrack: []string{"inv-a"}}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Tracked()
	if err != nil || !reflect.DeepEqual(got, []bot.Tracked{b}) {
		t.Fatalf("Tracked after untrack = %+v, %v", got, err)
	}
	if _, ok, err := s.TrackedInvoice("inv-a"); ok || err != nil {
		t.Fatalf("inv-a still tracked: %v %v", ok, err)
	}
	if ok, err := s.Settled("inv-a"); !ok || err != nil {
		t.Fatalf("Settled(inv-a) = %v, %v", ok, err)
	}
	if ok, _ := s.Settled("inv-b"); ok {
		t.Fatal("inv-b settled while tracked")
	}
	if st, _, _ := s.Session(key(1)); st.Menu != 2 {
		t.Fatal("state not saved with the untrack")
	}
	// Tracking again makes it live again.
	if err := s.Commit(bot.Commit{Key: key(1), State: sampleState(3), Track: []bot.Tracked{a}}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Settled("inv-a"); ok {
		t.Fatal("re-tracked invoice still settled")
	}
}

func TestUpdateTracked(t *testing.T) {
	s, _ := openTemp(t, Options{})
	t0 := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	a := bot.Tracked{InvoiceID: "inv-a", Session: key(1), Status: "unpaid", Created: t0, NextCheck: t0}
	if err := s.Commit(bot.Commit{Key: key(1), Track: []bot.Tracked{a}}); err != nil {
		t.Fatal(err)
	}
	upd := a
	upd.Status, upd.NextCheck = "payment_detected", t0.Add(30*time.Second)
	upd.Address = conversation.Address{Platform: "ignored"} // not the poller's to change
	if err := s.UpdateTracked(upd); err != nil {
		t.Fatal(err)
	}
	want := a
	want.Status, want.NextCheck = upd.Status, upd.NextCheck
	if got, ok, err := s.TrackedInvoice("inv-a"); err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("after UpdateTracked: %+v %v %v", got, ok, err)
	}

	if err := s.UpdateTracked(bot.Tracked{InvoiceID: "inv-gone", Status: "complete"}); err != nil {
		t.Fatalf("UpdateTracked on untracked: %v", err)
	}
	if _, ok, _ := s.TrackedInvoice("inv-gone"); ok {
		t.Fatal("UpdateTracked resurrected an untracked invoice")
	}
	if err := s.Commit(bot.Commit{Key: key(1), Untrack: []string{"inv-a"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTracked(upd); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Tracked(); len(list) != 0 {
		t.Fatalf("Tracked = %+v", list)
	}
}

func TestCheckouts(t *testing.T) {
	s, _ := openTemp(t, Options{})
	if _, ok, err := s.CheckoutInvoice("c1"); ok || err != nil {
		t.Fatalf("unknown checkout: %v %v", ok, err)
	}
	if err := s.PutCheckoutInvoice("c1", "inv-1"); err != nil {
		t.Fatal(err)
	}
	if id, ok, err := s.CheckoutInvoice("c1"); id != "inv-1" || !ok || err != nil {
		t.Fatalf("CheckoutInvoice = %q %v %v", id, ok, err)
	}
	if err := s.PutCheckoutInvoice("c1", "inv-1"); err != nil {
		t.Fatalf("repeating the same mapping: %v", err)
	}
	if err := s.PutCheckoutInvoice("c1", "inv-2"); !errors.Is(err, ErrCheckoutExists) {
		t.Fatalf("second invoice for a checkout: %v", err)
	}
	if id, _, _ := s.CheckoutInvoice("c1"); id != "inv-1" {
		t.Fatalf("first invoice replaced by %q", id)
	}
	if err := s.PutCheckoutInvoice("", "inv-1"); err == nil {
		t.Fatal("empty checkout accepted")
	}
}

func TestConcurrentCommits(t *testing.T) {
	for _, m := range []struct {
		name string
		mode writeMode
	}{{"adaptive", modeAdaptive}, {"update", modeUpdate}, {"batch", modeBatch}} {
		t.Run(m.name, func(t *testing.T) {
			s, _ := openTemp(t, Options{})
			s.mode = m.mode
			const workers, steps = 50, 20
			var wg sync.WaitGroup
			errs := make(chan error, workers*steps)
			for w := range workers {
				wg.Go(func() {
					for i := range steps {
						st := sampleState(w)
						st.Menu = i
						c := bot.Commit{Key: key(w), State: st}
						if i == steps-2 {
							c.Track = []bot.Tracked{{InvoiceID: key(w).User + "-inv", Created: time.Unix(int64(w), 0)}}
						}
						if i == steps-1 && w%2 == 0 {
							c.Untrack = []string{key(w).User + "-inv"}
						}
						if err := s.Commit(c); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for w := range workers {
				st, ok, err := s.Session(key(w))
				if err != nil || !ok || st.Menu != steps-1 || st.Nonce != sampleState(w).Nonce {
					t.Fatalf("worker %d: menu %d ok=%v err=%v", w, st.Menu, ok, err)
				}
			}
			if n, _ := s.Sessions(); n != workers {
				t.Fatalf("Sessions = %d", n)
			}
			if list, err := s.Tracked(); err != nil || len(list) != workers/2 {
				t.Fatalf("Tracked: %d, %v", len(list), err)
			}
		})
	}
}

// Batch may run a commit's function twice; doing so must change nothing.
func TestCommitApplyIdempotent(t *testing.T) {
	s, _ := openTemp(t, Options{NoSync: true})
	c := bot.Commit{Key: key(1), State: sampleState(1),
		Track:   []bot.Tracked{{InvoiceID: "a"}, {InvoiceID: "b"}},
		Untrack: []string{"b", "c"}}
	ops, err := s.prepareCommit(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(ops.apply); err != nil {
		t.Fatal(err)
	}
	s2, _ := openTemp(t, Options{NoSync: true})
	if err := s2.db.Update(func(tx *bolt.Tx) error {
		if err := ops.apply(tx); err != nil {
			return err
		}
		return ops.apply(tx)
	}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{s, s2} {
		list, _ := st.Tracked()
		settled, _ := st.Settled("b")
		if len(list) != 1 || list[0].InvoiceID != "a" || !settled {
			t.Fatalf("after apply: %+v settled(b)=%v", list, settled)
		}
	}
}

func TestBackup(t *testing.T) {
	s, _ := openTemp(t, Options{})
	for i := range 10 {
		if err := s.Commit(bot.Commit{Key: key(i), State: sampleState(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d (%d buffered), %v", n, buf.Len(), err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer b.Close()
	if cnt, _ := b.Sessions(); cnt != 10 {
		t.Fatalf("backup has %d sessions", cnt)
	}
	if got, ok, err := b.Session(key(3)); err != nil || !ok || !reflect.DeepEqual(got, sampleState(3)) {
		t.Fatalf("backup session: %v %v", ok, err)
	}
}

func TestUnreadableRecords(t *testing.T) {
	s, path := openTemp(t, Options{})
	put := func(bucket []byte, k, v string) {
		t.Helper()
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte(k), []byte(v)) }); err != nil {
			t.Fatal(err)
		}
	}
	sk := func(i int) string { k, _ := sessionKey(key(i)); return string(k) }

	put(bucketSessions, sk(1), `{"v":2,"state":{"v":1,"nonce":"x"}}`)
	if _, _, err := s.Session(key(1)); !errors.Is(err, ErrVersion) {
		t.Errorf("newer session record: %v", err)
	}
	put(bucketSessions, sk(2), `{"state":`)
	if _, _, err := s.Session(key(2)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt session record: %v", err)
	}
	put(bucketSessions, sk(3), `{"state":{"nonce":"x"}}`)
	if _, _, err := s.Session(key(3)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unversioned session record: %v", err)
	}
	put(bucketCheckouts, "c1", `{"v":9,"invoice":"x"}`)
	if _, _, err := s.CheckoutInvoice("c1"); !errors.Is(err, ErrVersion) {
		t.Errorf("newer checkout record: %v", err)
	}

	// One bad tracked record neither hides the good ones nor goes unreported.
	if err := s.Commit(bot.Commit{Key: key(4), Track: []bot.Tracked{{InvoiceID: "good"}}}); err != nil {
		t.Fatal(err)
	}
	put(bucketInvoices, "future", `{"v":2}`)
	list, err := s.Tracked()
	if !errors.Is(err, ErrVersion) || len(list) != 1 || list[0].InvoiceID != "good" {
		t.Errorf("Tracked with a newer record: %+v, %v", list, err)
	}
	if _, _, err := s.TrackedInvoice("future"); !errors.Is(err, ErrVersion) {
		t.Errorf("bot.Tracked newer: %v", err)
	}
	if err := s.UpdateTracked(bot.Tracked{InvoiceID: "future", Status: "x"}); !errors.Is(err, ErrVersion) {
		t.Errorf("UpdateTracked over a newer record: %v", err)
	}

	// A file from a newer build is refused at Open.
	put(bucketMeta, string(metaSchemaKey), "2")
	s.Close()
	if s2, err := Open(path, Options{}); !errors.Is(err, ErrVersion) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("Open of a newer file: %v", err)
	}
	// And the refusal released the lock.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("lock kept after a refused Open: %v", err)
	}
	db.Close()
}
