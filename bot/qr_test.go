package bot

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
	qrenc "github.com/makiuchi-d/gozxing/qrcode/encoder"
	goqr "github.com/skip2/go-qrcode"

	"refillbot/conversation"
)

// What the buyer scans must be exactly what the engine asked to show: a
// BIP21 URI, a long lightning request, an eSIM activation string — and
// the smallest and largest symbols and text beyond ASCII, whose images
// qrPNG compresses with the longest rows and copies.
func TestRenderQRScansBack(t *testing.T) {
	for _, content := range []string{
		"1",
		strings.Repeat("0123456789abcdef", 140), // version 40, the largest symbol
		"Gutschein für Zoë: 日本のコード",
		"bitcoin:bc1qnv5nwfn8zc7zd2mndgufv6k3dty9um8rfuccvg?amount=0.00051547",
		"lightning:lnbc515470n1pjexample0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		"LPA:1$smdp.example$MATCHING-ID-1234",
	} {
		b, err := renderQR(content)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w < 200 {
			t.Errorf("QR for %d bytes is only %d px wide: too small to scan from a screen", len(content), w)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		// PURE_BARCODE: the PNG is exactly what we send, not a photo of it.
		// Without it gozxing's finder misses about 3 % of perfect images
		// (every one of them decodes with the hint).
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil {
			t.Fatalf("%q: does not scan: %v", content, err)
		}
		if res.GetText() != content {
			t.Errorf("scans to %q, want %q", res.GetText(), content)
		}
	}
}

// A till's scanner reads the format the card says: each 1-D format we draw
// decodes back, as that format, to exactly the value, with bars wide and
// tall enough to scan from a phone screen.
func TestRenderBarcodeScansBack(t *testing.T) {
	for _, tc := range []struct {
		format, value string
		reader        gozxing.Reader
		want          gozxing.BarcodeFormat
	}{
		{"CODE_128", "ABCD-EFGH-JKLM", oned.NewCode128Reader(), gozxing.BarcodeFormat_CODE_128},
		{"CODE128", "6035710012345678", oned.NewCode128Reader(), gozxing.BarcodeFormat_CODE_128},
		{"code-128", "gift card #42 / 10.00 USD", oned.NewCode128Reader(), gozxing.BarcodeFormat_CODE_128},
		{"CODE_39", "GIFT-1234 ABC", oned.NewCode39Reader(), gozxing.BarcodeFormat_CODE_39},
		{"CODE_93", "GIFT-1234", oned.NewCode93Reader(), gozxing.BarcodeFormat_CODE_93},
		{"EAN_13", "4006381333931", oned.NewEAN13Reader(), gozxing.BarcodeFormat_EAN_13},
		{"EAN_8", "96385074", oned.NewEAN8Reader(), gozxing.BarcodeFormat_EAN_8},
		{"UPC_A", "036000291452", oned.NewUPCAReader(), gozxing.BarcodeFormat_UPC_A},
		{"ITF", "15400141288763", oned.NewITFReader(), gozxing.BarcodeFormat_ITF},
		{"CODABAR", "40156-$:/.+", oned.NewCodaBarReader(), gozxing.BarcodeFormat_CODABAR},
	} {
		t.Run(tc.format, func(t *testing.T) {
			b, err := renderBarcode(tc.value, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if h := img.Bounds().Dy(); h < 100 {
				t.Errorf("barcode is %d px tall: too short to aim a scanner at", h)
			}
			if w := img.Bounds().Dx(); w < 200 {
				t.Errorf("barcode is %d px wide: bars too thin to scan from a screen", w)
			}
			bmp, err := gozxing.NewBinaryBitmapFromImage(img)
			if err != nil {
				t.Fatal(err)
			}
			res, err := tc.reader.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
			if err != nil {
				t.Fatalf("does not scan: %v", err)
			}
			if res.GetText() != tc.value || res.GetBarcodeFormat() != tc.want {
				t.Errorf("scans as %v %q, want %v %q", res.GetBarcodeFormat(), res.GetText(), tc.want, tc.value)
			}
		})
	}
}

// QR names (and no name) still draw a QR code.
func TestRenderBarcodeQRNames(t *testing.T) {
	const content = "LPA:1$smdp.example$MATCHING-ID-1234"
	for _, f := range []string{"", "QRCODE", "QR_CODE", "qr"} {
		b, err := renderBarcode(content, f)
		if err != nil {
			t.Fatalf("%q: %v", f, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil || res.GetText() != content {
			t.Errorf("%q: not a QR of the content (%v)", f, err)
		}
	}
}

// What cannot be drawn is refused, without a panic and without quoting the
// value in the error.
func TestRenderBarcodeRefusals(t *testing.T) {
	for _, tc := range []struct{ format, value string }{
		{"MAXICODE", "SECRET-CODE-1"},
		{"PDF_417", "SECRET-CODE-2"},
		{"EAN_13", "SECRET-CODE-3"},                // letters
		{"EAN_13", "4006381333932"},                // wrong check digit
		{"ITF", "123"},                             // odd length
		{"UPC_A", "1"},                             // too short
		{"CODE_128", strings.Repeat("SECRET", 20)}, // over 80 characters
		{"CODE_128", "SECRET-ñ"},                   // read as FNC1 by gozxing
		{"CODE_39", "SECRET\x00"},
		{"CODABAR", "ASECRETB"},
	} {
		b, err := renderBarcode(tc.value, tc.format)
		if err == nil || b != nil {
			t.Errorf("%s %q: drawn (%d bytes), want a refusal", tc.format, tc.value, len(b))
			continue
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), tc.value) {
			t.Errorf("%s: error %q quotes the value", tc.format, err)
		}
	}
}

type pngRecorder struct {
	png  []byte
	sent bool
}

func (p *pngRecorder) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	p.png, p.sent = png, true
	return "1", nil
}

// A delivery whose barcode format the bot cannot draw still goes out, as
// text alone; the log says why without the code.
func TestUndrawableBarcodeSendsText(t *testing.T) {
	var logs bytes.Buffer
	p := &pngRecorder{}
	c := &courier{platforms: map[string]Platform{"t": p}, log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	const code = "SECRET-9876-XYZ"
	r := &OutboxRecord{Address: conversation.Address{Platform: "t", Chat: "c"},
		Reply: conversation.Reply{Text: []conversation.Span{{Text: code}}, QR: code, Barcode: "MAXICODE", Secret: true}}
	if _, err := c.deliver(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if !p.sent || p.png != nil {
		t.Errorf("sent %v with %d bytes of image, want the text alone", p.sent, len(p.png))
	}
	if !strings.Contains(logs.String(), "MAXICODE") {
		t.Errorf("the log does not say which format failed: %s", logs.String())
	}
	if strings.Contains(logs.String(), code) {
		t.Errorf("the log holds the code: %s", logs.String())
	}
	if !errors.Is(func() error { _, err := renderBarcode(code, "MAXICODE"); return err }(), errUnknownBarcode) {
		t.Error("an unknown format is not reported as such")
	}
}

func BenchmarkRenderQR(b *testing.B) {
	const uri = "bitcoin:bc1qnv5nwfn8zc7zd2mndgufv6k3dty9um8rfuccvg?amount=0.00051547"
	b.Run("now", func(b *testing.B) {
		for b.Loop() {
			if _, err := renderQR(uri); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("before:Encode512", func(b *testing.B) {
		for b.Loop() {
			if _, err := goqr.Encode(uri, goqr.Medium, 512); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// qrSymbol's shortcut through the mask choice gives exactly gozxing's
// symbol: the same mask chosen, the same format bits, every module alike,
// across versions, modes and the edges of the alignment and version
// information patterns.
func TestQRSymbolIsGozxings(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 34))
	contents := []string{"1", "HELLO WORLD", "bitcoin:bc1qnv5nwfn8zc7zd2mndgufv6k3dty9um8rfuccvg?amount=0.00051547", "Zoë 日本"}
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/?=&.$-"
	for range 150 {
		b := make([]byte, 1+rng.IntN(1200))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		contents = append(contents, string(b))
	}
	versions := map[int]bool{}
	for _, content := range contents {
		utf8 := strings.ContainsFunc(content, func(r rune) bool { return r > '~' })
		var hints map[gozxing.EncodeHintType]any
		if utf8 {
			hints = map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_CHARACTER_SET: "UTF-8"}
		}
		want, werr := qrenc.Encoder_encode(content, qrdec.ErrorCorrectionLevel_M, hints)
		if werr != nil {
			t.Fatal(werr)
		}
		versions[want.GetVersion().GetVersionNumber()] = true
		grid, n, err := qrSymbol(content, utf8)
		if err != nil {
			t.Fatal(err)
		}
		m := want.GetMatrix()
		if n != m.GetWidth() {
			t.Fatalf("%d bytes: %d modules wide, gozxing %d", len(content), n, m.GetWidth())
		}
		for y := range n {
			for x := range n {
				if grid[y*n+x] != byte(m.Get(x, y)) {
					t.Fatalf("%d bytes (version %d, gozxing's mask %d): module (%d, %d) differs",
						len(content), want.GetVersion().GetVersionNumber(), want.GetMaskPattern(), x, y)
				}
			}
		}
	}
	if len(versions) < 20 {
		t.Errorf("only %d versions tried", len(versions))
	}
}
