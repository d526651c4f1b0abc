package catalog_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot/catalog"
	"refillbot/conversation"
)

// count counts the fake's requests to a path (after /v2).
func count(f *bitrefilltest.Fake, path string) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Method == http.MethodGet && r.Path == "/v2"+path {
			n++
		}
	}
	return n
}

func pages(products int) int { return (products + 49) / 50 }

func TestRefreshFetchesEveryPage(t *testing.T) {
	f, api := newFake(t)
	c := catalog.New(api, catalog.Options{})
	if err := c.Refresh(t.Context(), t0); err != nil {
		t.Fatal(err)
	}
	if c.Len() != f.Products() {
		t.Errorf("catalogue has %d products, the fake lists %d", c.Len(), f.Products())
	}
	if got, want := count(f, "/products"), pages(f.Products()); got != want {
		t.Errorf("%d requests for %d products, want %d pages", got, f.Products(), want)
	}
	// The plain list carries eSIM coverage: no second walk, no searches.
	if n := count(f, "/products/esims") + count(f, "/products/search"); n != 0 {
		t.Errorf("%d needless requests", n)
	}
	if c.Stale(t0) || c.Loaded() != t0 {
		t.Errorf("stale %v, loaded %v", c.Stale(t0), c.Loaded())
	}
	if got := c.Search(catalog.Query{Text: "amazn", Prefer: "US"}); len(got) == 0 || got[0].ID != "amazon-us" {
		t.Errorf("after refresh: %s", show(got, 3))
	}
}

// The client's request budget is the refresh's only gate. With 4 product
// requests a minute and 6 an hour, the walk over the pages pauses, goes on
// when the budget allows, and never exceeds either window.
func TestRefreshKeepsWithinTheBudget(t *testing.T) {
	f, api, clk := budgeted(t, bitrefill.Limits{bitrefill.ClassProducts: {{N: 4, Per: time.Minute}, {N: 6, Per: time.Hour}}})
	c := catalog.New(api, catalog.Options{MaxWait: -1})
	total := pages(f.Products())
	var log []time.Time // when each request was made, by our clock
	step := func(now time.Time) error {
		clk.Set(now)
		before := count(f, "/products")
		err := c.Refresh(t.Context(), now)
		for range count(f, "/products") - before {
			log = append(log, now)
		}
		return err
	}
	now := t0
	var paused *catalog.PausedError
	for i := 0; ; i++ {
		if i > 40 {
			t.Fatal("refresh never finished")
		}
		err := step(now)
		if err == nil {
			break
		}
		if !errors.As(err, &paused) {
			t.Fatalf("refresh: %v", err)
		}
		if c.Len() != 0 || !c.Stale(now) {
			t.Fatal("a paused refresh must not publish half a catalogue")
		}
		if c.Due(paused.Until.Add(-time.Second)) || !c.Due(paused.Until) {
			t.Errorf("paused until %v, but Due disagrees", paused.Until)
		}
		// Asking early changes nothing.
		if err := step(paused.Until.Add(-time.Second)); !errors.As(err, &paused) {
			t.Fatalf("early refresh: %v", err)
		}
		now = paused.Until
	}
	if len(log) != total {
		t.Errorf("%d requests, want %d (each page once, resumed where it paused)", len(log), total)
	}
	for i := range log {
		inMinute, inHour := 0, 0
		for j := range log {
			if d := log[i].Sub(log[j]); d >= 0 && d < time.Minute {
				inMinute++
			}
			if d := log[i].Sub(log[j]); d >= 0 && d < time.Hour {
				inHour++
			}
		}
		if inMinute > 4 || inHour > 6 {
			t.Fatalf("request at %v: %d in the minute, %d in the hour", log[i].Sub(t0), inMinute, inHour)
		}
	}
	if c.Len() != f.Products() {
		t.Errorf("%d products after the paced walk, want %d", c.Len(), f.Products())
	}
}

func TestRefreshFailureKeepsTheOldCatalogue(t *testing.T) {
	f, api := newFake(t)
	c := catalog.New(api, catalog.Options{RetryAfter: 5 * time.Minute})
	check(t, c.Refresh(t.Context(), t0))
	later := t0.Add(7 * time.Hour)
	if !c.Due(later) {
		t.Fatal("not due after 7 hours")
	}
	f.InjectFault(bitrefilltest.Fault{Path: "/products", Status: http.StatusServiceUnavailable, Times: 100})
	if err := c.Refresh(t.Context(), later); err == nil {
		t.Fatal("refresh against a failing API succeeded")
	}
	if c.Len() != f.Products() || c.Loaded() != t0 || c.Stale(later) {
		t.Errorf("after a failed refresh: %d products loaded at %v", c.Len(), c.Loaded())
	}
	if got := c.Search(catalog.Query{Text: "steam germany"}); len(got) == 0 || got[0].ID != "steam-de" {
		t.Errorf("search after a failed refresh: %s", show(got, 3))
	}
	if c.Due(later.Add(5*time.Minute-time.Second)) || !c.Due(later.Add(5*time.Minute)) {
		t.Error("a failed refresh must wait RetryAfter before the next try")
	}
}

// A failure in the middle of the first walk: nothing is published, and the
// next try goes on from the page that failed.
func TestRefreshResumesAfterAFailedPage(t *testing.T) {
	f, api, clk := budgeted(t, bitrefill.Limits{bitrefill.ClassProducts: {{N: 2, Per: time.Minute}}})
	c := catalog.New(api, catalog.Options{MaxWait: -1, RetryAfter: time.Minute})
	var paused *catalog.PausedError
	if err := c.Refresh(t.Context(), t0); !errors.As(err, &paused) {
		t.Fatalf("want a pause when the budget is spent, got %v", err)
	}
	clk.Set(paused.Until)
	f.InjectFault(bitrefilltest.Fault{Path: "/products", Status: http.StatusInternalServerError})
	if err := c.Refresh(t.Context(), paused.Until); err == nil || errors.As(err, &paused) {
		t.Fatalf("want the injected failure, got %v", err)
	}
	if c.Len() != 0 {
		t.Fatal("half a catalogue was published")
	}
	now := paused.Until
	for c.Len() == 0 {
		now = now.Add(time.Minute)
		clk.Set(now)
		if err := c.Refresh(t.Context(), now); err != nil && !errors.As(err, &paused) {
			t.Fatal(err)
		}
		if now.Sub(t0) > time.Hour {
			t.Fatal("refresh never finished")
		}
	}
	// Every page once, plus the one that failed.
	if got, want := count(f, "/products"), pages(f.Products())+1; got != want {
		t.Errorf("%d requests, want %d", got, want)
	}
	if c.Len() != f.Products() {
		t.Errorf("%d products, want %d", c.Len(), f.Products())
	}
}

func TestRefreshHonoursRetryAfter(t *testing.T) {
	f, api := newFake(t)
	c := catalog.New(api, catalog.Options{RetryAfter: time.Minute})
	f.InjectFault(bitrefilltest.Fault{Path: "/products", Status: http.StatusTooManyRequests, RetryAfter: 10 * time.Minute})
	if err := c.Refresh(t.Context(), t0); err == nil {
		t.Fatal("a 429 went unnoticed")
	}
	if c.Due(t0.Add(9*time.Minute)) || !c.Due(t0.Add(10*time.Minute)) {
		t.Error("the server's Retry-After (10 min) must win over RetryAfter (1 min)")
	}
}

// stub is a Source answering from a list, or failing.
type stub struct {
	mu      sync.Mutex
	items   []bitrefill.Product
	esims   []bitrefill.Product
	block   chan struct{} // when set, ProductsPage waits for it
	entered chan struct{}
	calls   int
}

func (s *stub) ProductsPage(ctx context.Context, f bitrefill.ProductFilter, start, limit int) (bitrefill.Page[bitrefill.Product], error) {
	s.mu.Lock()
	s.calls++
	block, entered := s.block, s.entered
	s.mu.Unlock()
	if block != nil {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-block:
		case <-ctx.Done():
			return bitrefill.Page[bitrefill.Product]{}, ctx.Err()
		}
	}
	end := min(start+limit, len(s.items))
	if start > end {
		start = end
	}
	return bitrefill.Page[bitrefill.Product]{Items: s.items[start:end], Start: start, Next: end < len(s.items)}, nil
}

// stubESIMs also has the eSIM listing.
type stubESIMs struct{ *stub }

func (s stubESIMs) ESIMProducts(context.Context) ([]bitrefill.Product, error) { return s.esims, nil }

func TestRefreshEmptyListingKeepsTheOldCatalogue(t *testing.T) {
	src := &stub{items: fakeProducts(t)}
	c := catalog.New(src, catalog.Options{})
	check(t, c.Refresh(t.Context(), t0))
	n := c.Len()
	src.items = nil
	if err := c.Refresh(t.Context(), t0.Add(7*time.Hour)); err == nil {
		t.Error("an empty listing replaced the catalogue")
	}
	if c.Len() != n || c.Loaded() != t0 {
		t.Errorf("after an empty listing: %d products loaded at %v", c.Len(), c.Loaded())
	}
}

// When the plain listing has no coverage for eSIM plans, the eSIM listing is
// fetched too, so travellers still find plans by destination.
func TestRefreshAddsESIMCoverage(t *testing.T) {
	var plain, esims []bitrefill.Product
	for _, p := range fakeProducts(t) {
		if p.Type == bitrefill.ESIMType {
			esims = append(esims, p)
			p.Coverage = nil
		}
		plain = append(plain, p)
	}
	c := catalog.New(stubESIMs{&stub{items: plain, esims: esims}}, catalog.Options{})
	check(t, c.Refresh(t.Context(), t0))
	got := ids(c.Search(catalog.Query{Kind: conversation.KindESIM, Country: "PT"}))
	if len(got) != 2 || got[0] != "bitrefill-esim-europe" || got[1] != "bitrefill-esim-global" {
		t.Errorf("eSIMs for Portugal: %q", got)
	}
	if c.Len() != len(plain) {
		t.Errorf("%d products, want %d: eSIMs must replace, not duplicate", c.Len(), len(plain))
	}
}

// Refreshes never overlap, and searches go on while one runs.
func TestRefreshIsExclusiveAndSearchesDoNotWait(t *testing.T) {
	src := &stub{items: fakeProducts(t)}
	c := catalog.New(src, catalog.Options{})
	check(t, c.Refresh(t.Context(), t0))
	block := make(chan struct{})
	src.mu.Lock()
	src.block, src.entered = block, make(chan struct{}, 1)
	src.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- c.Refresh(context.Background(), t0.Add(7*time.Hour)) }()
	<-src.entered // the refresh is inside a page request
	if err := c.Refresh(t.Context(), t0.Add(7*time.Hour)); !errors.Is(err, catalog.ErrBusy) {
		t.Errorf("second refresh: %v, want ErrBusy", err)
	}
	if got := c.Search(catalog.Query{Text: "netflix us"}); len(got) == 0 || got[0].ID != "netflix-us" {
		t.Errorf("search during a refresh: %s", show(got, 3))
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.Loaded() != t0.Add(7*time.Hour) {
		t.Errorf("loaded %v", c.Loaded())
	}
}

// Searches racing with refreshes see one whole snapshot or the other.
func TestConcurrentSearchAndRefresh(t *testing.T) {
	src := &stub{items: fakeProducts(t)}
	c := catalog.New(src, catalog.Options{})
	check(t, c.Refresh(t.Context(), t0))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got := c.Search(catalog.Query{Text: "steam germany"})
				if len(got) == 0 || got[0].ID != "steam-de" {
					t.Errorf("mid-refresh search: %s", show(got, 3))
					return
				}
			}
		})
	}
	for i := range 20 {
		if err := c.Refresh(t.Context(), t0.Add(time.Duration(i+1)*7*time.Hour)); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}

func check(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// A refresh asks at Background priority: when it pauses for the budget, a
// user's product card still goes at once (the refresh left half the burst),
// and the next one is a token away (about a second at 60 a minute), not
// behind the refresh.
func TestRefreshLeavesTheBudgetToUsers(t *testing.T) {
	_, api, _ := budgeted(t, bitrefill.Limits{bitrefill.ClassProducts: {{N: 60, Per: time.Minute}, {N: 1000, Per: time.Hour}}})
	c := catalog.New(api, catalog.Options{MaxWait: -1})
	var paused *catalog.PausedError
	if err := c.Refresh(t.Context(), t0); !errors.As(err, &paused) {
		t.Fatalf("want the refresh to pause with the budget's burst left to users, got %v", err)
	}
	if _, err := api.Product(bitrefill.WithMaxWait(t.Context(), 0), "amazon-us"); err != nil {
		t.Fatalf("a user's card after the refresh paused: %v", err)
	}
	// 58 tokens over the minute and the 2 s margin.
	if d, token := api.Delay(t.Context(), bitrefill.ClassProducts), 62*time.Second/58+time.Millisecond; d > token {
		t.Errorf("a user's next card waits %v, more than one token (%v)", d, token)
	}
}
