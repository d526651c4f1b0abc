package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refillbot/bot/metrics/metricstest"
	"refillbot/conversation"
)

// get waits until url answers (the server starts with the bot), up to a deadline.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return res.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not ordering events
	}
}

// The metrics address serves /metrics, /healthz and /readyz, and the
// healthcheck command asks it; the public server has no /metrics.
func TestMetricsServer(t *testing.T) {
	addr, public := freeAddr(t), freeAddr(t)
	db := filepath.Join(t.TempDir(), "bot.db")
	s := start(t, db, "-metrics-listen", addr, "-listen", public)
	s.expect(`SANDBOX`)
	if code, body := get(t, "http://"+addr+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, "http://"+addr+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	code, body := get(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, family := range []string{"refillbot_build_info{version=", "refillbot_updates_total{platform=\"console\"}", "go_goroutines", "refillbot_bitrefill_request_duration_seconds_bucket{endpoint=\"/products"} {
		if !strings.Contains(body, family) {
			t.Errorf("/metrics lacks %s", family)
		}
	}
	if code, _ := get(t, "http://"+public+"/metrics"); code != http.StatusNotFound {
		t.Errorf("the public server answers /metrics with %d", code)
	}
	var out bytes.Buffer
	env := map[string]string{"REFILLBOT_METRICS_LISTEN": addr}
	if err := run(context.Background(), []string{"healthcheck"}, func(k string) string { return env[k] }, nil, &out, &out); err != nil {
		t.Errorf("healthcheck with the bot up: %v", err)
	}
	// The doctor, next to the running bot: the database is busy (not a
	// failure) and the bot says it is ready.
	out.Reset()
	env["REFILLBOT_DB"] = db
	if err := run(context.Background(), []string{"doctor"}, func(k string) string { return env[k] }, nil, &out, &out); err != nil {
		t.Errorf("doctor next to a running bot: %v\n%s", err, out.String())
	}
	if v := verdicts(out.String()); v["database"] != "note" || v["running bot"] != "ok" {
		t.Errorf("doctor next to a running bot:\n%s", out.String())
	}
	s.quit()
	if err := run(context.Background(), []string{"healthcheck"}, func(k string) string { return env[k] }, nil, &out, &out); err == nil {
		t.Error("healthcheck passed with the bot stopped")
	}
}

func TestMetricsListenMustNotBeThePublicServer(t *testing.T) {
	env := map[string]string{"REFILLBOT_LISTEN": "127.0.0.1:8080", "REFILLBOT_METRICS_LISTEN": "127.0.0.1:8080"}
	_, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "never served on the public server") {
		t.Fatalf("parseConfig = %v", err)
	}
}

// REFILLBOT_LOG_FORMAT=json writes one JSON object per line, for collectors.
func TestLogFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		json   bool
	}{{"text", false}, {"json", true}} {
		var buf bytes.Buffer
		cfg := config{LogFormat: tc.format, LogLevel: "info"}
		newLogger(cfg, &buf).Info("hello", "component", "main")
		var v map[string]any
		isJSON := json.Unmarshal(buf.Bytes(), &v) == nil
		if isJSON != tc.json || !strings.Contains(buf.String(), "hello") {
			t.Errorf("format %s wrote %q", tc.format, buf.String())
		}
	}
	_, err := parseConfig(nil, func(k string) string { return map[string]string{"REFILLBOT_LOG_FORMAT": "xml"}[k] }, io.Discard)
	if err == nil {
		t.Error("REFILLBOT_LOG_FORMAT=xml accepted")
	}
}

func TestOperatorSettings(t *testing.T) {
	for _, tc := range []struct {
		admins, low string
		ok          bool
		n           int
	}{
		{"telegram:123, discord:456,telegram:123", "", true, 2},
		{"", "100", true, 0},
		{"telegram:", "", false, 0},
		{"123", "", false, 0},
		{"matrix:1", "", false, 0},
		{"", "-5", false, 0},
		{"", "lots", false, 0},
	} {
		c := config{Admins: tc.admins, LowBalance: tc.low}
		admins, aerr := c.admins()
		_, lerr := c.lowBalance()
		if ok := aerr == nil && lerr == nil; ok != tc.ok || len(admins) != tc.n {
			t.Errorf("admins %q low %q: %v %v, %d admins", tc.admins, tc.low, aerr, lerr, len(admins))
		}
	}
}

// A purchase in the terminal, by a shop whose operator is the terminal's
// user: the operator's sale alert appears (without the code), /stats counts
// it, and /metrics — read with Prometheus's own parser — has the contract's
// families with the counts one purchase implies and no id or code in any
// label.
func TestPurchaseShowsInMetricsAndOperatorChat(t *testing.T) {
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "bot.db")
	s := start(t, db, "-metrics-listen", addr, "-admins", "console:local")
	s.expect(`SANDBOX`)
	s.say("amazon us")
	s.pick("Amazon US")
	s.say("50")
	s.pick("Bitcoin")
	s.pick("🧪 Simulate payment (sandbox)")
	code := s.expect(`Amazon US 50 USD is ready:[^\n]*\n(?:[^\n]*\n)*?Code: ([A-Z0-9-]+)`)[1]
	alert := s.expect(`💰 Paid: [^\n]*`)[0]
	if !strings.Contains(alert, "Amazon US 50 USD") || !strings.Contains(alert, "via bitcoin") || strings.Contains(alert, code) {
		t.Errorf("sale alert = %q", alert)
	}
	s.say("/stats")
	s.expect(`Paid invoices: 1`)

	_, body := get(t, "http://"+addr+"/metrics")
	s.quit()
	fams, err := metricstest.Parse(body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		min    float64
		max    float64
	}{
		{"refillbot_updates_total", map[string]string{"platform": "console"}, 5, 1e9},
		{"refillbot_invoices_created_total", map[string]string{"payment_method": "bitcoin"}, 1, 1},
		{"refillbot_invoices_created_total", map[string]string{"payment_method": "lightning"}, 0, 0},
		{"refillbot_invoices_paid_total", nil, 1, 1},
		{"refillbot_orders_delivered_total", map[string]string{"product_type": "gift_card"}, 1, 1},
		{"refillbot_orders_failed_total", nil, 0, 0},
		{"refillbot_outbox_pending", nil, 0, 1e9},
		{"refillbot_bitrefill_request_duration_seconds", map[string]string{"endpoint": "/invoices"}, 1, 1e9},
		{"refillbot_bitrefill_request_duration_seconds", map[string]string{"endpoint": "/invoices/{id}"}, 1, 1e9},
		{"refillbot_replies_total", map[string]string{"platform": "console"}, 5, 1e9},
		{"refillbot_build_info", nil, 1, 1},
	} {
		got, ok := fams.Value(tc.name, tc.labels)
		if !ok || got < tc.min || got > tc.max {
			t.Errorf("%s%v = %v (present: %v), want %v..%v", tc.name, tc.labels, got, ok, tc.min, tc.max)
		}
	}

	st, err := openKeyed(db)
	if err != nil {
		t.Fatal(err)
	}
	state, _, err := st.Session(conversation.SessionKey{Platform: "console", User: "local"})
	st.Close()
	if err != nil || len(state.History) == 0 {
		t.Fatalf("no purchase in the history: %v", err)
	}
	inv := state.History[len(state.History)-1].Invoice
	for _, l := range fams.LabelValues() {
		if strings.Contains(l, inv) || strings.Contains(l, inv[:8]) || strings.Contains(l, code) || strings.Contains(l, "local") {
			t.Errorf("a label names the invoice, the code or the user: %s", l)
		}
	}
}
