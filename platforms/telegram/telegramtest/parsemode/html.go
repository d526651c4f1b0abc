package parsemode

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entity is a formatting entity of a parsed message, with Telegram's offsets
// in UTF-16 code units.
type Entity struct {
	Type   string // bold, italic, underline, strikethrough, spoiler, code, pre, text_link, blockquote
	Offset int
	Length int
	URL    string `json:",omitempty"`
}

// htmlTags maps the tags Telegram's HTML parse mode accepts to entity types.
var htmlTags = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"tg-spoiler": "spoiler", "span": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
}

type openTag struct {
	name   string
	typ    string
	url    string
	start  int // UTF-16 offset
	offset int // byte offset in the source, for messages
}

// HTML parses text in Telegram's HTML parse mode, returning the plain
// text and its entities, or the error Telegram would answer
// ("can't parse entities: ..."). Like Telegram it supports only the named
// entities &lt; &gt; &amp; &quot; and numeric ones, and leaves any other
// ampersand as it is.
func HTML(s string) (string, []Entity, error) {
	if !utf8.ValidString(s) {
		return "", nil, fmt.Errorf("can't parse entities: strings must be encoded in UTF-8")
	}
	var out strings.Builder
	var ents []Entity
	var stack []openTag
	u16 := 0
	write := func(str string) {
		out.WriteString(str)
		for _, r := range str {
			u16 += utf16.RuneLen(r)
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", nil, fmt.Errorf("can't parse entities: can't find end of the tag starting at byte offset %d", i)
			}
			body := s[i+1 : i+end]
			if strings.HasPrefix(body, "/") {
				name := strings.ToLower(strings.TrimSpace(body[1:]))
				if len(stack) == 0 {
					return "", nil, fmt.Errorf("can't parse entities: unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.name {
					return "", nil, fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag \"%s\"", top.name)
				}
				stack = stack[:len(stack)-1]
				if u16 > top.start {
					ents = append(ents, Entity{Type: top.typ, Offset: top.start, Length: u16 - top.start, URL: top.url})
				}
			} else {
				name, attrs, _ := strings.Cut(body, " ")
				name = strings.ToLower(name)
				typ, ok := htmlTags[name]
				if !ok || name == "" {
					return "", nil, fmt.Errorf("can't parse entities: unsupported start tag \"%s\" at byte offset %d", name, i)
				}
				t := openTag{name: name, typ: typ, start: u16, offset: i}
				a := parseAttrs(attrs)
				switch name {
				case "span":
					if a["class"] != "tg-spoiler" {
						return "", nil, fmt.Errorf("can't parse entities: tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
					}
				case "a":
					t.url = a["href"]
					if t.url == "" {
						t.typ = "" // Telegram drops a link without a target
					}
				}
				stack = append(stack, t)
			}
			i += end + 1
		case '&':
			if r, n := decodeEntity(s[i:]); n > 0 {
				write(string(r))
				i += n
				continue
			}
			write("&")
			i++
		default:
			j := i + 1
			for j < len(s) && s[j] != '<' && s[j] != '&' {
				j++
			}
			write(s[i:j])
			i = j
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	kept := ents[:0]
	for _, e := range ents {
		if e.Type != "" {
			kept = append(kept, e)
		}
	}
	return out.String(), kept, nil
}

func decodeEntity(s string) (rune, int) {
	semi := strings.IndexByte(s, ';')
	if semi < 2 || semi > 10 {
		return 0, 0
	}
	name := s[1:semi]
	switch name {
	case "lt":
		return '<', semi + 1
	case "gt":
		return '>', semi + 1
	case "amp":
		return '&', semi + 1
	case "quot":
		return '"', semi + 1
	}
	if strings.HasPrefix(name, "#") {
		num, base := name[1:], 10
		if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
			num, base = num[1:], 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err != nil || !utf8.ValidRune(rune(v)) || v == 0 {
			return 0, 0
		}
		return rune(v), semi + 1
	}
	return 0, 0
}

// parseAttrs reads name="value" pairs loosely, as Telegram does.
func parseAttrs(s string) map[string]string {
	out := map[string]string{}
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			out[strings.ToLower(s)] = ""
			return out
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		rest := strings.TrimSpace(s[eq+1:])
		var val string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			q := rest[0]
			end := strings.IndexByte(rest[1:], q)
			if end < 0 {
				val, rest = rest[1:], ""
			} else {
				val, rest = rest[1:1+end], rest[end+2:]
			}
		} else {
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				val, rest = rest, ""
			} else {
				val, rest = rest[:sp], rest[sp:]
			}
		}
		out[name] = unescape(val)
		s = rest
	}
}

func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			if r, n := decodeEntity(s[i:]); n > 0 {
				b.WriteRune(r)
				i += n
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// UTF16Len is the length of s as Telegram counts it.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
