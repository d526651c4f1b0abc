package bot

import (
	"bytes"
	"image/png"

	"github.com/skip2/go-qrcode"
)

// qrPixelsPerModule keeps every module a whole number of pixels, so the image
// scans cleanly from another phone's screen at any length of content, and
// platforms scale it up without blur.
const qrPixelsPerModule = 8

// qrEncoder trades a few bytes of PNG size for speed: deflating the image
// was the largest CPU cost of a whole purchase (see BENCHMARKS.md).
var qrEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// renderQR draws content as a PNG QR code with medium error correction.
func renderQR(content string) ([]byte, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := qrEncoder.Encode(&buf, q.Image(-qrPixelsPerModule)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
