package telegram_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/platforms/telegram/telegramtest"
)

// A buyer in a private chat goes from /start to the delivered code: the
// invoice comes as a QR photo with its text as caption, the code arrives as
// tap-to-copy monospace, the invoice turns into the receipt, exactly one
// invoice is made, and every button press is answered.
func TestGiftCardPurchase(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Ana", "en")
	inv, del, err := b.purchase()
	if err != nil {
		t.Fatal(err)
	}
	if inv.Photo == nil {
		t.Errorf("the invoice came without a QR photo: %q", inv.Text)
	}
	if !contains(inv.Labels(), lblSimulate) {
		t.Errorf("invoice buttons %q lack %q", inv.Labels(), lblSimulate)
	}
	invoices := e.fake.Requests()
	n := 0
	for _, r := range invoices {
		if r.Method == "POST" && r.Path == "/v2/invoices" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d invoices created, want 1", n)
	}
	var code string
	for _, ent := range del.Entities {
		if ent.Type == "code" {
			code = string(utf16Slice(del.Text, ent.Offset, ent.Length))
		}
	}
	if code == "" || !strings.Contains(del.Text, code) {
		t.Fatalf("delivery %q has no code entity (%v)", del.Text, del.Entities)
	}
	// The redemption link (amazon-us has one) is hidden under a spoiler.
	spoiler := false
	for _, ent := range del.Entities {
		if ent.Type == "spoiler" && strings.HasPrefix(string(utf16Slice(del.Text, ent.Offset, ent.Length)), "https://") {
			spoiler = true
		}
	}
	if !spoiler {
		t.Errorf("delivery %q: the redemption link is not under a spoiler (%v)", del.Text, del.Entities)
	}
	found := false
	for _, c := range allCodes(e) {
		if c == code {
			found = true
		}
	}
	if !found {
		t.Errorf("delivered code %q is not the fake's code", code)
	}
	// The receipt follows the code, in the invoice's own message, whose
	// payment QR is now under a spoiler and whose buttons are gone.
	rec, err := b.d.AwaitMatch("the invoice edited into the receipt", func(ev telegramtest.Event) bool {
		return ev.Kind == telegramtest.Edited && ev.Message.ID == inv.ID && strings.Contains(ev.Message.Content(), txtReceipt)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Spoiler || len(rec.Buttons) != 0 {
		t.Errorf("the receipt shows the payment QR plainly (%v) or buttons %q", !rec.Spoiler, rec.Labels())
	}
	for _, c := range e.tg.CallsTo("answerCallbackQuery") {
		if c.Status != 200 {
			t.Errorf("answerCallbackQuery failed: %s", c.Error)
		}
	}
	if got, want := len(e.tg.CallsTo("answerCallbackQuery")), 3; got != want {
		t.Errorf("%d callback answers for 3 presses", got)
	}
}

// allCodes lists the codes of every invoice in the fake.
func allCodes(e *env) []string {
	var out []string
	list, err := e.api.Invoices(e.ctx, bitrefill.ListFilter{Limit: 50})
	if err != nil {
		e.tb.Fatal(err)
	}
	for _, inv := range list {
		if inv.Status == bitrefill.InvoiceComplete {
			out = append(out, e.codes(inv.ID)...)
		}
	}
	return out
}

func utf16Slice(s string, off, n int) []rune {
	var out []rune
	i := 0
	for _, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if i >= off && i < off+n {
			out = append(out, r)
		}
		i += w
	}
	return out
}

func decodeQR(t *testing.T, img []byte) string {
	t.Helper()
	im, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("photo is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(im)
	if err != nil {
		t.Fatal(err)
	}
	// PURE_BARCODE: the PNG is exactly what we send, not a photo of it.
	// Without it gozxing's finder misses about 3 % of perfect images
	// (every one of them decodes with the hint).
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("photo holds no readable QR code: %v", err)
	}
	return res.GetText()
}

// With a slow Bitrefill, a buyer sends /buy, then impatiently /search before
// the product card has come: the search is answered without waiting for the
// card, the late card is dropped (they left its screen) rather than shown
// and superseded, and what is shown last — the results — works through to
// the confirmation, with no "That menu has expired" anywhere.
func TestImpatientBuyerNoDeadMenu(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Ivo", "en")
	e.fake.InjectFault(bitrefilltest.Fault{Method: "GET", Path: "/products", Latency: 2500 * time.Millisecond, Times: 2})

	if _, err := b.say("/buy amazon-us", "Loading"); err != nil {
		t.Fatal(err)
	}
	left := e.tg.Mark(b.u.Chat())
	if _, err := b.say("/search amazon us", txtResults); err != nil {
		t.Fatal(err)
	}
	e.bot.Wait() // the /buy's product call has come back and been through the engine
	for _, ev := range e.tg.Events(b.u.Chat())[left:] {
		if strings.Contains(ev.Message.Content(), txtValues) {
			t.Errorf("the late product card was shown after the user moved on (%s): %q", ev.Kind, ev.Message.Content())
		}
	}
	if _, err := b.tap("Amazon US", txtValues); err != nil {
		t.Fatal(err)
	}
	if _, err := b.say("50", txtConfirm); err != nil {
		t.Fatal(err)
	}
	for _, ev := range e.tg.Events(b.u.Chat())[left:] {
		if ev.Kind != telegramtest.Deleted && strings.Contains(ev.Message.Content(), txtExpired) {
			t.Errorf("the user was told %q", ev.Message.Content())
		}
	}
}
