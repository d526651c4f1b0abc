package bitrefill

import (
	"encoding/json"
	"strings"
)

// WebhookInvoiceID finds the invoice id in the body Bitrefill posts to a
// webhook: the invoice itself ({"id": …}), or wrapped ({"data": {…}},
// {"invoice": {…}}, {"invoice_id": …}). Anyone who knows the URL can post,
// so an id that could not be an invoice id (empty, over 128 bytes, or with
// a character that could leave the API path) is refused.
func WebhookInvoiceID(body []byte) (string, bool) { return webhookID(body, 2) }

// webhookID looks depth levels of wrapping deep, no more: each level parses
// the body again, and a stranger's deeply nested body must stay cheap.
func webhookID(body []byte, depth int) (string, bool) {
	var v struct {
		ID        string          `json:"id"`
		InvoiceID string          `json:"invoice_id"`
		Data      json.RawMessage `json:"data"`
		Invoice   json.RawMessage `json:"invoice"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", false
	}
	id := v.InvoiceID
	if id == "" {
		id = v.ID
	}
	for _, inner := range []json.RawMessage{v.Data, v.Invoice} {
		if id != "" || len(inner) == 0 || depth == 0 {
			continue
		}
		if s, ok := webhookID(inner, depth-1); ok {
			id = s
		}
	}
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "/?#%\\ \t\r\n") {
		return "", false
	}
	return id, true
}
