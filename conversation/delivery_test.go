package conversation

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Every delivery text exists in every language, with the same arguments and
// balanced markup, so a Spanish buyer never sees a key name or a stray `.
func TestDeliveryTextsComplete(t *testing.T) {
	args := func(s string) (n int) {
		for i := 1; i <= 9; i++ {
			if strings.Contains(s, "{"+string(rune('0'+i))+"}") {
				n = i
			}
		}
		return n
	}
	delivery := func(lang string) map[Msg]string {
		m := map[Msg]string{}
		for k, v := range catalog[lang] {
			if strings.HasPrefix(string(k), "dlv.") {
				m[k] = v
			}
		}
		return m
	}
	english := delivery("en")
	if len(english) == 0 {
		t.Fatal("no delivery texts")
	}
	for _, lang := range Languages {
		texts := delivery(lang)
		for k, en := range english {
			s, ok := texts[k]
			if !ok {
				t.Errorf("%s: %s missing", lang, k)
				continue
			}
			if args(s) != args(en) {
				t.Errorf("%s: %s uses {1}..{%d}, English {1}..{%d}", lang, k, args(s), args(en))
			}
			for _, mark := range []string{"*", "`", "_"} {
				if strings.Count(s, mark)%2 != 0 {
					t.Errorf("%s: %s has an unbalanced %s", lang, k, mark)
				}
			}
		}
		if len(texts) != len(english) {
			t.Errorf("%s has %d delivery texts, English %d", lang, len(texts), len(english))
		}
	}
}

func TestParseLPA(t *testing.T) {
	for in, want := range map[string][2]string{
		"LPA:1$smdp.example$MATCH-1":             {"smdp.example", "MATCH-1"},
		"LPA:1$rsp.truphone.com$QR-G-5C-1LS$1.3": {"rsp.truphone.com", "QR-G-5C-1LS"},
		"LPA:1$smdp.example$":                    {"smdp.example", ""},
		"LPA:2$smdp.example$X":                   {"", ""},
		"smdp.example$X":                         {"", ""},
		"LPA:1$$X":                               {"", ""},
	} {
		smdp, code, ok := ParseLPA(in)
		if smdp != want[0] || code != want[1] || ok != (want[0] != "") {
			t.Errorf("ParseLPA(%q) = %q %q %v, want %q %q", in, smdp, code, ok, want[0], want[1])
		}
	}
}

// The one-tap link carries the whole activation string, escaped, whatever
// it holds; command tokens read back as the command they name.
func TestLinksAndTokensRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lpa := "LPA:1$" + rapid.StringMatching(`[a-z0-9.\-]{1,30}`).Draw(t, "smdp") + "$" + rapid.String().Draw(t, "code")
		u, err := url.Parse(AppleESIMLink(lpa))
		if err != nil {
			t.Fatalf("link does not parse: %v", err)
		}
		if got := u.Query().Get("carddata"); got != lpa || u.Host != "esimsetup.apple.com" {
			t.Fatalf("link carries %q to %s, want %q", got, u.Host, lpa)
		}
		iccid := rapid.StringMatching(`89[0-9]{17,18}`).Draw(t, "iccid")
		c, ok := ParseCommandToken(CommandToken("topup", iccid))
		if !ok || c.Name != "topup" || c.Args != iccid {
			t.Fatalf("token reads back as %+v", c)
		}
		if len(CommandToken("topup", iccid)) > 64 {
			t.Fatal("token longer than Telegram's 64 bytes of callback data")
		}
	})
}

// A delivered eSIM is installable from the message and remembered once,
// however often the same update arrives.
func TestESIMDeliveredAndRemembered(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	lpa := "LPA:1$smdp.example$MATCH-1"
	inv := Invoice{ID: "inv1", Status: StatusComplete, Orders: []Order{{
		ID: "o1", Status: OrderDelivered, Product: "eSIM Europe", ProductID: "esim-europe", Value: "1GB, 7 Days",
		ESIM: "8900000000000000001", Redemption: &Redemption{BarcodeValue: lpa, PIN: "1234"},
	}}}
	for _, lang := range Languages {
		s := State{V: SchemaVersion, Profile: Profile{Lang: lang, Nonce: "n"}, Ledger: Ledger{Purchases: []Purchase{{Invoice: Invoice{ID: "inv1", Status: StatusUnpaid}, Summary: "eSIM Europe — 1GB"}}}}
		s, out := Engine{}.Step(s, InvoiceUpdated{Invoice: inv}, now)
		var r Reply
		for _, e := range out {
			if x, ok := e.(Reply); ok && x.Secret {
				r = x
			}
		}
		text := PlainText(r.Text)
		if r.QR != lpa || !strings.Contains(text, "smdp.example") || !strings.Contains(text, "MATCH-1") ||
			!strings.Contains(text, "1234") || !strings.Contains(text, AppleESIMLink(lpa)) {
			t.Errorf("%s: eSIM delivery QR %q text:\n%s", lang, r.QR, text)
		}
		if len(s.ESIMs) != 1 || s.ESIMs[0] != (OwnedESIM{ICCID: "8900000000000000001", Product: "esim-europe", Name: "eSIM Europe"}) {
			t.Errorf("%s: ESIMs %+v", lang, s.ESIMs)
		}
		s.Purchases = []Purchase{{Invoice: Invoice{ID: "inv1"}}}
		s, _ = Engine{}.Step(s, InvoiceUpdated{Invoice: inv}, now)
		if len(s.ESIMs) != 1 {
			t.Errorf("%s: eSIM remembered %d times", lang, len(s.ESIMs))
		}
	}
}

// A barcode is asked for in the format the card names, so a till scanner
// that reads CODE_128 gets CODE_128; QR names and eSIMs stay QR. A barcode
// number that is not the code is also written out, for when the picture
// cannot be drawn or scanned.
func TestDeliveryBarcodeFormat(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		red         Redemption
		wantQR      string
		wantBarcode string
		wantText    string
	}{
		{"code128", Redemption{Code: "ABCD-1234", BarcodeValue: "ABCD-1234", BarcodeFormat: "CODE_128"}, "ABCD-1234", "CODE_128", "ABCD-1234"},
		{"qrcode", Redemption{Code: "ABCD-1234", BarcodeValue: "ABCD-1234", BarcodeFormat: "QRCODE"}, "ABCD-1234", "", "ABCD-1234"},
		{"qr_code", Redemption{BarcodeValue: "6035710012345678", BarcodeFormat: "qr_code"}, "6035710012345678", "", "6035710012345678"},
		{"no format", Redemption{BarcodeValue: "6035710012345678"}, "6035710012345678", "", "6035710012345678"},
		{"number differs", Redemption{Code: "ABCD-1234", BarcodeValue: "6035710012345678", BarcodeFormat: "EAN_13"}, "6035710012345678", "EAN_13", "6035710012345678"},
		{"esim", Redemption{BarcodeValue: "LPA:1$smdp.example$M-1", BarcodeFormat: "CODE_128"}, "LPA:1$smdp.example$M-1", "", "M-1"},
	} {
		inv := Invoice{ID: "inv1", Status: StatusComplete, Orders: []Order{{
			ID: "o1", Status: OrderDelivered, Product: "Card", ProductID: "card", Value: "10", Currency: "USD", Redemption: &tc.red,
		}}}
		s := State{V: SchemaVersion, Profile: Profile{Lang: "en", Nonce: "n"}, Ledger: Ledger{Purchases: []Purchase{{Invoice: Invoice{ID: "inv1", Status: StatusUnpaid}, Summary: "Card"}}}}
		_, out := Engine{}.Step(s, InvoiceUpdated{Invoice: inv}, now)
		var r Reply
		for _, e := range out {
			if x, ok := e.(Reply); ok && x.Secret {
				r = x
			}
		}
		if r.QR != tc.wantQR || r.Barcode != tc.wantBarcode || !strings.Contains(PlainText(r.Text), tc.wantText) {
			t.Errorf("%s: QR %q barcode %q, want %q %q; text:\n%s", tc.name, r.QR, r.Barcode, tc.wantQR, tc.wantBarcode, PlainText(r.Text))
		}
	}
}

func TestTidy(t *testing.T) {
	for step, want := range map[Step]bool{StepResults: true, StepProduct: true, StepConfirm: true, StepInvoice: false, StepCreating: false, StepIdle: false} {
		s := State{Flow: Flow{Step: step, Query: "q", Results: []ProductSummary{{ID: "x"}}}, Ledger: Ledger{Purchases: []Purchase{{Summary: "keep"}}}, Profile: Profile{ESIMs: []OwnedESIM{{ICCID: "1"}}}}
		got, changed := Tidy(s)
		if changed != want {
			t.Errorf("%s: changed %v, want %v", step, changed, want)
		}
		if len(got.Purchases) != 1 || len(got.ESIMs) != 1 {
			t.Errorf("%s: tidy lost purchases or eSIMs", step)
		}
		if want && (got.Step != StepIdle || got.Results != nil) {
			t.Errorf("%s: not tidied: %+v", step, got)
		}
	}
}
