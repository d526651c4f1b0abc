package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// Source is where the catalogue comes from (*bitrefill.Client).
type Source interface {
	ProductsPage(ctx context.Context, f bitrefill.ProductFilter, start, limit int) (bitrefill.Page[bitrefill.Product], error)
}

// ESIMSource is the optional eSIM listing (*bitrefill.Client has it). It is
// asked only when the plain listing has no eSIM plans or plans without
// coverage, which search by destination needs.
type ESIMSource interface {
	ESIMProducts(ctx context.Context) ([]bitrefill.Product, error)
}

// Options tunes refreshing. The zero value gives the defaults.
type Options struct {
	// RefreshEvery is how old the catalogue may get before a refresh is
	// due (default 6h).
	RefreshEvery time.Duration
	// MaxAge is how old it may get before search stops trusting it and
	// asks the API instead (default 24h, and never less than RefreshEvery).
	MaxAge time.Duration
	// MaxWait is how long one page may wait for its turn in the client's
	// request budget (bitrefill.WithMaxWait) before the refresh pauses and
	// goes on later (default 10s; negative: not at all). The client's budget
	// is the only gate: a refresh asks at Background priority, so users'
	// searches and cards go first and it never takes the last requests of
	// a window.
	MaxWait time.Duration
	// RetryAfter is how long to wait after a failed page before trying
	// again, unless the server asked for longer (default 5m).
	RetryAfter time.Duration
	// IncludeTest lists Bitrefill's test products too.
	IncludeTest bool
	Logger      *slog.Logger
}

// pageSize is the API's largest page.
const pageSize = 50

// maxPages bounds a walk over a server that never stops saying "next":
// 100,000 products.
const maxPages = 2000

// Catalog is the whole Bitrefill catalogue in memory, searchable. Searches
// read an immutable snapshot that a refresh replaces atomically: they never
// wait for a refresh, nor a refresh for them. Safe for concurrent use.
type Catalog struct {
	src  Source
	opts Options
	log  *slog.Logger
	snap atomic.Pointer[snapshot]

	refreshing sync.Mutex // held by the one refresh running

	mu        sync.Mutex
	walk      *walk     // a refresh paused by the rate budget or a failure
	notBefore time.Time // no refresh before this (after a failure or a pause)
}

// walk is a refresh in progress: pages fetched so far.
type walk struct {
	started  time.Time
	next     int
	pages    int
	listed   bool
	products []Product
	cards    map[string]bitrefill.Product // by id: whole products, for cards
}

// New returns an empty catalogue that refreshes from src. Until its first
// refresh completes it is Stale, and callers search the API instead.
func New(src Source, opts Options) *Catalog {
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = 6 * time.Hour
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	opts.MaxAge = max(opts.MaxAge, opts.RefreshEvery)
	if opts.MaxWait == 0 {
		opts.MaxWait = 10 * time.Second
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Catalog{
		src: src, opts: opts, log: opts.Logger.With("component", "catalog"),
	}
}

// ErrBusy is returned by Refresh while another refresh runs.
var ErrBusy = errors.New("catalog: a refresh is already running")

// PausedError is returned by Refresh when the request budget ran out before
// the walk over the catalogue finished. What was fetched is kept; a Refresh
// at Until or later goes on from there.
type PausedError struct {
	Until   time.Time
	Fetched int // products fetched so far
}

func (e *PausedError) Error() string {
	return fmt.Sprintf("catalog: request budget used up after %d products; continuing at %s", e.Fetched, e.Until.UTC().Format(time.RFC3339))
}

// Refresh fetches the catalogue page by page and, once it has all of it,
// replaces the snapshot searches use. Everything it decides is measured
// against now (the request budget, staleness, when to retry), so tests call
// it with any clock; the scheduler calls it when Due.
//
// A failure keeps the previous snapshot and the pages already fetched, and
// makes the next refresh wait (Options.RetryAfter, or the server's
// Retry-After if longer). Running out of request budget returns a
// *PausedError.
func (c *Catalog) Refresh(ctx context.Context, now time.Time) error {
	if !c.refreshing.TryLock() {
		return ErrBusy
	}
	defer c.refreshing.Unlock()
	c.mu.Lock()
	w := c.walk
	c.mu.Unlock()
	if w == nil || now.Sub(w.started) > c.opts.MaxAge || now.Before(w.started) {
		w = &walk{started: now}
	}
	ctx = bitrefill.WithMaxWait(bitrefill.WithPriority(ctx, bitrefill.Background), max(c.opts.MaxWait, 0))
	filter := bitrefill.ProductFilter{IncludeTest: c.opts.IncludeTest}
	for !w.listed {
		page, err := c.src.ProductsPage(ctx, filter, w.next, pageSize)
		if err != nil {
			if p := c.paused(w, now, err); p != nil {
				return p
			}
			return c.fail(w, now, fmt.Errorf("catalog: products from %d: %w", w.next, err))
		}
		for _, p := range page.Items {
			w.products = append(w.products, fromAPI(p))
			w.card(p)
		}
		w.pages++
		next := page.NextStart()
		if !page.Next || next <= w.next {
			w.listed = true
		}
		if w.pages >= maxPages && !w.listed {
			return c.fail(&walk{started: now}, now, fmt.Errorf("catalog: more than %d pages", maxPages))
		}
		w.next = next
	}
	if es, ok := c.src.(ESIMSource); ok && needESIMs(w.products) {
		list, err := es.ESIMProducts(ctx)
		if err != nil {
			if p := c.paused(w, now, err); p != nil {
				return p
			}
			return c.fail(w, now, fmt.Errorf("catalog: eSIM products: %w", err))
		}
		for _, p := range list {
			w.products = append(w.products, fromAPI(p)) // later ones replace earlier ones with the same id
			w.card(p)
		}
	}
	old := c.snap.Load()
	if len(w.products) == 0 && old != nil && len(old.products) > 0 {
		return c.fail(&walk{started: now}, now, errors.New("catalog: the API listed no products; keeping the previous catalogue"))
	}
	s := build(w.products, now)
	s.cards = w.cards
	c.snap.Store(s)
	c.mu.Lock()
	c.walk, c.notBefore = nil, time.Time{}
	c.mu.Unlock()
	c.log.Info("catalogue refreshed", "products", len(s.products), "pages", w.pages)
	return nil
}

// paused turns a request the client's budget did not send into a pause
// until its turn (nil for any other error): nothing reached Bitrefill.
func (c *Catalog) paused(w *walk, now time.Time, err error) *PausedError {
	if !bitrefill.IsBudgetSpent(err) {
		return nil
	}
	wait := time.Second
	var be *bitrefill.Error
	if errors.As(err, &be) {
		wait = max(wait, be.RetryAfter)
	}
	until := now.Add(wait)
	c.pause(w, until)
	return &PausedError{Until: until, Fetched: len(w.products)}
}

func (c *Catalog) pause(w *walk, until time.Time) {
	c.mu.Lock()
	c.walk, c.notBefore = w, until
	c.mu.Unlock()
	c.log.Debug("catalogue refresh paused by the request budget", "products", len(w.products), "until", until)
}

func (c *Catalog) fail(w *walk, now time.Time, err error) error {
	wait := c.opts.RetryAfter
	var be *bitrefill.Error
	if errors.As(err, &be) && be.RetryAfter > wait {
		wait = be.RetryAfter
	}
	c.mu.Lock()
	c.walk, c.notBefore = w, now.Add(wait)
	c.mu.Unlock()
	c.log.Warn("catalogue refresh failed; keeping the previous catalogue", "err", err, "retry_in", wait)
	return err
}

// needESIMs reports whether the plain listing lacks what destination search
// needs: any eSIM plan at all, or the coverage of one.
func needESIMs(ps []Product) bool {
	seen := false
	for _, p := range ps {
		if p.Kind == conversation.KindESIM {
			seen = true
			if len(p.Coverage) == 0 {
				return true
			}
		}
	}
	return !seen
}

// Due reports whether a refresh should run at now: the catalogue is empty or
// older than RefreshEvery, or a paused refresh may go on, and no failure
// asked to wait.
func (c *Catalog) Due(now time.Time) bool {
	c.mu.Lock()
	wait, inWalk := c.notBefore, c.walk != nil
	c.mu.Unlock()
	if now.Before(wait) {
		return false
	}
	s := c.snap.Load()
	return inWalk || s == nil || now.Sub(s.loaded) >= c.opts.RefreshEvery || now.Before(s.loaded)
}

// Stale reports whether search should not be trusted at now: nothing loaded
// yet, or the last refresh is older than MaxAge.
func (c *Catalog) Stale(now time.Time) bool {
	s := c.snap.Load()
	return s == nil || len(s.products) == 0 || now.Sub(s.loaded) > c.opts.MaxAge
}

// Len is the number of products in the current snapshot.
func (c *Catalog) Len() int {
	if s := c.snap.Load(); s != nil {
		return len(s.products)
	}
	return 0
}

// Loaded is when the current snapshot was fetched (zero if none).
func (c *Catalog) Loaded() time.Time {
	if s := c.snap.Load(); s != nil {
		return s.loaded
	}
	return time.Time{}
}

// Load replaces the catalogue with ps, as fetched at now: for seeding and
// tests; Refresh is the normal way in.
func (c *Catalog) Load(ps []bitrefill.Product, now time.Time) {
	list := make([]Product, len(ps))
	w := &walk{}
	for i, p := range ps {
		list[i] = fromAPI(p)
		w.card(p)
	}
	s := build(list, now)
	s.cards = w.cards
	c.snap.Store(s)
}

func (w *walk) card(p bitrefill.Product) {
	if w.cards == nil {
		w.cards = map[string]bitrefill.Product{}
	}
	if p.ID != "" {
		w.cards[p.ID] = p
	}
}

// Card returns a product as the catalogue fetched it, denominations
// included, so that a product card costs no request: false when the
// catalogue does not hold it or is Stale at now. Stock may have changed
// since; the invoice is the stock check, and out-of-stock is handled there.
func (c *Catalog) Card(id string, now time.Time) (bitrefill.Product, bool) {
	s := c.snap.Load()
	if s == nil || c.Stale(now) {
		return bitrefill.Product{}, false
	}
	p, ok := s.cards[id]
	return p, ok
}

// Search returns the best matches for q, best first. It searches whatever
// snapshot there is, stale or not: callers that care check Stale first.
func (c *Catalog) Search(q Query) []Product { return c.AppendSearch(nil, q) }

// AppendSearch is Search appending to dst, so a caller reusing dst makes a
// search that allocates nothing.
func (c *Catalog) AppendSearch(dst []Product, q Query) []Product {
	s := c.snap.Load()
	if s == nil {
		return dst
	}
	return s.search(dst, q)
}

// MaxSuggestions is the most suggestions Suggest gives: Discord's limit for
// autocomplete choices.
const MaxSuggestions = 25

// Suggest is search as you type, for autocomplete: at most n (≤ 25)
// products for a partial query, the user's country first. It only reads
// memory, so it answers within Discord's autocomplete deadline whatever
// the API is doing; an unloaded catalogue suggests nothing.
func (c *Catalog) Suggest(query, country string, n int) []conversation.ProductSummary {
	if n <= 0 || n > MaxSuggestions {
		n = MaxSuggestions
	}
	var buf [MaxSuggestions]Product
	res := c.AppendSearch(buf[:0], Query{Text: query, Prefer: country, Limit: n})
	out := make([]conversation.ProductSummary, len(res))
	for i, p := range res {
		out[i] = p.Summary()
	}
	return out
}

// Rank orders products from elsewhere (the API's own search, when the
// catalogue cannot be used) as Search would, and drops those the filters
// exclude. Products the query's words do not match are kept, after the
// rest, in their original order: the API found them for a reason.
func Rank(ps []bitrefill.Product, q Query) []Product {
	list := make([]Product, len(ps))
	for i, p := range ps {
		list[i] = fromAPI(p)
	}
	s := build(list, time.Time{})
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	q.Limit = len(s.products)
	out := s.search(nil, q)
	got := make(map[string]bool, len(out))
	for _, p := range out {
		got[p.ID] = true
	}
	f := s.keys(newFilter(q))
	for _, p := range list {
		if got[p.ID] {
			continue
		}
		got[p.ID] = true
		for k := range s.products {
			if s.products[k].ID != p.ID {
				continue
			}
			if ok, _ := s.pass(uint32(k), f); ok {
				out = append(out, s.products[k])
			}
			break
		}
	}
	return out[:min(len(out), limit)]
}
