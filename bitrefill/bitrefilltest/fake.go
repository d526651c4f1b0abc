package bitrefilltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures a Fake. The zero value is usable.
type Options struct {
	APIKey    string // accepted Bearer key; default "test-key"
	APIID     string // accepted Basic id; default "test-id"
	APISecret string // accepted Basic secret; default "test-secret"
	// Sandbox accepts every request, with or without credentials.
	Sandbox bool
	// Now is the clock all time-driven transitions are measured on; default time.Now.
	Now func() time.Time
	// ConfirmAfter is how long after payment detection the payment is confirmed.
	ConfirmAfter time.Duration
	// DeliverAfter is how long after confirmation orders are delivered.
	DeliverAfter time.Duration
	// InvoiceTTL is how long an unpaid invoice lives before it is "expired"; default 3h.
	InvoiceTTL time.Duration
	// HTTPClient posts webhooks; default a client with a 5s timeout.
	HTTPClient *http.Client
	// Balance is the starting account balance in USD, e.g. "100.00" (the default).
	Balance string
	// Limits are enforced when set: a request beyond them is answered 429
	// with Retry-After, and the rate-limit headers report what is left.
	// DocumentedLimits are Bitrefill's; FasterLimits scales them for tests.
	// Unset, the fake reports limits but enforces none (faults still can).
	Limits []Limit
	// ESIMShape is how a delivered eSIM order names its eSIM; see ESIMShape.
	ESIMShape ESIMShape
}

// ErrNotFound and ErrState are wrapped by the lifecycle controls' errors.
var (
	ErrNotFound = errors.New("bitrefilltest: not found")
	ErrState    = errors.New("bitrefilltest: not allowed in the current state")
)

// Request is one request as the fake received it.
type Request struct {
	Method   string
	Path     string // URL path as received, including the /v2 prefix
	RawQuery string
	Auth     string // "bearer", "basic" or "none", by scheme, whether or not the credentials were right
	Body     []byte
	Status   int // the status answered; 0 while in flight or when the connection was dropped
}

// Fake is an in-memory Bitrefill API v2. Safe for concurrent use.
type Fake struct {
	opts       Options
	now        func() time.Time
	hc         *http.Client
	salt       [8]byte
	products   []*product
	productIdx map[string]*product
	listed     int

	mu       sync.Mutex
	balance  int64
	seq      uint64
	invoices []*invoice
	invIdx   map[string]*invoice
	orders   []*order
	orderIdx map[string]*order
	esims    []*esim
	esimIdx  map[string]*esim
	faults   []*Fault
	reqs     []Request
	rl       map[string]*rlWindow
	accepted map[int][]time.Time // by index in opts.Limits: when each counted request came
	closed   bool
	wg       sync.WaitGroup
}

// New returns a Fake. It panics if opts.Balance is not a decimal amount.
func New(opts Options) *Fake {
	if opts.APIKey == "" {
		opts.APIKey = "test-key"
	}
	if opts.APIID == "" {
		opts.APIID = "test-id"
	}
	if opts.APISecret == "" {
		opts.APISecret = "test-secret"
	}
	if opts.InvoiceTTL <= 0 {
		opts.InvoiceTTL = 3 * time.Hour
	}
	if opts.Balance == "" {
		opts.Balance = "100.00"
	}
	f := &Fake{
		opts:       opts,
		now:        opts.Now,
		hc:         opts.HTTPClient,
		products:   catalogue(),
		productIdx: map[string]*product{},
		invIdx:     map[string]*invoice{},
		orderIdx:   map[string]*order{},
		esimIdx:    map[string]*esim{},
		rl:         map[string]*rlWindow{},
		accepted:   map[int][]time.Time{},
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.hc == nil {
		f.hc = &http.Client{Timeout: 5 * time.Second}
	}
	if _, err := rand.Read(f.salt[:]); err != nil {
		panic(err)
	}
	for _, p := range f.products {
		f.productIdx[p.id] = p
		if !p.test {
			f.listed++
		}
	}
	f.SetBalance(opts.Balance)
	return f
}

// NewServer starts f on an httptest server; clients use srv.URL + "/v2".
// Cleanup closes the server, then waits for webhook sends.
func NewServer(tb testing.TB, opts Options) (*Fake, *httptest.Server) {
	tb.Helper()
	f := New(opts)
	srv := httptest.NewServer(f)
	tb.Cleanup(func() {
		srv.Close()
		f.Close()
	})
	return f, srv
}

// Close stops new webhook sends and waits for those in flight (each is
// bounded by a timeout). The HTTP API keeps answering.
func (f *Fake) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.wg.Wait()
}

// Run calls Advance about every 200ms until ctx is done, so that a sandbox
// progresses and sends webhooks without anyone polling. It blocks.
func (f *Fake) Run(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Advance()
		}
	}
}

// Advance applies every transition that is due on the clock and sends the
// webhooks that result. Requests do this lazily too.
func (f *Fake) Advance() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked()
}

// Requests returns a copy of the request log, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.reqs))
	for i, r := range f.reqs {
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}

// Products is the number of products GET /products lists without filters
// (the six test products are not counted).
func (f *Fake) Products() int { return f.listed }

// SetBalance sets the account balance (USD decimal). It panics on a
// malformed amount: callers pass literals.
func (f *Fake) SetBalance(decimal string) {
	c, err := parseCents(decimal)
	if err != nil {
		panic(fmt.Sprintf("bitrefilltest: bad balance %q", decimal))
	}
	f.mu.Lock()
	f.balance = c
	f.mu.Unlock()
}

// Balance returns the account balance as a USD decimal ("100.00").
func (f *Fake) Balance() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmtCents2(f.balance)
}

// ---- ids ----

func (f *Fake) digest(kind string, n uint64) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return sha256.Sum256(append(append(append([]byte(kind), f.salt[:]...), b[:]...), kind...))
}

func (f *Fake) nextSeq() uint64 { f.seq++; return f.seq }

func (f *Fake) newUUID(n uint64) string {
	d := f.digest("invoice", n)
	d[6] = d[6]&0x0f | 0x40
	d[8] = d[8]&0x3f | 0x80
	h := hex.EncodeToString(d[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (f *Fake) newOrderID(n uint64) string {
	d := f.digest("order", n)
	return hex.EncodeToString(d[:12])
}

// ---- HTTP ----

type outcome int

const (
	served outcome = iota
	dropped
	canceled
)

// ServeHTTP serves the API under /v2.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.serve(w, r) != served {
		panic(http.ErrAbortHandler)
	}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) outcome {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	}
	endpoint := strings.TrimPrefix(strings.TrimSuffix(r.URL.Path, "/"), "/v2")
	f.mu.Lock()
	idx := len(f.reqs)
	f.reqs = append(f.reqs, Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Auth: authScheme(r.Header.Get("Authorization")), Body: append([]byte(nil), body...),
	})
	ft := f.takeFaultLocked(r.Method, endpoint)
	var wait time.Duration
	var enforced *rateState
	if ft == nil && len(f.opts.Limits) > 0 {
		now := f.now()
		var st rateState
		wait, st.remaining, st.reset = f.admitLocked(limitClass(r.Method, endpoint), now)
		st.now = now
		enforced = &st
	}
	f.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	w = sw
	defer func() {
		f.mu.Lock()
		f.reqs[idx].Status = sw.status
		f.mu.Unlock()
	}()
	if wait > 0 {
		f.writeRateLimited(w, endpoint, wait, enforced.now)
		return served
	}
	if enforced != nil {
		w = &rateHeaderWriter{ResponseWriter: sw, st: *enforced}
	}

	if ft != nil && ft.Latency > 0 {
		t := time.NewTimer(ft.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return canceled
		}
	}
	if ft == nil || (ft.Status == 0 && !ft.Drop) {
		f.handle(w, r, body)
		if sw.status == 0 {
			sw.status = http.StatusOK // a handler that wrote nothing answered 200
		}
		return served
	}
	if ft.AfterHandling {
		f.handle(newBufferedWriter(), r, body)
	}
	if ft.Drop {
		return dropped
	}
	f.writeFault(w, r, ft)
	return served
}

func authScheme(h string) string {
	scheme, _, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		return "bearer"
	case "basic":
		return "basic"
	}
	return "none"
}

func (f *Fake) authorized(h string) bool {
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return subtle.ConstantTimeCompare([]byte(cred), []byte(f.opts.APIKey)) == 1
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false
		}
		id, secret, ok := strings.Cut(string(raw), ":")
		idOK := subtle.ConstantTimeCompare([]byte(id), []byte(f.opts.APIID))
		secOK := subtle.ConstantTimeCompare([]byte(secret), []byte(f.opts.APISecret))
		return ok && idOK&secOK == 1
	}
	return false
}

// handle answers one request: rate-limit headers, auth, routing.
func (f *Fake) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	endpoint := strings.TrimPrefix(path, "/v2")
	f.setRateHeaders(w, endpoint)
	if !strings.HasPrefix(path, "/v2/") {
		writeError(w, http.StatusNotFound, endpoint, "not_found", "Not found.")
		return
	}
	if !f.opts.Sandbox && !f.authorized(r.Header.Get("Authorization")) {
		writeError(w, http.StatusUnauthorized, endpoint, "unauthorized", "Invalid or missing API credentials.")
		return
	}
	f.route(w, r, endpoint, body)
}

type reqCtx struct {
	w        http.ResponseWriter
	r        *http.Request
	endpoint string
	body     []byte
}

func (c *reqCtx) fail(status int, code, msg string) { writeError(c.w, status, c.endpoint, code, msg) }

func (f *Fake) route(w http.ResponseWriter, r *http.Request, endpoint string, body []byte) {
	c := &reqCtx{w: w, r: r, endpoint: endpoint, body: body}
	seg := strings.Split(strings.TrimPrefix(endpoint, "/"), "/")
	get, post := r.Method == http.MethodGet || r.Method == http.MethodHead, r.Method == http.MethodPost
	want := func(ok bool) bool {
		if !ok {
			c.fail(http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed.")
		}
		return ok
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked()

	switch {
	case len(seg) == 1 && seg[0] == "ping":
		if want(get) {
			f.writeData(c, obj{{"_endpoint", endpoint}}, obj{{"message", "pong"}})
		}
	case len(seg) == 2 && seg[0] == "accounts" && seg[1] == "balance":
		if want(get) {
			f.writeData(c, obj{{"_endpoint", endpoint}}, obj{{"balance", num(fmtCents2(f.balance))}, {"currency", "USD"}})
		}
	case len(seg) == 1 && seg[0] == "products":
		if want(get) {
			f.listProducts(c, false)
		}
	case len(seg) == 2 && seg[0] == "products" && seg[1] == "search":
		if want(get) {
			f.searchProducts(c)
		}
	case len(seg) == 2 && seg[0] == "products" && seg[1] == "esims":
		if want(get) {
			f.listProducts(c, true)
		}
	case len(seg) == 3 && seg[0] == "products" && seg[1] == "esims":
		if want(get) {
			f.getProduct(c, seg[2], true)
		}
	case len(seg) == 2 && seg[0] == "products":
		if want(get) {
			f.getProduct(c, seg[1], false)
		}
	case len(seg) == 1 && seg[0] == "check_phone_number":
		if want(get) {
			f.checkPhone(c)
		}
	case len(seg) == 1 && seg[0] == "invoices":
		if post {
			f.createInvoice(c, false)
		} else if want(get) {
			f.listInvoices(c)
		}
	case len(seg) == 2 && seg[0] == "invoices":
		if want(get) {
			f.getInvoice(c, seg[1])
		}
	case len(seg) == 3 && seg[0] == "invoices" && seg[2] == "pay":
		if want(post) {
			f.payInvoice(c, seg[1])
		}
	case len(seg) == 1 && seg[0] == "orders":
		if want(get) {
			f.listOrders(c)
		}
	case len(seg) == 2 && seg[0] == "orders":
		if want(get) {
			f.getOrder(c, seg[1])
		}
	case len(seg) == 1 && seg[0] == "esims":
		if post {
			f.createInvoice(c, true)
		} else if want(get) {
			f.listESIMs(c)
		}
	case len(seg) == 2 && seg[0] == "esims":
		if want(get) {
			f.getESIM(c, seg[1])
		}
	default:
		c.fail(http.StatusNotFound, "not_found", "Not found.")
	}
}

// ---- envelopes ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"encoding failed","error_code":"internal_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, endpoint, code, msg string) {
	writeJSON(w, status, obj{{"meta", obj{{"_endpoint", endpoint}}}, {"message", msg}, {"error_code", code}})
}

func (f *Fake) writeData(c *reqCtx, meta obj, data any) {
	writeJSON(c.w, http.StatusOK, obj{{"meta", meta}, {"data", data}})
}

// ---- rate-limit headers ----

// The fake reports limits but enforces none (InjectFault does 429s), and
// never reports 0 remaining outside a fault, so that well-behaved clients
// that pace themselves on the headers are not stalled by fake traffic.
type rlWindow struct {
	start time.Time
	count int
}

func rateClass(endpoint string) (string, int, time.Duration) {
	switch {
	case endpoint == "/ping":
		return "ping", 20, time.Minute
	case strings.HasPrefix(endpoint, "/products"):
		return "products", 60, time.Minute
	}
	return "default", 60, 10 * time.Minute
}

func (f *Fake) setRateHeaders(w http.ResponseWriter, endpoint string) {
	if rw, ok := w.(*rateHeaderWriter); ok {
		rw.set()
		return
	}
	class, limit, window := rateClass(endpoint)
	now := f.now()
	f.mu.Lock()
	rw := f.rl[class]
	if rw == nil || now.Sub(rw.start) >= window || now.Before(rw.start) {
		rw = &rlWindow{start: now}
		f.rl[class] = rw
	}
	rw.count++
	remaining := max(limit-rw.count, 1)
	reset := rw.start.Add(window)
	f.mu.Unlock()
	secs := int64(ceilDiv(int64(max(reset.Sub(now), 0)), int64(time.Second)))
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h["ratelimit-remaining"] = []string{strconv.Itoa(remaining)}
	h["ratelimit-reset"] = []string{strconv.FormatInt(secs, 10)}
}

// rateState is what the enforced limits say after admitting a request.
type rateState struct {
	now       time.Time
	remaining int // -1: the class has no enforced limit
	reset     time.Time
}

// rateHeaderWriter carries the enforced limits' state to setRateHeaders, so
// the headers report the truth instead of the lenient defaults.
type rateHeaderWriter struct {
	http.ResponseWriter
	st rateState
}

func (w *rateHeaderWriter) set() {
	if w.st.remaining < 0 {
		return
	}
	secs := ceilDiv(int64(max(w.st.reset.Sub(w.st.now), 0)), int64(time.Second))
	h := w.Header()
	h.Set("X-RateLimit-Remaining", strconv.Itoa(w.st.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(w.st.now.Add(time.Duration(secs)*time.Second).Unix(), 10))
	h["ratelimit-remaining"] = []string{strconv.Itoa(w.st.remaining)}
	h["ratelimit-reset"] = []string{strconv.FormatInt(secs, 10)}
}

// statusWriter remembers the status answered, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// ---- in-process transport ----

// Client returns an *http.Client whose transport calls the fake directly,
// without sockets; any URL host works.
func (f *Fake) Client() *http.Client {
	return &http.Client{Transport: transport{f}}
}

type transport struct{ f *Fake }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	sr := req.Clone(req.Context())
	sr.Body = io.NopCloser(bytes.NewReader(body))
	sr.ContentLength = int64(len(body))
	sr.RequestURI = req.URL.RequestURI()
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	sr.RemoteAddr = "192.0.2.1:1234"
	if req.URL.Scheme == "https" {
		sr.Header.Set("X-Forwarded-Proto", "https")
	}
	bw := newBufferedWriter()
	switch t.f.serve(bw, sr) {
	case dropped:
		return nil, fmt.Errorf("bitrefilltest: connection dropped (injected fault): %w", io.ErrUnexpectedEOF)
	case canceled:
		return nil, req.Context().Err()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return bw.response(req), nil
}

type bufferedWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func newBufferedWriter() *bufferedWriter { return &bufferedWriter{h: http.Header{}} }

func (b *bufferedWriter) Header() http.Header { return b.h }
func (b *bufferedWriter) WriteHeader(s int) {
	if b.status == 0 {
		b.status = s
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.buf.Write(p)
}

// wireHeader canonicalises keys as parsing a real response would, so that
// Header.Get finds the lower-case ratelimit-* headers in-process too.
func wireHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], vs...)
	}
	return out
}

func (b *bufferedWriter) response(req *http.Request) *http.Response {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	body := b.buf.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", b.status, http.StatusText(b.status)),
		StatusCode:    b.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        wireHeader(b.h),
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
