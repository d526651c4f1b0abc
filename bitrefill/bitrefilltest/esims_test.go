package bitrefilltest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func luhnValid(s string) bool {
	return len(s) > 1 && luhnDigit(s[:len(s)-1]) == s[len(s)-1]
}

func TestESIMPurchaseAndTopUp(t *testing.T) {
	f, a, clk, _ := lifecycleFake(t, Options{})
	inv := a.mustOK(a.do("POST", "/esims", `{"products":[{"product_id":"bitrefill-esim-europe","value":"1GB, 7 Days"}],"payment_method":"balance","auto_pay":true}`)).data()
	if str(inv["total"]) != "4.50" {
		t.Errorf("total %v", inv["total"])
	}
	if r := a.mustOK(a.get("/invoices/" + str(inv["id"]))); r.data()["status"] != "complete" {
		t.Fatalf("invoice %v", r.data()["status"])
	}
	o := a.mustOK(a.get("/orders/" + orderIDs(inv)[0])).data()
	ri := o["redemption_info"].(map[string]any)
	iccid := ""
	for _, e := range a.mustOK(a.get("/esims")).list() { // as documented: matched on the LPA
		if e := e.(map[string]any); e["barcode_value"] == ri["barcode_value"] {
			iccid = str(e["id"])
		}
	}
	if ri["barcode_format"] != "QRCODE" || !strings.HasPrefix(str(ri["barcode_value"]), "LPA:1$smdp.example$") {
		t.Errorf("eSIM redemption %v", ri)
	}
	if len(iccid) != 19 || !strings.HasPrefix(iccid, "89") || !luhnValid(iccid) {
		t.Fatalf("ICCID %q", iccid)
	}
	e := a.mustOK(a.get("/esims/" + iccid)).data()
	hist := e["package_history"].([]any)
	if e["rsp_url"] != "smdp.example" || e["barcode_value"] != ri["barcode_value"] || e["installed"] != false || len(str(e["pin"])) != 4 || len(hist) != 1 {
		t.Fatalf("eSIM %v", e)
	}
	first := hist[0].(map[string]any)
	if first["package_name"] != "1GB, 7 Days" || str(first["data_mb"]) != "1000" || first["status"] != "active" || str(first["remaining_quantity"]) != "1000000000" {
		t.Errorf("bundle %v", first)
	}
	if exp, err := time.Parse(time.RFC3339, str(first["expiration_date"])); err != nil || !exp.Equal(clk.Now().AddDate(0, 0, 7)) {
		t.Errorf("expiration %v %v", first["expiration_date"], err)
	}

	// Top-up through /invoices with esim_id appends to package_history.
	top := a.createInvoice(fmt.Sprintf(`{"products":[{"product_id":"bitrefill-esim-global","package_id":"bitrefill-esim-global<&>3GB, 30 Days","esim_id":%q}],"payment_method":"bitcoin"}`, iccid))
	if err := f.MarkPaid(str(top["id"])); err != nil {
		t.Fatal(err)
	}
	clk.Add(8 * 24 * time.Hour)
	e = a.mustOK(a.get("/esims/" + iccid)).data()
	hist = e["package_history"].([]any)
	if len(hist) != 2 {
		t.Fatalf("history after top-up: %v", hist)
	}
	if h0 := hist[0].(map[string]any); h0["status"] != "expired" || str(h0["remaining_quantity"]) != "0" {
		t.Errorf("first bundle after 8 days %v", h0)
	}
	if h1 := hist[1].(map[string]any); h1["package_name"] != "3GB, 30 Days" || h1["status"] != "active" {
		t.Errorf("top-up bundle %v", h1)
	}
	if to := a.mustOK(a.get("/orders/" + orderIDs(top)[0])).data(); to["status"] != "delivered" || to["esim_id"] != nil {
		t.Errorf("top-up order %v", to)
	}

	// A second purchase makes a second eSIM; the list is newest first.
	inv2 := a.mustOK(a.do("POST", "/esims", `{"products":[{"product_id":"bitrefill-esim-japan","value":"5GB, 30 Days"}],"payment_method":"balance","auto_pay":true}`)).data()
	a.get("/invoices/" + str(inv2["id"]))
	list := a.mustOK(a.get("/esims")).list()
	if len(list) != 2 || list[1].(map[string]any)["id"] != iccid {
		t.Errorf("eSIM list %v", list)
	}
	if r := a.do("POST", "/esims", `{"products":[{"product_id":"bitrefill-esim-europe","value":"1GB, 7 Days","esim_id":"8999999999999999999"}],"payment_method":"bitcoin"}`); r.status != 404 || r.code() != "not_found" {
		t.Errorf("unknown esim_id: %d %s", r.status, r.raw)
	}
}
