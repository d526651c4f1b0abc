package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot/catalog"
)

// t0 is the clock tests start from.
var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// budgeted returns the fake Bitrefill and a client whose request budget
// holds limits and runs on the settable clock: the catalogue's only gate.
func budgeted(tb testing.TB, limits bitrefill.Limits) (*bitrefilltest.Fake, *bitrefill.Client, *manualClock) {
	tb.Helper()
	f := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	tb.Cleanup(f.Close)
	clk := &manualClock{t: t0}
	c, err := bitrefill.New(bitrefill.Config{
		BaseURL: "http://bitrefill.invalid/v2", HTTPClient: f.Client(),
		MaxRetries: -1, Limits: limits, Clock: clk,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return f, c, clk
}

// manualClock is a time that moves only when set. Its timers never fire:
// the refreshes under test never wait for their turn (Options.MaxWait < 0).
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (m *manualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

func (m *manualClock) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = t
}

func (m *manualClock) AfterFunc(time.Duration, func()) func() bool {
	return func() bool { return false }
}

// newFake returns the fake Bitrefill and a real client talking to it
// in-process.
func newFake(tb testing.TB) (*bitrefilltest.Fake, *bitrefill.Client) {
	tb.Helper()
	f := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	tb.Cleanup(f.Close)
	c, err := bitrefill.New(bitrefill.Config{
		BaseURL: "http://bitrefill.invalid/v2", HTTPClient: f.Client(),
		MaxRetries: -1, // each page is one request: the budget tests count them
	})
	if err != nil {
		tb.Fatal(err)
	}
	return f, c
}

var fakeCatalogue = sync.OnceValues(func() ([]bitrefill.Product, error) {
	f := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	defer f.Close()
	c, err := bitrefill.New(bitrefill.Config{BaseURL: "http://bitrefill.invalid/v2", HTTPClient: f.Client()})
	if err != nil {
		return nil, err
	}
	return c.Products(context.Background(), bitrefill.ProductFilter{})
})

// fakeProducts is the fake's whole catalogue as the API lists it.
func fakeProducts(tb testing.TB) []bitrefill.Product {
	tb.Helper()
	ps, err := fakeCatalogue()
	if err != nil {
		tb.Fatal(err)
	}
	return ps
}

// loaded is a catalogue holding the fake's products, fresh at t0.
func loaded(tb testing.TB) *catalog.Catalog {
	tb.Helper()
	c := catalog.New(nil, catalog.Options{})
	c.Load(fakeProducts(tb), t0)
	return c
}

func ids(ps []catalog.Product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func show(ps []catalog.Product, n int) string {
	var b strings.Builder
	for i, p := range ps {
		if i == n {
			fmt.Fprintf(&b, "… (%d more)", len(ps)-n)
			break
		}
		fmt.Fprintf(&b, "%s ", p.ID)
	}
	return b.String()
}
