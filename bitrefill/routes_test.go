package bitrefill

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestRouteNeverKeepsAnID(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/ping", "/ping"},
		{"/accounts/balance", "/accounts/balance"},
		{"/products", "/products"},
		{"/products/search", "/products/search"},
		{"/products/esims", "/products/esims"},
		{"/products/amazon-us", "/products/{id}"},
		{"/products/esims/esim-europe-1gb", "/products/esims/{id}"},
		{"/invoices", "/invoices"},
		{"/invoices/6f1c9e2a-aaaa", "/invoices/{id}"},
		{"/invoices/6f1c9e2a-aaaa/pay", "/invoices/{id}/pay"},
		{"/orders/abc%2Fdef", "/orders/{id}"},
		{"/esims/8944000000000000001", "/esims/{id}"},
		{"/check_phone_number", "/check_phone_number"},
		{"/invoices/x/refund/now", "other"},
		{"/products/", "/products"},
	} {
		if got := Route(tc.path); got != tc.want {
			t.Errorf("Route(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// The observer sees every attempt with its route template and status, and
// nothing that identifies the product or invoice.
func TestObserverSeesTemplatesAndStatuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/products/amazon-us"):
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data":{"id":"amazon-us","name":"Amazon"}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"nope","error_code":"not_found"}`))
		}
	}))
	defer srv.Close()
	var mu sync.Mutex
	var seen []Request
	c, err := New(Config{BaseURL: srv.URL + "/v2", APIKey: "k", Observer: func(r Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Product(context.Background(), "amazon-us"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invoice(context.Background(), "inv-123"); err == nil {
		t.Fatal("want a not-found error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("observed %d requests, want 2: %+v", len(seen), seen)
	}
	if r := seen[0]; r.Method != "GET" || r.Route != "/products/{id}" || r.Status != 200 {
		t.Errorf("first = %+v", r)
	}
	if r := seen[1]; r.Route != "/invoices/{id}" || r.Status != 404 {
		t.Errorf("second = %+v", r)
	}
}
