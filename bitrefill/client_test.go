package bitrefill_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"refillbot/bitrefill"
)

// stub is a small recording API server.
type stub struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path, Auth string
	Query              url.Values
	Body               []byte
}

func newStub(t *testing.T, h http.HandlerFunc) *stub {
	t.Helper()
	s := &stub{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), r.URL.Query(), body})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func (s *stub) count() int { return len(s.requests()) }

func (s *stub) client(t *testing.T, edit ...func(*bitrefill.Config)) *bitrefill.Client {
	t.Helper()
	cfg := bitrefill.Config{
		BaseURL:    s.srv.URL + "/v2",
		APIKey:     "test-key",
		HTTPClient: s.srv.Client(),
		MinBackoff: time.Millisecond,
		MaxBackoff: 2 * time.Millisecond,
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := bitrefill.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, r *http.Request, data any) {
	writeJSON(w, 200, map[string]any{"meta": map[string]any{"_endpoint": strings.TrimPrefix(r.URL.Path, "/v2")}, "data": data})
}

func apiErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"meta": map[string]any{}, "message": msg, "error_code": code})
}

func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func TestNewConfig(t *testing.T) {
	for _, bad := range []string{"://x", "ftp://host/v2", "http://", "/v2", "http://user:pass@host/v2", "https://h/v2?x=1", "http://h/%zz"} {
		if _, err := bitrefill.New(bitrefill.Config{BaseURL: bad}); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), "pass") {
			t.Errorf("New(%q) error leaks credentials: %v", bad, err)
		}
	}
	c, err := bitrefill.New(bitrefill.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != bitrefill.DefaultBaseURL {
		t.Errorf("default base %q", c.BaseURL())
	}
	c, err = bitrefill.New(bitrefill.Config{BaseURL: "http://127.0.0.1:1/v2/"})
	if err != nil || c.BaseURL() != "http://127.0.0.1:1/v2" {
		t.Errorf("trailing slash: %v %v", c, err)
	}
}

func TestAuthHeaders(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { ok(w, r, rawJSON(`{}`)) })
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("id:secret"))
	cases := []struct {
		cfg  func(*bitrefill.Config)
		want string
	}{
		{func(c *bitrefill.Config) { c.APIKey = "k1" }, "Bearer k1"},
		{func(c *bitrefill.Config) { c.APIKey, c.APIID, c.APISecret = "", "id", "secret" }, basic},
		{func(c *bitrefill.Config) { c.APIKey, c.APIID, c.APISecret = "k2", "id", "secret" }, "Bearer k2"},
		{func(c *bitrefill.Config) { c.APIKey, c.APIID = "", "id" }, ""},
		{func(c *bitrefill.Config) { c.APIKey = "" }, ""},
	}
	for i, tc := range cases {
		if err := s.client(t, tc.cfg).Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		reqs := s.requests()
		if got := reqs[len(reqs)-1].Auth; got != tc.want {
			t.Errorf("case %d: Authorization %q, want %q", i, got, tc.want)
		}
	}
	if p := s.requests()[0].Path; p != "/v2/ping" {
		t.Errorf("path %q", p)
	}
}

func TestErrorEnvelope(t *testing.T) {
	cases := []struct {
		status int
		code   string
		kind   bitrefill.Kind
	}{
		{400, bitrefill.CodeMissingParam, bitrefill.KindInvalid},
		{400, bitrefill.CodeInvalidParam, bitrefill.KindInvalid},
		{400, bitrefill.CodeParseError, bitrefill.KindInvalid},
		{404, bitrefill.CodeNotFound, bitrefill.KindNotFound},
		{400, bitrefill.CodeOutOfStock, bitrefill.KindOutOfStock},
		{400, bitrefill.CodeTooManyItems, bitrefill.KindInvalid},
		{400, bitrefill.CodeCreateInvoiceFailed, bitrefill.KindInvalid},
		{403, bitrefill.CodeBalanceTooLow, bitrefill.KindInsufficient},
		{400, bitrefill.CodeUnsupportedPaymentMethod, bitrefill.KindInvalid},
		{400, bitrefill.CodeInvalidPhoneNumber, bitrefill.KindInvalid},
		{400, bitrefill.CodeUnsupportedOperator, bitrefill.KindInvalid},
		{400, bitrefill.CodeDeliveryFailed, bitrefill.KindInvalid},
		{401, "", bitrefill.KindAuth},
		{403, "", bitrefill.KindAuth},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", tc.status, tc.code), func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
				apiErr(w, tc.status, tc.code, "Something about "+tc.code)
			})
			_, err := s.client(t).CreateInvoice(context.Background(), bitrefill.InvoiceRequest{PaymentMethod: "bitcoin"})
			var e *bitrefill.Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			if e.Status != tc.status || e.Code != tc.code || e.Method != "POST" || e.Endpoint != "/invoices" {
				t.Errorf("%+v", e)
			}
			if e.Message != "Something about "+tc.code {
				t.Errorf("message %q", e.Message)
			}
			if e.Kind() != tc.kind || bitrefill.ErrorKind(err) != tc.kind {
				t.Errorf("kind %v, want %v", e.Kind(), tc.kind)
			}
			if bitrefill.ErrorCode(err) != tc.code {
				t.Errorf("ErrorCode %q", bitrefill.ErrorCode(err))
			}
			if errors.Is(err, bitrefill.ErrAmbiguous) || e.Temporary {
				t.Errorf("a 4xx is neither ambiguous nor temporary: %+v", e)
			}
			if bitrefill.IsNotFound(err) != (tc.status == 404) {
				t.Errorf("IsNotFound = %v", bitrefill.IsNotFound(err))
			}
			if s.count() != 1 {
				t.Errorf("%d requests", s.count())
			}
		})
	}
}

func TestErrorWithoutEnvelope(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		_, _ = io.WriteString(w, "<html>nope</html>")
	})
	_, err := s.client(t).Product(context.Background(), "no-such")
	if !bitrefill.IsNotFound(err) {
		t.Fatalf("%v", err)
	}
	if s.requests()[0].Path != "/v2/products/no-such" {
		t.Errorf("path %q", s.requests()[0].Path)
	}
	// An error envelope under 200 is still an error.
	s2 := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		apiErr(w, 200, bitrefill.CodeInvalidParam, "bad")
	})
	if _, err := s2.client(t).Balance(context.Background()); bitrefill.ErrorCode(err) != bitrefill.CodeInvalidParam {
		t.Errorf("200 error envelope: %v", err)
	}
	// A 200 that is not JSON.
	s3 := newStub(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "garbage") })
	_, err = s3.client(t).Balance(context.Background())
	if bitrefill.ErrorKind(err) != bitrefill.KindDecode {
		t.Errorf("garbage: %v kind %v", err, bitrefill.ErrorKind(err))
	}
}

func TestRetryGETOn5xx(t *testing.T) {
	var n atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			apiErr(w, 502, "", "bad gateway")
			return
		}
		ok(w, r, map[string]any{"balance": "12.34", "currency": "usd"})
	})
	b, err := s.client(t).Balance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b.Amount != dec("12.34") || b.Currency != "USD" {
		t.Errorf("%+v", b)
	}
	if s.count() != 3 {
		t.Errorf("%d requests, want 3", s.count())
	}
}

func TestRetryGETGivesUp(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { apiErr(w, 500, "", "boom") })
	_, err := s.client(t, func(c *bitrefill.Config) { c.MaxRetries = 2 }).Balance(context.Background())
	var e *bitrefill.Error
	if !errors.As(err, &e) || e.Status != 500 || !e.Temporary || e.Ambiguous {
		t.Fatalf("%+v", err)
	}
	if s.count() != 3 {
		t.Errorf("%d requests, want 3", s.count())
	}
	s2 := newStub(t, func(w http.ResponseWriter, r *http.Request) { apiErr(w, 500, "", "boom") })
	_, _ = s2.client(t, func(c *bitrefill.Config) { c.MaxRetries = -1 }).Balance(context.Background())
	if s2.count() != 1 {
		t.Errorf("MaxRetries -1: %d requests", s2.count())
	}
	s3 := newStub(t, func(w http.ResponseWriter, r *http.Request) { apiErr(w, 503, "", "boom") })
	_, _ = s3.client(t).Balance(context.Background())
	if s3.count() != 4 {
		t.Errorf("default retries: %d requests, want 4", s3.count())
	}
}

func TestRetryGETOnDroppedConnection(t *testing.T) {
	var n atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hijackClose(t, w)
			return
		}
		ok(w, r, rawJSON(`{"id": "amazon-us"}`))
	})
	p, err := s.client(t).Product(context.Background(), "amazon-us")
	if err != nil || p.ID != "amazon-us" {
		t.Fatalf("%+v %v", p, err)
	}
	if s.count() != 2 {
		t.Errorf("%d requests", s.count())
	}
}

func hijackClose(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	_ = conn.Close()
}

func TestRateLimit429(t *testing.T) {
	var n atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "60")
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.Header().Set("X-RateLimit-Remaining", "0")
			apiErr(w, 429, "", "Too many requests")
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "58")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(10*time.Minute).Unix(), 10))
		ok(w, r, rawJSON(`[]`))
	})
	c := s.client(t)
	if _, err := c.ProductsPage(context.Background(), bitrefill.ProductFilter{}, 0, 10); err != nil {
		t.Fatal(err)
	}
	if s.count() != 2 {
		t.Errorf("%d requests, want 2", s.count())
	}
	rl := c.RateLimit()
	if rl.Limit != 60 || rl.Remaining != 58 || time.Until(rl.Reset) < 9*time.Minute {
		t.Errorf("%+v", rl)
	}
}

func TestRateLimitLowerCaseHeaders(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["ratelimit-remaining"] = []string{"7"}
		w.Header()["ratelimit-reset"] = []string{"30"}
		w.Header()["ratelimit-limit"] = []string{"60"}
		ok(w, r, rawJSON(`{}`))
	})
	c := s.client(t)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	rl := c.RateLimit()
	if rl.Limit != 60 || rl.Remaining != 7 || time.Until(rl.Reset) > 31*time.Second || time.Until(rl.Reset) < 20*time.Second {
		t.Errorf("%+v", rl)
	}
}

func TestRateLimitTooLongIsReturned(t *testing.T) {
	// The server asks for longer than MaxRetryWait: no retry, the wait is
	// reported so the caller can reschedule.
	for _, hdr := range []map[string]string{
		{"Retry-After": "120"},
		{"Retry-After": time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)},
		{"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
		{"ratelimit-reset": "600"},
	} {
		s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
			for k, v := range hdr {
				w.Header()[k] = []string{v}
			}
			apiErr(w, 429, "", "slow down")
		})
		_, err := s.client(t).Balance(context.Background())
		var e *bitrefill.Error
		if !errors.As(err, &e) || !bitrefill.IsRateLimited(err) || e.RetryAfter < time.Minute {
			t.Errorf("%v: %+v", hdr, err)
		}
		if s.count() != 1 {
			t.Errorf("%v: %d requests", hdr, s.count())
		}
	}
}

func TestRateLimitRetryAfterHonoured(t *testing.T) {
	// Retry-After in the past (HTTP date) and reset headers: retried after backoff.
	var n atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat))
			apiErr(w, 429, "", "slow down")
		case 2:
			w.Header()["ratelimit-reset"] = []string{"0"}
			apiErr(w, 429, "", "slow down")
		default:
			ok(w, r, rawJSON(`{"balance": 1, "currency": "USD"}`))
		}
	})
	if _, err := s.client(t).Balance(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.count() != 3 {
		t.Errorf("%d requests", s.count())
	}
}

func TestPostNeverRetried(t *testing.T) {
	for _, status := range []int{500, 502, 503} {
		s := newStub(t, func(w http.ResponseWriter, r *http.Request) { apiErr(w, status, "", "oops") })
		_, err := s.client(t).CreateInvoice(context.Background(), bitrefill.InvoiceRequest{
			Products: []bitrefill.InvoiceLine{{ProductID: "amazon-us", Value: "50"}}, PaymentMethod: "bitcoin"})
		if s.count() != 1 {
			t.Errorf("%d: %d requests, want 1", status, s.count())
		}
		if !errors.Is(err, bitrefill.ErrAmbiguous) || !bitrefill.IsAmbiguous(err) {
			t.Errorf("%d: not ambiguous: %v", status, err)
		}
	}
	// 429 on a POST: not retried, and not ambiguous (it was refused).
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		apiErr(w, 429, "", "slow")
	})
	_, err := s.client(t).BuyESIM(context.Background(), bitrefill.InvoiceRequest{PaymentMethod: "bitcoin"})
	if s.count() != 1 || errors.Is(err, bitrefill.ErrAmbiguous) || !bitrefill.IsRateLimited(err) {
		t.Errorf("429 POST: %d requests, %v", s.count(), err)
	}
}

func TestPostDroppedConnectionIsAmbiguous(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { hijackClose(t, w) })
	_, err := s.client(t).PayInvoice(context.Background(), "inv-1")
	if s.count() != 1 || !errors.Is(err, bitrefill.ErrAmbiguous) {
		t.Errorf("%d requests, %v", s.count(), err)
	}
	if bitrefill.ErrorKind(err) != bitrefill.KindNetwork {
		t.Errorf("kind %v", bitrefill.ErrorKind(err))
	}
	if p := s.requests()[0].Path; p != "/v2/invoices/inv-1/pay" {
		t.Errorf("path %q", p)
	}

	// A 200 whose body cannot be read: the invoice exists but we do not know it.
	s2 := newStub(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"data": 12`) })
	_, err = s2.client(t).CreateInvoice(context.Background(), bitrefill.InvoiceRequest{})
	if !errors.Is(err, bitrefill.ErrAmbiguous) {
		t.Errorf("undecodable 200: %v", err)
	}
}

func TestPostConnectionRefusedIsNotAmbiguous(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c, err := bitrefill.New(bitrefill.Config{BaseURL: "http://" + addr + "/v2", MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateInvoice(context.Background(), bitrefill.InvoiceRequest{})
	var e *bitrefill.Error
	if !errors.As(err, &e) || e.Ambiguous || !e.Temporary || e.Status != 0 {
		t.Errorf("%+v", err)
	}
}

func TestContextCancellation(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.client(t).Invoice(ctx, "inv-1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("not DeadlineExceeded: %v", err)
	}
	var e *bitrefill.Error
	if !errors.As(err, &e) || e.Temporary || bitrefill.ErrorKind(err) != bitrefill.KindCanceled {
		t.Errorf("%+v", err)
	}
	if s.count() != 1 {
		t.Errorf("%d requests after deadline", s.count())
	}

	// A POST cut by its deadline may have been processed.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = s.client(t).CreateInvoice(ctx2, bitrefill.InvoiceRequest{})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, bitrefill.ErrAmbiguous) {
		t.Errorf("POST timeout: %v", err)
	}

	// Already-cancelled context: nothing is sent, nothing is ambiguous.
	ctx3, cancel3 := context.WithCancel(context.Background())
	cancel3()
	before := s.count()
	_, err = s.client(t).CreateInvoice(ctx3, bitrefill.InvoiceRequest{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, bitrefill.ErrAmbiguous) || s.count() != before {
		t.Errorf("pre-cancelled: %v", err)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		apiErr(w, 503, "", "down")
	})
	c := s.client(t, func(c *bitrefill.Config) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour })
	_, err := c.Balance(ctx)
	if !errors.Is(err, context.Canceled) || s.count() != 1 {
		t.Errorf("%d requests, %v", s.count(), err)
	}
	// A deadline shorter than the backoff ends the call at once with the last error.
	s2 := newStub(t, func(w http.ResponseWriter, r *http.Request) { apiErr(w, 503, "", "down") })
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	_, err = s2.client(t, func(c *bitrefill.Config) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour }).Balance(ctx2)
	var e *bitrefill.Error
	if !errors.As(err, &e) || e.Status != 503 || s2.count() != 1 {
		t.Errorf("%d requests, %v", s2.count(), err)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	const key = "sk-XYZZY-very-secret-key"
	const secret = "XYZZY-api-secret"
	const phone = "+15557654321"
	var n atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 1: // echo the credential back, as a careless server might
			apiErr(w, 401, "", "invalid key "+r.Header.Get("Authorization"))
		case 2:
			hijackClose(t, w)
		default:
			apiErr(w, 500, "", "boom")
		}
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base64Basic := base64.StdEncoding.EncodeToString([]byte("id:" + secret))
	clients := []*bitrefill.Client{
		s.client(t, func(c *bitrefill.Config) { c.APIKey, c.Logger, c.MaxRetries = key, logger, -1 }),
		s.client(t, func(c *bitrefill.Config) {
			c.APIKey, c.APIID, c.APISecret, c.Logger, c.MaxRetries = "", "id", secret, logger, -1
		}),
	}
	ctx := context.Background()
	var errs []error
	for _, c := range clients {
		for range 3 {
			_, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{
				Products: []bitrefill.InvoiceLine{{ProductID: "at-t-usa", Value: "25", PhoneNumber: phone}}, PaymentMethod: "bitcoin"})
			errs = append(errs, err)
			_, err = c.CheckPhoneNumber(ctx, phone, "")
			errs = append(errs, err)
			errs = append(errs, c.Ping(ctx))
		}
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected errors")
		}
		msg := err.Error()
		for _, bad := range []string{key, secret, base64Basic, phone, "15557654321"} {
			if strings.Contains(msg, bad) {
				t.Errorf("error leaks %q: %s", bad, msg)
			}
		}
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), key) || strings.Contains(e.Error(), secret) {
				t.Errorf("wrapped error leaks: %s", e)
			}
		}
	}
	out := logs.String()
	for _, bad := range []string{key, secret, base64Basic, phone, "15557654321", "Authorization", "at-t-usa"} {
		if strings.Contains(out, bad) {
			t.Errorf("log leaks %q", bad)
		}
	}
	for _, want := range []string{"component=bitrefill", "method=POST", "path=/invoices", "status=401", "duration=", "path=/check_phone_number"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestProductsWalksAllPagesReapplyingFilters(t *testing.T) {
	const total = 123
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start, _ := strconv.Atoi(q.Get("start"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		var items []map[string]any
		for i := start; i < total && i < start+limit; i++ {
			items = append(items, map[string]any{"id": fmt.Sprintf("p%03d", i), "name": "P", "type": q.Get("type"),
				"country_code": q.Get("country")})
		}
		meta := map[string]any{"_endpoint": "/products"}
		if start+limit < total {
			// The server's next link drops the filters.
			meta["_next"] = fmt.Sprintf("http://%s/v2/products?start=%d&limit=%d", r.Host, start+limit, limit)
		} else {
			meta["_next"] = nil
		}
		writeJSON(w, 200, map[string]any{"meta": meta, "data": items})
	})
	ps, err := s.client(t).Products(context.Background(), bitrefill.ProductFilter{Country: "us", Type: bitrefill.PhoneRefill, IncludeTest: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != total {
		t.Fatalf("%d products, want %d", len(ps), total)
	}
	for i, p := range ps {
		if p.ID != fmt.Sprintf("p%03d", i) || p.Country != "US" || p.Type != bitrefill.PhoneRefill {
			t.Fatalf("product %d: %+v", i, p)
		}
	}
	reqs := s.requests()
	if len(reqs) != 3 {
		t.Errorf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.Path != "/v2/products" || r.Query.Get("country") != "US" || r.Query.Get("type") != "phone_refill" ||
			r.Query.Get("include_test_products") != "true" || r.Query.Get("start") != strconv.Itoa(i*50) || r.Query.Get("limit") != "50" {
			t.Errorf("request %d: %s %v", i, r.Path, r.Query)
		}
	}
}

func TestProductsStopsOnEmptyPage(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		data := []any{}
		if start == 0 {
			data = append(data, map[string]any{"id": "a"}, map[string]any{"id": "b"})
		}
		writeJSON(w, 200, map[string]any{"meta": map[string]any{"_next": "http://x/v2/products?start=2"}, "data": data})
	})
	ps, err := s.client(t).Products(context.Background(), bitrefill.ProductFilter{})
	if err != nil || len(ps) != 2 || s.count() != 2 {
		t.Errorf("%d products, %d requests, %v", len(ps), s.count(), err)
	}
}

func TestSearchAndPage(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"meta": map[string]any{"_next": "http://x/next"},
			"data": []any{map[string]any{"id": "steam-us", "packages": []any{map[string]any{"value": 20}}}, 42}})
	})
	page, err := s.client(t).Search(context.Background(), bitrefill.SearchFilter{Query: "steam", Country: "US", Start: 10, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	// The undecodable element is skipped but still counted for the next offset.
	if len(page.Items) != 1 || !page.Next || page.Start != 10 || page.NextStart() != 12 {
		t.Errorf("%+v", page)
	}
	if page.Items[0].Packages[0].ID != "steam-us<&>20" {
		t.Errorf("%+v", page.Items[0])
	}
	q := s.requests()[0].Query
	if s.requests()[0].Path != "/v2/products/search" || q.Get("q") != "steam" || q.Get("country") != "US" ||
		q.Get("start") != "10" || q.Get("limit") != "50" || q.Has("include_test_products") {
		t.Errorf("%v", q)
	}
}

func TestCheckPhoneNumberShapes(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		found     bool
		products  []string
		operators []bitrefill.Operator
	}{
		{"found", `{"meta": {}, "operator_found": true, "data": {"id": "at-t-usa", "type": "phone_refill", "country": "US"}}`,
			true, []string{"at-t-usa"}, nil},
		{"ambiguous", `{"meta": {}, "operator_found": false, "data": [{"id": "at-t-usa"}, {"id": "t-mobile-usa"}]}`,
			false, []string{"at-t-usa", "t-mobile-usa"}, nil},
		{"newer", `{"meta": {}, "data": {"operator_found": false, "operators": [{"id": "at-t-usa", "name": "AT&T"}, {"id": "t-mobile-usa", "name": "T-Mobile"}]}}`,
			false, nil, []bitrefill.Operator{{ID: "at-t-usa", Name: "AT&T"}, {ID: "t-mobile-usa", Name: "T-Mobile"}}},
		{"newer found", `{"meta": {}, "data": {"operator_found": true, "operators": [{"id": "at-t-usa", "name": "AT&T"}], "product": {"id": "at-t-usa"}}}`,
			true, []string{"at-t-usa"}, []bitrefill.Operator{{ID: "at-t-usa", Name: "AT&T"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, tc.body) })
			pc, err := s.client(t).CheckPhoneNumber(context.Background(), "+15551234567", "at-t-usa")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range pc.Products {
				ids = append(ids, p.ID)
			}
			if pc.OperatorFound != tc.found || !reflect.DeepEqual(ids, tc.products) || !reflect.DeepEqual(pc.Operators, tc.operators) {
				t.Errorf("%+v", pc)
			}
			q := s.requests()[0].Query
			if q.Get("phone_number") != "+15551234567" || q.Get("operator") != "at-t-usa" {
				t.Errorf("%v", q)
			}
		})
	}
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) { apiErr(w, 404, "", "No operator") })
	if _, err := s.client(t).CheckPhoneNumber(context.Background(), "+10000000000", ""); !bitrefill.IsNotFound(err) {
		t.Errorf("%v", err)
	}
}

func TestListEndpoints(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		meta := map[string]any{}
		var data []any
		switch strings.TrimPrefix(r.URL.Path, "/v2") {
		case "/invoices":
			if start == 0 {
				meta["_next"] = "x"
				for i := range 50 {
					data = append(data, map[string]any{"id": fmt.Sprint("inv", i), "status": "unpaid"})
				}
			} else {
				data = append(data, map[string]any{"id": "last", "status": "complete"})
			}
		case "/orders":
			data = append(data, map[string]any{"id": "o1", "status": "delivered", "invoice": map[string]any{"id": "inv0"}})
		case "/esims":
			data = append(data, map[string]any{"id": "8944", "package_history": []any{}})
		case "/products/esims":
			data = append(data, map[string]any{"id": "bitrefill-esim-europe", "type": "esim"})
		}
		writeJSON(w, 200, map[string]any{"meta": meta, "data": data})
	})
	c := s.client(t)
	ctx := context.Background()
	after := time.Date(2026, 11, 23, 8, 0, 0, 0, time.FixedZone("X", 3600))
	invs, err := c.Invoices(ctx, bitrefill.ListFilter{After: after, Before: after.Add(time.Hour)})
	if err != nil || len(invs) != 51 || invs[50].Status != bitrefill.InvoiceComplete {
		t.Fatalf("%d invoices, %v", len(invs), err)
	}
	q := s.requests()[1].Query
	if q.Get("after") != "2026-11-23T07:00:00Z" || q.Get("before") != "2026-11-23T08:00:00Z" || q.Get("start") != "50" {
		t.Errorf("%v", q)
	}
	one, err := c.Invoices(ctx, bitrefill.ListFilter{Start: 0, Limit: 5})
	if err != nil || len(one) != 50 || s.requests()[2].Query.Get("limit") != "5" {
		t.Errorf("single page: %d %v", len(one), err)
	}
	orders, err := c.Orders(ctx, bitrefill.ListFilter{})
	if err != nil || len(orders) != 1 || orders[0].InvoiceID != "inv0" {
		t.Errorf("%+v %v", orders, err)
	}
	esims, err := c.ESIMs(ctx)
	if err != nil || len(esims) != 1 || esims[0].ID != "8944" {
		t.Errorf("%+v %v", esims, err)
	}
	eps, err := c.ESIMProducts(ctx)
	if err != nil || len(eps) != 1 || eps[0].Type != bitrefill.ESIMType {
		t.Errorf("%+v %v", eps, err)
	}
}

func TestSingleEndpointsPaths(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		ok(w, r, map[string]any{"id": "x/y z"})
	})
	c := s.client(t)
	ctx := context.Background()
	calls := []struct {
		path string
		call func() error
	}{
		{"/v2/products/x%2Fy%20z", func() error { _, err := c.Product(ctx, "x/y z"); return err }},
		{"/v2/products/esims/e1", func() error { _, err := c.ESIMProduct(ctx, "e1"); return err }},
		{"/v2/invoices/i1", func() error { _, err := c.Invoice(ctx, "i1"); return err }},
		{"/v2/orders/o1", func() error { _, err := c.Order(ctx, "o1"); return err }},
		{"/v2/esims/8944", func() error { _, err := c.ESIM(ctx, "8944"); return err }},
		{"/v2/esims", func() error { _, err := c.BuyESIM(ctx, bitrefill.InvoiceRequest{}); return err }},
		{"/v2/invoices", func() error { _, err := c.CreateInvoice(ctx, bitrefill.InvoiceRequest{}); return err }},
	}
	for i, tc := range calls {
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.path, err)
		}
		r := s.requests()[i]
		if got := r.Path; got != tc.path {
			t.Errorf("path %q, want %q", got, tc.path)
		}
	}
	// POST bodies carry the JSON request.
	last := s.requests()[len(calls)-1]
	if last.Method != "POST" || !json.Valid(last.Body) {
		t.Errorf("%s %s", last.Method, last.Body)
	}
}
