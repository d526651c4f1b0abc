package storetest

import (
	"errors"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
)

// Run checks every method of bot.Store against its documented contract.
// open returns a new, empty store for each subtest; the store is the
// caller's to close (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) bot.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Sessions", sessionTests},
		{"Outbox", outboxTests},
		{"WatchList", watchListTests},
		{"Timers", timerTests},
		{"Upkeep", upkeepTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s bot.Store)
}

// base is the suite's clock: stores must not depend on the real one for
// anything the suite checks, except where a contract says "now".
var base = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

var (
	ann  = conversation.SessionKey{Platform: "test", User: "ann"}
	bob  = conversation.SessionKey{Platform: "test", User: "bob"}
	cleo = conversation.SessionKey{Platform: "test", User: "cleo"}
)

func private(k conversation.SessionKey) conversation.Address {
	return conversation.Address{Platform: k.Platform, Chat: k.User, Private: true}
}

// state is a session state told apart by tag.
func state(tag string) conversation.State {
	return conversation.State{V: conversation.SchemaVersion, Profile: conversation.Profile{Lang: "en", Nonce: tag}}
}

func record(id uint64, k conversation.SessionKey, next time.Time) bot.OutboxRecord {
	return bot.OutboxRecord{ID: id, Session: k, Address: private(k), NextTry: next, Created: base,
		Reply: conversation.Reply{Text: []conversation.Span{{Text: "message"}}}}
}

func timer(name string, due time.Time) bot.Scheduled {
	return bot.Scheduled{Due: due, Name: name, Kind: "hide", Session: ann, Address: private(ann), Ref: "m1"}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(recs []bot.OutboxRecord) []uint64 {
	out := []uint64{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func names(list []bot.Scheduled) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

func equalIDs(t *testing.T, what string, got []bot.OutboxRecord, want ...uint64) {
	t.Helper()
	if want == nil {
		want = []uint64{}
	}
	if g := ids(got); !reflect.DeepEqual(g, want) {
		t.Errorf("%s: ids %v, want %v", what, g, want)
	}
}

func pending(t *testing.T, s bot.Store, k conversation.SessionKey) []bot.OutboxRecord {
	t.Helper()
	recs, err := s.OutboxSession(k, 0)
	must(t, err)
	return recs
}

var sessionTests = []test{
	{"a session never committed is new", func(t *testing.T, s bot.Store) {
		st, ok, err := s.Session(ann)
		must(t, err)
		if ok || !reflect.DeepEqual(st, conversation.State{}) {
			t.Errorf("Session of a new key = %+v, %v; want the zero State, false", st, ok)
		}
		if _, ok, err := s.Address(ann); err != nil || ok {
			t.Errorf("Address of a new key: ok %v, err %v; want false, nil", ok, err)
		}
	}},
	{"commit replaces the state", func(t *testing.T, s bot.Store) {
		for _, tag := range []string{"first", "second"} {
			must(t, s.Commit(bot.Commit{Key: ann, State: state(tag)}))
			got, ok, err := s.Session(ann)
			must(t, err)
			if !ok || !reflect.DeepEqual(got, state(tag)) {
				t.Errorf("after committing %q: Session = %+v, %v", tag, got, ok)
			}
		}
		if _, ok, _ := s.Session(bob); ok {
			t.Error("another session appeared")
		}
	}},
	{"a state read is a copy of the caller's own", func(t *testing.T, s bot.Store) {
		// A store may keep what it committed in memory (storage/sessioncache):
		// neither the committer's later changes nor a reader's may reach the
		// next reader.
		rich := func() conversation.State {
			st := state("rich")
			st.Actions = []conversation.Action{{Do: "product", Arg: "amazon-us"}}
			st.Product = &conversation.Product{ID: "amazon-us", Packages: []conversation.Package{{ID: "p25", Label: "25"}}}
			st.Purchases = []conversation.Purchase{{Invoice: conversation.Invoice{ID: "inv-1"}, Announced: map[string]string{"o1": "paid"}}}
			return st
		}
		mine := rich()
		must(t, s.Commit(bot.Commit{Key: ann, State: mine}))
		mine.Actions[0].Arg, mine.Product.Packages[0].Label, mine.Purchases[0].Announced["o1"] = "changed", "changed", "changed"
		for i := range 3 {
			got, ok, err := s.Session(ann)
			must(t, err)
			if !ok || !reflect.DeepEqual(got, rich()) {
				t.Fatalf("read %d = %+v, %v; want the state as committed", i, got, ok)
			}
			got.Actions[0].Arg, got.Product.Packages[0].Label, got.Purchases[0].Announced["o1"] = "read", "read", "read"
		}
		if err := s.Commit(bot.Commit{Key: ann, State: state("never"), Outbox: []bot.OutboxRecord{{Session: ann}}}); err == nil {
			t.Fatal("a commit with an outbox record without an id succeeded")
		}
		if got, _, err := s.Session(ann); err != nil || !reflect.DeepEqual(got, rich()) {
			t.Errorf("after a failed commit: Session = %+v, %v; want the state before", got, err)
		}
	}},
	{"only a private address is kept", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Address: private(ann)}))
		group := conversation.Address{Platform: "test", Chat: "group", Private: false}
		must(t, s.Commit(bot.Commit{Key: ann, State: state("b"), Address: group}))
		must(t, s.Commit(bot.Commit{Key: bob, State: state("c"), Address: group}))
		if a, ok, err := s.Address(ann); err != nil || !ok || a != private(ann) {
			t.Errorf("Address(ann) = %+v, %v, %v; want the private chat", a, ok, err)
		}
		if _, ok, err := s.Address(bob); err != nil || ok {
			t.Errorf("Address(bob), reached only in a group: ok %v, err %v", ok, err)
		}
	}},
	{"a failed commit leaves nothing behind", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("kept")}))
		bad := bot.Commit{Key: ann, State: state("lost"), Address: private(ann),
			Track:    []bot.Tracked{{InvoiceID: "inv-lost", Created: base}},
			Schedule: []bot.Scheduled{timer("lost", base)},
			Outbox:   []bot.OutboxRecord{record(1, ann, base), record(0, ann, base)}, // a zero id is refused
		}
		if err := s.Commit(bad); err == nil {
			t.Fatal("Commit with a zero outbox id succeeded")
		}
		if st, _, _ := s.Session(ann); !reflect.DeepEqual(st, state("kept")) {
			t.Errorf("state after a failed commit = %+v", st)
		}
		if _, ok, _ := s.Address(ann); ok {
			t.Error("address of a failed commit stored")
		}
		if _, ok, _ := s.TrackedInvoice("inv-lost"); ok {
			t.Error("invoice of a failed commit tracked")
		}
		equalIDs(t, "outbox after a failed commit", pending(t, s, ann))
		if due, _ := s.Due(base, 0); len(due) != 0 {
			t.Errorf("timers after a failed commit: %v", names(due))
		}
	}},
	{"commit tracks, then untracks", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Track: []bot.Tracked{
			{InvoiceID: "inv-1", Address: private(ann), Status: "unpaid", Created: base, Expires: base.Add(time.Hour), NextCheck: base.Add(time.Minute)},
			{InvoiceID: "inv-2", Session: bob, Created: base},
		}}))
		got, ok, err := s.TrackedInvoice("inv-1")
		must(t, err)
		want := bot.Tracked{InvoiceID: "inv-1", Session: ann, Address: private(ann), Status: "unpaid", Created: base, Expires: base.Add(time.Hour), NextCheck: base.Add(time.Minute)}
		if !ok || !sameTracked(got, want) {
			t.Errorf("TrackedInvoice = %+v, %v; want %+v (a zero Session means the commit's key)", got, ok, want)
		}
		if got, _, _ := s.TrackedInvoice("inv-2"); got.Session != bob {
			t.Errorf("inv-2 session %v, want bob", got.Session)
		}
		// Untrack applies after Track in the same commit.
		must(t, s.Commit(bot.Commit{Key: ann, State: state("b"), Track: []bot.Tracked{{InvoiceID: "inv-3", Created: base}}, Untrack: []string{"inv-1", "inv-3", "inv-unknown"}}))
		list, err := s.Tracked()
		must(t, err)
		if len(list) != 1 || list[0].InvoiceID != "inv-2" {
			t.Errorf("tracked after untracking = %+v, want inv-2 only", list)
		}
	}},
	{"commit enqueues and marks sent", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Outbox: []bot.OutboxRecord{record(10, ann, time.Time{}), record(11, ann, time.Time{})}}))
		equalIDs(t, "after commit", pending(t, s, ann), 10, 11)
		must(t, s.Commit(bot.Commit{Key: ann, State: state("b"), Done: []uint64{10, 999}, Outbox: []bot.OutboxRecord{record(12, ann, time.Time{})}}))
		equalIDs(t, "after commit with Done", pending(t, s, ann), 11, 12)
		got := pending(t, s, ann)[0]
		want := record(11, ann, time.Time{})
		if !reflect.DeepEqual(got.Reply, want.Reply) || got.Address != want.Address || got.Session != ann || !got.Created.Equal(base) {
			t.Errorf("record read back = %+v, want %+v", got, want)
		}
	}},
	{"a scheduled entry is not replaced by a commit", func(t *testing.T, s bot.Store) {
		first := timer("reminder", base)
		first.Kind, first.Subject = "giftcard", "Steam"
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Schedule: []bot.Scheduled{first}}))
		again := first
		again.Subject = "Other"
		must(t, s.Commit(bot.Commit{Key: ann, State: state("b"), Schedule: []bot.Scheduled{again}}))
		due, err := s.Due(base, 0)
		must(t, err)
		if len(due) != 1 || due[0].Subject != "Steam" || due[0].Kind != "giftcard" {
			t.Errorf("Due = %+v, want the first entry only", due)
		}
	}},
	{"all sessions are listed with their change time", func(t *testing.T, s bot.Store) {
		before := time.Now().Add(-time.Minute)
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a")}))
		must(t, s.Commit(bot.Commit{Key: bob, State: state("b")}))
		list, err := s.AllSessions()
		must(t, err)
		seen := map[conversation.SessionKey]string{}
		for _, si := range list {
			seen[si.Key] = si.State.Nonce
			if si.Changed.Before(before) || si.Changed.After(time.Now().Add(time.Minute)) {
				t.Errorf("%v changed at %v, want about now", si.Key, si.Changed)
			}
		}
		if want := map[conversation.SessionKey]string{ann: "a", bob: "b"}; !reflect.DeepEqual(seen, want) {
			t.Errorf("AllSessions = %v, want %v", seen, want)
		}
	}},
	{"a checkout keeps its first invoice", func(t *testing.T, s bot.Store) {
		if _, ok, err := s.CheckoutInvoice("n-1"); err != nil || ok {
			t.Fatalf("unknown checkout: ok %v, err %v", ok, err)
		}
		must(t, s.PutCheckoutInvoice("n-1", "inv-1"))
		must(t, s.PutCheckoutInvoice("n-1", "inv-1")) // a replay
		if err := s.PutCheckoutInvoice("n-1", "inv-2"); !errors.Is(err, bot.ErrCheckoutExists) {
			t.Errorf("second invoice for a checkout: err %v, want ErrCheckoutExists", err)
		}
		if id, ok, err := s.CheckoutInvoice("n-1"); err != nil || !ok || id != "inv-1" {
			t.Errorf("CheckoutInvoice = %q, %v, %v; want inv-1", id, ok, err)
		}
	}},
}

func mustDue(t *testing.T, s bot.Store) []bot.OutboxRecord {
	t.Helper()
	recs, err := s.OutboxDue(base, 0)
	must(t, err)
	return recs
}

// utcRecord makes r's times comparable with reflect.DeepEqual whatever
// location the store returns them in.
func utcRecord(r bot.OutboxRecord) bot.OutboxRecord {
	r.NextTry, r.Created = r.NextTry.UTC(), r.Created.UTC()
	return r
}

func sameTracked(a, b bot.Tracked) bool {
	return a.InvoiceID == b.InvoiceID && a.Session == b.Session && a.Address == b.Address && a.Status == b.Status &&
		a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) && a.NextCheck.Equal(b.NextCheck)
}

var outboxTests = []test{
	{"enqueue refuses a zero id", func(t *testing.T, s bot.Store) {
		if err := s.Enqueue([]bot.OutboxRecord{record(0, ann, base)}); err == nil {
			t.Error("Enqueue of a zero id succeeded")
		}
	}},
	{"records come back field for field", func(t *testing.T, s bot.Store) {
		r := bot.OutboxRecord{ID: 7, Session: ann, Address: private(ann), Invoice: "inv-1", Edit: true, View: true, Hide: true,
			Attempts: 3, NextTry: base.Add(-time.Minute), Created: base.Add(-time.Hour),
			Reply: conversation.Reply{Text: []conversation.Span{{Text: "Code: ", Style: conversation.Bold}, {Text: "ABC-123"}},
				QR: "ABC-123", Barcode: "code128", Secret: true, Invoice: "inv-1"}}
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Outbox: []bot.OutboxRecord{r}}))
		for _, list := range [][]bot.OutboxRecord{pending(t, s, ann), mustDue(t, s)} {
			if len(list) != 1 || !reflect.DeepEqual(utcRecord(list[0]), utcRecord(r)) {
				t.Errorf("read back %+v\nwant      %+v", list, r)
			}
		}
		sc := bot.Scheduled{Due: base, Name: "giftcard:o1", Kind: "giftcard", Session: ann, Address: private(ann),
			Ref: "m9", Subject: "Steam", Date: "2027-01-02", Attempts: 2}
		must(t, s.Commit(bot.Commit{Key: ann, State: state("b"), Schedule: []bot.Scheduled{sc}}))
		due, err := s.Due(base, 0)
		must(t, err)
		if len(due) != 1 || !due[0].Due.Equal(sc.Due) {
			t.Fatalf("Due = %+v, want %+v", due, sc)
		}
		got := due[0]
		got.Due = sc.Due
		if !reflect.DeepEqual(got, sc) {
			t.Errorf("timer read back %+v\nwant          %+v", got, sc)
		}
	}},
	{"a session's records come in id order", func(t *testing.T, s bot.Store) {
		must(t, s.Enqueue([]bot.OutboxRecord{record(30, ann, base), record(10, ann, base.Add(time.Hour)), record(20, bob, base)}))
		must(t, s.Enqueue([]bot.OutboxRecord{record(40, ann, base)}))
		equalIDs(t, "OutboxSession(ann)", pending(t, s, ann), 10, 30, 40)
		two, err := s.OutboxSession(ann, 2)
		must(t, err)
		equalIDs(t, "OutboxSession(ann, 2)", two, 10, 30)
		none, err := s.OutboxSession(cleo, 0)
		must(t, err)
		equalIDs(t, "OutboxSession(cleo)", none)
	}},
	{"due records: heads in due order, later ones wait behind", func(t *testing.T, s bot.Store) {
		now := base
		must(t, s.Enqueue([]bot.OutboxRecord{
			// ann: due at now-1m; her third record is held back, so the fourth waits too.
			record(1, ann, now.Add(-time.Minute)), record(2, ann, now), record(3, ann, now.Add(time.Hour)), record(4, ann, time.Time{}),
			// bob: his oldest record is held back; the next one, though due, waits.
			record(5, bob, now.Add(time.Hour)), record(6, bob, time.Time{}),
			// cleo: due earliest of all.
			record(7, cleo, now.Add(-time.Hour)),
		}))
		due, err := s.OutboxDue(now, 0)
		must(t, err)
		equalIDs(t, "OutboxDue", due, 7, 1, 2)
		cut, err := s.OutboxDue(now, 2)
		must(t, err)
		equalIDs(t, "OutboxDue limit 2", cut, 7, 1)
		later, err := s.OutboxDue(now.Add(2*time.Hour), 0)
		must(t, err)
		equalIDs(t, "OutboxDue two hours later", later, 7, 1, 2, 3, 4, 5, 6)
	}},
	{"retry holds a record and its followers back", func(t *testing.T, s bot.Store) {
		must(t, s.Enqueue([]bot.OutboxRecord{record(1, ann, time.Time{}), record(2, ann, time.Time{})}))
		must(t, s.OutboxRetry(1, 3, base.Add(time.Minute)))
		due, err := s.OutboxDue(base, 0)
		must(t, err)
		equalIDs(t, "due after retry", due)
		due, err = s.OutboxDue(base.Add(time.Minute), 0)
		must(t, err)
		equalIDs(t, "due when the retry is due", due, 1, 2)
		if due[0].Attempts != 3 || !due[0].NextTry.Equal(base.Add(time.Minute)) {
			t.Errorf("retried record: attempts %d, next %v", due[0].Attempts, due[0].NextTry)
		}
		must(t, s.OutboxRetry(999, 1, base)) // sent meanwhile: no error
	}},
	{"done deletes records and keeps views and hides", func(t *testing.T, s bot.Store) {
		must(t, s.Enqueue([]bot.OutboxRecord{record(1, ann, time.Time{}), record(2, ann, time.Time{})}))
		v1 := bot.View{InvoiceID: "inv-1", Address: private(ann), Ref: "m1"}
		hide := timer("hide:m1", base.Add(time.Hour))
		must(t, s.OutboxDone([]uint64{1, 999}, []bot.View{v1}, []bot.Scheduled{hide}))
		must(t, s.OutboxDone([]uint64{1}, []bot.View{v1}, []bot.Scheduled{hide})) // repeated
		equalIDs(t, "after OutboxDone", pending(t, s, ann), 2)
		if v, ok, err := s.InvoiceView("inv-1"); err != nil || !ok || v != v1 {
			t.Errorf("InvoiceView = %+v, %v, %v; want %+v", v, ok, err, v1)
		}
		v2 := bot.View{InvoiceID: "inv-1", Address: private(ann), Ref: "m2"}
		must(t, s.OutboxDone(nil, []bot.View{v2}, nil))
		if v, _, _ := s.InvoiceView("inv-1"); v != v2 {
			t.Errorf("InvoiceView after a newer view = %+v, want %+v", v, v2)
		}
		if _, ok, err := s.InvoiceView("inv-none"); err != nil || ok {
			t.Errorf("InvoiceView of an unknown invoice: ok %v, err %v", ok, err)
		}
		due, err := s.Due(base.Add(time.Hour), 0)
		must(t, err)
		if len(due) != 1 || due[0].Name != "hide:m1" || due[0].Ref != "m1" {
			t.Errorf("Due after OutboxDone's hide = %+v", due)
		}
	}},
	{"the last id survives its record", func(t *testing.T, s bot.Store) {
		last, err := s.OutboxLast()
		must(t, err)
		if last != 0 {
			t.Errorf("OutboxLast of an empty store = %d", last)
		}
		must(t, s.Enqueue([]bot.OutboxRecord{record(5, ann, base), record(9, bob, base)}))
		if last, _ := s.OutboxLast(); last < 9 {
			t.Errorf("OutboxLast = %d, want at least 9", last)
		}
		must(t, s.OutboxDone([]uint64{5, 9}, nil, nil))
		if last, _ := s.OutboxLast(); last < 9 {
			t.Errorf("OutboxLast after marking 9 sent = %d, want at least 9", last)
		}
	}},
}

var watchListTests = []test{
	{"tracked invoices come oldest first", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Track: []bot.Tracked{
			{InvoiceID: "inv-c", Created: base.Add(time.Minute)},
			{InvoiceID: "inv-b", Created: base},
			{InvoiceID: "inv-a", Created: base},
		}}))
		list, err := s.Tracked()
		must(t, err)
		var got []string
		for _, tr := range list {
			got = append(got, tr.InvoiceID)
		}
		if want := []string{"inv-a", "inv-b", "inv-c"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Tracked order %v, want %v", got, want)
		}
		if _, ok, err := s.TrackedInvoice("inv-none"); err != nil || ok {
			t.Errorf("TrackedInvoice of an unknown invoice: ok %v, err %v", ok, err)
		}
	}},
	{"the poller updates status and next check only", func(t *testing.T, s bot.Store) {
		orig := bot.Tracked{InvoiceID: "inv-1", Session: ann, Address: private(ann), Status: "unpaid", Created: base, Expires: base.Add(time.Hour), NextCheck: base}
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Track: []bot.Tracked{orig}}))
		must(t, s.UpdateTracked(bot.Tracked{InvoiceID: "inv-1", Session: bob, Status: "paid", Created: base.Add(time.Hour), NextCheck: base.Add(time.Minute)}))
		got, _, err := s.TrackedInvoice("inv-1")
		must(t, err)
		want := orig
		want.Status, want.NextCheck = "paid", base.Add(time.Minute)
		if !sameTracked(got, want) {
			t.Errorf("after UpdateTracked = %+v, want %+v", got, want)
		}
	}},
	{"an update does not bring an invoice back", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Track: []bot.Tracked{{InvoiceID: "inv-1", Created: base}}}))
		must(t, s.Commit(bot.Commit{Key: ann, State: state("b"), Untrack: []string{"inv-1"}}))
		must(t, s.UpdateTracked(bot.Tracked{InvoiceID: "inv-1", Status: "paid"}))
		if _, ok, err := s.TrackedInvoice("inv-1"); err != nil || ok {
			t.Errorf("untracked invoice after an update: ok %v, err %v", ok, err)
		}
	}},
}

var timerTests = []test{
	{"due entries come earliest first", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Schedule: []bot.Scheduled{
			timer("late", base.Add(time.Hour)), timer("b", base), timer("a", base), timer("early", base.Add(-time.Hour)),
		}}))
		due, err := s.Due(base, 0)
		must(t, err)
		if got, want := names(due), []string{"early", "a", "b"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Due = %v, want %v", got, want)
		}
		if !due[0].Due.Equal(base.Add(-time.Hour)) || due[0].Session != ann || due[0].Ref != "m1" || due[0].Kind != "hide" {
			t.Errorf("entry read back = %+v", due[0])
		}
		two, err := s.Due(base, 2)
		must(t, err)
		if got, want := names(two), []string{"early", "a"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Due limit 2 = %v, want %v", got, want)
		}
	}},
	{"done entries go, unknown ones are ignored", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Schedule: []bot.Scheduled{timer("a", base), timer("b", base)}}))
		must(t, s.ScheduleDone([]bot.Scheduled{timer("a", base), timer("a", base.Add(time.Second)), timer("zz", base)}))
		due, err := s.Due(base, 0)
		must(t, err)
		if got := names(due); !reflect.DeepEqual(got, []string{"b"}) {
			t.Errorf("Due after ScheduleDone = %v, want [b]", got)
		}
	}},
	{"a retried entry moves with its attempts", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Schedule: []bot.Scheduled{timer("a", base), timer("b", base.Add(time.Minute))}}))
		moved := timer("a", base)
		moved.Attempts = 2
		next := base.Add(time.Hour)
		must(t, s.ScheduleRetry(moved, next))
		must(t, s.ScheduleRetry(timer("gone", base), next)) // done meanwhile: no error
		due, err := s.Due(next, 0)
		must(t, err)
		if got := names(due); !reflect.DeepEqual(got, []string{"b", "a"}) {
			t.Fatalf("Due after the retry = %v, want [b a]", got)
		}
		if !due[1].Due.Equal(next) || due[1].Attempts != 2 {
			t.Errorf("moved entry = %+v, want due %v with 2 attempts", due[1], next)
		}
	}},
	{"a mark is new exactly once", func(t *testing.T, s bot.Store) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		fresh := 0
		for range 8 {
			wg.Go(func() {
				ok, err := s.MarkOnce("reminder:1", base)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					fresh++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if fresh != 1 {
			t.Errorf("%d of 8 concurrent MarkOnce calls were told the mark is new, want 1", fresh)
		}
		if ok, err := s.MarkOnce("reminder:2", base); err != nil || !ok {
			t.Errorf("another name: %v, %v; want new", ok, err)
		}
	}},
}

var upkeepTests = []test{
	{"prune forgets old bookkeeping only", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a"),
			Track:    []bot.Tracked{{InvoiceID: "inv-1", Created: base.Add(-48 * time.Hour)}},
			Outbox:   []bot.OutboxRecord{record(1, ann, time.Time{})},
			Schedule: []bot.Scheduled{timer("old", base.Add(-48*time.Hour))},
		}))
		must(t, s.OutboxDone(nil, []bot.View{{InvoiceID: "inv-1", Address: private(ann), Ref: "m1"}}, nil))
		old, err := s.MarkOnce("old", base.Add(-48*time.Hour))
		must(t, err)
		recent, err := s.MarkOnce("recent", time.Now().Add(time.Hour))
		must(t, err)
		if !old || !recent {
			t.Fatal("fresh marks not new")
		}
		// Views are recorded at the real time; prune everything before an hour from now.
		n, err := s.Prune(time.Now().Add(time.Minute))
		must(t, err)
		if n < 2 {
			t.Errorf("Prune removed %d entries, want at least the view and the old mark", n)
		}
		if _, ok, _ := s.InvoiceView("inv-1"); ok {
			t.Error("an old view survived Prune")
		}
		if again, _ := s.MarkOnce("old", base); !again {
			t.Error("an old mark survived Prune")
		}
		if again, _ := s.MarkOnce("recent", base); again {
			t.Error("a recent mark was pruned")
		}
		if _, ok, _ := s.Session(ann); !ok {
			t.Error("Prune removed a session")
		}
		if _, ok, _ := s.TrackedInvoice("inv-1"); !ok {
			t.Error("Prune removed a tracked invoice")
		}
		equalIDs(t, "outbox after Prune", pending(t, s, ann), 1)
		if due, _ := s.Due(base, 0); len(due) != 1 {
			t.Errorf("timers after Prune: %v", names(due))
		}
	}},
	{"backups keep the newest", func(t *testing.T, s bot.Store) {
		must(t, s.Commit(bot.Commit{Key: ann, State: state("a")}))
		dir := t.TempDir() + "/backups"
		first, err := s.BackupTo(dir, base, 1)
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip("this store is backed up by other means")
		}
		must(t, err)
		second, err := s.BackupTo(dir, base.Add(24*time.Hour), 1)
		must(t, err)
		if first == second {
			t.Fatalf("two days' backups share a name: %s", first)
		}
		if _, err := os.Stat(second); err != nil {
			t.Errorf("newest backup: %v", err)
		}
		if _, err := os.Stat(first); !os.IsNotExist(err) {
			t.Errorf("older backup kept beyond keep=1: %v", err)
		}
	}},
}
