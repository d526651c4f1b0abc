package bot

import (
	"math"

	"github.com/makiuchi-d/gozxing"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
	qrenc "github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// qrSymbol makes the QR symbol of content at medium error correction, module
// for module the one gozxing makes (TestQRSymbolIsGozxings), in a fraction
// of its time and garbage.
//
// Choosing the data mask is most of the work of a QR encoder: gozxing
// builds the whole matrix afresh for each of the eight masks and scores it
// through [][]int8 rows. Here gozxing builds one matrix, with mask 0; the
// other seven differ from it only in the data modules (the mask flips them)
// and in the 15 format bits (which name the mask), so each is derived from
// the first in one pass over a flat grid, and scored by the same four
// penalty rules. The grid is n×n, row by row, 1 for a dark module.
func qrSymbol(content string, utf8 bool) (grid []byte, n int, err error) {
	hints := map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_QR_MASK_PATTERN: 0}
	if utf8 {
		hints[gozxing.EncodeHintType_CHARACTER_SET] = "UTF-8"
	}
	code, err := qrenc.Encoder_encode(content, qrdec.ErrorCorrectionLevel_M, hints)
	if err != nil {
		return nil, 0, err
	}
	m := code.GetMatrix()
	n = m.GetWidth()
	data := qrDataModules(code.GetVersion(), n)
	// base: the symbol without any mask on its data modules.
	base := make([]byte, n*n)
	for y := range n {
		for x := range n {
			i := y*n + x
			base[i] = byte(m.Get(x, y))
			if data[i] && qrMaskBit(0, x, y) {
				base[i] ^= 1
			}
		}
	}
	grid, try := make([]byte, n*n), make([]byte, n*n)
	best := math.MaxInt
	for mask := range 8 {
		for y := range n {
			for x := range n {
				i := y*n + x
				try[i] = base[i]
				if data[i] && qrMaskBit(mask, x, y) {
					try[i] ^= 1
				}
			}
		}
		qrPlaceFormat(try, n, mask)
		if p := qrPenalty(try, n); p < best { // the first of equals, as gozxing
			best = p
			grid, try = try, grid
		}
	}
	return grid, n, nil
}

// qrMaskBit says whether mask flips the module at column x, row y
// (ISO/IEC 18004 §8.8, as gozxing's MaskUtil_getDataMaskBit).
func qrMaskBit(mask, x, y int) bool {
	var v int
	switch mask {
	case 0:
		v = (y + x) & 1
	case 1:
		v = y & 1
	case 2:
		v = x % 3
	case 3:
		v = (y + x) % 3
	case 4:
		v = (y/2 + x/3) & 1
	case 5:
		v = (y*x)&1 + (y*x)%3
	case 6:
		v = ((y*x)&1 + (y*x)%3) & 1
	default:
		v = ((y*x)%3 + (y+x)&1) & 1
	}
	return v == 0
}

// qrDataModules marks the modules that carry data (and so are masked):
// all but the finder patterns with their separators and the format
// information beside them, the timing patterns, the alignment patterns,
// and from version 7 the version information.
func qrDataModules(v *qrdec.Version, n int) []bool {
	data := make([]bool, n*n)
	for i := range data {
		data[i] = true
	}
	clear := func(x0, y0, w, h int) {
		for y := max(y0, 0); y < min(y0+h, n); y++ {
			for x := max(x0, 0); x < min(x0+w, n); x++ {
				data[y*n+x] = false
			}
		}
	}
	clear(0, 0, 9, 9)   // top left finder, separator, format
	clear(n-8, 0, 8, 9) // top right
	clear(0, n-8, 9, 8) // bottom left, with the dark module
	clear(6, 0, 1, n)   // timing
	clear(0, 6, n, 1)
	centers := v.GetAlignmentPatternCenters()
	for _, cy := range centers {
		for _, cx := range centers {
			last := centers[len(centers)-1]
			if (cx == 6 && cy == 6) || (cx == 6 && cy == last) || (cx == last && cy == 6) {
				continue // on a finder pattern
			}
			clear(cx-2, cy-2, 5, 5)
		}
	}
	if v.GetVersionNumber() >= 7 {
		clear(n-11, 0, 3, 6)
		clear(0, n-11, 6, 3)
	}
	return data
}

// qrPlaceFormat writes the format information of medium error correction
// and mask into the grid, where gozxing's embedTypeInfo puts it.
func qrPlaceFormat(grid []byte, n, mask int) {
	const poly, xor = 0x537, 0x5412
	info := mask // medium error correction is 00
	bch := info << 10
	for b := 14; b >= 10; b-- {
		if bch&(1<<b) != 0 {
			bch ^= poly << (b - 10)
		}
	}
	bits := (info<<10 | bch) ^ xor
	for i, c := range qrFormatCoords {
		bit := byte(bits>>i) & 1
		grid[c[1]*n+c[0]] = bit
		if i < 8 {
			grid[8*n+n-1-i] = bit
		} else {
			grid[(n-7+i-8)*n+8] = bit
		}
	}
}

// qrFormatCoords: (x, y) of format bits 0–14 around the top left finder.
var qrFormatCoords = [15][2]int{
	{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8},
	{7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8},
}

// qrPenalty scores a masked symbol by the four rules of ISO/IEC 18004
// §8.8.2 as gozxing (ZXing) counts them: runs of five or more, 2×2 blocks,
// finder-like 1:1:3:1:1 patterns beside four light modules, and the
// balance of dark and light.
func qrPenalty(g []byte, n int) int {
	p, dark := 0, 0
	colRun := make([]int, n) // rule 1 down each column, carried row to row
	// light says whether modules [from, to) of a line (at from0, step
	// apart) are all light; beyond the symbol counts as light.
	light := func(i0, step, from, to int) bool {
		for k := max(from, 0); k < min(to, n); k++ {
			if g[i0+k*step] == 1 {
				return false
			}
		}
		return true
	}
	for y := range n {
		row := g[y*n : y*n+n]
		run := 0
		for x, b := range row {
			dark += int(b)
			// Rule 1: a run of five or more same modules costs 3, and 1
			// for each module beyond five.
			if x > 0 && b == row[x-1] {
				run++
			} else {
				if run >= 5 {
					p += run - 2
				}
				run = 1
			}
			if y > 0 && b == g[(y-1)*n+x] {
				colRun[x]++
			} else {
				if colRun[x] >= 5 {
					p += colRun[x] - 2
				}
				colRun[x] = 1
			}
			// Rule 2: each 2×2 block of one colour costs 3.
			if y > 0 && x > 0 {
				up := g[(y-1)*n : y*n]
				if b == row[x-1] && b == up[x] && b == up[x-1] {
					p += 3
				}
			}
			// Rule 3: 1011101 with four light modules before or after it
			// costs 40, across and down.
			if b == 0 {
				continue
			}
			if x+6 < n && row[x+1] == 0 && row[x+2] == 1 && row[x+3] == 1 && row[x+4] == 1 && row[x+5] == 0 && row[x+6] == 1 &&
				(light(y*n, 1, x-4, x) || light(y*n, 1, x+7, x+11)) {
				p += 40
			}
			if i := y*n + x; y+6 < n && g[i+n] == 0 && g[i+2*n] == 1 && g[i+3*n] == 1 && g[i+4*n] == 1 && g[i+5*n] == 0 && g[i+6*n] == 1 &&
				(light(x, n, y-4, y) || light(x, n, y+7, y+11)) {
				p += 40
			}
		}
		if run >= 5 {
			p += run - 2
		}
	}
	for _, run := range colRun {
		if run >= 5 {
			p += run - 2
		}
	}
	// Rule 4: 10 for every full 5 % that dark modules are off half.
	d := dark*2 - n*n
	if d < 0 {
		d = -d
	}
	return p + d*10/(n*n)*10
}
