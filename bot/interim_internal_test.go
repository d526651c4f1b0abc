package bot

import (
	"testing"

	"refillbot/conversation"
)

// Only a step that starts work at once and says nothing but plain text is
// held: menus, buttons, expected input, images, invoices and codes are
// screens of their own and go at once.
func TestHoldable(t *testing.T) {
	plain := conversation.Reply{Text: []conversation.Span{{Text: "Searching for “amazon”…"}}}
	with := func(f func(*conversation.Reply)) conversation.Reply { r := plain; f(&r); return r }
	for _, c := range []struct {
		name    string
		inline  bool
		replies []conversation.Reply
		want    bool
	}{
		{"interim before a search", true, []conversation.Reply{plain}, true},
		{"plain text, no work here", false, []conversation.Reply{plain}, false},
		{"a menu", true, []conversation.Reply{with(func(r *conversation.Reply) { r.Menu = true })}, false},
		{"buttons", true, []conversation.Reply{with(func(r *conversation.Reply) { r.Options = []conversation.Option{{Label: "x", Token: "t"}} })}, false},
		{"expected input", true, []conversation.Reply{with(func(r *conversation.Reply) { r.Expect = conversation.ExpectQuery })}, false},
		{"an image", true, []conversation.Reply{with(func(r *conversation.Reply) { r.QR = "bitcoin:x" })}, false},
		{"an invoice report", true, []conversation.Reply{with(func(r *conversation.Reply) { r.Invoice = "i" })}, false},
		{"a code", true, []conversation.Reply{plain, with(func(r *conversation.Reply) { r.Secret = true })}, false},
		{"nothing to say", true, nil, false},
	} {
		var recs []OutboxRecord
		for _, r := range c.replies {
			recs = append(recs, OutboxRecord{Reply: r})
		}
		if got := holdable(c.inline, recs); got != c.want {
			t.Errorf("%s: holdable = %v, want %v", c.name, got, c.want)
		}
	}
}
