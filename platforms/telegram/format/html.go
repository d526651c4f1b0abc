package format

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"

	"refillbot/conversation"
)

// Telegram's limits, counted in UTF-16 code units after entity parsing.
const (
	MaxText    = 4096
	MaxCaption = 1024
	MaxData    = 64 // callback_data, in bytes
	MaxLabel   = 40 // runes of a button label before it is shortened
)

// Escape escapes the three characters Telegram's HTML mode reserves.
func Escape(s string) string {
	if !strings.ContainsAny(s, "<>&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Clean makes a dynamic string safe to send: valid UTF-8 and no control
// characters other than newlines and tabs (Telegram rejects some, and they
// can garble what the user sees).
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return -1
		case unicode.IsControl(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

// urlRE finds links in text; Telegram links them by itself.
var urlRE = regexp.MustCompile(`https?://[^\s<>]+`)

// HTML renders spans in Telegram's HTML parse mode. In a secret reply
// (redemption details) codes are <code>, which Telegram copies on a tap, and
// links, which redeem the card as surely as a code, are hidden under a
// spoiler until tapped. Codes cannot go under a spoiler too: Telegram does
// not nest code in any other entity.
func HTML(spans []conversation.Span, secret bool) string {
	var b strings.Builder
	for _, s := range spans {
		t := Escape(Clean(s.Text))
		if t == "" {
			continue
		}
		if secret && s.Style != conversation.Code {
			t = urlRE.ReplaceAllString(t, "<tg-spoiler>$0</tg-spoiler>")
		}
		var open, close string
		switch s.Style {
		case conversation.Bold:
			open, close = "<b>", "</b>"
		case conversation.Italic:
			open, close = "<i>", "</i>"
		case conversation.Code:
			open, close = "<code>", "</code>"
		}
		if open != "" && strings.TrimSpace(t) == "" {
			open, close = "", "" // an entity of only white space is dropped anyway
		}
		b.WriteString(open)
		b.WriteString(t)
		b.WriteString(close)
	}
	return b.String()
}

func u16len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// PlainLen is the length Telegram will count for rendered spans.
func PlainLen(spans []conversation.Span) int {
	n := 0
	for _, s := range spans {
		n += u16len(Clean(s.Text))
	}
	return n
}

// isBlank reports whether spans would render to nothing Telegram keeps.
func isBlank(spans []conversation.Span) bool {
	for _, s := range spans {
		if strings.TrimSpace(Clean(s.Text)) != "" {
			return false
		}
	}
	return true
}

// Split cuts spans into chunks of at most limit UTF-16 units each,
// preferring line boundaries, then spaces, and never cutting a rune or a
// surrogate pair. Styles carry over a cut: each chunk renders balanced HTML.
// Chunks with nothing visible are left out.
func Split(spans []conversation.Span, limit int) [][]conversation.Span {
	// Lines, each a list of spans without the newline.
	var lines [][]conversation.Span
	var cur []conversation.Span
	for _, s := range spans {
		parts := strings.Split(Clean(s.Text), "\n")
		for i, p := range parts {
			if i > 0 {
				lines = append(lines, cur)
				cur = nil
			}
			if p != "" {
				cur = append(cur, conversation.Span{Text: p, Style: s.Style})
			}
		}
	}
	lines = append(lines, cur)

	var chunks [][]conversation.Span
	var chunk []conversation.Span
	n := 0
	flush := func() {
		if !isBlank(chunk) {
			chunks = append(chunks, chunk)
		}
		chunk, n = nil, 0
	}
	for _, line := range lines {
		ln := PlainLen(line)
		if ln > limit {
			flush()
			for _, piece := range cutLine(line, limit) {
				chunk, n = piece, PlainLen(piece)
				flush()
			}
			continue
		}
		sep := 0
		if chunk != nil || n > 0 {
			sep = 1
		}
		if n+sep+ln > limit {
			flush()
			sep = 0
		}
		if sep == 1 {
			chunk = append(chunk, conversation.Span{Text: "\n"})
		}
		chunk = append(chunk, line...)
		n += sep + ln
		if chunk == nil {
			chunk = []conversation.Span{} // an empty line still counts as a line
		}
	}
	flush()
	return chunks
}

// cutLine cuts one over-long line into pieces within limit, at the last
// space before the limit when there is one.
func cutLine(line []conversation.Span, limit int) [][]conversation.Span {
	var out [][]conversation.Span
	var piece []conversation.Span
	n := 0
	for _, s := range line {
		t := s.Text
		left := u16len(t) // of t, kept as t shrinks: counting it again per piece made a long line quadratic
		for t != "" {
			room := limit - n
			if left <= room {
				piece = append(piece, conversation.Span{Text: t, Style: s.Style})
				n += left
				break
			}
			// Take as many runes as fit, then back up to a space if one is near.
			cut, used := 0, 0
			for i, r := range t {
				w := utf16.RuneLen(r)
				if used+w > room {
					cut = i
					break
				}
				used += w
			}
			if sp := strings.LastIndexByte(t[:cut], ' '); sp > cut/2 {
				cut = sp + 1
			}
			if cut > 0 {
				piece = append(piece, conversation.Span{Text: t[:cut], Style: s.Style})
				left -= u16len(t[:cut])
				t = t[cut:]
			}
			out = append(out, piece)
			piece, n = nil, 0
		}
	}
	if piece != nil {
		out = append(out, piece)
	}
	return out
}
