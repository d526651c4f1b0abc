package bot

import (
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"math/bits"
)

// qrPNG writes a QR symbol as a black-on-white, 1-bit greyscale PNG with
// the quiet zone, qrPixelsPerModule pixels per module.
//
// The image is so regular that its compressed stream is written by hand
// (RFC 1950/1951, one block of fixed Huffman codes): each module row's
// first pixel row as literals, runs of equal bytes within it and its
// repetitions for the other pixel rows as back-references. compress/flate
// would find the same matches at a far higher price: every writer is
// about 1 MB of hash tables, set up for each image, and with many invoices
// drawn at once each needs its own — most of the bot's peak heap under a
// rush of buyers (BENCHMARKS.md, issue 12).
func qrPNG(grid []byte, n int) []byte {
	mods := n + 2*qrQuietModules
	px := mods * qrPixelsPerModule
	stride := 1 + (px+7)/8 // filter byte 0 (none), then 8 pixels a byte, 1 = white

	var z fixedDeflate
	z.out = make([]byte, 0, 64+mods*(stride+8)) // 8-bit literals and a few matches per module row
	z.out = append(z.out, 0x78, 0x01)           // zlib header: deflate, 32 KB window, no dictionary
	z.put(1, 1)                                 // BFINAL: the only block
	z.put(1, 2)                                 // BTYPE 01: fixed Huffman codes
	sum := adler32.New()
	row := make([]byte, stride)
	for my := range mods {
		for i := 1; i < stride; i++ {
			row[i] = 0xff
		}
		if y := my - qrQuietModules; y >= 0 && y < n {
			for x := range n {
				if grid[y*n+x] != 1 {
					continue
				}
				for p := (qrQuietModules + x) * qrPixelsPerModule; p < (qrQuietModules+x+1)*qrPixelsPerModule; p++ {
					row[1+p/8] &^= 0x80 >> (p % 8)
				}
			}
		}
		z.row(row)
		z.match(stride*(qrPixelsPerModule-1), stride)
		for range qrPixelsPerModule {
			sum.Write(row)
		}
	}
	z.symbol(256) // end of block
	if z.nbits > 0 {
		z.out = append(z.out, byte(z.bits))
	}
	z.out = binary.BigEndian.AppendUint32(z.out, sum.Sum32())

	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(px))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(px))
	ihdr[8] = 1 // bit depth 1; colour type 0 (greyscale); compression, filter, interlace 0
	out := make([]byte, 0, len(z.out)+64)
	out = append(out, "\x89PNG\r\n\x1a\n"...)
	out = pngChunk(out, "IHDR", ihdr[:])
	out = pngChunk(out, "IDAT", z.out)
	return pngChunk(out, "IEND", nil)
}

// pngChunk appends one PNG chunk: length, type, data, CRC of type and data.
func pngChunk(out []byte, kind string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, kind...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// fixedDeflate writes one deflate block with the fixed Huffman codes of
// RFC 1951 §3.2.6.
type fixedDeflate struct {
	out   []byte
	bits  uint64
	nbits uint
}

// put appends the n low bits of v, least significant first.
func (d *fixedDeflate) put(v uint64, n uint) {
	d.bits |= v << d.nbits
	d.nbits += n
	for d.nbits >= 8 {
		d.out = append(d.out, byte(d.bits))
		d.bits >>= 8
		d.nbits -= 8
	}
}

// code appends an n-bit Huffman code, which deflate packs most significant
// bit first.
func (d *fixedDeflate) code(c uint16, n uint) {
	d.put(uint64(bits.Reverse16(c)>>(16-n)), n)
}

// symbol appends a literal/length symbol (0–287).
func (d *fixedDeflate) symbol(s int) {
	switch {
	case s < 144:
		d.code(0x30+uint16(s), 8)
	case s < 256:
		d.code(0x190+uint16(s-144), 9)
	case s < 280:
		d.code(uint16(s-256), 7)
	default:
		d.code(0xc0+uint16(s-280), 8)
	}
}

// row appends b as literals, a run of four or more equal bytes as one
// literal and a copy of it.
func (d *fixedDeflate) row(b []byte) {
	for i := 0; i < len(b); {
		j := i + 1
		for j < len(b) && b[j] == b[i] {
			j++
		}
		d.symbol(int(b[i]))
		if j-i-1 >= 3 {
			d.match(j-i-1, 1)
		} else {
			for range j - i - 1 {
				d.symbol(int(b[i]))
			}
		}
		i = j
	}
}

// Lengths and distances of RFC 1951 §3.2.5: the first value of each code
// and how many extra bits follow it.
var (
	lengthBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// match appends a copy of length bytes (at least 3) from dist bytes back
// (at most 32,768), as as many back-references as it takes: each copies
// 3 to 258 bytes, and may overlap what it writes.
func (d *fixedDeflate) match(length, dist int) {
	di := 0
	for di+1 < len(distBase) && distBase[di+1] <= dist {
		di++
	}
	for length > 0 {
		l := min(length, 258)
		if r := length - l; r > 0 && r < 3 {
			l = length - 3 // leave the last copy its minimum of 3
		}
		li := 0
		for li+1 < len(lengthBase) && lengthBase[li+1] <= l {
			li++
		}
		d.symbol(257 + li)
		d.put(uint64(l-lengthBase[li]), lengthExtra[li])
		d.code(uint16(di), 5)
		d.put(uint64(dist-distBase[di]), distExtra[di])
		length -= l
	}
}
