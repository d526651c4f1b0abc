package bitrefilltest

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limit is one of Bitrefill's documented rate limits: at most N requests of
// a class in any window of length Per.
type Limit struct {
	Class string // "general", "products", "ping" or "esims" (POST /esims)
	N     int
	Per   time.Duration
}

// DocumentedLimits are the limits Bitrefill documents: most endpoints 60
// requests / 10 min; /products and /products/search 60 / min plus 1,000 /
// hour; /ping 1 / 3 s; POST /esims 60 / 10 min.
func DocumentedLimits() []Limit {
	return []Limit{
		{"general", 60, 10 * time.Minute},
		{"products", 60, time.Minute},
		{"products", 1000, time.Hour},
		{"ping", 1, 3 * time.Second},
		{"esims", 60, 10 * time.Minute},
	}
}

// FasterLimits divides every period by factor: "60 per 10 minutes" becomes
// "60 per 6 seconds" at 100, so a test sees the documented budget's shape
// without waiting for it.
func FasterLimits(ls []Limit, factor int) []Limit {
	out := make([]Limit, len(ls))
	for i, l := range ls {
		l.Per = max(l.Per/time.Duration(max(factor, 1)), time.Millisecond)
		out[i] = l
	}
	return out
}

// limitClass is the budget a request spends, as the client counts it.
func limitClass(method, endpoint string) string {
	switch {
	case endpoint == "/ping":
		return "ping"
	case endpoint == "/products" || strings.HasPrefix(endpoint, "/products/"):
		return "products"
	case method == http.MethodPost && endpoint == "/esims":
		return "esims"
	}
	return "general"
}

// admitLocked applies Options.Limits to a request arriving now: it records
// the request and returns 0, or returns how long until it would fit. The
// windows slide, the strictest way to count, so a client that passes here
// passes a server counting in fixed windows too. Refused requests are not
// counted.
func (f *Fake) admitLocked(class string, now time.Time) (wait time.Duration, remaining int, reset time.Time) {
	remaining = -1
	for i, l := range f.opts.Limits {
		if l.Class != class {
			continue
		}
		log := f.accepted[i]
		cut := 0
		for cut < len(log) && !log[cut].After(now.Add(-l.Per)) {
			cut++
		}
		log = log[cut:]
		f.accepted[i] = log
		if len(log) >= l.N {
			wait = max(wait, log[len(log)-l.N].Add(l.Per).Sub(now))
		}
	}
	if wait > 0 {
		return wait, 0, now.Add(wait)
	}
	for i, l := range f.opts.Limits {
		if l.Class != class {
			continue
		}
		f.accepted[i] = append(f.accepted[i], now)
		left := l.N - len(f.accepted[i])
		if remaining < 0 || left < remaining {
			remaining = left
			reset = f.accepted[i][0].Add(l.Per)
		}
	}
	return 0, remaining, reset
}

// writeRateLimited answers 429 as Bitrefill documents it, with every header
// spelling clients have been seen reading.
func (f *Fake) writeRateLimited(w http.ResponseWriter, endpoint string, wait time.Duration, now time.Time) {
	secs := int64(ceilDiv(int64(max(wait, 0)), int64(time.Second)))
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Duration(secs)*time.Second).Unix(), 10))
	h["ratelimit-remaining"] = []string{"0"}
	h["ratelimit-reset"] = []string{strconv.FormatInt(secs, 10)}
	writeError(w, http.StatusTooManyRequests, endpoint, "rate_limited", "Too many requests.")
}

// ---- the request log, read by tests ----

var idSegment = regexp.MustCompile(`^/(invoices|orders|esims|products/esims|products)/([^/]+)`)

// Endpoint names a request the way the documentation does, with ids
// replaced: "GET /invoices/{id}", "POST /invoices/{id}/pay",
// "GET /products/search".
func (r Request) Endpoint() string {
	p := strings.TrimSuffix(strings.TrimPrefix(r.Path, "/v2"), "/")
	if m := idSegment.FindStringSubmatchIndex(p); m != nil {
		seg := p[m[4]:m[5]]
		if !(p[m[2]:m[3]] == "products" && (seg == "search" || seg == "esims")) {
			p = p[:m[4]] + "{id}" + p[m[5]:]
		}
	}
	return r.Method + " " + p
}

// Counts returns how many requests each endpoint received (see
// Request.Endpoint), answered or not.
func (f *Fake) Counts() map[string]int {
	out := map[string]int{}
	for _, r := range f.Requests() {
		out[r.Endpoint()]++
	}
	return out
}

// RateLimited returns the requests answered 429, by injected fault or by
// the enforced limits.
func (f *Fake) RateLimited() []Request {
	var out []Request
	for _, r := range f.Requests() {
		if r.Status == http.StatusTooManyRequests {
			out = append(out, r)
		}
	}
	return out
}
