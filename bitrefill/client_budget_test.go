package bitrefill_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bitrefill"
)

func limited(t *testing.T, s string) func(*bitrefill.Config) {
	t.Helper()
	l, err := bitrefill.ParseLimits(s)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *bitrefill.Config) { c.Limits = l }
}

func TestBudgetSpentRequestIsNotSent(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		ok(w, r, rawJSON(`{"id": "inv-1", "status": "unpaid"}`))
	})
	// A burst of 1 and a token every ~11 minutes.
	c := s.client(t, limited(t, "general=1/10m"))
	ctx := bitrefill.WithMaxWait(context.Background(), time.Minute)
	if _, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{PaymentMethod: "bitcoin"}); err != nil {
		t.Fatal(err)
	}
	if d := c.Delay(ctx, bitrefill.ClassGeneral); d < 9*time.Minute {
		t.Errorf("Delay = %v, want about 10 minutes", d)
	}
	_, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{PaymentMethod: "bitcoin"})
	var e *bitrefill.Error
	if !errors.As(err, &e) || !bitrefill.IsBudgetSpent(err) || !bitrefill.IsRateLimited(err) {
		t.Fatalf("second invoice: %v, want the budget spent", err)
	}
	if bitrefill.IsAmbiguous(err) {
		t.Error("a request never sent is reported as ambiguous")
	}
	if ra := bitrefill.RetryAfter(err); ra < 9*time.Minute || ra > 11*time.Minute {
		t.Errorf("RetryAfter = %v, want about 10 minutes", ra)
	}
	if s.count() != 1 {
		t.Errorf("%d requests reached the server, want 1", s.count())
	}
	// The product budget is separate.
	if _, err := c.Product(ctx, "amazon-us"); err != nil && bitrefill.IsBudgetSpent(err) {
		t.Errorf("product request held by the general budget: %v", err)
	}
}

func TestBudgetDeadlineBeforeTurnFailsAtOnce(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { ok(w, r, rawJSON(`{}`)) })
	c := s.client(t, limited(t, "general=1/10m"))
	if _, err := c.Balance(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := c.Balance(ctx); !bitrefill.IsBudgetSpent(err) {
		t.Fatalf("got %v, want the budget spent", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("waited %v for a turn beyond the deadline", time.Since(start))
	}
}

func TestPaidRequestGoesBeforeQueuedInvoices(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { ok(w, r, rawJSON(`{"id": "o"}`)) })
	c := s.client(t, limited(t, "general=60/10m"))
	now := bitrefill.WithMaxWait(context.Background(), 0)
	interactive := 0
	for {
		if _, err := c.CreateInvoice(now, bitrefill.InvoiceRequest{}); err != nil {
			if !bitrefill.IsBudgetSpent(err) {
				t.Fatal(err)
			}
			break
		}
		interactive++
	}
	if interactive != 2 {
		t.Errorf("%d new invoices went out at once, want the burst of 2", interactive)
	}
	// A new invoice waits its turn; a paid fetch arriving after it is
	// served first, at the next token, the invoice one token later.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waiting := make(chan error, 1)
	go func() {
		_, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{})
		waiting <- err
	}()
	next := c.Delay(now, bitrefill.ClassGeneral)
	deadline := time.Now().Add(5 * time.Second)
	for c.Delay(now, bitrefill.ClassGeneral) < next+next/2 {
		if time.Now().After(deadline) {
			t.Fatal("the third invoice never queued")
		}
		time.Sleep(time.Millisecond)
	}
	paid := bitrefill.WithPriority(now, bitrefill.Paid)
	if d, after := c.Delay(paid, bitrefill.ClassGeneral), c.Delay(now, bitrefill.ClassGeneral); d > next || after < 2*d-time.Second {
		t.Errorf("paid fetch waits %v, a new invoice %v; want the next token (%v) and one after", d, after, next)
	}
	bg := bitrefill.WithPriority(now, bitrefill.Background)
	if _, err := c.Invoice(bg, "i"); !bitrefill.IsBudgetSpent(err) {
		t.Errorf("background poll went ahead of waiting users: %v", err)
	}
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Errorf("the queued invoice: %v", err)
	}
	if s.count() != 2 {
		t.Errorf("%d requests reached the server, want 2", s.count())
	}
}

func Test429PausesTheClassForEveryCaller(t *testing.T) {
	in := time.Now().Add(2 * time.Minute)
	for _, hdr := range []map[string]string{
		{"Retry-After": "120"},
		{"retry-after": "120"},
		{"Retry-After": in.UTC().Format(http.TimeFormat)},
		{"X-RateLimit-Reset": strconv.FormatInt(in.Unix(), 10)},
		{"x-ratelimit-reset": strconv.FormatInt(in.Unix(), 10)},
		{"ratelimit-reset": "120"},
		{"RateLimit-Reset": "120"},
	} {
		var n atomic.Int32
		s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/invoices" && n.Add(1) == 1 {
				for k, v := range hdr {
					w.Header()[k] = []string{v}
				}
				apiErr(w, 429, "", "Too many requests.")
				return
			}
			ok(w, r, rawJSON(`[]`))
		})
		c := s.client(t) // no limits of its own: the 429 alone must hold it
		ctx := bitrefill.WithMaxWait(context.Background(), time.Minute)
		_, err := c.Invoices(ctx, bitrefill.ListFilter{Limit: 1})
		if !bitrefill.IsRateLimited(err) {
			t.Errorf("%v: first call: %v", hdr, err)
		}
		_, err = c.Order(ctx, "o")
		if !bitrefill.IsBudgetSpent(err) || bitrefill.RetryAfter(err) < 100*time.Second {
			t.Errorf("%v: another caller during the pause: %v", hdr, err)
		}
		if _, err := c.ProductsPage(ctx, bitrefill.ProductFilter{}, 0, 1); err != nil {
			t.Errorf("%v: products held by a general 429: %v", hdr, err)
		}
		if got := n.Load(); got != 1 {
			t.Errorf("%v: %d general requests reached the server, want 1", hdr, got)
		}
	}
}

func TestNothingRemainingPausesUntilReset(t *testing.T) {
	var n atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(5*time.Minute).Unix(), 10))
		ok(w, r, rawJSON(`{"balance": 1, "currency": "USD"}`))
	})
	c := s.client(t)
	ctx := bitrefill.WithMaxWait(context.Background(), time.Minute)
	if _, err := c.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Balance(ctx); !bitrefill.IsBudgetSpent(err) {
		t.Errorf("sent after the server said none remained: %v", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
}

func TestBeforeSendCanStopARequest(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { ok(w, r, rawJSON(`{"id": "inv"}`)) })
	c := s.client(t)
	gone := errors.New("the buyer left")
	ctx := bitrefill.WithBeforeSend(context.Background(), func() error { return gone })
	if _, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{}); !errors.Is(err, gone) || bitrefill.IsAmbiguous(err) {
		t.Errorf("got %v, want the hook's error, not ambiguous", err)
	}
	if s.count() != 0 {
		t.Errorf("%d requests sent", s.count())
	}
	calls := 0
	ctx = bitrefill.WithBeforeSend(context.Background(), func() error { calls++; return nil })
	if _, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{}); err != nil || calls != 1 || s.count() != 1 {
		t.Errorf("err %v, %d calls, %d requests; want the request sent after one call", err, calls, s.count())
	}
}
