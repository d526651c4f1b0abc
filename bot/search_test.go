package bot_test

// Search through the shell: served from the catalogue when it is fresh, from
// the API's search when it is missing or old. The wiring is the real one
// (the bbolt store, the real client on the fake Bitrefill); only the
// chat platform is a stand-in that keeps what it is sent.

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/bot/catalog"
	"refillbot/conversation"
	"refillbot/storage"
)

var searchT0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// replyLog is a bot.Platform keeping the replies it is sent.
type replyLog struct {
	mu      sync.Mutex
	replies []conversation.Reply
}

func (l *replyLog) Send(_ context.Context, _ conversation.Address, r conversation.Reply, _ []byte) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.replies = append(l.replies, r)
	return "", nil
}

func (l *replyLog) last() conversation.Reply {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.replies) == 0 {
		return conversation.Reply{}
	}
	return l.replies[len(l.replies)-1]
}

type searchEnv struct {
	commits atomic.Int64
	fake    *bitrefilltest.Fake
	api     *bitrefill.Client
	store   *storage.Store
	plat    *replyLog
	now     time.Time
	bot     *bot.Bot
}

// newSearchEnv wires a bot whose clock reads now, with cat (may be nil).
func newSearchEnv(t *testing.T, now time.Time, cat func(api *bitrefill.Client) *catalog.Catalog) (*searchEnv, *catalog.Catalog) {
	t.Helper()
	e := &searchEnv{fake: bitrefilltest.New(bitrefilltest.Options{Sandbox: true}), plat: &replyLog{}, now: now}
	t.Cleanup(e.fake.Close)
	api, err := bitrefill.New(bitrefill.Config{BaseURL: "http://bitrefill.invalid/v2", HTTPClient: e.fake.Client(),
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.api = api
	st, err := storage.Open(filepath.Join(t.TempDir(), "refillbot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	var c *catalog.Catalog
	if cat != nil {
		c = cat(api)
	}
	e.bot, err = bot.New(bot.Config{
		API:       api,
		Store:     storeAdapter{st, &e.commits, nil},
		Platforms: map[string]bot.Platform{"test": e.plat},
		Engine:    conversation.Engine{Sandbox: true},
		Logger:    slog.New(slog.DiscardHandler),
		Now:       func() time.Time { return e.now },
		Catalog:   c,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

var searchUser = conversation.SessionKey{Platform: "test", User: "searcher"}

// say sends text as the user and returns the reply that ended the turn.
func (e *searchEnv) say(t *testing.T, text string) conversation.Reply {
	t.Helper()
	e.bot.Handle(t.Context(), bot.Incoming{Key: searchUser, Address: conversation.Address{Platform: "test", Chat: "c", Private: true},
		Event: conversation.Text{Text: text}})
	return e.plat.last()
}

func (e *searchEnv) searches() int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Path == "/v2/products/search" {
			n++
		}
	}
	return n
}

// results is what the user's session holds as the last search's results.
func (e *searchEnv) results(t *testing.T) []conversation.ProductSummary {
	t.Helper()
	st, ok, err := e.store.Session(searchUser)
	if err != nil || !ok {
		t.Fatalf("session: %v %v", ok, err)
	}
	return st.Results
}

func refreshed(t *testing.T) func(api *bitrefill.Client) *catalog.Catalog {
	return func(api *bitrefill.Client) *catalog.Catalog {
		c := catalog.New(api, catalog.Options{RefreshEvery: 6 * time.Hour, MaxAge: 24 * time.Hour})
		if err := c.Refresh(t.Context(), searchT0); err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func TestSearchServedFromTheCatalogue(t *testing.T) {
	e, _ := newSearchEnv(t, searchT0.Add(time.Hour), refreshed(t))
	r := e.say(t, "amazn")
	if len(r.Options) == 0 || !strings.HasPrefix(r.Options[0].Label, "Amazon") {
		t.Fatalf("a typo found nothing: %q", conversation.PlainText(r.Text))
	}
	if n := e.searches(); n != 0 {
		t.Errorf("%d calls to /products/search; the catalogue should have answered", n)
	}
	res := e.results(t)
	if len(res) == 0 || res[0].Kind != conversation.KindGiftCard {
		t.Errorf("results carry no kind: %+v", res[:min(len(res), 1)])
	}
	e.say(t, "steam germany")
	if res := e.results(t); len(res) == 0 || res[0].ID != "steam-de" {
		t.Errorf("steam germany: %+v", res[:min(len(res), 3)])
	}
}

// An answer from memory comes in the same step as the user's word: the
// step that starts the search or the card and the step that shows it are
// committed once, and no "Searching…" is written. A search through the API
// commits its interim step first, as before: the wait may be real.
func TestAnswersFromTheCatalogueCommitOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		now     time.Time
		commits [2]int64 // for the search, then for the tap on the first result
	}{
		{"fresh catalogue", searchT0.Add(time.Hour), [2]int64{1, 1}},
		{"catalogue too old: the API answers", searchT0.Add(25 * time.Hour), [2]int64{2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newSearchEnv(t, tc.now, refreshed(t))
			r := e.say(t, "amazon us")
			if got := e.commits.Load(); got != tc.commits[0] {
				t.Errorf("search: %d commits, want %d", got, tc.commits[0])
			}
			if len(r.Options) == 0 || !strings.Contains(r.Options[0].Label, "Amazon US") {
				t.Fatalf("no results: %q", conversation.PlainText(r.Text))
			}
			if n := len(e.plat.replies); n != 1 {
				t.Errorf("%d messages for one search, want only the results", n)
			}
			if st, _, _ := e.store.Session(searchUser); st.Step != conversation.StepResults || st.Query != "amazon us" {
				t.Errorf("stored step %q, query %q after the search", st.Step, st.Query)
			}
			e.commits.Store(0)
			e.bot.Handle(t.Context(), bot.Incoming{Key: searchUser, Address: conversation.Address{Platform: "test", Chat: "c", Private: true},
				Event: conversation.Chose{Token: r.Options[0].Token}})
			if got := e.commits.Load(); got != tc.commits[1] {
				t.Errorf("tap on a result: %d commits, want %d", got, tc.commits[1])
			}
			if st, _, _ := e.store.Session(searchUser); st.Step != conversation.StepProduct || st.Product == nil {
				t.Errorf("stored step %q after the tap, want the product card", st.Step)
			}
			if card := e.plat.last(); !strings.Contains(conversation.PlainText(card.Text), "Amazon US") {
				t.Errorf("the tap showed %q", conversation.PlainText(card.Text))
			}
			e.bot.FlushMarks() // the "sent" marks otherwise ride on the next commit
			if pending, err := e.store.OutboxSession(searchUser, 0); err != nil || len(pending) != 0 {
				t.Errorf("outbox after the answers: %d records, %v", len(pending), err)
			}
		})
	}
}

func TestSearchFallsBackToTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name string
		now  time.Time
		cat  func(t *testing.T) func(*bitrefill.Client) *catalog.Catalog
	}{
		{"no catalogue", searchT0, func(*testing.T) func(*bitrefill.Client) *catalog.Catalog { return nil }},
		{"catalogue not loaded yet", searchT0, func(*testing.T) func(*bitrefill.Client) *catalog.Catalog {
			return func(api *bitrefill.Client) *catalog.Catalog { return catalog.New(api, catalog.Options{}) }
		}},
		{"catalogue too old", searchT0.Add(25 * time.Hour), refreshed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newSearchEnv(t, tc.now, tc.cat(t))
			r := e.say(t, "netflix us")
			if n := e.searches(); n != 1 {
				t.Errorf("%d calls to /products/search, want 1", n)
			}
			if len(r.Options) == 0 || !strings.Contains(r.Options[0].Label, "Netflix US") {
				t.Errorf("API results not ranked: %q", r.Options)
			}
		})
	}
}

// An old catalogue still answers when the API cannot.
func TestSearchFallsBackToTheOldCatalogueWhenTheAPIFails(t *testing.T) {
	e, _ := newSearchEnv(t, searchT0.Add(25*time.Hour), refreshed(t))
	e.fake.InjectFault(bitrefilltest.Fault{Path: "/products/search", Status: 503, Times: 10})
	r := e.say(t, "netflix us")
	if len(r.Options) == 0 || !strings.Contains(r.Options[0].Label, "Netflix US") {
		t.Errorf("no answer from the old catalogue: %q", conversation.PlainText(r.Text))
	}
}

// Run loads the catalogue at start, without waiting for the schedule, and
// searches move from the API to memory.
func TestRunLoadsTheCatalogue(t *testing.T) {
	e, cat := newSearchEnv(t, searchT0, func(api *bitrefill.Client) *catalog.Catalog {
		return catalog.New(api, catalog.Options{})
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.bot.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for cat.Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the catalogue was not loaded after Run started")
		}
		select {
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	before := e.searches()
	e.say(t, "playstaton")
	if e.searches() != before {
		t.Error("search went to the API with a loaded catalogue")
	}
	if res := e.results(t); len(res) == 0 || !strings.HasPrefix(res[0].ID, "playstation-") {
		t.Errorf("playstaton: %+v", res[:min(len(res), 3)])
	}
}

func TestRunRejectsABadCatalogSchedule(t *testing.T) {
	fake := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	defer fake.Close()
	api, _ := bitrefill.New(bitrefill.Config{BaseURL: "http://bitrefill.invalid/v2", HTTPClient: fake.Client()})
	st, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := bot.New(bot.Config{API: api, Store: st, Platforms: map[string]bot.Platform{"test": &replyLog{}},
		Logger: slog.New(slog.DiscardHandler), Catalog: catalog.New(api, catalog.Options{}), CatalogSpec: "every now and then"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(t.Context()); err == nil {
		t.Error("Run accepted a malformed catalogue schedule")
	}
}

// A product card comes from the catalogue when it holds the product: no
// request, and the plan prices with it.
func TestCardServedFromTheCatalogue(t *testing.T) {
	e, _ := newSearchEnv(t, searchT0.Add(time.Hour), refreshed(t))
	r := e.say(t, "bitrefill esim europe")
	tok := ""
	for _, o := range r.Options {
		if strings.Contains(o.Label, "Bitrefill eSIM Europe") {
			tok = o.Token
		}
	}
	if tok == "" {
		t.Fatalf("no Europe plan among %q", r.Options)
	}
	before := e.fake.Counts()
	e.bot.Handle(t.Context(), bot.Incoming{Key: searchUser, Address: conversation.Address{Platform: "test", Chat: "c", Private: true},
		Event: conversation.Chose{Token: tok}})
	card := e.plat.last()
	if !strings.Contains(conversation.PlainText(card.Text), "1GB, 7 Days — 4.50 USD") {
		t.Errorf("card %q does not price the plan", conversation.PlainText(card.Text))
	}
	after := e.fake.Counts()
	for k, n := range after {
		if n != before[k] {
			t.Errorf("%d requests to %s for a card the catalogue holds", n-before[k], k)
		}
	}
}

// "esim france", typed to the bot, lists the plans that work in France and
// nothing else: local, then regional, then global. Before the catalogue is
// loaded, Bitrefill's own search finds fewer (it matches names), but what it
// finds is kept to plans that work there too.
func TestESIMDestinationTyped(t *testing.T) {
	works := []string{"bitrefill-esim-france", "bitrefill-esim-europe", "bitrefill-esim-global"}
	for _, tc := range []struct {
		name  string
		cat   func(t *testing.T) func(*bitrefill.Client) *catalog.Catalog
		exact bool // all of works, in that order
	}{
		{"catalogue", refreshed, true},
		{"API search", func(*testing.T) func(*bitrefill.Client) *catalog.Catalog { return nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newSearchEnv(t, searchT0.Add(time.Hour), tc.cat(t))
			r := e.say(t, "esim france")
			var got []string
			for _, p := range e.results(t) {
				got = append(got, p.ID)
			}
			if tc.exact && !slices.Equal(got, works) {
				t.Errorf("lists %q, want %q (shown: %q)", got, works, conversation.PlainText(r.Text))
			}
			if len(got) == 0 || got[0] != works[0] {
				t.Errorf("lists %q, want the local plan first", got)
			}
			for _, id := range got {
				if !slices.Contains(works, id) {
					t.Errorf("lists %s, which does not work in France", id)
				}
			}
		})
	}
}
