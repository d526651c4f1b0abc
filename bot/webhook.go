package bot

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"

	"refillbot/bitrefill"
)

// WebhookPath is where Bitrefill's webhooks arrive, followed by the
// installation's secret: WebhookPath + secret.
const WebhookPath = "/webhooks/bitrefill/"

// maxWebhookBody bounds what is read from a webhook: an invoice with many
// orders is a few kilobytes.
const maxWebhookBody = 256 << 10

// WebhookURL is the webhook_url to give Bitrefill for a public base URL.
func WebhookURL(publicBase, secret string) string {
	return strings.TrimRight(publicBase, "/") + WebhookPath + secret
}

// WebhookHandler receives Bitrefill's invoice webhooks at WebhookPath +
// Config.WebhookSecret (mount it on WebhookPath). The body is only a hint of
// which invoice to look at: anyone who learnt the URL could post anything,
// so the invoice and its orders are fetched from the API, and what the API
// says is what the user is told. The answer is immediate; the check runs in
// the background, collapsed with any check of the same invoice already
// under way (a duplicate webhook, the poller).
//
// A wrong secret gets 404, as if nothing were here; a body that is too large
// gets 413 and one that names no invoice 400. An unknown invoice is
// acknowledged with 200 (Bitrefill would otherwise retry) and ignored.
func (b *Bot) WebhookHandler(ctx context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, _ := strings.CutPrefix(r.URL.Path, WebhookPath)
		if b.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(b.cfg.WebhookSecret)) != 1 {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		id, ok := bitrefill.WebhookInvoiceID(body)
		if !ok {
			http.Error(w, "no invoice id in body", http.StatusBadRequest)
			return
		}
		t, tracked, err := b.cfg.Store.TrackedInvoice(id)
		switch {
		case err != nil:
			b.log.Error("webhook: tracked invoice", "err", err)
			http.Error(w, "storage unavailable", http.StatusServiceUnavailable) // Bitrefill retries
			return
		case !tracked:
			b.log.Info("webhook for an invoice not tracked (settled or unknown)", "invoice", id)
			w.WriteHeader(http.StatusOK)
			return
		}
		// Paid: a final webhook means a buyer waiting for a code. It joins
		// the paid batch here, so its wait counts from its arrival (paid.go).
		inv := webhookInvoice(body, t.InvoiceID)
		queued, run := false, false
		if inv != nil {
			queued, run = b.queuePaid(*inv)
		}
		if queued && !run {
			w.WriteHeader(http.StatusOK) // the running batches take it
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer func() {
				if v := recover(); v != nil {
					// A bug in one check must not take the bot down.
					b.log.Error("panic in webhook check", "invoice", t.InvoiceID, "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
				}
			}()
			switch {
			case run:
				b.runPaid(ctx, true)
			case inv != nil:
				b.checkInvoiceFrom(bitrefill.WithPriority(ctx, bitrefill.Paid), t.InvoiceID, inv)
			default:
				b.checkInvoiceFrom(bitrefill.WithPriority(ctx, bitrefill.Paid), t.InvoiceID, nil)
			}
		}()
		w.WriteHeader(http.StatusOK)
	})
}

// webhookInvoice reads the invoice a webhook carries, when it is whole and
// final (Bitrefill posts the invoice object when it reaches complete, denied
// or payment_error), so the check can skip GET /invoices/{id}: the secret
// URL is the authentication, and a forged body still cannot yield a code,
// since codes come only from authenticated order fetches. Redemption
// details and eSIM ids in the body are dropped for that reason. nil means
// fetch the invoice instead.
func webhookInvoice(body []byte, id string) *bitrefill.Invoice {
	for _, raw := range []json.RawMessage{body, field(body, "data"), field(body, "invoice")} {
		var inv bitrefill.Invoice
		if len(raw) == 0 || json.Unmarshal(raw, &inv) != nil || inv.ID != id || len(inv.Orders) == 0 {
			continue
		}
		if !final(inv.Status) { // poller.go
			return nil
		}
		for i := range inv.Orders {
			inv.Orders[i].Redemption, inv.Orders[i].ESIMID = nil, ""
		}
		return &inv
	}
	return nil
}

func field(body []byte, name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return m[name]
}
