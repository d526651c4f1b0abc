package bitrefilltest

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sandbox bool
		auth    string
		status  int
		scheme  string
	}{
		{"bearer ok", false, "Bearer k-123", 200, "bearer"},
		{"basic ok", false, basic("id-1", "sec-1"), 200, "basic"},
		{"bearer wrong", false, "Bearer nope", 401, "bearer"},
		{"basic wrong secret", false, basic("id-1", "nope"), 401, "basic"},
		{"basic garbage", false, "Basic !!!", 401, "basic"},
		{"missing", false, "", 401, "none"},
		{"sandbox without credentials", true, "", 200, "none"},
		{"sandbox with wrong credentials", true, "Bearer whatever", 200, "bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a := newAPI(t, Options{APIKey: "k-123", APIID: "id-1", APISecret: "sec-1", Sandbox: tc.sandbox})
			a.auth = tc.auth
			r := a.get("/ping")
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if r.status == 401 {
				if r.code() != "unauthorized" || r.body["message"] == "" || str(r.meta()["_endpoint"]) != "/ping" {
					t.Errorf("bad error envelope: %s", r.raw)
				}
			}
			for _, secret := range []string{"k-123", "sec-1", "nope", "whatever"} {
				if strings.Contains(string(r.raw), secret) {
					t.Errorf("response echoes credential %q: %s", secret, r.raw)
				}
			}
			reqs := f.Requests()
			if len(reqs) != 1 || reqs[0].Auth != tc.scheme || reqs[0].Path != "/v2/ping" {
				t.Errorf("request log %+v, want one %s request", reqs, tc.scheme)
			}
		})
	}
}

func TestEnvelopesAndHeaders(t *testing.T) {
	_, a := newAPI(t, Options{Balance: "12.34"})
	for _, tc := range []struct {
		path, endpoint string
		status         int
		code           string
	}{
		{"/ping", "/ping", 200, ""},
		{"/accounts/balance", "/accounts/balance", 200, ""},
		{"/products/amazon-us", "/products/amazon-us", 200, ""},
		{"/products/no-such-thing", "/products/no-such-thing", 404, "not_found"},
		{"/nowhere", "/nowhere", 404, "not_found"},
		{"/invoices/00000000-0000-4000-8000-000000000000", "/invoices/00000000-0000-4000-8000-000000000000", 404, "not_found"},
		{"/orders/ffffffffffffffffffffffff", "/orders/ffffffffffffffffffffffff", 404, "not_found"},
		{"/esims/8900000000000000000", "/esims/8900000000000000000", 404, "not_found"},
	} {
		r := a.get(tc.path)
		if r.status != tc.status || r.code() != tc.code || str(r.meta()["_endpoint"]) != tc.endpoint {
			t.Errorf("GET %s: %d %q %s", tc.path, r.status, r.code(), r.raw)
		}
		if tc.status == 200 && r.body["data"] == nil {
			t.Errorf("GET %s: no data: %s", tc.path, r.raw)
		}
		if tc.status != 200 && r.body["message"] == nil {
			t.Errorf("GET %s: no message: %s", tc.path, r.raw)
		}
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "ratelimit-remaining", "ratelimit-reset"} {
			v := r.header.Get(h)
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
				t.Errorf("GET %s: header %s = %q", tc.path, h, v)
			}
		}
		if reset, _ := strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64); reset < time.Now().Unix() {
			t.Errorf("X-RateLimit-Reset %d is in the past", reset)
		}
	}
	if r := a.get("/products/amazon-us"); str(r.data()["name"]) != "Amazon US" {
		t.Errorf("product: %s", r.raw)
	}
	if r := a.get("/products/no-such-thing"); str(r.body["message"]) != "Product not found." {
		t.Errorf("404 message: %s", r.raw)
	}
	if r := a.get("/accounts/balance"); str(r.data()["balance"]) != "12.34" || str(r.data()["currency"]) != "USD" {
		t.Errorf("balance: %s", r.raw)
	}
	if r := a.do(http.MethodDelete, "/invoices", nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /invoices: %d", r.status)
	}
}

func TestPagination(t *testing.T) {
	f, a := newAPI(t, Options{})
	// Walk following _next as given.
	seen := map[string]bool{}
	next, pages := a.base+"/products", 0
	for next != "" {
		r := a.mustOK(a.get(next))
		pages++
		if l := len(r.list()); l == 0 || l > 50 {
			t.Fatalf("page %d has %d items", pages, l)
		}
		for _, p := range r.list() {
			id := str(p.(map[string]any)["id"])
			if seen[id] {
				t.Fatalf("%s seen twice", id)
			}
			seen[id] = true
		}
		next = str(r.meta()["_next"])
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || !u.IsAbs() || u.Query().Get("start") == "" || u.Query().Get("limit") != "50" {
				t.Fatalf("bad _next %q", next)
			}
		} else if _, present := r.meta()["_next"]; !present {
			t.Fatalf("last page has no _next key: %s", r.meta())
		}
	}
	if len(seen) != f.Products() || pages != (f.Products()+49)/50 {
		t.Fatalf("walked %d products in %d pages, want %d", len(seen), pages, f.Products())
	}

	// Limit is clamped; start past the end is an empty last page.
	r := a.mustOK(a.get("/products?limit=500"))
	if len(r.list()) != 50 || str(r.meta()["limit"]) != "50" {
		t.Errorf("limit=500 gave %d items, meta %v", len(r.list()), r.meta())
	}
	r = a.mustOK(a.get("/products?start=100000"))
	if len(r.list()) != 0 || r.meta()["_next"] != nil {
		t.Errorf("start past end: %s", r.raw)
	}
	for _, q := range []string{"start=-1", "start=x", "limit=0", "limit=abc", "country=DEU", "include_test_products=maybe"} {
		if r := a.get("/products?" + q); r.status != 400 || r.code() != "invalid_param" {
			t.Errorf("?%s: %d %s", q, r.status, r.raw)
		}
	}

	// _next drops filters: a client must re-apply them.
	r = a.mustOK(a.get("/products?country=DE&limit=5"))
	if str(r.meta()["country"]) != "DE" {
		t.Errorf("meta does not echo country: %v", r.meta())
	}
	nu, _ := url.Parse(str(r.meta()["_next"]))
	if nu.Query().Has("country") || nu.Query().Get("start") != "5" || nu.Query().Get("limit") != "5" {
		t.Errorf("_next = %s, want only start and limit", nu)
	}
	total := 0
	for start := 0; ; start += 5 {
		r := a.mustOK(a.get("/products?country=DE&limit=5&start=" + strconv.Itoa(start)))
		for _, p := range r.list() {
			pm := p.(map[string]any)
			cc := str(pm["country"]) + str(pm["country_code"])
			if cc != "DE" && !strings.Contains(str(pm["coverage"]), `"DE"`) {
				t.Errorf("country=DE returned %s (%s)", pm["id"], cc)
			}
		}
		total += len(r.list())
		if r.meta()["_next"] == nil {
			break
		}
	}
	if total < 20 {
		t.Errorf("only %d German products", total)
	}
}

func TestSearch(t *testing.T) {
	_, a := newAPI(t, Options{})
	ids := func(r resp) []string {
		var out []string
		for _, p := range r.list() {
			out = append(out, str(p.(map[string]any)["id"]))
		}
		return out
	}
	for _, tc := range []struct {
		query      string
		status     int
		code       string
		want, not  []string
		exactCount int
	}{
		{"", 400, "missing_param", nil, nil, 0},
		{"q=", 400, "missing_param", nil, nil, 0},
		{"q=" + strings.Repeat("a", 101), 400, "invalid_param", nil, nil, 0},
		{"q=" + strings.Repeat("a", 100), 200, "", nil, nil, 0},
		{"q=amazon", 200, "", []string{"amazon-us", "amazon-de"}, nil, 0},
		{"q=AMAZON&country=DE", 200, "", []string{"amazon-de"}, []string{"amazon-us"}, 1},
		{"q=streaming&country=US", 200, "", []string{"netflix-us", "spotify-us"}, nil, 0},
		{"q=at-t", 200, "", []string{"at-t-usa"}, nil, 0},
		{"q=test-gift", 200, "", nil, []string{"test-gift-card-code"}, 0},
		{"q=test-gift&include_test_products=true", 200, "", []string{"test-gift-card-code", "test-gift-card-link-fail"}, nil, 4},
		{"q=zzzzzz", 200, "", nil, nil, 0},
	} {
		r := a.get("/products/search?" + tc.query)
		if r.status != tc.status || r.code() != tc.code {
			t.Errorf("%s: %d %s", tc.query, r.status, r.raw)
			continue
		}
		got := strings.Join(ids(r), " ") + " "
		for _, w := range tc.want {
			if !strings.Contains(got, w+" ") {
				t.Errorf("%s: missing %s in %s", tc.query, w, got)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w+" ") {
				t.Errorf("%s: unexpected %s", tc.query, w)
			}
		}
		if tc.exactCount > 0 && len(ids(r)) != tc.exactCount {
			t.Errorf("%s: %d results, want %d", tc.query, len(ids(r)), tc.exactCount)
		}
		if tc.status == 200 {
			for _, p := range r.list() {
				pm := p.(map[string]any)
				if pm["packages"] == nil && pm["range"] == nil {
					t.Errorf("%s: %s has neither packages nor range", tc.query, pm["id"])
				}
			}
		}
	}
	// Search keeps q in _next (it is required) but drops the other filters.
	r := a.mustOK(a.get("/products/search?q=e&country=US&limit=3"))
	nu, _ := url.Parse(str(r.meta()["_next"]))
	if nu.Query().Get("q") != "e" || nu.Query().Has("country") {
		t.Errorf("search _next = %s", nu)
	}
}

func TestFaults(t *testing.T) {
	f, a := newAPI(t, Options{})

	f.InjectFault(Fault{Path: "/ping", Status: 500})
	if r := a.get("/ping"); r.status != 500 || r.code() == "" || r.body["message"] == nil {
		t.Errorf("500 fault: %d %s", r.status, r.raw)
	}
	if r := a.get("/ping"); r.status != 200 {
		t.Errorf("fault applied twice: %d", r.status)
	}

	f.InjectFault(Fault{Method: "GET", Path: "/products", Status: 429, RetryAfter: 7 * time.Second, Times: 2})
	a.mustOK(a.get("/ping")) // path does not match
	for range 2 {
		r := a.get("/products?limit=1")
		if r.status != 429 || r.header.Get("Retry-After") != "7" || r.header.Get("ratelimit-reset") != "7" || r.header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("429: %d %v", r.status, r.header)
		}
	}
	a.mustOK(a.get("/products?limit=1"))

	f.InjectFault(Fault{Method: "POST", Status: 503})
	a.mustOK(a.get("/ping")) // method does not match
	if r := a.do("POST", "/invoices", `{}`); r.status != 503 {
		t.Errorf("503 fault: %d", r.status)
	}

	// Latency is cut short by the caller's context.
	f.InjectFault(Fault{Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", a.base+"/ping", nil)
	req.Header.Set("Authorization", a.auth)
	begin := time.Now()
	if _, err := a.hc.Do(req); err == nil || time.Since(begin) > 5*time.Second {
		t.Errorf("latency fault: err=%v after %v", err, time.Since(begin))
	}

	// Short latency then a normal answer.
	f.InjectFault(Fault{Latency: 20 * time.Millisecond})
	a.mustOK(a.get("/ping"))

	// Dropped connection. A fresh connection, because net/http silently
	// retries an idempotent request once when a reused connection drops.
	f.InjectFault(Fault{Path: "/ping", Drop: true})
	req, _ = http.NewRequest("GET", a.base+"/ping", nil)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if res, err := fresh.Do(req); err == nil {
		res.Body.Close()
		t.Errorf("drop fault: got a response %d", res.StatusCode)
	}
	a.mustOK(a.get("/ping"))

	// AfterHandling: the invoice is created but the answer is lost.
	f.InjectFault(Fault{Method: "POST", Path: "/invoices", Drop: true, AfterHandling: true})
	body := `{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"bitcoin"}`
	req, _ = http.NewRequest("POST", a.base+"/invoices", strings.NewReader(body))
	req.Header.Set("Authorization", a.auth)
	if res, err := a.hc.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("expected dropped POST")
	}
	r := a.mustOK(a.get("/invoices?after=2000-01-01T00:00:00Z"))
	if len(r.list()) != 1 {
		t.Fatalf("invoice from dropped POST not listed: %s", r.raw)
	}
}

func TestClientInProcess(t *testing.T) {
	f := New(Options{Balance: "5"})
	t.Cleanup(f.Close)
	a := api{t: t, base: "http://sandbox.bitrefill.invalid/v2", hc: f.Client(), auth: "Bearer test-key"}
	a.mustOK(a.get("/ping"))
	if r := a.mustOK(a.get("/accounts/balance")); str(r.data()["balance"]) != "5.00" {
		t.Errorf("balance %s", r.raw)
	}
	r := a.mustOK(a.get("/products?limit=10"))
	if next := str(r.meta()["_next"]); !strings.HasPrefix(next, "http://sandbox.bitrefill.invalid/v2/products?") {
		t.Errorf("_next %q does not use the request host", next)
	}
	a.mustOK(a.get(str(r.meta()["_next"])))
	https := api{t: t, base: "https://sandbox.bitrefill.invalid/v2", hc: f.Client(), auth: "Bearer test-key"}
	if next := str(https.mustOK(https.get("/products?limit=10")).meta()["_next"]); !strings.HasPrefix(next, "https://") {
		t.Errorf("_next %q lost the https scheme", next)
	}
	if r := a.get("/ping"); r.header.Get("ratelimit-remaining") == "" {
		t.Error("no rate-limit headers in-process")
	}
	inv := a.createInvoice(map[string]any{"products": []any{map[string]any{"product_id": "test-gift-card-code", "value": 5}}, "payment_method": "balance", "auto_pay": true})
	if str(inv["status"]) != "payment_detected" {
		t.Errorf("auto_pay status %v", inv["status"])
	}

	f.InjectFault(Fault{Drop: true})
	req, _ := http.NewRequest("GET", a.base+"/ping", nil)
	if _, err := a.hc.Do(req); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("drop in-process: %v", err)
	}
	f.InjectFault(Fault{Latency: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ = http.NewRequestWithContext(ctx, "GET", a.base+"/ping", nil)
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := a.hc.Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel in-process: %v", err)
	}
	f.InjectFault(Fault{Status: 502})
	if r := a.get("/ping"); r.status != 502 {
		t.Errorf("502 in-process: %d", r.status)
	}
}
