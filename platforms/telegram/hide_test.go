package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"refillbot/bot"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
)

func qrPNG(t *testing.T, s string) []byte {
	t.Helper()
	img, err := qrcode.Encode(s, qrcode.Low, 128)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// hidden reports how a photo must look once its payment is over: image
// blurred, no buttons.
func hidden(t *testing.T, m telegramtest.Message, what string) {
	t.Helper()
	if m.Photo == nil || !m.Spoiler || len(m.Buttons) != 0 {
		t.Errorf("%s: photo %v, spoiler %v, buttons %q; want the QR hidden and no buttons", what, m.Photo != nil, m.Spoiler, m.Labels())
	}
}

// An invoice whose text does not fit a caption is a photo and a text
// message below it. Both follow the payment: the photo's QR goes under a
// spoiler at the first edit, and the text message takes the new text.
func TestSplitInvoiceFollowsPayment(t *testing.T) {
	srv, ad, u, to := adapterOnly(t)
	ctx := t.Context()
	img1, img2 := qrPNG(t, "bitcoin:one"), qrPNG(t, "bitcoin:two")
	long := "Invoice " + strings.Repeat("x", 1500)
	ref, err := ad.Send(ctx, to, reply(long, lblRefresh, lblSimulate), img1)
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages(u.Chat())
	if len(msgs) != 2 || msgs[0].Photo == nil || msgs[1].Text == "" || len(msgs[1].Buttons) == 0 {
		t.Fatalf("split invoice: %d messages", len(msgs))
	}
	photo, text := msgs[0].ID, msgs[1].ID
	get := func(id int) telegramtest.Message {
		m, _ := srv.Message(u.Chat(), id)
		return m
	}

	if err := ad.Edit(ctx, to, ref, reply(txtSeen), nil); err != nil {
		t.Fatal(err)
	}
	hidden(t, get(photo), "the invoice's photo after the payment was seen")
	if m := get(text); m.Text != txtSeen || len(m.Buttons) != 0 {
		t.Errorf("the invoice's text after the payment was seen: %q with %q", m.Text, m.Labels())
	}
	if err := ad.Edit(ctx, to, ref, reply(txtReceipt, "Buy again"), nil); err != nil {
		t.Fatal(err)
	}
	hidden(t, get(photo), "the invoice's photo in the receipt")
	if m := get(text); m.Text != txtReceipt || len(m.Buttons) != 1 {
		t.Errorf("the receipt: %q with %q", m.Text, m.Labels())
	}

	// A new invoice in the same place: the photo shows the new QR, plainly,
	// the text message the text and the buttons.
	if err := ad.Edit(ctx, to, ref, reply(long, lblSimulate), img2); err != nil {
		t.Fatal(err)
	}
	if m := get(photo); !bytes.Equal(m.Photo, img2) || m.Spoiler || len(m.Buttons) != 0 {
		t.Errorf("photo after an edit with a new image: new image %v, spoiler %v, buttons %q", bytes.Equal(m.Photo, img2), m.Spoiler, m.Labels())
	}
	if m := get(text); m.Text != long || len(m.Buttons) != 1 {
		t.Errorf("text after an edit with a new image: %d characters, buttons %q", len(m.Text), m.Labels())
	}
	if len(srv.Messages(u.Chat())) != 2 {
		t.Errorf("the edits added messages")
	}

	if err := ad.Delete(ctx, to, ref); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages(u.Chat())); n != 0 {
		t.Errorf("%d messages left after deleting the split send", n)
	}
}

// An edit whose text no longer fits a photo's caption is refused — the
// shell then sends it anew — but not before the photo's QR is hidden and
// its buttons removed, whatever the reference knows of it.
func TestRefusedEditHidesPhoto(t *testing.T) {
	srv, ad, u, to := adapterOnly(t)
	ctx := t.Context()
	img1, img2 := qrPNG(t, "bitcoin:one"), qrPNG(t, "bitcoin:two")
	long := strings.Repeat("r", 1500)
	for _, c := range []struct {
		name string
		ref  func(string) string
		png  []byte
	}{
		{"ref with the image", func(r string) string { return r }, nil},
		{"bare ref", func(r string) string { id, _, _ := strings.Cut(r, ":"); return id }, nil},
		{"ref with an unknown image", func(r string) string { id, _, _ := strings.Cut(r, ":"); return id + ":no-such-file" }, nil},
		{"with a new image", func(r string) string { return r }, img2},
	} {
		ref, err := ad.Send(ctx, to, reply("invoice", lblRefresh, lblSimulate), img1)
		if err != nil {
			t.Fatal(err)
		}
		err = ad.Edit(ctx, to, c.ref(ref), reply(long, "OK"), c.png)
		var un interface{ Unreachable() bool }
		var ra interface{ RetryAfter() time.Duration }
		if err == nil || errors.As(err, &un) || errors.As(err, &ra) {
			t.Errorf("%s: edit with %d characters: %v, want a plain error", c.name, len(long), err)
		}
		m, _ := srv.Message(u.Chat(), msgID(t, ref))
		hidden(t, m, c.name)
		if !bytes.Equal(m.Photo, img1) {
			t.Errorf("%s: the refused edit changed the image", c.name)
		}
	}
	// A text message has nothing to hide: it is left as it was.
	ref, err := ad.Send(ctx, to, reply("text", "A"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Edit(ctx, to, ref, reply(long), qrPNG(t, "x")); err == nil {
		t.Error("a text message took a QR with a 1500-character caption")
	}
	if m, _ := srv.Message(u.Chat(), msgID(t, ref)); m.Text != "text" || m.Photo != nil || len(m.Buttons) != 1 {
		t.Errorf("refused edit of a text message changed it: %q %v", m.Text, m.Labels())
	}
}

// "Refresh" on an invoice photo whose new text does not fit its caption:
// the photo takes the new image alone and the text follows it, so no copy
// of the invoice is left with an old QR and live buttons; the reference
// names both, so later edits reach the photo.
func TestRefreshWithLongTextKeepsOneInvoice(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), NoPacing: true, PollTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	img1, img2 := qrPNG(t, "bitcoin:one"), qrPNG(t, "bitcoin:two")
	long := txtInvoice + " " + strings.Repeat("y", 1500)
	refs := make(chan string, 4)
	handle := func(ctx context.Context, in bot.Incoming) {
		r := reply(txtInvoice, lblRefresh)
		png := img1
		if _, ok := in.Event.(conversation.Chose); ok {
			r, png = reply(long, lblRefresh), img2
		}
		r.Menu = true
		ref, err := ad.Send(ctx, in.Address, r, png)
		if err != nil {
			t.Error(err)
		}
		refs <- ref
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ad.Run(ctx, handle) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	u := srv.NewUser("Ren", "en")
	d := u.In(u.Chat())
	d.Say("/start")
	inv, err := d.AwaitPhoto()
	if err != nil {
		t.Fatal(err)
	}
	<-refs
	if _, err := d.Tap(lblRefresh); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Await("yyyy"); err != nil {
		t.Fatal(err)
	}
	ref := <-refs
	var photos []telegramtest.Message
	for _, m := range srv.Messages(u.Chat()) {
		if m.Photo != nil {
			photos = append(photos, m)
		}
	}
	if len(photos) != 1 || photos[0].ID != inv.ID || !bytes.Equal(photos[0].Photo, img2) || len(photos[0].Buttons) != 0 {
		t.Fatalf("after the refresh: %d photos, want the invoice %d showing the new QR without buttons", len(photos), inv.ID)
	}
	to := conversation.Address{Platform: telegram.Platform, Chat: strconv.FormatInt(u.ID, 10), Private: true}
	if err := ad.Edit(t.Context(), to, ref, reply(txtSeen), nil); err != nil {
		t.Fatal(err)
	}
	m, _ := srv.Message(u.Chat(), inv.ID)
	hidden(t, m, "the refreshed invoice's photo after the payment")
}
