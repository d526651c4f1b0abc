package bitrefilltest

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEnforcedLimitsAnswer429WithRetryAfter(t *testing.T) {
	f, a, clk, _ := lifecycleFake(t, Options{Limits: DocumentedLimits()})
	// 60 general requests in ten minutes pass, whatever the endpoint...
	for i := range 60 {
		path := "/accounts/balance"
		if i%2 == 1 {
			path = "/orders"
		}
		r := a.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.raw)
		}
		if got, want := r.header.Get("X-RateLimit-Remaining"), strconv.Itoa(59-i); got != want {
			t.Fatalf("request %d: remaining %s, want %s", i+1, got, want)
		}
		clk.Add(time.Second)
	}
	// ...the 61st is refused until the first one leaves the window.
	r := a.get("/invoices")
	if r.status != http.StatusTooManyRequests || r.code() != "rate_limited" {
		t.Fatalf("61st request: %d %s", r.status, r.raw)
	}
	if got := r.header.Get("Retry-After"); got != "540" {
		t.Errorf("Retry-After %q, want 540 (the first request leaves the window 9 minutes on)", got)
	}
	if r.header.Get("ratelimit-reset") != "540" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("headers %v", r.header)
	}
	// Other classes have their own budgets.
	if r := a.get("/products/amazon-us"); r.status != http.StatusOK {
		t.Errorf("product during a general 429: %d", r.status)
	}
	clk.Add(540 * time.Second)
	if r := a.get("/invoices"); r.status != http.StatusOK {
		t.Errorf("after Retry-After: %d %s", r.status, r.raw)
	}

	if n := len(f.RateLimited()); n != 1 {
		t.Errorf("RateLimited() = %d requests, want 1", n)
	}
	want := map[string]int{"GET /accounts/balance": 30, "GET /orders": 30, "GET /invoices": 2, "GET /products/{id}": 1}
	if got := f.Counts(); !maps.Equal(got, want) {
		t.Errorf("Counts() = %v, want %v", got, want)
	}
}

func TestEnforcedLimitsPerClass(t *testing.T) {
	for _, tc := range []struct {
		name       string
		method     string
		path       string
		body       string
		n          int
		retryAfter string
	}{
		{name: "ping", method: "GET", path: "/ping", n: 1, retryAfter: "3"},
		{name: "products per minute", method: "GET", path: "/products/search?q=amazon", n: 60, retryAfter: "60"},
		{name: "esim purchases", method: "POST", path: "/esims", body: `{"products":[]}`, n: 60, retryAfter: "600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, a, _, _ := lifecycleFake(t, Options{Limits: DocumentedLimits()})
			for i := range tc.n {
				if r := a.do(tc.method, tc.path, tc.body); r.status == http.StatusTooManyRequests {
					t.Fatalf("request %d refused", i+1)
				}
			}
			r := a.do(tc.method, tc.path, tc.body)
			if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != tc.retryAfter {
				t.Errorf("request %d: %d Retry-After %q, want 429 after %s", tc.n+1, r.status, r.header.Get("Retry-After"), tc.retryAfter)
			}
		})
	}
}

func TestProductsHourlyLimit(t *testing.T) {
	_, a, clk, _ := lifecycleFake(t, Options{Limits: DocumentedLimits()})
	for i := range 1000 {
		if r := a.get("/products/amazon-us"); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
		clk.Add(1100 * time.Millisecond) // 54 a minute: under the minute limit
	}
	r := a.get("/products/amazon-us")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("request 1001 within the hour: %d", r.status)
	}
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 1 || ra > 3600 {
		t.Errorf("Retry-After %d", ra)
	}
}

func TestUnenforcedLimitsOnlyReport(t *testing.T) {
	f, a, _, _ := lifecycleFake(t, Options{})
	for range 100 {
		if r := a.get("/orders"); r.status != http.StatusOK || r.header.Get("X-RateLimit-Limit") != "60" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	}
	if len(f.RateLimited()) != 0 {
		t.Error("429s without limits or faults")
	}
}

func TestRequestEndpoint(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/invoices":                           "GET /invoices",
		"/v2/invoices/9a1c-uuid":                 "GET /invoices/{id}",
		"/v2/invoices/9a1c-uuid/pay":             "GET /invoices/{id}/pay",
		"/v2/orders/65f0c3":                      "GET /orders/{id}",
		"/v2/products/search":                    "GET /products/search",
		"/v2/products/esims":                     "GET /products/esims",
		"/v2/products/esims/bitrefill-esim-asia": "GET /products/esims/{id}",
		"/v2/products/amazon-us":                 "GET /products/{id}",
		"/v2/esims/8901/":                        "GET /esims/{id}",
		"/v2/ping":                               "GET /ping",
	} {
		if got := (Request{Method: "GET", Path: path}).Endpoint(); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

func TestESIMShapes(t *testing.T) {
	for _, tc := range []struct {
		shape ESIMShape
		// where the order names the ICCID: "esim_id", "iccid", "extra" or "" for nowhere
		iccidAt string
		pin     bool
	}{
		{ESIMShapeDefault, "", true},
		{ESIMDocumented, "", true},
		{ESIMWithID, "esim_id", false},
		{ESIMWithICCID, "iccid", false},
		{ESIMWithExtraICCID, "extra", false},
	} {
		f, a, _, _ := lifecycleFake(t, Options{ESIMShape: tc.shape})
		inv := a.mustOK(a.do("POST", "/esims", `{"products":[{"product_id":"bitrefill-esim-europe","value":"1GB, 7 Days"}],"payment_method":"balance","auto_pay":true}`)).data()
		o := a.mustOK(a.get("/orders/" + orderIDs(inv)[0])).data()
		ri := o["redemption_info"].(map[string]any)
		lpa := str(ri["barcode_value"])
		if ri["barcode_format"] != "QRCODE" || !strings.HasPrefix(lpa, "LPA:1$smdp.example$") || ri["instructions"] == nil {
			t.Errorf("shape %d: redemption %v", tc.shape, ri)
		}
		if _, has := ri["pin"]; has != tc.pin {
			t.Errorf("shape %d: pin present %v, want %v", tc.shape, has, tc.pin)
		}
		// The ICCID is always learnable from GET /esims by the LPA.
		list := a.mustOK(a.get("/esims")).list()
		if len(list) != 1 || list[0].(map[string]any)["barcode_value"] != lpa {
			t.Fatalf("shape %d: eSIM list %v", tc.shape, list)
		}
		iccid := str(list[0].(map[string]any)["id"])
		snap, _ := f.Invoice(str(inv["id"]))
		if snap.Orders[0].ESIMID != iccid {
			t.Errorf("shape %d: snapshot ICCID %q, list %q", tc.shape, snap.Orders[0].ESIMID, iccid)
		}
		if tc.pin && ri["pin"] != list[0].(map[string]any)["pin"] {
			t.Errorf("shape %d: order pin %v, eSIM pin %v", tc.shape, ri["pin"], list[0].(map[string]any)["pin"])
		}
		var found []string
		for _, k := range []string{"esim_id", "iccid"} {
			if v, ok := o[k]; ok {
				found = append(found, k)
				if v != iccid {
					t.Errorf("shape %d: %s = %v, want %s", tc.shape, k, v, iccid)
				}
			}
		}
		if ex, ok := ri["extra_fields"].(map[string]any); ok {
			found = append(found, "extra")
			if ex["iccid"] != iccid {
				t.Errorf("shape %d: extra_fields %v", tc.shape, ex)
			}
		}
		if got := strings.Join(found, ","); got != tc.iccidAt {
			t.Errorf("shape %d: ICCID found at %q, want %q", tc.shape, got, tc.iccidAt)
		}
	}
}
