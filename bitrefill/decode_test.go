package bitrefill_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"refillbot/bitrefill"
)

func dec(s string) bitrefill.Decimal { return bitrefill.MustDecimal(s) }

func TestProductAliases(t *testing.T) {
	want := bitrefill.Product{
		ID: "amazon-us", Name: "Amazon US", Type: bitrefill.GiftCard, Country: "US",
		Currency: "USD", InStock: true, Image: "amazon-us", Categories: []string{"shopping"},
		Packages: []bitrefill.Package{
			{ID: "amazon-us<&>25", Value: "25"},
			{ID: "amazon-us<&>50", Value: "50"},
		},
		Range: &bitrefill.Range{Min: dec("10"), Max: dec("200"), Step: dec("1")},
	}
	tests := []struct {
		name string
		json string
		edit func(p *bitrefill.Product)
	}{
		{"documented", `{"id": "amazon-us", "name": "Amazon US", "type": "gift_card", "country": "US", "currency": "USD",
			"in_stock": true, "image": "amazon-us", "categories": ["shopping"],
			"packages": [{"package_id": "amazon-us<&>25", "value": 25}, {"package_id": "amazon-us<&>50", "value": 50}],
			"range": {"min": 10, "max": 200, "step": 1}}`, nil},
		{"seen aliases", `{"id": "amazon-us", "name": "Amazon US", "type": "gift_card", "country_code": "us",
			"country_name": "United States", "currency": "usd", "in_stock": true, "image": "amazon-us",
			"categories": ["shopping"], "unknown_field": {"x": [1,2]},
			"packages": [{"id": "amazon-us<&>25", "value": "25", "price": "24.50"}, {"id": "amazon-us<&>50", "value": "50", "amount": 49}],
			"range": {"min": "10", "max": "200", "step": "1", "price_rate": 0.98}}`,
			func(p *bitrefill.Product) {
				p.CountryName = "United States"
				p.Packages[0].Price = dec("24.5")
				p.Packages[1].Price = dec("49")
				p.Range.PriceRate = dec("0.98")
			}},
		{"no package ids, in_stock absent, range null then packages only", `{"id": "amazon-us", "name": "Amazon US",
			"type": "gift_card", "country": "US", "currency": "USD", "image": "amazon-us", "categories": ["shopping"],
			"packages": [{"value": 25}, {"value": "50"}], "range": null}`,
			func(p *bitrefill.Product) { p.Range = nil }},
		{"object categories, out_of_stock", `{"id": "amazon-us", "name": "Amazon US", "type": "gift_card",
			"country": "US", "currency": "USD", "out_of_stock": true, "image": "amazon-us",
			"categories": [{"name": "shopping"}], "packages": [25, "50"], "range": {"min": 10, "max": 200, "step": 1}}`,
			func(p *bitrefill.Product) { p.InStock = false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := want
			w.Packages = append([]bitrefill.Package(nil), want.Packages...)
			r := *want.Range
			w.Range = &r
			if tc.edit != nil {
				tc.edit(&w)
			}
			var got bitrefill.Product
			if err := json.Unmarshal([]byte(tc.json), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got  %+v\nwant %+v", got, w)
				if got.Range != nil && w.Range != nil {
					t.Errorf("range got %+v want %+v", *got.Range, *w.Range)
				}
			}
			// Marshal then decode again: storage round trips.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var again bitrefill.Product
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Errorf("round trip: %s\n%+v", b, again)
			}
		})
	}
}

func TestProductOddShapes(t *testing.T) {
	var p bitrefill.Product
	in := `{"id": "bitrefill-esim-europe", "name": "Bitrefill eSIM Europe", "type": "esim", "country": "EU",
		"coverage": ["DE", "FR"],
		"packages": [{"package_id": "bitrefill-esim-europe<&>1GB, 7 Days", "value": "1GB, 7 Days", "price": "4.99"},
		             {"package_id": "bitrefill-esim-europe<&>5GB, 30 Days"}]}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != bitrefill.ESIMType || len(p.Coverage) != 2 || len(p.Packages) != 2 {
		t.Fatalf("%+v", p)
	}
	if p.Packages[0].Value != "1GB, 7 Days" || p.Packages[1].Value != "5GB, 30 Days" {
		t.Errorf("values %+v", p.Packages)
	}
	if _, ok := p.Packages[0].Amount(); ok {
		t.Error("eSIM value read as a number")
	}
	if pk, ok := p.Package("5GB, 30 Days"); !ok || pk.ID != "bitrefill-esim-europe<&>5GB, 30 Days" {
		t.Errorf("Package lookup: %+v %v", pk, ok)
	}

	// Unknown type kept; numbers with decimals kept textually.
	if err := json.Unmarshal([]byte(`{"id": "x", "type": "crypto_voucher", "packages": [{"package_id": "x<&>25.50", "value": "25.50"}, {"value": 12.5}, {"value": 1e3}]}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "crypto_voucher" {
		t.Errorf("type %q", p.Type)
	}
	if got := []string{p.Packages[0].Value, p.Packages[1].Value, p.Packages[2].Value}; !reflect.DeepEqual(got, []string{"25.50", "12.5", "1000"}) {
		t.Errorf("values %q", got)
	}
	if a, ok := p.Packages[0].Amount(); !ok || a != dec("25.5") {
		t.Errorf("Amount = %s %v", a, ok)
	}
	if p.Packages[1].ID != "x<&>12.5" {
		t.Errorf("synthesised id %q", p.Packages[1].ID)
	}
	if pk, ok := p.Package("25.5"); !ok || pk.Value != "25.50" {
		t.Errorf("numeric Package lookup %+v %v", pk, ok)
	}

	// Phone operators need a phone number.
	if err := json.Unmarshal([]byte(`{"id": "at-t-usa", "type": "phone_refill", "recipient_type": "phone_number"}`), &p); err != nil {
		t.Fatal(err)
	}
	if !p.NeedsPhoneNumber() {
		t.Error("NeedsPhoneNumber false")
	}
}

func TestRangeAccepts(t *testing.T) {
	r := bitrefill.Range{Min: dec("10"), Max: dec("200"), Step: dec("5")}
	for v, want := range map[string]bool{"10": true, "15": true, "12": false, "200": true, "205": false, "5": false, "15.00": true, "15.5": false} {
		if got := r.Accepts(dec(v)); got != want {
			t.Errorf("Accepts(%s) = %v", v, got)
		}
	}
	r = bitrefill.Range{Min: dec("0.5"), Max: dec("10"), Step: dec("0.25")}
	for v, want := range map[string]bool{"0.75": true, "0.8": false, "10": true, "9.99": false} {
		if got := r.Accepts(dec(v)); got != want {
			t.Errorf("Accepts(%s) = %v", v, got)
		}
	}
}

func TestOrderAliases(t *testing.T) {
	created := time.Date(2026, 11, 23, 8, 12, 59, 0, time.UTC)
	tests := []struct {
		name string
		json string
		want bitrefill.Order
	}{
		{"documented", `{"id": "65f0c3", "status": "delivered", "invoice": {"id": "inv-1"},
			"product": {"id": "amazon-us", "name": "Amazon US", "value": "50", "currency": "USD"},
			"created_time": "2026-11-23T08:12:59Z", "delivered_time": "2026-11-23T08:13:59Z",
			"redemption_info": {"code": "ABCD", "pin": "1234", "link": "https://r", "instructions": "use it",
			  "barcode_format": "QRCODE", "barcode_value": "LPA:1$smdp$ID", "expiration_date": "2027-11-23",
			  "extra_fields": {"serial": "S1", "n": 12.50, "ok": true, "nested": {"a": 1}, "none": null}}}`,
			bitrefill.Order{ID: "65f0c3", Status: bitrefill.OrderDelivered, InvoiceID: "inv-1",
				Product:     bitrefill.OrderProduct{ID: "amazon-us", Name: "Amazon US", Value: "50", Currency: "USD"},
				CreatedTime: created, DeliveredTime: created.Add(time.Minute),
				Redemption: &bitrefill.Redemption{Code: "ABCD", PIN: "1234", Link: "https://r", Instructions: "use it",
					BarcodeFormat: "QRCODE", BarcodeValue: "LPA:1$smdp$ID", ExpirationDate: "2027-11-23",
					Extra: map[string]string{"serial": "S1", "n": "12.50", "ok": "true", "nested": `{"a":1}`, "none": ""}}}},
		{"seen", `{"id": "65f0c3", "status": "permanent_failure", "invoice_id": "inv-1",
			"product": {"id": "amazon-us", "name": "Amazon US", "value": 50, "currency": "usd"},
			"created_time": 1795421579, "delivered_time": "1795421639",
			"redemption_info": "Call the number on the card"}`,
			bitrefill.Order{ID: "65f0c3", Status: bitrefill.OrderFailed, InvoiceID: "inv-1",
				Product:     bitrefill.OrderProduct{ID: "amazon-us", Name: "Amazon US", Value: "50", Currency: "USD"},
				CreatedTime: created, DeliveredTime: created.Add(time.Minute),
				Redemption: &bitrefill.Redemption{Instructions: "Call the number on the card"}}},
		{"sparse", `{"id": "o2", "status": "shipped_by_owl", "invoice": "inv-2", "product": "steam-us", "redemption_info": null}`,
			bitrefill.Order{ID: "o2", Status: "shipped_by_owl", InvoiceID: "inv-2", Product: bitrefill.OrderProduct{ID: "steam-us"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got bitrefill.Order
			if err := json.Unmarshal([]byte(tc.json), &got); err != nil {
				t.Fatal(err)
			}
			if !got.CreatedTime.Equal(tc.want.CreatedTime) || !got.DeliveredTime.Equal(tc.want.DeliveredTime) {
				t.Errorf("times %v %v", got.CreatedTime, got.DeliveredTime)
			}
			got.CreatedTime, got.DeliveredTime = tc.want.CreatedTime, tc.want.DeliveredTime
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v %+v\nwant %+v %+v", got, got.Redemption, tc.want, tc.want.Redemption)
			}
			b, _ := json.Marshal(got)
			var again bitrefill.Order
			if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip %s: %+v %v", b, again, err)
			}
		})
	}
}

func TestInvoiceDecoding(t *testing.T) {
	in := `{"id": "9a1c", "created_time": "2026-11-23T08:12:59Z", "expiration_time": 1795432379, "status": "all_delivered",
		"payment": {"method": "bitcoin", "address": "bc1qxyz", "currency": "BTC", "price": 0.00123456, "status": "unpaid"},
		"orders": [{"id": "o1", "status": "created", "product": {"id": "amazon-us", "value": 50}}],
		"total": "50.00", "extra": 1}`
	var inv bitrefill.Invoice
	if err := json.Unmarshal([]byte(in), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.Status != bitrefill.InvoiceComplete || !inv.Status.Final() {
		t.Errorf("status %q", inv.Status)
	}
	if inv.Payment.Price.String() != "0.00123456" || inv.Total != dec("50") {
		t.Errorf("payment %+v total %s", inv.Payment, inv.Total)
	}
	if got := inv.Payment.URI(); got != "bitcoin:bc1qxyz?amount=0.00123456" {
		t.Errorf("URI %q", got)
	}
	if inv.ExpirationTime.Unix() != 1795432379 || inv.CreatedTime.IsZero() {
		t.Errorf("times %v %v", inv.CreatedTime, inv.ExpirationTime)
	}
	if len(inv.Orders) != 1 || inv.Orders[0].InvoiceID != "9a1c" || inv.Orders[0].Product.Value != "50" {
		t.Errorf("orders %+v", inv.Orders)
	}
	// Storage round trip keeps everything.
	b, _ := json.Marshal(inv)
	var again bitrefill.Invoice
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	if !again.CreatedTime.Equal(inv.CreatedTime) || !again.ExpirationTime.Equal(inv.ExpirationTime) {
		t.Errorf("round trip times")
	}
	again.CreatedTime, again.ExpirationTime = inv.CreatedTime, inv.ExpirationTime
	again.Orders[0].CreatedTime = inv.Orders[0].CreatedTime
	if !reflect.DeepEqual(again, inv) {
		t.Errorf("round trip %s\n%+v\n%+v", b, again, inv)
	}

	// Price as a string of minor units; payment_uri as given.
	in = `{"id": "x", "status": "unpaid", "payment": {"method": "usdc_base", "address": "0xabc", "price": "12500000", "payment_uri": "ethereum:0xabc@8453"}}`
	if err := json.Unmarshal([]byte(in), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.Payment.Price.String() != "12500000" || inv.Payment.URI() != "ethereum:0xabc@8453" {
		t.Errorf("%+v %q", inv.Payment, inv.Payment.URI())
	}
}

func TestPaymentURI(t *testing.T) {
	tests := []struct {
		p    bitrefill.Payment
		want string
	}{
		{bitrefill.Payment{Method: "bitcoin", Address: "bc1q", Price: dec("0.001")}, "bitcoin:bc1q?amount=0.001"},
		{bitrefill.Payment{Method: "bitcoin", Address: "bc1q"}, "bitcoin:bc1q"},
		{bitrefill.Payment{Method: "lightning", LightningInvoice: "lnbc1"}, "lightning:lnbc1"},
		{bitrefill.Payment{Method: "lightning", Address: "x", LightningInvoice: "lnbc1"}, "lightning:lnbc1"},
		{bitrefill.Payment{Method: "bitcoin", Address: "bc1q", PaymentURI: "bitcoin:bc1q?amount=1"}, "bitcoin:bc1q?amount=1"},
		{bitrefill.Payment{Method: "ethereum", Address: "0xabc"}, "0xabc"},
		{bitrefill.Payment{Method: "balance"}, ""},
	}
	for _, tc := range tests {
		if got := tc.p.URI(); got != tc.want {
			t.Errorf("%+v URI = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestStatusNormalisation(t *testing.T) {
	inv := map[string]bitrefill.InvoiceStatus{
		"unpaid": bitrefill.InvoiceUnpaid, "payment_detected": bitrefill.InvoicePaymentDetected,
		"payment_confirmed": bitrefill.InvoicePaymentConfirmed, "pending": bitrefill.InvoicePending,
		"complete": bitrefill.InvoiceComplete, "blocked": bitrefill.InvoiceBlocked, "denied": bitrefill.InvoiceDenied,
		"payment_error": bitrefill.InvoicePaymentError, "expired": bitrefill.InvoiceExpired,
		"not_delivered": bitrefill.InvoicePending, "delivered": bitrefill.InvoiceComplete,
		"all_delivered": bitrefill.InvoiceComplete, "partial_delivery": bitrefill.InvoiceComplete,
		"all_error": bitrefill.InvoicePaymentError, "COMPLETE": bitrefill.InvoiceComplete,
		"brand_new_state": "brand_new_state",
	}
	for in, want := range inv {
		var got bitrefill.InvoiceStatus
		if err := json.Unmarshal([]byte(`"`+in+`"`), &got); err != nil || got != want {
			t.Errorf("invoice %q → %q (%v), want %q", in, got, err, want)
		}
	}
	final := map[bitrefill.InvoiceStatus]bool{
		bitrefill.InvoiceUnpaid: false, bitrefill.InvoicePaymentDetected: false, bitrefill.InvoicePaymentConfirmed: false,
		bitrefill.InvoicePending: false, bitrefill.InvoiceComplete: true, bitrefill.InvoiceBlocked: true,
		bitrefill.InvoiceDenied: true, bitrefill.InvoicePaymentError: true, bitrefill.InvoiceExpired: true, "weird": false,
	}
	for s, want := range final {
		if s.Final() != want {
			t.Errorf("%q.Final() = %v", s, !want)
		}
	}
	ord := map[string]bitrefill.OrderStatus{
		"created": bitrefill.OrderCreated, "payment_detected": bitrefill.OrderPaymentDetected,
		"processing": bitrefill.OrderProcessing, "delivered": bitrefill.OrderDelivered,
		"failed": bitrefill.OrderFailed, "refunded": bitrefill.OrderRefunded,
		"permanent_failure": bitrefill.OrderFailed, "mystery": "mystery",
	}
	for in, want := range ord {
		if got := bitrefill.ParseOrderStatus(in); got != want {
			t.Errorf("order %q → %q, want %q", in, got, want)
		}
	}
}

func TestESIMDecoding(t *testing.T) {
	in := `{"id": "4058965632381351147", "rsp_url": "smdp.example", "pin": "1234",
		"barcode_value": "LPA:1$smdp.example$MATCHING-ID", "installed": false,
		"package_history": [{"package_name": "1GB, 7 Days", "data_mb": 1000, "status": "active",
			"remaining_quantity": 500000000, "expiration_date": "2026-12-01T00:00:00Z"},
			{"name": "5GB, 30 Days", "data_mb": "5000", "status": "purchased", "remaining_bytes": "5000000000", "expiration_date": 1796083200}]}`
	var e bitrefill.ESIM
	if err := json.Unmarshal([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	want := bitrefill.ESIM{ID: "4058965632381351147", RSPURL: "smdp.example", PIN: "1234",
		BarcodeValue: "LPA:1$smdp.example$MATCHING-ID",
		Packages: []bitrefill.ESIMPackage{
			{Name: "1GB, 7 Days", DataMB: 1000, Status: "active", RemainingBytes: 500000000,
				ExpirationDate: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
			{Name: "5GB, 30 Days", DataMB: 5000, Status: "purchased", RemainingBytes: 5000000000,
				ExpirationDate: time.Unix(1796083200, 0).UTC()},
		}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
}

func TestInvoiceLineEncoding(t *testing.T) {
	req := bitrefill.InvoiceRequest{
		Products: []bitrefill.InvoiceLine{
			{ProductID: "amazon-us", Value: "50"},
			{ProductID: "steam-us", Value: "25.50", Quantity: 2},
			{ProductID: "at-t-usa", PackageID: "at-t-usa<&>25", PhoneNumber: "+15551234567"},
			{ProductID: "bitrefill-esim-europe", Value: "5GB, 30 Days", ESIMID: "4058965632381351147"},
		},
		PaymentMethod: bitrefill.PayBitcoin,
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"products":[{"product_id":"amazon-us","value":50},{"product_id":"steam-us","value":25.5,"quantity":2},` +
		`{"product_id":"at-t-usa","package_id":"at-t-usa<&>25","phone_number":"+15551234567"},` +
		`{"product_id":"bitrefill-esim-europe","value":"5GB, 30 Days","esim_id":"4058965632381351147"}],"payment_method":"bitcoin"}`
	// json.Marshal escapes <, > and & in strings; compare after decoding
	// (with UseNumber, so 25.5 is compared as text).
	if !reflect.DeepEqual(decodeAny(t, b), decodeAny(t, []byte(want))) {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back bitrefill.InvoiceRequest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Products[1].Value = "25.50"
	if !reflect.DeepEqual(back, req) {
		t.Errorf("round trip %+v", back)
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
