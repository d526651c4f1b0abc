package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot/metrics/metricstest"
)

// scrape reads the handler's text exposition with Prometheus's own parser.
func scrape(t *testing.T, m *Metrics) metricstest.Families {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	m.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	fams, err := metricstest.Parse(rec.Body.String())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

// The contract's families are there from the first scrape, with the
// shop's label values at zero, and events move exactly the series they name.
func TestFamiliesAndCounts(t *testing.T) {
	m := New(Options{Version: "v1.2.3", Platforms: []string{"telegram", "discord"}, Methods: []string{"bitcoin", "lightning"}})
	fams := scrape(t, m)
	for _, name := range []string{
		"refillbot_updates_total", "refillbot_invoices_created_total", "refillbot_invoices_paid_total",
		"refillbot_orders_delivered_total", "refillbot_orders_failed_total", "refillbot_outbox_pending",
		"refillbot_build_info", "go_goroutines", "process_cpu_seconds_total",
	} {
		if fams[name] == nil {
			t.Errorf("family %s missing from the first scrape", name)
		}
	}
	if v, ok := fams.Value("refillbot_build_info", map[string]string{"version": "v1.2.3"}); !ok || v != 1 {
		t.Errorf("build_info = %v, %v", v, ok)
	}

	m.Update("telegram")
	m.Update("telegram")
	m.Update("matrix") // not configured: no new series named after it
	m.InvoiceCreated("lightning")
	m.InvoicePaid()
	m.OrderDelivered("gift_card")
	m.OrderDelivered("surprise_type")
	m.OrderFailed()
	m.OutboxPending(3)
	m.Bitrefill(bitrefill.Request{Method: "GET", Route: "/products/{id}", Status: 200, Duration: 120 * time.Millisecond})
	m.Bitrefill(bitrefill.Request{Method: "POST", Route: "/invoices", Status: 429, Duration: time.Millisecond})

	fams = scrape(t, m)
	for _, tc := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"refillbot_updates_total", map[string]string{"platform": "telegram"}, 2},
		{"refillbot_updates_total", map[string]string{"platform": "discord"}, 0},
		{"refillbot_updates_total", map[string]string{"platform": "other"}, 1},
		{"refillbot_invoices_created_total", map[string]string{"payment_method": "lightning"}, 1},
		{"refillbot_invoices_created_total", map[string]string{"payment_method": "bitcoin"}, 0},
		{"refillbot_invoices_paid_total", nil, 1},
		{"refillbot_orders_delivered_total", map[string]string{"product_type": "gift_card"}, 1},
		{"refillbot_orders_delivered_total", map[string]string{"product_type": "other"}, 1},
		{"refillbot_orders_failed_total", nil, 1},
		{"refillbot_outbox_pending", nil, 3},
		{"refillbot_bitrefill_request_duration_seconds", map[string]string{"endpoint": "/products/{id}"}, 1},
		{"refillbot_bitrefill_requests_total", map[string]string{"endpoint": "/invoices", "code": "429"}, 1},
		{"refillbot_bitrefill_requests_total", map[string]string{"endpoint": "/products/{id}", "code": "2xx"}, 1},
	} {
		if got, ok := fams.Value(tc.family, tc.labels); !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.family, tc.labels, got, ok, tc.want)
		}
	}
	for _, l := range fams.LabelValues() {
		if strings.Contains(l, "matrix") {
			t.Errorf("an unconfigured platform became a label value: %s", l)
		}
	}
}
