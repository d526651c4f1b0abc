package bitrefilltest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const maxLimit = 50

// parsePage reads start/limit; an over-large limit is clamped, as the real
// API does, rather than rejected.
func parsePage(c *reqCtx) (start, limit int, ok bool) {
	q := c.r.URL.Query()
	start, limit = 0, maxLimit
	if s := q.Get("start"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			c.fail(http.StatusBadRequest, "invalid_param", "start must be a non-negative integer.")
			return 0, 0, false
		}
		start = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			c.fail(http.StatusBadRequest, "invalid_param", "limit must be a positive integer.")
			return 0, 0, false
		}
		limit = min(n, maxLimit)
	}
	return start, limit, true
}

// pageMeta finishes meta with start, limit and _next. _next keeps only
// start and limit (plus extra, e.g. the required q of a search): it drops
// filters as the live API may, so clients must re-apply theirs.
func pageMeta(c *reqCtx, meta obj, start, limit, total int, extra url.Values) obj {
	meta = append(meta, kv{"start", start}, kv{"limit", limit})
	var next any
	if start+limit < total {
		v := url.Values{}
		for k, vs := range extra {
			v[k] = vs
		}
		v.Set("start", strconv.Itoa(start+limit))
		v.Set("limit", strconv.Itoa(limit))
		scheme := "http"
		if c.r.TLS != nil || strings.EqualFold(c.r.Header.Get("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		next = (&url.URL{Scheme: scheme, Host: c.r.Host, Path: c.r.URL.Path, RawQuery: v.Encode()}).String()
	}
	return append(meta, kv{"_next", next})
}

func pageSlice[T any](items []T, start, limit int) []T {
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+limit, len(items))]
}

type productFilter struct {
	country, typ string
	tests        bool
	q            string
}

// readFilter parses the catalogue filters and echoes the given ones in meta.
func readFilter(c *reqCtx, meta *obj) (productFilter, bool) {
	q := c.r.URL.Query()
	var pf productFilter
	if v := q.Get("country"); v != "" {
		if len(v) != 2 {
			c.fail(http.StatusBadRequest, "invalid_param", "country must be an ISO 3166-1 alpha-2 code.")
			return pf, false
		}
		pf.country = strings.ToUpper(v)
		*meta = append(*meta, kv{"country", pf.country})
	}
	if v := q.Get("type"); v != "" {
		pf.typ = v
		*meta = append(*meta, kv{"type", v})
	}
	if v := q.Get("include_test_products"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			c.fail(http.StatusBadRequest, "invalid_param", "include_test_products must be true or false.")
			return pf, false
		}
		pf.tests = b
		*meta = append(*meta, kv{"include_test_products", b})
	}
	return pf, true
}

func (pf productFilter) match(p *product) bool {
	if p.test && !pf.tests {
		return false
	}
	if pf.typ != "" && p.typ != pf.typ {
		return false
	}
	if pf.country != "" && p.country != pf.country && !slices.Contains(p.coverage, pf.country) {
		return false
	}
	if pf.q != "" {
		q := strings.ToLower(pf.q)
		if !strings.Contains(strings.ToLower(p.name), q) && !strings.Contains(p.id, q) &&
			!slices.ContainsFunc(p.categories, func(c string) bool { return strings.Contains(c, q) }) {
			return false
		}
	}
	return true
}

func (f *Fake) filtered(pf productFilter) []json.RawMessage {
	var out []json.RawMessage
	for _, p := range f.products {
		if pf.match(p) {
			out = append(out, p.raw)
		}
	}
	return out
}

func (f *Fake) listProducts(c *reqCtx, esimOnly bool) {
	meta := obj{{"_endpoint", c.endpoint}}
	pf, ok := readFilter(c, &meta)
	if !ok {
		return
	}
	if esimOnly {
		pf.typ = "esim"
	}
	start, limit, ok := parsePage(c)
	if !ok {
		return
	}
	all := f.filtered(pf)
	f.writeData(c, pageMeta(c, meta, start, limit, len(all), nil), pageSlice(all, start, limit))
}

func (f *Fake) searchProducts(c *reqCtx) {
	q := c.r.URL.Query().Get("q")
	if q == "" {
		c.fail(http.StatusBadRequest, "missing_param", "Missing required parameter: q.")
		return
	}
	if utf8.RuneCountInString(q) > 100 || strings.TrimSpace(q) == "" {
		c.fail(http.StatusBadRequest, "invalid_param", "q must be 1 to 100 characters.")
		return
	}
	meta := obj{{"_endpoint", c.endpoint}, {"q", q}}
	pf, ok := readFilter(c, &meta)
	if !ok {
		return
	}
	pf.q = strings.TrimSpace(q)
	start, limit, ok := parsePage(c)
	if !ok {
		return
	}
	all := f.filtered(pf)
	f.writeData(c, pageMeta(c, meta, start, limit, len(all), url.Values{"q": {q}}), pageSlice(all, start, limit))
}

func (f *Fake) getProduct(c *reqCtx, id string, esimOnly bool) {
	p := f.productIdx[id]
	if p == nil || (esimOnly && !p.isESIM()) {
		c.fail(http.StatusNotFound, "not_found", "Product not found.")
		return
	}
	f.writeData(c, obj{{"_endpoint", c.endpoint}}, p.raw)
}

// ---- phone numbers ----

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// phoneCountries returns the countries whose calling code is the longest
// prefix of an E.164 number.
func phoneCountries(number string) []string {
	digits := strings.TrimPrefix(number, "+")
	best := 0
	var out []string
	for _, c := range countries {
		if strings.HasPrefix(digits, c.calling) {
			switch {
			case len(c.calling) > best:
				best, out = len(c.calling), []string{c.code}
			case len(c.calling) == best:
				out = append(out, c.code)
			}
		}
	}
	return out
}

func (f *Fake) operatorsFor(number string) []*product {
	ccs := phoneCountries(number)
	var out []*product
	for _, p := range f.products {
		if p.recipientType == "phone_number" && !p.test && slices.Contains(ccs, p.country) {
			out = append(out, p)
		}
	}
	return out
}

func (f *Fake) checkPhone(c *reqCtx) {
	q := c.r.URL.Query()
	number := q.Get("phone_number")
	if number == "" {
		c.fail(http.StatusBadRequest, "missing_param", "Missing required parameter: phone_number.")
		return
	}
	if !e164.MatchString(number) {
		c.fail(http.StatusBadRequest, "invalid_phone_number", "phone_number must be in E.164 format, e.g. +15551234567.")
		return
	}
	meta := obj{{"_endpoint", c.endpoint}, {"phone_number", number}}
	cands := f.operatorsFor(number)
	if op := q.Get("operator"); op != "" {
		meta = append(meta, kv{"operator", op})
		i := slices.IndexFunc(cands, func(p *product) bool { return p.id == op })
		if i < 0 {
			c.fail(http.StatusBadRequest, "unsupported_operator", "Operator does not serve this phone number.")
			return
		}
		cands = cands[i : i+1]
	}
	switch len(cands) {
	case 0:
		c.fail(http.StatusNotFound, "not_found", "No operator found for this phone number.")
	case 1:
		writeJSON(c.w, http.StatusOK, obj{{"meta", meta}, {"operator_found", true}, {"data", cands[0].raw}})
	default:
		list := make([]json.RawMessage, len(cands))
		for i, p := range cands {
			list[i] = p.raw
		}
		writeJSON(c.w, http.StatusOK, obj{{"meta", meta}, {"operator_found", false}, {"data", list}})
	}
}
