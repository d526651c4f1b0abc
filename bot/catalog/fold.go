package catalog

import (
	"unicode"
	"unicode/utf8"
)

// foldTable maps the accented letters of the Latin scripts people type
// product and country names in to their base letters, as an NFD
// decomposition followed by dropping the marks would. A table of a few
// dozen entries covers Spanish, Portuguese, French, German, the Nordic and
// the Central European languages without a Unicode normalisation
// dependency; anything else keeps its (lower-cased) letters.
var foldTable = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'æ': "ae", 'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d", 'ð': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'ğ': "g", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ī': "i", 'į': "i", 'ı': "i",
	'ł': "l", 'ľ': "l", 'ñ': "n", 'ń': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ő': "o", 'œ': "oe",
	'ř': "r", 'ś': "s", 'š': "s", 'ş': "s", 'ș': "s", 'ß': "ss", 'ť': "t", 'ţ': "t", 'ț': "t", 'þ': "th",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
}

// foldASCII is the fast path: lower-case letters and digits are kept, the
// apostrophe vanishes ("Lowe's" is "lowes"), everything else separates words.
var foldASCII = func() (t [128]byte) {
	for c := 0; c < 128; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			t[c] = byte(c)
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		case c == '\'' || c == '`':
			t[c] = 0 // dropped
		default:
			t[c] = ' '
		}
	}
	return t
}()

// maxFold bounds how much of a query is looked at: no product name is
// longer, and it keeps a pasted essay from costing more than a search.
const maxFold = 200

// appendFold appends the folded form of s to dst: lower case, accents and
// combining marks removed, punctuation turned into single spaces, trimmed.
// "Amazon España!" becomes "amazon espana", "H&M" becomes "h m".
func appendFold(dst []byte, s string) []byte {
	start := len(dst)
	space := true // no leading space
	put := func(c byte) {
		if c == ' ' {
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			return
		}
		dst = append(dst, c)
		space = false
	}
	for i := 0; i < len(s) && len(dst)-start < maxFold; {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if f := foldASCII[c]; f != 0 {
				put(f)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			put(' ')
		case r == '’' || r == 'ʼ':
			// apostrophes, like the ASCII one, join
		case unicode.Is(unicode.Mn, r):
			// combining marks: input already decomposed (NFD)
		default:
			r = unicode.ToLower(r)
			if f, ok := foldTable[r]; ok {
				for j := 0; j < len(f); j++ {
					put(f[j])
				}
			} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
				dst = utf8.AppendRune(dst, r)
				space = false
			} else {
				put(' ')
			}
		}
	}
	if len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// Fold returns the normalised form search compares: see appendFold.
func Fold(s string) string { return string(appendFold(nil, s)) }

// forEachWord calls fn with the bounds of each space-separated word of a
// folded string.
func forEachWord(s []byte, fn func(start, end int)) {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if i > start {
				fn(start, i)
			}
			start = i + 1
		}
	}
}

// letterMask is a set of the characters in a word: one bit per ASCII
// letter and digit, and one of a few buckets for other letters. A word
// within k edits of another lacks at most k of the other's characters,
// which rules most of the dictionary out before any edit distance is
// computed.
func letterMask[S string | []byte](w S) uint64 {
	var m uint64
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			m |= 1 << (c - 'a')
		case c >= '0' && c <= '9':
			m |= 1 << (26 + c - '0')
		default:
			m |= 1 << (36 + c%28)
		}
	}
	return m
}

// equalNoSpace reports whether a and b are equal once spaces are ignored
// ("play station" and "playstation").
func equalNoSpace(a []byte, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && a[i] == ' ' {
			i++
		}
		for j < len(b) && b[j] == ' ' {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] != b[j] {
			return false
		}
		i++
		j++
	}
}

// prefixNoSpace reports whether p is a prefix of s once spaces are ignored.
func prefixNoSpace(p []byte, s string) bool {
	i, j := 0, 0
	for {
		for i < len(p) && p[i] == ' ' {
			i++
		}
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if i == len(p) {
			return true
		}
		if j == len(s) || p[i] != s[j] {
			return false
		}
		i++
		j++
	}
}

func hasPrefix(s string, p []byte) bool {
	return len(s) >= len(p) && s[:len(p)] == string(p)
}

// editDistance is the optimal-string-alignment distance (insertions,
// deletions, substitutions and swaps of neighbours) between a and b, and the
// smallest distance between a and any prefix of b, both capped at k+1. Only
// the diagonal band of width 2k+1 can hold values within k, so only it is
// computed; it gives up as soon as every alignment costs more than k, and
// works on small fixed arrays so a search does not allocate.
func editDistance(a []byte, b string, k int) (full, prefix int) {
	const maxLen = 48
	inf := uint8(k + 1)
	m, n := len(a), len(b)
	if m > maxLen || n > maxLen {
		return k + 1, k + 1
	}
	var rows [3][maxLen + 2]uint8
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= n; j++ {
		prev[j] = uint8(min(j, k+1))
	}
	lo, hi := 0, min(n, k)
	for i := 1; i <= m; i++ {
		lo, hi = max(1, i-k), min(n, i+k)
		if lo > hi+1 {
			return k + 1, k + 1
		}
		if lo == 1 {
			cur[0] = uint8(min(i, k+1))
		} else {
			cur[lo-1] = inf
		}
		rowMin := cur[lo-1]
		for j := lo; j <= hi; j++ {
			cost := uint8(1)
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			v = min(v, inf)
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if hi+1 <= n {
			cur[hi+1] = inf
		}
		if rowMin > inf-1 {
			return k + 1, k + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	full = k + 1
	if n >= lo-1 && n <= hi {
		full = int(prev[n])
	}
	prefix = k + 1
	for j := max(0, lo-1); j <= hi; j++ {
		prefix = min(prefix, int(prev[j]))
	}
	return full, prefix
}

// cmpBytes is strings.Compare(a, string(b)) without the conversion's
// allocation.
func cmpBytes(a string, b []byte) int {
	switch {
	case a < string(b):
		return -1
	case a > string(b):
		return 1
	}
	return 0
}

// maxEdits is how many typos a query word of n bytes may carry: none in
// short words, where one edit reaches half the dictionary.
func maxEdits(n int) int {
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}
