package bot

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	goqr "github.com/skip2/go-qrcode"
)

// What the buyer scans must be exactly what the engine asked to show: a
// BIP21 URI, a long lightning request, an eSIM activation string.
func TestRenderQRScansBack(t *testing.T) {
	for _, content := range []string{
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
