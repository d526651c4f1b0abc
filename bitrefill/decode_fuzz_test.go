package bitrefill

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets of this file cover everything the client reads from
// Bitrefill (and a webhook carries): the response envelope, each record
// type, and the lenient field readers they are built on.

// Whatever a response body holds, decoding it never panics and gives the
// same result every time; the money it reads is exact (its text parses back
// to the same decimal), and a status is never empty when one was sent.
func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		`{"data":{"id":"amazon-us","name":"Amazon US","type":"gift_card","country_code":"us","currency":"usd","packages":[{"id":"amazon-us<&>25","value":"25","price":24.5},25,{"value":1e2}],"range":{"min":10,"max":"200","step":1,"price_rate":0.98}},"meta":{"_next":"x"}}`,
		`{"data":{"id":"inv","status":"all_delivered","payment":{"method":"bitcoin","address":"bc1q","price":"0.00061234","currency":"BTC"},"orders":[{"id":"o","status":"delivered","redemption_info":{"code":"ABC","pin":1234,"link":"https://x","other":{"a":1}}}],"total":"50.00","created_time":1764000000000}}`,
		`{"data":{"iccid":"8900000000000000011","status":"active","packages":[{"data":"1GB","used":0.5,"expires":"2026-12-01 10:00:00"}]}}`,
		`{"data":{"balance":"100.00","currency":"USD"}}`,
		`{"message":"Not found","error_code":"not_found"}`, `{"error":{"code":"rate_limited","message":"slow down"}}`, `{"error":"bad"}`,
		`{"operator_found":"yes","data":[]}`, `{"data":null}`, `[]`, `"x"`, ``, `{"data":{"orders":[null,1,"x"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := decodeEnvelope(body)
		if err != nil {
			return
		}
		again, _ := decodeEnvelope(body)
		if !reflect.DeepEqual(env, again) {
			t.Fatal("the envelope decodes differently twice")
		}
		data := env.Data
		if len(data) == 0 {
			data = body // webhooks post the invoice itself
		}
		var p Product
		if json.Unmarshal(data, &p) == nil {
			for _, pk := range p.Packages {
				if d, ok := pk.Amount(); ok {
					exact(t, "package value", d)
				}
			}
			if p.Range != nil {
				exact(t, "range min", p.Range.Min)
				exact(t, "range max", p.Range.Max)
			}
			same(t, data, p)
		}
		var inv Invoice
		if json.Unmarshal(data, &inv) == nil {
			exact(t, "invoice total", inv.Total)
			for _, o := range inv.Orders {
				if o.Redemption != nil && strings.Contains(o.Redemption.LogValue().String(), o.Redemption.Code) && o.Redemption.Code != "" {
					t.Fatal("a redemption code reaches the log")
				}
			}
			same(t, data, inv)
		}
		var o Order
		if json.Unmarshal(data, &o) == nil {
			same(t, data, o)
		}
		var e ESIM
		if json.Unmarshal(data, &e) == nil {
			same(t, data, e)
		}
		var b Balance
		if json.Unmarshal(data, &b) == nil {
			same(t, data, b)
		}
		var list []Product
		if json.Unmarshal(data, &list) == nil {
			same(t, data, list)
		}
	})
}

// exact checks that a decoded amount is exact: its text parses back to it.
func exact(t *testing.T, what string, d Decimal) {
	t.Helper()
	if back, err := ParseDecimal(d.String()); err != nil || back != d {
		t.Fatalf("%s %s reads back as %v, %v", what, d, back, err)
	}
}

// same checks that decoding data again into a fresh T gives v.
func same[T any](t *testing.T, data []byte, v T) {
	t.Helper()
	var w T
	if err := json.Unmarshal(data, &w); err != nil || !reflect.DeepEqual(v, w) {
		t.Fatalf("%T decodes differently twice: %v", v, err)
	}
}

// Each lenient reader agrees with the JSON value it reads: a string reads
// as itself, an integer as its value, true and false as themselves, and a
// decimal exactly; none panics on any value.
func FuzzLenientValue(f *testing.F) {
	for _, s := range []string{`"25.50"`, `25.50`, `1e3`, `-0`, `"  7 "`, `true`, `"yes"`, `0`, `null`, `{"a":[1,"b"]}`, `["x",{"name":"y"},3]`,
		`9223372036854775807`, `9223372036854775808`, `"2026-11-24T09:00:00Z"`, `1764000000`, `1764000000123`, `"\u00e9"`, `1E-400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// raw must be one JSON value: `0,"":0` also makes a valid
		// document, with a second field, and v is then only the 0.
		if !json.Valid(raw) {
			return
		}
		doc := append(append([]byte(`{"v":`), raw...), '}')
		fs, err := decodeFields(doc)
		if err != nil {
			t.Fatalf("a valid object %s: %v", doc, err)
		}
		v := fs.get("v")
		trimmed := bytes.TrimSpace(raw)
		if string(trimmed) == "null" {
			if v != nil || fs.str("v") != "" {
				t.Fatalf("null read as %q", v)
			}
			return
		}
		var value any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // as the readers do: no number passes through float64
		if err := dec.Decode(&value); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		s := rawString(v)
		switch x := value.(type) {
		case string:
			if rawKind(v) != '"' || s != x {
				t.Fatalf("string %s read as %q", raw, s)
			}
		case bool:
			if b, ok := rawBool(v); !ok || b != x {
				t.Fatalf("bool %s read as %v, %v", raw, b, ok)
			}
		case json.Number:
			if rawKind(v) != '0' || s != string(trimmed) {
				t.Fatalf("number %s read as %q", raw, s)
			}
		case map[string]any, []any:
			if rawKind(v) != trimmed[0] {
				t.Fatalf("%s has kind %q", raw, rawKind(v))
			}
		}
		if d, ok := rawDecimal(v); ok {
			exact(t, "decimal", d)
		}
		if n, ok := rawInt64(v); ok {
			if want, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n != want {
				t.Fatalf("integer %s read as %d", raw, n)
			}
		}
		for _, el := range rawStrings(v) {
			if el == "" {
				t.Fatalf("%s lists an empty string", raw)
			}
		}
		_ = rawTime(v)
		_ = rawStringMap(v)
		_ = numberText(v)
	})
}
