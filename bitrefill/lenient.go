package bitrefill

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// The helpers below read one field of a response leniently: Bitrefill's
// documentation, its sample code and recorded live responses disagree on names
// and JSON types, and a catalogue page must not fail to decode because one
// product spells a field differently. Raw messages keep numbers as their text,
// so no value ever passes through float64.

type fields map[string]json.RawMessage

func decodeFields(b []byte) (fields, error) {
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return f, nil
}

// get returns the first present, non-null value among names.
func (f fields) get(names ...string) json.RawMessage {
	for _, n := range names {
		if v, ok := f[n]; ok && !isNull(v) {
			return v
		}
	}
	return nil
}

func (f fields) str(names ...string) string { return rawString(f.get(names...)) }

func (f fields) has(names ...string) bool { return f.get(names...) != nil }

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func rawKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; {
	case c == '"', c == '{', c == '[', c == 't', c == 'f', c == 'n':
		return c
	default:
		return '0' // number
	}
}

// rawString renders any JSON value as text: strings as themselves, numbers as
// written, booleans as true/false, null as "", objects and arrays as compact JSON.
func rawString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch rawKind(raw) {
	case 0, 'n':
		return ""
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case '{', '[':
		var b bytes.Buffer
		if json.Compact(&b, raw) == nil {
			return b.String()
		}
		return string(raw)
	default:
		return string(raw)
	}
}

// numberText is rawString for values that should be numbers: an exponent
// form is rewritten as plain decimal text ("1e3" → "1000").
func numberText(raw json.RawMessage) string {
	s := rawString(raw)
	if rawKind(raw) == '0' && strings.ContainsAny(s, "eE") {
		if d, err := ParseDecimal(s); err == nil {
			return d.String()
		}
	}
	return s
}

// rawDecimal reads a number or numeric string; ok is false when absent or unparseable.
func rawDecimal(raw json.RawMessage) (Decimal, bool) {
	switch rawKind(raw) {
	case '0', '"':
		s := strings.TrimSpace(rawString(raw))
		if s == "" {
			return Decimal{}, false
		}
		d, err := ParseDecimal(s)
		return d, err == nil
	}
	return Decimal{}, false
}

func (f fields) decimal(names ...string) (Decimal, bool) { return rawDecimal(f.get(names...)) }

// rawInt64 reads an integer given as a number or string; a decimal with a
// fraction is truncated toward zero.
func rawInt64(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(rawString(raw))
	if s == "" {
		return 0, false
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	d, err := ParseDecimal(s)
	if err != nil {
		return 0, false
	}
	neg, intPart, _ := d.parts()
	if neg {
		intPart = "-" + intPart
	}
	v, err := strconv.ParseInt(intPart, 10, 64)
	return v, err == nil
}

func (f fields) int64(names ...string) (int64, bool) { return rawInt64(f.get(names...)) }

// rawBool reads true/false, "true"/"false"/"yes"/"no", or 1/0.
func rawBool(raw json.RawMessage) (v, ok bool) {
	switch rawKind(raw) {
	case 't':
		return true, true
	case 'f':
		return false, true
	case '"', '0':
		switch strings.ToLower(strings.TrimSpace(rawString(raw))) {
		case "true", "1", "yes", "y":
			return true, true
		case "false", "0", "no", "n", "":
			return false, true
		}
	}
	return false, false
}

func (f fields) bool(names ...string) (v, ok bool) { return rawBool(f.get(names...)) }

// Layouts tried for textual times, most specific first.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.RFC1123,
	time.RFC1123Z,
	"2006-01-02",
}

// rawTime reads RFC 3339 text (and a few near variants) or unix time given as
// a number or numeric string. Unix values above 1e11 are taken as
// milliseconds: JavaScript backends send those, and 1e11 seconds is year 5138.
func rawTime(raw json.RawMessage) time.Time {
	s := strings.TrimSpace(rawString(raw))
	if s == "" {
		return time.Time{}
	}
	if d, err := ParseDecimal(s); err == nil {
		neg, intPart, frac := d.parts()
		n, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil {
			return time.Time{}
		}
		if neg {
			n = -n
		}
		var nanos int64
		if frac != "" {
			frac = (frac + "000000000")[:9]
			nanos, _ = strconv.ParseInt(frac, 10, 64)
			if neg {
				nanos = -nanos
			}
		}
		if n > 1e11 || n < -1e11 {
			return time.UnixMilli(n).UTC()
		}
		return time.Unix(n, nanos).UTC()
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func (f fields) time(names ...string) time.Time { return rawTime(f.get(names...)) }

// rawArray splits a JSON array; anything else yields nil.
func rawArray(raw json.RawMessage) []json.RawMessage {
	if rawKind(raw) != '[' {
		return nil
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		return nil
	}
	return a
}

// rawStrings reads a list of strings; elements that are objects contribute
// their "name", "id", "code" or "slug", since some responses list categories
// and coverage as objects. A single string becomes a one-element list.
func rawStrings(raw json.RawMessage) []string {
	if rawKind(raw) == '"' {
		if s := rawString(raw); s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, el := range rawArray(raw) {
		var s string
		if rawKind(el) == '{' {
			if f, err := decodeFields(el); err == nil {
				s = f.str("name", "slug", "id", "code", "country_code", "country")
			}
		} else {
			s = rawString(el)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// rawStringMap renders an object's values, of any JSON type, as strings. A
// list of {"name"/"key"/"label": ..., "value": ...} objects is accepted too.
func rawStringMap(raw json.RawMessage) map[string]string {
	switch rawKind(raw) {
	case '{':
		f, err := decodeFields(raw)
		if err != nil || len(f) == 0 {
			return nil
		}
		m := make(map[string]string, len(f))
		for k, v := range f {
			m[k] = rawString(v)
		}
		return m
	case '[':
		m := map[string]string{}
		for _, el := range rawArray(raw) {
			f, err := decodeFields(el)
			if err != nil {
				continue
			}
			k := f.str("name", "key", "label", "title")
			if k == "" {
				continue
			}
			m[k] = rawString(f.get("value", "text"))
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	return nil
}
