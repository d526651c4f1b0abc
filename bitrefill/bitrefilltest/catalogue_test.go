package bitrefilltest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func walk(t *testing.T, a api, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for start := 0; ; start += 50 {
		r := a.mustOK(a.get(path + sep + "start=" + strconv.Itoa(start)))
		for _, p := range r.list() {
			out = append(out, p.(map[string]any))
		}
		if r.meta()["_next"] == nil {
			return out
		}
	}
}

func TestCatalogueFacts(t *testing.T) {
	f, a := newAPI(t, Options{})
	listed := walk(t, a, "/products")
	all := walk(t, a, "/products?include_test_products=true")
	if len(listed) < 300 || len(listed) != f.Products() {
		t.Fatalf("%d listed products (Products()=%d), want >= 300", len(listed), f.Products())
	}
	tests := []string{"test-gift-card-code", "test-gift-card-link", "test-phone-refill", "test-gift-card-code-fail", "test-gift-card-link-fail", "test-phone-refill-fail"}
	if len(all) != len(listed)+len(tests) {
		t.Errorf("include_test_products adds %d products, want %d", len(all)-len(listed), len(tests))
	}
	byID := map[string]map[string]any{}
	for _, p := range listed {
		if strings.HasPrefix(str(p["id"]), "test-") {
			t.Errorf("test product %s listed by default", p["id"])
		}
	}
	for _, p := range all {
		byID[str(p["id"])] = p
	}
	for _, id := range tests {
		if byID[id] == nil {
			t.Errorf("%s missing with include_test_products", id)
		}
		a.mustOK(a.get("/products/" + id))
	}

	types, countries := map[string]int{}, map[string]bool{}
	var pkgOnly, rangeOnly, both, step1, step5, step001, outOfStock, phones int
	var aCountry, aPkgID, aValueStr, aRate int
	for _, p := range listed {
		id := str(p["id"])
		types[str(p["type"])]++
		cc := str(p["country"])
		if cc == "" {
			cc = str(p["country_code"])
			aCountry++
			if str(p["country_name"]) == "" {
				t.Errorf("%s: country_code without country_name", id)
			}
		}
		if len(cc) != 2 {
			t.Errorf("%s: country %q", id, cc)
		}
		countries[cc] = true
		if p["in_stock"] == false {
			outOfStock++
		}
		if p["recipient_type"] == "phone_number" {
			phones++
		}
		pkgs, _ := p["packages"].([]any)
		rng, _ := p["range"].(map[string]any)
		switch {
		case len(pkgs) > 0 && rng != nil:
			both++
		case len(pkgs) > 0:
			pkgOnly++
		case rng != nil:
			rangeOnly++
		default:
			t.Errorf("%s has no denominations", id)
		}
		if rng != nil {
			switch str(rng["step"]) {
			case "1":
				step1++
			case "5":
				step5++
			case "0.01":
				step001++
			}
			if rng["price_rate"] != nil {
				aRate++
			}
		}
		for _, k := range pkgs {
			km := k.(map[string]any)
			pid := str(km["package_id"])
			if pid == "" {
				pid = str(km["id"])
				aPkgID++
			}
			v := km["value"]
			if _, isStr := v.(string); isStr && p["type"] != "esim" {
				aValueStr++
			}
			if pid != id+"<&>"+str(v) {
				t.Errorf("%s: package id %q does not match value %v", id, pid, v)
			}
		}
		if p["type"] == "esim" {
			if cov, _ := p["coverage"].([]any); len(cov) == 0 {
				t.Errorf("%s: eSIM without coverage", id)
			}
			for _, k := range pkgs {
				if v, ok := k.(map[string]any)["value"].(string); !ok || !strings.Contains(v, "Days") {
					t.Errorf("%s: eSIM package value %v", id, v)
				}
			}
		}
	}
	for _, typ := range []string{"gift_card", "phone_refill", "esim", "bill_payment"} {
		if types[typ] == 0 {
			t.Errorf("no %s products", typ)
		}
	}
	if len(countries) < 25 {
		t.Errorf("%d countries", len(countries))
	}
	for name, n := range map[string]int{
		"packages-only": pkgOnly, "range-only": rangeOnly, "both": both, "step 1": step1, "step 5": step5,
		"step 0.01": step001, "out of stock": outOfStock, "phone operators": phones,
		"alias country_code": aCountry, "alias packages[].id": aPkgID, "alias string value": aValueStr, "alias price_rate": aRate,
	} {
		if n == 0 {
			t.Errorf("no products with %s", name)
		}
	}
	t.Logf("%d products, types %v, %d countries", len(listed), types, len(countries))

	// The demo product, exactly as documented.
	raw := a.mustOK(a.get("/products/amazon-us")).raw
	want := `"data":{"id":"amazon-us","name":"Amazon US","type":"gift_card","country":"US","currency":"USD","in_stock":true,"image":"amazon-us","categories":["shopping"],"packages":[{"package_id":"amazon-us<&>25","value":25},{"package_id":"amazon-us<&>50","value":50},{"package_id":"amazon-us<&>100","value":100}],"range":{"min":10,"max":200,"step":1}}`
	if !strings.Contains(string(raw), want) {
		t.Errorf("amazon-us:\n got %s\nwant %s", raw, want)
	}
	for id, name := range map[string]string{"amazon-de": "Amazon Germany", "playstation-us": "PlayStation US", "steam-de": "Steam Germany"} {
		if got := str(byID[id]["name"]); got != name {
			t.Errorf("%s name %q, want %q", id, got, name)
		}
	}
	for _, id := range []string{"netflix-us", "spotify-us", "steam-us", "xbox-us", "google-play-us", "apple-us", "uber-us", "airbnb-us",
		"at-t-usa", "t-mobile-usa", "vodafone-de", "orange-fr", "movistar-es", "claro-mx", "airtel-in",
		"bitrefill-esim-europe", "bitrefill-esim-global", "bitrefill-esim-asia", "bitrefill-esim-usa", "comed-us"} {
		if byID[id] == nil || byID[id]["in_stock"] != true {
			t.Errorf("%s missing or out of stock", id)
		}
	}
	if byID["playstation-tr"]["in_stock"] != false {
		t.Error("playstation-tr should be out of stock")
	}

	// Deterministic: a second fake renders byte-identical products.
	g := New(Options{})
	defer g.Close()
	for i, p := range f.products {
		if string(p.raw) != string(g.products[i].raw) {
			t.Fatalf("catalogue differs between instances at %s", p.id)
		}
	}
}

func TestESIMProducts(t *testing.T) {
	_, a := newAPI(t, Options{})
	list := walk(t, a, "/products/esims")
	if len(list) < 10 {
		t.Fatalf("%d eSIM products", len(list))
	}
	for _, p := range list {
		if p["type"] != "esim" {
			t.Errorf("%s in /products/esims", p["id"])
		}
	}
	r := a.mustOK(a.get("/products/esims/bitrefill-esim-europe"))
	var got struct {
		Data struct {
			Coverage []string
			Packages []struct {
				PackageID string `json:"package_id"`
				Value     string
			}
		}
	}
	if err := json.Unmarshal(r.raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data.Coverage) < 10 || got.Data.Packages[0].Value != "1GB, 7 Days" || got.Data.Packages[0].PackageID != "bitrefill-esim-europe<&>1GB, 7 Days" {
		t.Errorf("europe plan: %s", r.raw)
	}
	if r := a.get("/products/esims/amazon-us"); r.status != 404 || r.code() != "not_found" {
		t.Errorf("non-eSIM via /products/esims: %d", r.status)
	}
	de := walk(t, a, "/products/esims?country=DE")
	ids := ""
	for _, p := range de {
		ids += str(p["id"]) + " "
	}
	if !strings.Contains(ids, "bitrefill-esim-europe ") || !strings.Contains(ids, "bitrefill-esim-germany ") || strings.Contains(ids, "bitrefill-esim-japan") {
		t.Errorf("eSIMs for DE: %s", ids)
	}
}

func TestCheckPhoneNumber(t *testing.T) {
	_, a := newAPI(t, Options{})
	for _, tc := range []struct {
		query  string
		status int
		code   string
		found  any
		ids    string
	}{
		{"phone_number=%2B15551234567", 200, "", false, "at-t-usa t-mobile-usa"},
		{"phone_number=%2B15551234567&operator=t-mobile-usa", 200, "", true, "t-mobile-usa"},
		{"phone_number=%2B15551234567&operator=vodafone-de", 400, "unsupported_operator", nil, ""},
		{"phone_number=%2B4915112345678", 200, "", true, "vodafone-de"},
		{"phone_number=%2B33612345678", 200, "", true, "orange-fr"},
		{"phone_number=%2B919812345678", 200, "", false, "airtel-in jio-in"},
		{"phone_number=%2B35312345678", 404, "not_found", nil, ""},
		{"phone_number=%2B99912345678", 404, "not_found", nil, ""},
		{"", 400, "missing_param", nil, ""},
		{"phone_number=15551234567", 400, "invalid_phone_number", nil, ""},
		{"phone_number=+15551234567", 400, "invalid_phone_number", nil, ""}, // unencoded + decodes to a space
		{"phone_number=%2B1555", 400, "invalid_phone_number", nil, ""},
		{"phone_number=%2B1555abc4567", 400, "invalid_phone_number", nil, ""},
	} {
		r := a.get("/check_phone_number?" + tc.query)
		if r.status != tc.status || r.code() != tc.code || r.body["operator_found"] != tc.found {
			t.Errorf("%s: %d %s", tc.query, r.status, r.raw)
			continue
		}
		var ids []string
		switch d := r.body["data"].(type) {
		case map[string]any:
			ids = append(ids, str(d["id"]))
		case []any:
			for _, p := range d {
				ids = append(ids, str(p.(map[string]any)["id"]))
			}
		}
		if strings.Join(ids, " ") != tc.ids {
			t.Errorf("%s: operators %v, want %s", tc.query, ids, tc.ids)
		}
	}
}
