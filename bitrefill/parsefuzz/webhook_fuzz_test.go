package parsefuzz

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"refillbot/bitrefill"
)

// Whatever a stranger posts, the parser neither panics nor accepts an id
// that could escape the API path.
func FuzzWebhookInvoiceID(f *testing.F) {
	for _, s := range []string{`{"id":"x"}`, `{"data":{"invoice":{"id":"y"}}}`, `{"id":"../x"}`, `{`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, ok := bitrefill.WebhookInvoiceID(body)
		if ok && (id == "" || len(id) > 128 || strings.ContainsAny(id, "/?#%\\ \t\r\n")) {
			t.Fatalf("accepted id %q", id)
		}
	})
}

// What Bitrefill posts to the webhook names an invoice in one of the shapes
// seen (its id at the top, under invoice_id, or wrapped in data or
// invoice): each shape gives the id back exactly, and an id read from any
// body is one the body holds. (FuzzWebhookInvoiceID checks that it cannot
// escape the API path; FuzzDecodeResponse in package bitrefill reads the
// rest.)
func FuzzWebhookBody(f *testing.F) {
	for _, s := range []string{"inv00001-0000-4000-8000-000000000000", "x", "../x", "a b", "ü", strings.Repeat("x", 129), `"quoted"`} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, id string, shape uint8) {
		if !utf8.ValidString(id) {
			return // JSON cannot carry it
		}
		// Only the body of this shape is built: each execution costs what
		// reading one body costs.
		inner := `{"id":` + quote(id) + `,"status":"complete"}`
		var body string
		switch shape % 4 {
		case 0:
			body = inner
		case 1:
			body = `{"invoice_id":` + quote(id) + `}`
		case 2:
			body = `{"data":` + inner + `}`
		case 3:
			body = `{"invoice":` + inner + `,"event":"invoice.complete"}`
		}
		got, ok := bitrefill.WebhookInvoiceID([]byte(body))
		if !ok {
			if id != "" && len(id) <= 128 && !strings.ContainsAny(id, "/?#%\\ \t\r\n") {
				t.Fatalf("%s refused", body)
			}
			return
		}
		if got != id {
			t.Fatalf("%s read as %q", body, got)
		}
	})
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
