package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot/metrics"
)

// exported returns the names a PromQL expression may use: every family the
// bot exports (with a histogram's series suffixes) and Prometheus's "up".
func exported(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New(metrics.Options{Version: "test", Platforms: []string{"telegram"}, Methods: []string{"bitcoin"}})
	// Touch every vector so that each family has a series to gather.
	m.Update("telegram")
	m.Reply("telegram", time.Second)
	m.Throttled("telegram")
	m.InvoiceCreated("bitcoin")
	m.InvoicePaid()
	m.OrderDelivered("gift_card")
	m.OrderFailed()
	m.OutboxPending(1)
	m.Bitrefill(bitrefill.Request{Route: "/invoices", Status: 200, Duration: time.Second})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true}
	for _, f := range fams {
		names[f.GetName()] = true
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			names[f.GetName()+s] = true
		}
	}
	return names
}

var metricName = regexp.MustCompile(`\b(refillbot_[a-z_]+|go_[a-z_]+|process_[a-z_]+|up)\b`)

func checkExpr(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	found := metricName.FindAllString(expr, -1)
	if len(found) == 0 {
		t.Errorf("%s: %q uses no refillbot metric", where, expr)
	}
	for _, n := range found {
		if !names[n] {
			t.Errorf("%s: %q uses %s, which refillbot does not export", where, expr, n)
		}
	}
}

func TestDashboardUsesExportedFamilies(t *testing.T) {
	raw, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no uid or no panels")
	}
	names := exported(t)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			checkExpr(t, "dashboard panel "+p.Title, tg.Expr, names)
		}
	}
	for _, contract := range []string{"refillbot_updates_total", "refillbot_invoices_paid_total", "refillbot_orders_delivered_total", "refillbot_bitrefill_request_duration_seconds_bucket", "refillbot_outbox_pending"} {
		if !strings.Contains(string(raw), contract) {
			t.Errorf("the dashboard shows nothing of %s", contract)
		}
	}
}

// The alert rules are YAML; each rule's expr sits on one "expr:" line.
func TestAlertRulesUseExportedFamilies(t *testing.T) {
	raw, err := os.ReadFile("prometheus-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	names := exported(t)
	alerts := regexp.MustCompile(`(?m)^\s+- alert: (\S+)$`).FindAllStringSubmatch(string(raw), -1)
	exprs := regexp.MustCompile(`(?m)^\s+expr: (.+)$`).FindAllStringSubmatch(string(raw), -1)
	if len(alerts) == 0 || len(alerts) != len(exprs) {
		t.Fatalf("%d alerts, %d exprs: every rule needs one single-line expr", len(alerts), len(exprs))
	}
	for i, e := range exprs {
		checkExpr(t, "alert "+alerts[i][1], e[1], names)
	}
}

// The Dockerfile builds with go.mod's Go release: deploy/check does the same
// and builds the binary; this half runs with the ordinary tests.
func TestDockerfileGoVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	docker, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	arg := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\d+\.\d+)`).FindSubmatch(docker)
	if goLine == nil || arg == nil {
		t.Fatalf("go directive %q, Dockerfile GO_VERSION %q", goLine, arg)
	}
	if string(goLine[1]) != string(arg[1]) {
		t.Errorf("Dockerfile builds with Go %s, go.mod says %s", arg[1], goLine[1])
	}
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532", "HEALTHCHECK", `"healthcheck"`, "FROM golang:${GO_VERSION}"} {
		if !strings.Contains(string(docker), want) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
}
