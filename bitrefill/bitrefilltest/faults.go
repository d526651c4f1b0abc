package bitrefilltest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests misbehave. Faults are consumed in the order
// they were injected; the first one matching a request applies to it.
type Fault struct {
	Method     string        // "" = any
	Path       string        // path prefix after /v2, e.g. "/invoices"; "" = any
	Status     int           // e.g. 500, 503, 429; 0 = no status fault (use with Latency/Drop)
	RetryAfter time.Duration // for 429: Retry-After (seconds) and ratelimit-reset headers
	Latency    time.Duration // real-time delay before answering; the request context cancels it
	Drop       bool          // abort the connection without a response
	Times      int           // how many matching requests it applies to (0 = 1)
	// AfterHandling lets the request take effect before the fault replaces
	// its response (Status or Drop): a POST /invoices that creates the
	// invoice but whose answer is lost, the ambiguous failure clients must
	// resolve by looking the invoice up rather than retrying.
	AfterHandling bool
}

// InjectFault queues a fault.
func (f *Fake) InjectFault(ft Fault) {
	if ft.Times <= 0 {
		ft.Times = 1
	}
	f.mu.Lock()
	f.faults = append(f.faults, &ft)
	f.mu.Unlock()
}

func (f *Fake) takeFaultLocked(method, path string) *Fault {
	for i, ft := range f.faults {
		if ft.Method != "" && !strings.EqualFold(ft.Method, method) {
			continue
		}
		if ft.Path != "" && !strings.HasPrefix(path, ft.Path) {
			continue
		}
		ft.Times--
		if ft.Times <= 0 {
			f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		}
		c := *ft
		return &c
	}
	return nil
}

func (f *Fake) writeFault(w http.ResponseWriter, r *http.Request, ft *Fault) {
	endpoint := strings.TrimPrefix(strings.TrimSuffix(r.URL.Path, "/"), "/v2")
	f.setRateHeaders(w, endpoint)
	code, msg := "internal_error", "Internal server error."
	switch {
	case ft.Status == http.StatusTooManyRequests:
		code, msg = "rate_limited", "Too many requests."
		secs := int64(ceilDiv(int64(max(ft.RetryAfter, 0)), int64(time.Second)))
		h := w.Header()
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(f.now().Add(time.Duration(secs)*time.Second).Unix(), 10))
		h["ratelimit-remaining"] = []string{"0"}
		h["ratelimit-reset"] = []string{strconv.FormatInt(secs, 10)}
	case ft.Status == http.StatusServiceUnavailable:
		code, msg = "service_unavailable", "Service temporarily unavailable."
	case ft.Status == http.StatusBadGateway || ft.Status == http.StatusGatewayTimeout:
		code, msg = "bad_gateway", "Upstream error."
	case ft.Status < 500:
		code, msg = "injected_fault", http.StatusText(ft.Status)
	}
	writeError(w, ft.Status, endpoint, code, msg)
}
