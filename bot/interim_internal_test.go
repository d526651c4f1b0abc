package bot

import (
	"testing"

	"refillbot/conversation"
)

// Only a step that starts work and says nothing but plain text is held:
// menus, buttons, expected input, images, invoices and codes are screens
// of their own and go at once.
func TestHoldable(t *testing.T) {
	plain := conversation.Reply{Text: []conversation.Span{{Text: "Searching for “amazon”…"}}}
	search := conversation.SearchProducts{Query: "amazon"}
	with := func(f func(*conversation.Reply)) conversation.Reply { r := plain; f(&r); return r }
	for _, c := range []struct {
		name    string
		effects []conversation.Effect
		want    bool
	}{
		{"interim before a search", []conversation.Effect{plain, search}, true},
		{"plain text, no work", []conversation.Effect{plain}, false},
		{"tracking is no work", []conversation.Effect{plain, conversation.TrackInvoice{InvoiceID: "i"}}, false},
		{"a menu", []conversation.Effect{with(func(r *conversation.Reply) { r.Menu = true }), search}, false},
		{"buttons", []conversation.Effect{with(func(r *conversation.Reply) { r.Options = []conversation.Option{{Label: "x", Token: "t"}} }), search}, false},
		{"expected input", []conversation.Effect{with(func(r *conversation.Reply) { r.Expect = conversation.ExpectQuery }), search}, false},
		{"an image", []conversation.Effect{with(func(r *conversation.Reply) { r.QR = "bitcoin:x" }), search}, false},
		{"an invoice report", []conversation.Effect{with(func(r *conversation.Reply) { r.Invoice = "i" }), search}, false},
		{"a code", []conversation.Effect{with(func(r *conversation.Reply) { r.Secret = true }), search}, false},
		{"nothing to say", []conversation.Effect{search}, false},
	} {
		var recs []OutboxRecord
		for _, e := range c.effects {
			if r, ok := e.(conversation.Reply); ok {
				recs = append(recs, OutboxRecord{Reply: r})
			}
		}
		if got := holdable(c.effects, recs); got != c.want {
			t.Errorf("%s: holdable = %v, want %v", c.name, got, c.want)
		}
	}
}
