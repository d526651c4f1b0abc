package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"refillbot/bitrefill"
)

// scrape reads the handler's text exposition with Prometheus's own parser.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	m.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

func value(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := len(got) == len(labels)
		for k, v := range labels {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
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
	if v, ok := value(fams["refillbot_build_info"], map[string]string{"version": "v1.2.3"}); !ok || v != 1 {
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
		f := fams[tc.family]
		if f == nil {
			t.Errorf("%s missing", tc.family)
			continue
		}
		if got, ok := value(f, tc.labels); !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.family, tc.labels, got, ok, tc.want)
		}
	}
	if f := fams["refillbot_updates_total"]; f != nil {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetValue() == "matrix" {
					t.Errorf("an unconfigured platform became a label value")
				}
			}
		}
	}
}
