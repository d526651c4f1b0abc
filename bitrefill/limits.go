package bitrefill

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Class is a group of endpoints that share one of Bitrefill's request
// budgets. The documentation gives each class its own limits, so spending on
// one (browsing the catalogue) never starves another (creating invoices).
type Class int

// The documented classes.
const (
	// ClassGeneral is every endpoint without a budget of its own: invoices,
	// orders, balance, phone checks, the eSIM list. 60 requests / 10 min.
	ClassGeneral Class = iota
	// ClassProducts is /products and everything below it, including
	// /products/search: 60 requests / min and 1,000 / hour.
	ClassProducts
	// ClassPing is GET /ping: 1 request / 3 s.
	ClassPing
	// ClassESIMPurchase is POST /esims (buying or topping up an eSIM):
	// 60 requests / 10 min.
	ClassESIMPurchase
	numClasses
)

var classNames = [numClasses]string{"general", "products", "ping", "esims"}

// String is the name used in BITREFILL_RATE_LIMITS.
func (c Class) String() string {
	if c >= 0 && c < numClasses {
		return classNames[c]
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// ClassOf says which budget a request spends. path is below the base URL,
// e.g. "/products/search" or "/invoices/9a1c…".
func ClassOf(method, path string) Class {
	switch {
	case path == "/ping":
		return ClassPing
	case path == "/products" || strings.HasPrefix(path, "/products/"):
		return ClassProducts
	case method == http.MethodPost && path == "/esims":
		return ClassESIMPurchase
	}
	return ClassGeneral
}

// Rate is N requests per Per.
type Rate struct {
	N   int
	Per time.Duration
}

func (r Rate) String() string { return strconv.Itoa(r.N) + "/" + formatPer(r.Per) }

// Limits holds each class's rates. A request must fit every rate of its
// class; a class with no rates is not limited. A nil Limits limits nothing
// (tests and the sandbox); production uses DefaultLimits or ParseLimits.
type Limits map[Class][]Rate

// DefaultLimits are the limits Bitrefill documents for an ordinary account.
func DefaultLimits() Limits {
	return Limits{
		ClassGeneral:      {{60, 10 * time.Minute}},
		ClassProducts:     {{60, time.Minute}, {1000, time.Hour}},
		ClassPing:         {{1, 3 * time.Second}},
		ClassESIMPurchase: {{60, 10 * time.Minute}},
	}
}

// Unlimited limits nothing: what a test or the sandbox passes as "off".
func Unlimited() Limits {
	l := Limits{}
	for c := range numClasses {
		l[c] = nil
	}
	return l
}

// Faster divides every period by factor, keeping each class's proportions:
// a test can run "60 per 10 minutes" as "60 per 6 seconds" and still learn
// how the bot behaves at the documented limits.
func (l Limits) Faster(factor int) Limits {
	if factor <= 1 {
		return l
	}
	out := make(Limits, len(l))
	for c, rs := range l {
		scaled := make([]Rate, len(rs))
		for i, r := range rs {
			scaled[i] = Rate{N: r.N, Per: max(r.Per/time.Duration(factor), time.Millisecond)}
		}
		out[c] = scaled
	}
	return out
}

// String writes l in the syntax ParseLimits reads.
func (l Limits) String() string {
	if l == nil {
		return "off"
	}
	var parts []string
	off := true
	for c := range numClasses {
		rs := l[c]
		if len(rs) == 0 {
			parts = append(parts, c.String()+"=off")
			continue
		}
		off = false
		s := make([]string, len(rs))
		for i, r := range rs {
			s[i] = r.String()
		}
		parts = append(parts, c.String()+"="+strings.Join(s, "+"))
	}
	if off {
		return "off"
	}
	return strings.Join(parts, ",")
}

// maxLimitPeriod bounds a period: Bitrefill's longest is an hour, and a
// year-long window would only hide a typo.
const maxLimitPeriod = 24 * time.Hour

// ParseLimits reads BITREFILL_RATE_LIMITS: the documented limits, changed
// by a comma-separated list of class=rates, where rates is "off" or one or
// more N/period joined by "+" (a request must fit all of them), and period
// is a Go duration ("10m", "1h30m") or a bare unit ("s", "m", "h"). A class
// named replaces all of its documented rates; classes not named keep theirs.
// "" means the documented limits; "off" alone turns every limit off.
//
//	general=600/10m,products=300/1m+5000/1h
//	ping=off
func ParseLimits(s string) (Limits, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Unlimited(), nil
	}
	l := DefaultLimits()
	if s == "" {
		return l, nil
	}
	seen := map[Class]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("rate limits: %q: want class=N/period", item)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		c := Class(slices.Index(classNames[:], name))
		if c < 0 {
			return nil, fmt.Errorf("rate limits: unknown class %q (want one of %s)", name, strings.Join(classNames[:], ", "))
		}
		if seen[c] {
			return nil, fmt.Errorf("rate limits: class %q given twice", name)
		}
		seen[c] = true
		rs, err := parseRates(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("rate limits: %s: %w", name, err)
		}
		l[c] = rs
	}
	return l, nil
}

func parseRates(s string) ([]Rate, error) {
	if strings.EqualFold(s, "off") {
		return nil, nil
	}
	var out []Rate
	for part := range strings.SplitSeq(s, "+") {
		part = strings.TrimSpace(part)
		ns, per, ok := strings.Cut(part, "/")
		if !ok {
			return nil, fmt.Errorf("%q: want N/period, e.g. 60/10m", part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(ns))
		if err != nil || n <= 0 || n > 1_000_000 {
			return nil, fmt.Errorf("%q: the count must be a whole number from 1 to 1000000", part)
		}
		d, err := parsePer(strings.TrimSpace(per))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, Rate{N: n, Per: d})
	}
	return out, nil
}

var errPeriod = errors.New("the period must be a duration from 1ms to 24h, e.g. 10m, 1h or s")

func parsePer(s string) (time.Duration, error) {
	switch s {
	case "s":
		return time.Second, nil
	case "m":
		return time.Minute, nil
	case "h":
		return time.Hour, nil
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errPeriod
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Millisecond || d > maxLimitPeriod {
		return 0, errPeriod
	}
	return d, nil
}

// formatPer writes a period the way people write them ("10m", "1h", "3s"),
// which time.Duration.String does not ("10m0s").
func formatPer(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
