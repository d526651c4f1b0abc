package bitrefilltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func oneLine(fields string) string { return `{"products":[` + fields + `],"payment_method":"bitcoin"}` }

func TestInvoiceValidation(t *testing.T) {
	_, a := newAPI(t, Options{Balance: "10"})
	many := strings.Repeat(`{"product_id":"amazon-us","value":50},`, 21)
	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
		msgHas           []string
	}{
		{"empty body", "/invoices", "", 400, "parse_error", nil},
		{"bad json", "/invoices", "{", 400, "parse_error", nil},
		{"wrong type", "/invoices", `{"products":"amazon-us","payment_method":"bitcoin"}`, 400, "parse_error", nil},
		{"no products", "/invoices", `{"payment_method":"bitcoin"}`, 400, "missing_param", nil},
		{"empty products", "/invoices", oneLine(""), 400, "missing_param", nil},
		{"21 lines", "/invoices", oneLine(strings.TrimSuffix(many, ",")), 400, "too_many_items", nil},
		{"20 lines ok", "/invoices", oneLine(strings.TrimSuffix(strings.Repeat(`{"product_id":"amazon-us","value":50},`, 20), ",")), 200, "", nil},
		{"no product_id", "/invoices", oneLine(`{"value":50}`), 400, "missing_param", nil},
		{"unknown product", "/invoices", oneLine(`{"product_id":"nope","value":50}`), 404, "not_found", nil},
		{"out of stock", "/invoices", oneLine(`{"product_id":"playstation-tr","package_id":"playstation-tr<&>300"}`), 400, "out_of_stock", nil},
		{"neither package nor value", "/invoices", oneLine(`{"product_id":"amazon-us"}`), 400, "missing_param", nil},
		{"both package and value", "/invoices", oneLine(`{"product_id":"amazon-us","package_id":"amazon-us<&>50","value":50}`), 400, "invalid_param", nil},
		{"package of another product", "/invoices", oneLine(`{"product_id":"amazon-us","package_id":"amazon-de<&>50"}`), 400, "invalid_param", nil},
		{"unknown package", "/invoices", oneLine(`{"product_id":"amazon-us","package_id":"amazon-us<&>33"}`), 400, "invalid_param", nil},
		{"package ok", "/invoices", oneLine(`{"product_id":"spotify-us","package_id":"spotify-us<&>10"}`), 200, "", nil},
		{"value below range", "/invoices", oneLine(`{"product_id":"amazon-us","value":5}`), 400, "invalid_param", []string{"10", "200", "step"}},
		{"value above range", "/invoices", oneLine(`{"product_id":"amazon-us","value":201}`), 400, "invalid_param", []string{"200"}},
		{"value off step 1", "/invoices", oneLine(`{"product_id":"amazon-us","value":33.5}`), 400, "invalid_param", []string{"steps of 1"}},
		{"value in range", "/invoices", oneLine(`{"product_id":"amazon-us","value":37}`), 200, "", nil},
		{"value as string", "/invoices", oneLine(`{"product_id":"amazon-us","value":"50"}`), 200, "", nil},
		{"value off step 5", "/invoices", oneLine(`{"product_id":"uber-us","value":12}`), 400, "invalid_param", []string{"10", "200", "steps of 5"}},
		{"value on step 5", "/invoices", oneLine(`{"product_id":"uber-us","value":15}`), 200, "", nil},
		{"cents on step 0.01", "/invoices", oneLine(`{"product_id":"starbucks-us","value":12.34}`), 200, "", nil},
		{"sub-cent value", "/invoices", oneLine(`{"product_id":"starbucks-us","value":12.345}`), 400, "invalid_param", nil},
		{"packages-only off package", "/invoices", oneLine(`{"product_id":"netflix-us","value":30}`), 400, "invalid_param", []string{"15, 25, 50, 100"}},
		{"negative value", "/invoices", oneLine(`{"product_id":"amazon-us","value":-50}`), 400, "invalid_param", nil},
		{"bool value", "/invoices", oneLine(`{"product_id":"amazon-us","value":true}`), 400, "invalid_param", nil},
		{"quantity 0", "/invoices", oneLine(`{"product_id":"amazon-us","value":50,"quantity":0}`), 400, "invalid_param", nil},
		{"quantity fractional", "/invoices", oneLine(`{"product_id":"amazon-us","value":50,"quantity":1.5}`), 400, "invalid_param", nil},
		{"phone missing", "/invoices", oneLine(`{"product_id":"at-t-usa","package_id":"at-t-usa<&>25"}`), 400, "missing_param", nil},
		{"phone malformed", "/invoices", oneLine(`{"product_id":"at-t-usa","package_id":"at-t-usa<&>25","phone_number":"555-1234"}`), 400, "invalid_phone_number", nil},
		{"phone other country", "/invoices", oneLine(`{"product_id":"at-t-usa","package_id":"at-t-usa<&>25","phone_number":"+4915112345678"}`), 400, "unsupported_operator", nil},
		{"phone ok", "/invoices", oneLine(`{"product_id":"at-t-usa","package_id":"at-t-usa<&>25","phone_number":"+15551234567"}`), 200, "", nil},
		{"payment_method missing", "/invoices", `{"products":[{"product_id":"amazon-us","value":50}]}`, 400, "missing_param", nil},
		{"bare usdt", "/invoices", `{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"usdt"}`, 400, "unsupported_payment_method", nil},
		{"method is case-sensitive", "/invoices", `{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"Bitcoin"}`, 400, "unsupported_payment_method", nil},
		{"esim_id on gift card", "/invoices", oneLine(`{"product_id":"amazon-us","value":50,"esim_id":"8901234567890123452"}`), 400, "invalid_param", nil},
		{"unknown esim_id", "/invoices", oneLine(`{"product_id":"bitrefill-esim-europe","value":"1GB, 7 Days","esim_id":"8901234567890123452"}`), 404, "not_found", nil},
		{"esim bad plan", "/invoices", oneLine(`{"product_id":"bitrefill-esim-europe","value":"2GB"}`), 400, "invalid_param", []string{"1GB, 7 Days"}},
		{"esim numeric value", "/invoices", oneLine(`{"product_id":"bitrefill-esim-europe","value":1}`), 400, "invalid_param", nil},
		{"esim ok", "/invoices", oneLine(`{"product_id":"bitrefill-esim-europe","value":"1GB, 7 Days"}`), 200, "", nil},
		{"non-esim on /esims", "/esims", oneLine(`{"product_id":"amazon-us","value":50}`), 400, "invalid_param", nil},
		{"esim on /esims", "/esims", oneLine(`{"product_id":"bitrefill-esim-usa","package_id":"bitrefill-esim-usa<&>5GB, 30 Days"}`), 200, "", nil},
		{"bad webhook url", "/invoices", `{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"bitcoin","webhook_url":"ftp://x/y"}`, 400, "invalid_param", nil},
		{"auto_pay too low", "/invoices", `{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"balance","auto_pay":true}`, 403, "balance_too_low", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(http.MethodPost, tc.path, tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %q: %s", r.status, r.code(), r.raw)
			}
			msg := str(r.body["message"])
			for _, s := range tc.msgHas {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
			if tc.status != 200 && str(r.meta()["_endpoint"]) != tc.path {
				t.Errorf("error meta %v", r.meta())
			}
		})
	}
}

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	orderRE = regexp.MustCompile(`^[0-9a-f]{24}$`)
)

func TestInvoiceShape(t *testing.T) {
	_, a := newAPI(t, Options{})
	// The API document's example minus the top-up: 5 orders.
	inv := a.createInvoice(`{"products":[
		{"product_id":"amazon-us","value":50},
		{"product_id":"spotify-us","package_id":"spotify-us<&>10"},
		{"product_id":"steam-us","value":25,"quantity":2},
		{"product_id":"at-t-usa","package_id":"at-t-usa<&>25","phone_number":"+15551234567"}],
		"payment_method":"bitcoin","webhook_url":"https://bot.example/hooks/bitrefill/abc","refund_address":"bc1qxyz","auto_pay":false}`)
	if !uuidRE.MatchString(str(inv["id"])) || inv["status"] != "unpaid" || inv["webhook_url"] != "https://bot.example/hooks/bitrefill/abc" {
		t.Errorf("invoice: %v", inv)
	}
	for _, k := range []string{"created_time", "expiration_time"} {
		if _, err := time.Parse(time.RFC3339, str(inv[k])); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if str(inv["total"]) != "135.00" || str(inv["subtotal"]) != "135.00" {
		t.Errorf("total %v", inv["total"])
	}
	orders := inv["orders"].([]any)
	if len(orders) != 5 {
		t.Fatalf("%d orders", len(orders))
	}
	for _, o := range orders {
		om := o.(map[string]any)
		p := om["product"].(map[string]any)
		if !orderRE.MatchString(str(om["id"])) || om["status"] != "created" || p["currency"] != "USD" {
			t.Errorf("order %v", om)
		}
		if _, ok := p["value"].(string); !ok {
			t.Errorf("order product value %v is not a string", p["value"])
		}
	}
	if v := orders[0].(map[string]any)["product"].(map[string]any); v["id"] != "amazon-us" || v["name"] != "Amazon US" || v["value"] != "50" {
		t.Errorf("first order product %v", v)
	}
	pay := inv["payment"].(map[string]any)
	// 135 USD at 97,000 USD/BTC = 0.00139176... BTC, rounded up to the satoshi.
	if pay["method"] != "bitcoin" || pay["currency"] != "BTC" || str(pay["price"]) != "0.00139176" ||
		!strings.HasPrefix(str(pay["address"]), "bc1q") || pay["status"] != "unpaid" ||
		pay["payment_uri"] != "bitcoin:"+str(pay["address"])+"?amount=0.00139176" ||
		!strings.HasPrefix(str(pay["lightning_invoice"]), "lnbc") {
		t.Errorf("bitcoin payment %v", pay)
	}
	if _, isNum := pay["price"].(json.Number); !isNum {
		t.Errorf("price is not a JSON number: %T", pay["price"])
	}

	for _, tc := range []struct{ method, currency, addrPrefix, uriPrefix string }{
		{"lightning", "BTC", "", "lightning:lnbc"},
		{"ethereum", "ETH", "0x", ""},
		{"usdc_base", "USDC", "0x", ""},
		{"usdt_polygon", "USDT", "0x", ""},
		{"usdc_solana", "USDC", "", ""},
		{"balance", "USD", "", ""},
	} {
		inv := a.createInvoice(fmt.Sprintf(`{"products":[{"product_id":"amazon-us","value":50}],"payment_method":%q}`, tc.method))
		pay := inv["payment"].(map[string]any)
		if pay["currency"] != tc.currency || !strings.HasPrefix(str(pay["address"]), tc.addrPrefix) ||
			!strings.HasPrefix(str(pay["payment_uri"]), tc.uriPrefix) || str(pay["price"]) == "" {
			t.Errorf("%s payment %v", tc.method, pay)
		}
		if tc.method == "lightning" && !strings.HasPrefix(str(pay["lightning_invoice"]), "lnbc") {
			t.Errorf("lightning invoice %v", pay)
		}
	}
	// EUR product priced in USD at the fixed rate: 50 EUR * 1.08.
	inv = a.createInvoice(`{"products":[{"product_id":"amazon-de","value":50}],"payment_method":"balance"}`)
	if str(inv["total"]) != "54.00" {
		t.Errorf("amazon-de 50 EUR total %v", inv["total"])
	}
}

// lifecycleFake starts a fake with a manual clock and a webhook receiver.
func lifecycleFake(t *testing.T, o Options) (*Fake, api, *clock, hook) {
	c := newClock()
	o.Now = c.Now
	f, a := newAPI(t, o)
	return f, a, c, webhookReceiver(t)
}

func TestLifecycle(t *testing.T) {
	f, a, clk, h := lifecycleFake(t, Options{ConfirmAfter: time.Minute, DeliverAfter: 2 * time.Minute})
	inv := a.createInvoice(fmt.Sprintf(`{"products":[
		{"product_id":"amazon-us","value":50},
		{"product_id":"test-gift-card-code-fail","value":5},
		{"product_id":"at-t-usa","package_id":"at-t-usa<&>25","phone_number":"+15551234567"},
		{"product_id":"ebay-us","package_id":"ebay-us<&>%s"}],
		"payment_method":"lightning","webhook_url":%q}`, firstPackage(f, "ebay-us"), h.url))
	id := str(inv["id"])
	ids := orderIDs(inv)
	status := func() (string, []string) {
		d := a.mustOK(a.get("/invoices/" + id)).data()
		var os []string
		for _, o := range d["orders"].([]any) {
			os = append(os, str(o.(map[string]any)["status"]))
		}
		return str(d["status"]), os
	}
	expect := func(inv string, orders ...string) {
		t.Helper()
		gi, gos := status()
		if gi != inv || strings.Join(gos, ",") != strings.Join(orders, ",") {
			t.Fatalf("invoice %s orders %v, want %s %v", gi, gos, inv, orders)
		}
	}
	expect("unpaid", "created", "created", "created", "created")
	if err := f.SimulatePayment(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if err := f.MarkPaid(id); !errors.Is(err, ErrState) {
		t.Errorf("second MarkPaid: %v", err)
	}
	if err := f.MarkPaid("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkPaid unknown: %v", err)
	}
	expect("payment_detected", "payment_detected", "payment_detected", "payment_detected", "payment_detected")
	clk.Add(59 * time.Second)
	expect("payment_detected", "payment_detected", "payment_detected", "payment_detected", "payment_detected")
	clk.Add(time.Second)
	expect("payment_confirmed", "processing", "processing", "processing", "processing")
	clk.Add(time.Minute)
	expect("pending", "processing", "processing", "processing", "processing")
	select {
	case m := <-h.ch:
		t.Fatalf("webhook before a final state: %v", m["status"])
	default:
	}
	clk.Add(time.Minute)
	expect("complete", "delivered", "failed", "delivered", "delivered")

	body := h.wait(t)
	if body["id"] != id || body["status"] != "complete" || len(body["orders"].([]any)) != 4 {
		t.Errorf("webhook body %v", body)
	}
	if pay := body["payment"].(map[string]any); pay["status"] != "payment_confirmed" {
		t.Errorf("webhook payment %v", pay)
	}

	// Redemption info by product.
	order := func(id string) map[string]any { return a.mustOK(a.get("/orders/" + id)).data() }
	amz := order(ids[0])
	ri := amz["redemption_info"].(map[string]any)
	if !regexp.MustCompile(`^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$`).MatchString(str(ri["code"])) || !strings.HasPrefix(str(ri["link"]), "https://") {
		t.Errorf("amazon redemption %v", ri)
	}
	if amz["invoice"].(map[string]any)["id"] != id || amz["delivered_time"] == nil || amz["created_time"] == nil {
		t.Errorf("order %v", amz)
	}
	if again := order(ids[0])["redemption_info"].(map[string]any); again["code"] != ri["code"] {
		t.Error("redemption code changed between reads")
	}
	if failed := order(ids[1]); failed["redemption_info"] != nil || failed["error_code"] != "delivery_failed" {
		t.Errorf("failed order %v", failed)
	}
	if phone := order(ids[2]); phone["redemption_info"] != nil || phone["status"] != "delivered" {
		t.Errorf("phone order %v", phone)
	}
	if s, ok := order(ids[3])["redemption_info"].(string); !ok || !strings.Contains(s, "Code: ") {
		t.Errorf("ebay redemption should be a plain string: %v", order(ids[3])["redemption_info"])
	}

	// Refund after delivery.
	if err := f.Refund(ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := f.Refund(ids[0]); !errors.Is(err, ErrState) {
		t.Errorf("double refund: %v", err)
	}
	if o := order(ids[0]); o["status"] != "refunded" {
		t.Errorf("refunded order %v", o["status"])
	}
	snap, ok := f.Invoice(id)
	if !ok || snap.Status != "complete" || snap.Orders[0].Status != "refunded" || snap.WebhookURL != h.url || snap.PaymentMethod != "lightning" {
		t.Errorf("snapshot %+v", snap)
	}
	if err := f.Deny(id); !errors.Is(err, ErrState) {
		t.Errorf("deny after complete: %v", err)
	}

	// Exactly one webhook, even after more reads and ticks.
	f.Advance()
	a.get("/invoices/" + id)
	f.Close()
	if n := len(h.ch); n != 0 {
		t.Errorf("%d extra webhooks", n)
	}
}

func firstPackage(f *Fake, id string) string { return f.productIdx[id].packages[0].label }

func TestLifecycleZeroDelays(t *testing.T) {
	f, a := newAPI(t, Options{})
	inv := a.createInvoice(`{"products":[{"product_id":"test-gift-card-link","value":10}],"payment_method":"bitcoin"}`)
	id := str(inv["id"])
	if err := f.MarkPaid(id); err != nil {
		t.Fatal(err)
	}
	d := a.mustOK(a.get("/invoices/" + id)).data()
	if d["status"] != "complete" {
		t.Fatalf("status %v", d["status"])
	}
	o := a.mustOK(a.get("/orders/" + orderIDs(inv)[0])).data()
	if ri := o["redemption_info"].(map[string]any); ri["link"] == nil || ri["code"] != nil {
		t.Errorf("test-gift-card-link redemption %v", ri)
	}
}

// Codes gives tests the codes the API hands out, order by order.
func TestCodesMatchTheAPI(t *testing.T) {
	f, a := newAPI(t, Options{})
	inv := a.createInvoice(`{"products":[{"product_id":"amazon-us","value":25,"quantity":2}],"payment_method":"bitcoin"}`)
	id := str(inv["id"])
	if err := f.MarkPaid(id); err != nil {
		t.Fatal(err)
	}
	codes := f.Codes(t, id)
	ids := orderIDs(inv)
	if len(codes) != len(ids) || len(codes) != 2 {
		t.Fatalf("%d codes for %d orders", len(codes), len(ids))
	}
	for i, oid := range ids {
		ri := a.mustOK(a.get("/orders/" + oid)).data()["redemption_info"].(map[string]any)
		if ri["code"] != codes[i] {
			t.Errorf("order %d: API code %v, Codes %q", i, ri["code"], codes[i])
		}
	}
}

func TestFinalStates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		paid   bool
		act    func(f *Fake, id string, clk *clock) error
		status string
		orders string
	}{
		{"deny unpaid", false, func(f *Fake, id string, _ *clock) error { return f.Deny(id) }, "denied", "created"},
		{"block unpaid", false, func(f *Fake, id string, _ *clock) error { return f.Block(id) }, "blocked", "created"},
		{"payment error after detection", true, func(f *Fake, id string, _ *clock) error { return f.FailPayment(id) }, "payment_error", "failed"},
		{"expiry", false, func(_ *Fake, _ string, clk *clock) error { clk.Add(3*time.Hour + time.Second); return nil }, "expired", "created"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a, clk, h := lifecycleFake(t, Options{ConfirmAfter: time.Hour})
			inv := a.createInvoice(fmt.Sprintf(`{"products":[{"product_id":"steam-us","value":25}],"payment_method":"bitcoin","webhook_url":%q}`, h.url))
			id := str(inv["id"])
			if tc.paid {
				if err := f.MarkPaid(id); err != nil {
					t.Fatal(err)
				}
			}
			clk.Add(time.Minute)
			if err := tc.act(f, id, clk); err != nil {
				t.Fatal(err)
			}
			d := a.mustOK(a.get("/invoices/" + id)).data()
			if d["status"] != tc.status || d["orders"].([]any)[0].(map[string]any)["status"] != tc.orders {
				t.Errorf("invoice %v orders %v", d["status"], d["orders"])
			}
			if body := h.wait(t); body["status"] != tc.status || body["id"] != id {
				t.Errorf("webhook %v %v", body["id"], body["status"])
			}
			if err := f.MarkPaid(id); !errors.Is(err, ErrState) {
				t.Errorf("MarkPaid on %s: %v", tc.status, err)
			}
		})
	}
}

func TestFailOrderAndRefundBeforeDelivery(t *testing.T) {
	f, a, clk, _ := lifecycleFake(t, Options{DeliverAfter: time.Minute})
	inv := a.createInvoice(`{"products":[{"product_id":"amazon-us","value":20,"quantity":3}],"payment_method":"balance"}`)
	ids := orderIDs(inv)
	if err := f.Refund(ids[1]); !errors.Is(err, ErrState) {
		t.Errorf("refund unpaid order: %v", err)
	}
	if err := f.FailOrder(ids[0]); err != nil {
		t.Fatal(err)
	}
	a.mustOK(a.do("POST", "/invoices/"+str(inv["id"])+"/pay", nil))
	if f.Balance() != "40.00" {
		t.Errorf("balance after pay %s", f.Balance())
	}
	if err := f.Refund(ids[1]); err != nil {
		t.Fatal(err)
	}
	if f.Balance() != "60.00" {
		t.Errorf("balance after refund %s", f.Balance())
	}
	clk.Add(time.Minute)
	snap, _ := f.Invoice(str(inv["id"]))
	got := []string{snap.Orders[0].Status, snap.Orders[1].Status, snap.Orders[2].Status}
	if snap.Status != "complete" || strings.Join(got, ",") != "failed,refunded,delivered" {
		t.Errorf("%s %v", snap.Status, got)
	}
	if err := f.FailOrder(ids[2]); !errors.Is(err, ErrState) {
		t.Errorf("FailOrder after delivery: %v", err)
	}
	if err := f.FailOrder("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FailOrder unknown: %v", err)
	}
}

func TestBalancePay(t *testing.T) {
	f, a := newAPI(t, Options{Balance: "60"})
	inv := a.createInvoice(`{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"balance"}`)
	id := str(inv["id"])
	r := a.mustOK(a.do("POST", "/invoices/"+id+"/pay", nil))
	if r.data()["status"] != "payment_detected" || f.Balance() != "10.00" {
		t.Errorf("pay: %v balance %s", r.data()["status"], f.Balance())
	}
	if r := a.do("POST", "/invoices/"+id+"/pay", nil); r.status != 404 || r.code() != "not_found" {
		t.Errorf("pay twice: %d %s", r.status, r.raw)
	}
	if r := a.do("POST", "/invoices/00000000-0000-4000-8000-000000000000/pay", nil); r.status != 404 {
		t.Errorf("pay unknown: %d", r.status)
	}
	inv = a.createInvoice(`{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"balance"}`)
	if r := a.do("POST", "/invoices/"+str(inv["id"])+"/pay", nil); r.status != 403 || r.code() != "balance_too_low" {
		t.Errorf("pay too low: %d %s", r.status, r.raw)
	}
	btc := a.createInvoice(`{"products":[{"product_id":"test-gift-card-code","value":1}],"payment_method":"bitcoin"}`)
	if r := a.do("POST", "/invoices/"+str(btc["id"])+"/pay", nil); r.status != 400 || r.code() != "invalid_param" {
		t.Errorf("pay bitcoin invoice: %d %s", r.status, r.raw)
	}
	f.SetBalance("100")
	r = a.mustOK(a.do("POST", "/invoices", `{"products":[{"product_id":"amazon-us","value":50}],"payment_method":"balance","auto_pay":true}`))
	if r.data()["status"] != "payment_detected" || f.Balance() != "50.00" {
		t.Errorf("auto_pay: %v balance %s", r.data()["status"], f.Balance())
	}
	if r := a.mustOK(a.get("/invoices/" + str(r.data()["id"]))); r.data()["status"] != "complete" {
		t.Errorf("auto-paid invoice %v", r.data()["status"])
	}
	if r := a.mustOK(a.get("/accounts/balance")); str(r.data()["balance"]) != "50.00" {
		t.Errorf("balance endpoint %s", r.raw)
	}
}

func TestInvoiceAndOrderLists(t *testing.T) {
	_, a, clk, _ := lifecycleFake(t, Options{})
	var ids []string
	for i := range 7 {
		inv := a.createInvoice(fmt.Sprintf(`{"products":[{"product_id":"amazon-us","value":%d,"quantity":2}],"payment_method":"bitcoin"}`, 10+i))
		ids = append(ids, str(inv["id"]))
		clk.Add(time.Minute)
	}
	r := a.mustOK(a.get("/invoices?limit=3"))
	if l := r.list(); len(l) != 3 || l[0].(map[string]any)["id"] != ids[6] || l[2].(map[string]any)["id"] != ids[4] {
		t.Errorf("newest first: %v", r.list())
	}
	if r.meta()["_next"] == nil {
		t.Error("no _next on first page")
	}
	if l := a.mustOK(a.get("/invoices?start=6")).list(); len(l) != 1 || l[0].(map[string]any)["id"] != ids[0] {
		t.Errorf("last page %v", l)
	}
	created := newClock().Now() // the first invoice's time
	after := created.Add(5 * time.Minute)
	for _, q := range []string{"after=" + after.Format(time.RFC3339), fmt.Sprintf("after=%d", after.Unix())} {
		if l := a.mustOK(a.get("/invoices?" + q)).list(); len(l) != 2 || l[1].(map[string]any)["id"] != ids[5] {
			t.Errorf("%s: %d invoices", q, len(l))
		}
	}
	if l := a.mustOK(a.get("/invoices?before=" + created.Add(time.Minute).Format(time.RFC3339))).list(); len(l) != 1 {
		t.Errorf("before: %d invoices", len(l))
	}
	if r := a.get("/invoices?after=yesterday"); r.status != 400 || r.code() != "invalid_param" {
		t.Errorf("bad after: %d", r.status)
	}
	orders := walk(t, a, "/orders")
	if len(orders) != 14 || orders[0]["invoice"].(map[string]any)["id"] != ids[6] || orders[13]["invoice"].(map[string]any)["id"] != ids[0] {
		t.Errorf("orders: %d", len(orders))
	}
	if o := a.mustOK(a.get("/orders?limit=1")); o.meta()["_next"] == nil {
		t.Error("orders not paginated")
	}
}

func TestRunSendsWebhooksWithoutReads(t *testing.T) {
	f, a := newAPI(t, Options{})
	h := webhookReceiver(t)
	inv := a.createInvoice(fmt.Sprintf(`{"products":[{"product_id":"test-phone-refill","value":5,"phone_number":"+4915112345678"}],"payment_method":"bitcoin","webhook_url":%q}`, h.url))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	if err := f.MarkPaid(str(inv["id"])); err != nil {
		t.Fatal(err)
	}
	if body := h.wait(t); body["status"] != "complete" {
		t.Errorf("webhook %v", body["status"])
	}
	cancel()
	<-done
}

func TestConcurrentUse(t *testing.T) {
	f, a := newAPI(t, Options{Balance: "1000000"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 5 {
				r := a.do("POST", "/invoices", `{"products":[{"product_id":"amazon-us","value":10}],"payment_method":"balance","auto_pay":true}`)
				if r.status != 200 {
					t.Errorf("worker %d: %d", i, r.status)
					return
				}
				a.get("/orders?limit=5")
				f.Advance()
				f.Requests()
			}
		})
	}
	wg.Wait()
	if n := len(walk(t, a, "/invoices")); n != 40 {
		t.Errorf("%d invoices", n)
	}
	if f.Balance() != "999600.00" {
		t.Errorf("balance %s", f.Balance())
	}
}

// A card scanned at the till comes with its code as a CODE_128 barcode,
// while the brand's other countries keep their own shape.
func TestBarcodeRedemption(t *testing.T) {
	f, a := newAPI(t, Options{})
	inv := a.createInvoice(`{"products":[{"product_id":"starbucks-us","value":10},{"product_id":"starbucks-ca","value":10}],"payment_method":"bitcoin"}`)
	if err := f.MarkPaid(str(inv["id"])); err != nil {
		t.Fatal(err)
	}
	ids := orderIDs(inv)
	us := a.mustOK(a.get("/orders/" + ids[0])).data()["redemption_info"].(map[string]any)
	if us["barcode_format"] != "CODE_128" || us["barcode_value"] == nil || us["barcode_value"] != us["code"] {
		t.Errorf("starbucks-us redemption %v, want its code as a CODE_128 barcode", us)
	}
	ca := a.mustOK(a.get("/orders/" + ids[1])).data()["redemption_info"].(map[string]any)
	if ca["barcode_format"] != nil || ca["pin"] == nil {
		t.Errorf("starbucks-ca redemption %v, want code, PIN and extra fields", ca)
	}
}
