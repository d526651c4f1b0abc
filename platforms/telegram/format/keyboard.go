package format

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"unicode/utf8"

	"refillbot/conversation"
)

// Label makes an option's text fit a button: one line, at most MaxLabel
// runes (a longer one ends with "…"), never empty.
func Label(s string) string {
	s = strings.Join(strings.Fields(Clean(s)), " ")
	if s == "" {
		return "…"
	}
	if utf8.RuneCountInString(s) > MaxLabel {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:MaxLabel-1])) + "…"
	}
	return s
}

// InlineButton is Telegram's InlineKeyboardButton with only the fields we
// use. The library's type always serialises an empty copy_text object,
// which is not a button Telegram documents.
type InlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

type InlineKeyboard struct {
	InlineKeyboard [][]InlineButton `json:"inline_keyboard"`
}

// perRow is how many buttons with this label may share a row.
func perRow(l string) int {
	switch n := utf8.RuneCountInString(l); {
	case n <= 8:
		return 3
	case n <= 16:
		return 2
	}
	return 1
}

// Keyboard lays options out: short labels share rows, long ones get their own.
func Keyboard(opts []conversation.Option, tokens *Tokens) *InlineKeyboard {
	if len(opts) == 0 {
		return nil
	}
	kb := &InlineKeyboard{}
	var row []InlineButton
	capacity := 0
	for _, o := range opts {
		l := Label(o.Label)
		c := perRow(l)
		if len(row) > 0 && (len(row) >= min(capacity, c)) {
			kb.InlineKeyboard = append(kb.InlineKeyboard, row)
			row = nil
		}
		if len(row) == 0 {
			capacity = c
		} else {
			capacity = min(capacity, c)
		}
		row = append(row, InlineButton{Text: l, CallbackData: tokens.Data(o.Token)})
	}
	kb.InlineKeyboard = append(kb.InlineKeyboard, row)
	return kb
}

// Tokens keeps engine tokens too long for callback_data behind a short
// digest. The engine's tokens fit, so this is a safety net; it lives in
// memory, and an unknown digest after a restart reaches the engine as an
// expired token.
type Tokens struct {
	mu sync.Mutex
	m  map[string]string
}

// LongTokenPrefix starts the data of a button whose token stands behind a
// digest; no token that fits is sent with it, so the two never mix.
const LongTokenPrefix = "~"

// Data is the callback_data of a button for token.

func (t *Tokens) Data(token string) string {
	if len(token) <= MaxData && token != "" && !strings.HasPrefix(token, LongTokenPrefix) && utf8.ValidString(token) {
		return token
	}
	sum := sha256.Sum256([]byte(token))
	d := LongTokenPrefix + base64.RawURLEncoding.EncodeToString(sum[:18])
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) > 50000 {
		t.m = map[string]string{}
	}
	t.m[d] = token
	return d
}

// Token is the engine token a button press carries data for.
func (t *Tokens) Token(data string) string {
	if !strings.HasPrefix(data, LongTokenPrefix) {
		return data
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok, ok := t.m[data]; ok {
		return tok
	}
	return data
}
