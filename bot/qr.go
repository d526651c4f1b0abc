package bot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
)

// qrPixelsPerModule keeps every module a whole number of pixels, so the image
// scans cleanly from another phone's screen at any length of content, and
// platforms scale it up without blur.
const qrPixelsPerModule = 8

// qrQuietModules is the white margin the QR specification asks for on
// every side.
const qrQuietModules = 4

// qrEncoder trades a few bytes of PNG size for speed: deflating the image
// was the largest CPU cost of a whole purchase (see BENCHMARKS.md). Its
// buffers — the deflate state above all, a few hundred KB set up afresh
// for every image otherwise — are reused. QR codes bypass it (renderQR).
var qrEncoder = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// pngBuffers is a png.EncoderBufferPool on a sync.Pool.
type pngBuffers struct{ p sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	if x, ok := b.p.Get().(*png.EncoderBuffer); ok {
		return x
	}
	return nil
}

func (b *pngBuffers) Put(x *png.EncoderBuffer) { b.p.Put(x) }

// renderQR draws content as a PNG QR code with medium error correction.
//
// Every invoice is drawn once, so this is on the path of every purchase.
// qrSymbol (qrmask.go) makes the symbol with gozxing's encoder and a
// faster choice of mask, and qrPNG (qrpng.go) writes the image directly
// instead of drawing and encoding it pixel by pixel: about a fifth of the
// CPU of go-qrcode and image/png (BenchmarkRenderQR).
func renderQR(content string) ([]byte, error) {
	// Content beyond ASCII declares UTF-8 (an ECI header); ASCII goes
	// without, as every scanner reads it.
	utf8 := false
	for i := 0; i < len(content); i++ {
		if content[i] >= 0x80 {
			utf8 = true
			break
		}
	}
	grid, n, err := qrSymbol(content, utf8)
	if err != nil {
		// gozxing's errors may quote the content, which may be a
		// redemption code: say only what went wrong in kind.
		return nil, errBarcodeRefused
	}
	return qrPNG(grid, n), nil
}

// Errors of renderBarcode. They never quote the content: it is usually a
// redemption code, and gozxing's own errors repeat it.
var (
	errUnknownBarcode = errors.New("barcode format not supported")
	errBarcodeRefused = errors.New("content cannot be drawn in this barcode format")
)

// oneD is a 1-D symbology gozxing can write.
type oneD struct {
	format gozxing.BarcodeFormat
	writer func() gozxing.Writer
}

// oneDFormats is keyed by the format's name in upper case without
// separators, so "CODE_128", "code128" and "Code-128" all match.
var oneDFormats = map[string]oneD{
	"CODE128": {gozxing.BarcodeFormat_CODE_128, oned.NewCode128Writer},
	"CODE39":  {gozxing.BarcodeFormat_CODE_39, oned.NewCode39Writer},
	"CODE93":  {gozxing.BarcodeFormat_CODE_93, oned.NewCode93Writer},
	"EAN13":   {gozxing.BarcodeFormat_EAN_13, oned.NewEAN13Writer},
	"EAN8":    {gozxing.BarcodeFormat_EAN_8, oned.NewEAN8Writer},
	"UPCA":    {gozxing.BarcodeFormat_UPC_A, oned.NewUPCAWriter},
	"ITF":     {gozxing.BarcodeFormat_ITF, oned.NewITFWriter},
	"ITF14":   {gozxing.BarcodeFormat_ITF, oned.NewITFWriter},
	"CODABAR": {gozxing.BarcodeFormat_CODABAR, oned.NewCodaBarWriter},
}

// Geometry of a 1-D barcode. Scanners at a till read a phone screen best
// with bars at least two whole pixels wide (no blur between them once the
// platform scales the picture), a quiet zone of at least ten modules each
// side (EAN needs eleven), and bars tall enough to be hit without aiming.
const (
	barQuietModules = 12
	barMinPPM       = 2
	barMaxPPM       = 4
	barTargetWidth  = 1000 // px; narrower codes get wider bars, up to barMaxPPM
	barMinHeight    = 160  // px of bars
	barVMargin      = 24   // px of white above and below
)

var barPalette = color.Palette{color.White, color.Black}

func normFormat(f string) string {
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToUpper(strings.TrimSpace(f)))
}

// renderBarcode draws content as a PNG in the named format: a QR code when
// format is empty or names QR, else one of oneDFormats. An unknown format
// or content the format cannot hold returns an error (and no image): the
// text of the message carries the value anyway.
func renderBarcode(content, format string) ([]byte, error) {
	name := normFormat(format)
	if name == "" || name == "QR" || name == "QRCODE" {
		return renderQR(content)
	}
	f, ok := oneDFormats[name]
	if !ok {
		return nil, errUnknownBarcode
	}
	mods, err := encodeOneD(content, f)
	if err != nil {
		return nil, err
	}
	ppm := min(barMaxPPM, max(barMinPPM, barTargetWidth/(len(mods)+2*barQuietModules)))
	w := (len(mods) + 2*barQuietModules) * ppm
	h := max(barMinHeight, w/4)
	img := image.NewPaletted(image.Rect(0, 0, w, h+2*barVMargin), barPalette)
	row := make([]uint8, w) // index 0 is white
	for i, black := range mods {
		if black {
			x := (barQuietModules + i) * ppm
			for j := range ppm {
				row[x+j] = 1
			}
		}
	}
	for y := barVMargin; y < barVMargin+h; y++ {
		copy(img.Pix[y*img.Stride:], row)
	}
	var buf bytes.Buffer
	if err := qrEncoder.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeOneD returns the modules of content in f, true for a bar, without
// any quiet zone.
func encodeOneD(content string, f oneD) (mods []bool, err error) {
	// gozxing reads some runes above ASCII as control functions (FNC1…), so
	// such content would scan as something else: refuse it here.
	for _, r := range content {
		if r < ' ' || r > '~' {
			return nil, errBarcodeRefused
		}
	}
	defer func() {
		if v := recover(); v != nil {
			mods, err = nil, fmt.Errorf("%w (writer panicked)", errBarcodeRefused)
		}
	}()
	hints := map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: 0}
	m, err := f.writer().Encode(content, f.format, 0, 1, hints)
	if err != nil {
		return nil, errBarcodeRefused
	}
	mods = make([]bool, m.GetWidth())
	for x := range mods {
		mods[x] = m.Get(x, 0)
	}
	return mods, nil
}
