package bitrefill_test

import (
	"strings"
	"testing"

	"refillbot/bitrefill"
)

func TestWebhookInvoiceID(t *testing.T) {
	for body, want := range map[string]string{
		`{"id":"abc-1"}`:                    "abc-1",
		`{"invoice_id":"abc-2","id":"evt"}`: "abc-2",
		`{"data":{"id":"abc-3"}}`:           "abc-3",
		`{"invoice":{"id":"abc-4"}}`:        "abc-4",
		`{"id":"a/b"}`:                      "",
		`{"id":12}`:                         "",
		`[]`:                                "",
		`{"id":"` + strings.Repeat("x", 200) + `"}`: "",
	} {
		got, ok := bitrefill.WebhookInvoiceID([]byte(body))
		if got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", body, got, ok, want)
		}
	}
}
