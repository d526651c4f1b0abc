package bitrefill

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is the production API, including the version prefix.
const DefaultBaseURL = "https://api.bitrefill.com/v2"

// Config configures a Client. The zero value talks to production without
// credentials, which only the sandbox fake accepts.
type Config struct {
	BaseURL    string // includes /v2; default DefaultBaseURL
	APIKey     string // personal accounts: Authorization: Bearer
	APIID      string // business/affiliate accounts: Authorization: Basic, with APISecret
	APISecret  string
	HTTPClient *http.Client // default: a client without timeout (use contexts)
	Logger     *slog.Logger // default: discard
	MaxRetries int          // extra attempts for GETs; 0 means 3, negative means none
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxRetryWait caps how long a GET waits on a server's Retry-After or
	// rate-limit reset before giving up and returning the 429 (with RetryAfter
	// set) so the caller can reschedule; 0 means one minute.
	MaxRetryWait time.Duration
	UserAgent    string
	// Observer, when set, is told about every attempt (metrics).
	Observer Observer
	// Clock is the time the request budget runs on; nil means the system
	// clock. Tests that move time by hand pass theirs.
	Clock Clock
	// Limits is the request budget every call passes through (see
	// ParseLimits and DefaultLimits); nil limits nothing, for tests and the
	// sandbox. A 429 pauses its class for every caller whatever the limits.
	Limits Limits
	// LimitMargin is how much closer together than they were sent two
	// requests may reach Bitrefill (network jitter) without overfilling
	// one of its windows: the budget spreads each rate over its window
	// plus this (at most a tenth of the window). 0 means
	// DefaultLimitMargin; a test running the limits faster scales it too.
	LimitMargin time.Duration
}

// Clock is a source of time with timers, for the request budget.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; stop cancels it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Client is a Bitrefill API v2 client. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	auth       string // the Authorization header value, or ""
	secrets    []string
	hc         *http.Client
	log        *slog.Logger
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	maxWait    time.Duration
	userAgent  string
	observe    Observer
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error

	budget *budget

	mu sync.Mutex
	rl RateLimit
}

// RateLimit is the last rate-limit state the server reported.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time // when Remaining is replenished; zero if unknown
}

// maxBody bounds how much of a response is read.
const maxBody = 16 << 20

// New builds a Client. It fails only on an unusable BaseURL; credentials are
// optional because the sandbox fake accepts none.
func New(cfg Config) (*Client, error) {
	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bitrefill: invalid base URL: %v", redactURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("bitrefill: base URL must be http or https, got scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("bitrefill: base URL has no host")
	}
	if u.User != nil {
		// Credentials belong in APIKey/APIID/APISecret, where they are never
		// printed; a URL ends up in error messages and logs.
		return nil, errors.New("bitrefill: base URL must not contain credentials; use Config.APIKey or APIID/APISecret")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("bitrefill: base URL must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""

	c := &Client{
		base:       u,
		hc:         cfg.HTTPClient,
		log:        cfg.Logger,
		maxRetries: cfg.MaxRetries,
		minBackoff: cfg.MinBackoff,
		maxBackoff: cfg.MaxBackoff,
		maxWait:    cfg.MaxRetryWait,
		userAgent:  cfg.UserAgent,
		observe:    cfg.Observer,
		now:        time.Now,
		sleep:      sleepCtx,
	}
	switch {
	case cfg.APIKey != "":
		c.auth = "Bearer " + cfg.APIKey
		c.secrets = []string{cfg.APIKey}
	case cfg.APIID != "" && cfg.APISecret != "":
		enc := base64.StdEncoding.EncodeToString([]byte(cfg.APIID + ":" + cfg.APISecret))
		c.auth = "Basic " + enc
		c.secrets = []string{cfg.APISecret, enc}
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "bitrefill")
	if c.maxRetries == 0 {
		c.maxRetries = 3
	} else if c.maxRetries < 0 {
		c.maxRetries = 0
	}
	if c.minBackoff <= 0 {
		c.minBackoff = 200 * time.Millisecond
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = 5 * time.Second
	}
	if c.maxBackoff < c.minBackoff {
		c.maxBackoff = c.minBackoff
	}
	if c.maxWait <= 0 {
		c.maxWait = time.Minute
	}
	if c.userAgent == "" {
		c.userAgent = "refillbot-bitrefill/1"
	}
	afterFunc := realAfterFunc
	if cfg.Clock != nil {
		c.now, afterFunc = cfg.Clock.Now, cfg.Clock.AfterFunc
	}
	margin := cfg.LimitMargin
	if margin <= 0 {
		margin = DefaultLimitMargin
	}
	c.budget = newBudget(cfg.Limits, margin, c.now, afterFunc)
	return c, nil
}

// BaseURL returns the API base the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// Delay estimates how long a request of ctx's priority (see WithPriority)
// in class would wait for its turn in the request budget if sent now: 0
// when it would go at once. A caller about to make a user wait uses it to
// say "about N minutes" before queueing the request.
func (c *Client) Delay(ctx context.Context, class Class) time.Duration {
	return c.budget.delay(class, PriorityOf(ctx))
}

// Period is the spacing of class's requests when its budget is in full
// use (one request's share of the tightest rate, at this client's share):
// 10.4 s at the documented 60 per 10 minutes. 0 when class is not limited.
func (c *Client) Period(class Class) time.Duration { return c.budget.period(class) }

// ShareBudget makes this client's request budget 1/n of its Limits (n < 1
// counts as 1): n processes sharing one Bitrefill account each take their
// share, so together they stay within the account's limits. It may be
// called at any time; waiting requests are timed again.
func (c *Client) ShareBudget(n int) { c.budget.share(n) }

// RateLimit returns the last rate-limit state seen in response headers.
func (c *Client) RateLimit() RateLimit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rl
}

// response is a decoded success envelope.
type response struct {
	Data          json.RawMessage
	Next          bool
	OperatorFound *bool
}

// call performs one API request. GETs are retried on network errors, 429 and
// 5xx; other methods are sent exactly once.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any) (*response, error) {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &Error{Method: method, Endpoint: path, Message: "encoding request", Err: err}
		}
		payload = b
	}
	// path arrives escaped (ids go through url.PathEscape), so set both forms.
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, &Error{Method: method, Endpoint: path, Message: "invalid path", Err: err}
	}
	u.Path = p
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	target := u.String()

	idempotent := method == http.MethodGet
	attempts := 1
	if idempotent {
		attempts += c.maxRetries
	}
	class := ClassOf(method, path)
	var lastErr *Error
	for attempt := 0; attempt < attempts; attempt++ {
		if err := ctx.Err(); err != nil {
			if lastErr != nil {
				lastErr.Err = joinErr(lastErr.Err, err)
				return nil, lastErr
			}
			return nil, &Error{Method: method, Endpoint: path, Message: "not sent", Err: err}
		}
		if eta, err := c.budget.acquire(ctx, class); err != nil {
			e := &Error{Method: method, Endpoint: path, Err: err, RetryAfter: eta, Temporary: true}
			if !errors.Is(err, ErrBudgetSpent) {
				e.Message = "not sent"
			}
			if lastErr != nil {
				e.Err = joinErr(lastErr, err)
			}
			return nil, e
		}
		if f, ok := ctx.Value(beforeSendKey{}).(func() error); ok && f != nil {
			if err := f(); err != nil {
				return nil, &Error{Method: method, Endpoint: path, Message: "not sent", Err: err}
			}
		}
		resp, wait, err := c.once(ctx, method, path, target, payload, attempt)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !idempotent || !err.Temporary || attempt == attempts-1 {
			break
		}
		if wait > c.maxWait {
			break // the caller is better placed to wait this long
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
			break // waiting would outlive the caller's deadline
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "bitrefill retry",
			slog.String("method", method), slog.String("path", path),
			slog.Int("attempt", attempt+1), slog.Duration("wait", wait))
		if serr := c.sleep(ctx, wait); serr != nil {
			lastErr.Err = joinErr(lastErr.Err, serr)
			break
		}
	}
	return nil, lastErr
}

// joinErr keeps both errors reachable by errors.Is on one line.
func joinErr(first, then error) error {
	if first == nil {
		return then
	}
	return fmt.Errorf("%w; then %w", first, then)
}

// once sends one request. wait is the delay the server asked for, if any.
func (c *Client) once(ctx context.Context, method, path, target string, payload []byte, attempt int) (*response, time.Duration, *Error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	mkErr := func(status int, msg string, err error) *Error {
		return &Error{Status: status, Method: method, Endpoint: path, Message: c.redact(msg), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, 0, mkErr(0, "building request", redactURLError(err))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}

	start := c.now()
	res, err := c.hc.Do(req)
	dur := c.now().Sub(start)
	if c.observe != nil {
		status := 0
		if err == nil {
			status = res.StatusCode
		}
		c.observe(Request{Method: method, Route: Route(path), Status: status, Duration: dur})
	}
	if err != nil {
		cause := redactURLError(err)
		c.log.LogAttrs(ctx, slog.LevelDebug, "bitrefill request failed",
			slog.String("method", method), slog.String("path", path),
			slog.Int("attempt", attempt+1), slog.Duration("duration", dur),
			slog.String("error", c.redact(cause.Error())))
		e := mkErr(0, "request failed", cause)
		canceled := ctx.Err() != nil
		e.Temporary = !canceled
		e.Ambiguous = method != http.MethodGet && !notSent(err)
		return nil, 0, e
	}
	defer res.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if reset, empty := c.noteRateLimit(res.Header); empty && res.StatusCode != http.StatusTooManyRequests {
		// Bitrefill says nothing is left (another process may share the
		// account): the class rests until the window resets. A 429's own
		// Retry-After decides below.
		c.budget.pause(ClassOf(method, path), reset)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "bitrefill request",
		slog.String("method", method), slog.String("path", path),
		slog.Int("status", res.StatusCode), slog.Int("attempt", attempt+1),
		slog.Duration("duration", dur))

	post := method != http.MethodGet
	if res.StatusCode < 200 || res.StatusCode > 299 {
		e := c.apiError(method, path, res, data)
		switch {
		case res.StatusCode == http.StatusTooManyRequests:
			e.Temporary = true
			var named bool
			e.RetryAfter, named = c.retryAfter(res.Header)
			pause := e.RetryAfter
			if !named {
				pause = c.budget.minPause(ClassOf(method, path))
			}
			c.budget.pause(ClassOf(method, path), c.now().Add(pause))
		case res.StatusCode >= 500:
			e.Temporary = true
			e.Ambiguous = post
			if res.StatusCode == http.StatusServiceUnavailable {
				// Only Retry-After: the rate-limit reset headers describe
				// the quota window, not the outage.
				e.RetryAfter = c.retryAfterHeader(res.Header)
			}
		}
		return nil, e.RetryAfter, e
	}
	if rerr != nil {
		e := mkErr(res.StatusCode, "reading response", rerr)
		e.Temporary = true
		e.Ambiguous = post
		return nil, 0, e
	}
	env, err := decodeEnvelope(data)
	if err != nil {
		e := mkErr(res.StatusCode, "", fmt.Errorf("%w: %v", errDecode, err))
		e.Ambiguous = post
		return nil, 0, e
	}
	if env.Data == nil && env.ErrorCode != "" {
		// An error envelope under a 2xx status.
		e := &Error{Status: res.StatusCode, Code: env.ErrorCode, Message: c.redact(env.Message),
			Method: method, Endpoint: path}
		return nil, 0, e
	}
	return &response{Data: env.Data, Next: env.Next, OperatorFound: env.OperatorFound}, 0, nil
}

type envelope struct {
	Data          json.RawMessage
	Next          bool
	OperatorFound *bool
	Message       string
	ErrorCode     string
}

func decodeEnvelope(b []byte) (envelope, error) {
	var env envelope
	if len(bytes.TrimSpace(b)) == 0 {
		return env, errors.New("empty body")
	}
	f, err := decodeFields(b)
	if err != nil {
		return env, errors.New("response is not a JSON object")
	}
	if raw, ok := f["data"]; ok {
		env.Data = raw
	}
	if raw := f.get("meta"); rawKind(raw) == '{' {
		if m, err := decodeFields(raw); err == nil {
			next := strings.TrimSpace(m.str("_next", "next"))
			env.Next = next != "" && next != "false"
		}
	}
	if v, ok := f.bool("operator_found"); ok {
		env.OperatorFound = &v
	}
	env.Message = f.str("message", "error_message")
	env.ErrorCode = f.str("error_code", "code")
	if env.ErrorCode == "" {
		// {"error": {"code":..., "message":...}} or {"error": "text"}
		switch raw := f.get("error"); rawKind(raw) {
		case '{':
			if g, err := decodeFields(raw); err == nil {
				env.ErrorCode = g.str("error_code", "code")
				if env.Message == "" {
					env.Message = g.str("message")
				}
			}
		case '"':
			if env.Message == "" {
				env.Message = rawString(raw)
			}
		}
	}
	return env, nil
}

// apiError turns a non-2xx response into an *Error.
func (c *Client) apiError(method, path string, res *http.Response, body []byte) *Error {
	e := &Error{Status: res.StatusCode, Method: method, Endpoint: path}
	if env, err := decodeEnvelope(body); err == nil {
		e.Code = env.ErrorCode
		e.Message = env.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(res.StatusCode)
	}
	if e.Code == "" && res.StatusCode == http.StatusNotFound {
		e.Code = CodeNotFound
	}
	e.Message = c.redact(truncate(e.Message, 300))
	return e
}

// redact removes any credential a server might echo back.
func (c *Client) redact(s string) string {
	for _, sec := range c.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// redactURLError drops the URL from *url.Error, keeping the cause: the URL can
// carry phone numbers in its query, and errors.Is still reaches the context
// error through the cause.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// notSent reports errors that happen before a request leaves: the connection
// was never established, so a POST cannot have reached the server.
func notSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return false
}

// retryAfterHeader reads Retry-After, as seconds or an HTTP date; 0 if absent.
func (c *Client) retryAfterHeader(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		if d, err := time.ParseDuration(v + "s"); err == nil {
			return d
		}
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.now()), 0)
	}
	return 0
}

// retryAfter is how long a 429 asks to wait: Retry-After, else the time to
// the rate-limit reset (X-RateLimit-Reset, documented as unix time, or the
// lower-case ratelimit-reset seen in seconds; header names are matched in
// any case). named is false when the reply named no time at all.
func (c *Client) retryAfter(h http.Header) (wait time.Duration, named bool) {
	if strings.TrimSpace(h.Get("Retry-After")) != "" {
		return c.retryAfterHeader(h), true
	}
	now := c.now()
	for _, k := range []string{"X-RateLimit-Reset", "RateLimit-Reset"} {
		if t, ok := parseReset(h.Get(k), now); ok {
			return max(t.Sub(now), 0), true
		}
	}
	return 0, false
}

// parseReset reads a reset header: unix seconds when large enough to be a
// date (the documented X-RateLimit-Reset), else seconds from now (the seen
// lower-case ratelimit-reset). Both spellings get both readings because
// servers mix them up.
func parseReset(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	switch {
	case n > 1e11:
		return time.UnixMilli(n), true
	case n > 1e9:
		return time.Unix(n, 0), true
	default:
		return now.Add(time.Duration(n) * time.Second), true
	}
}

// noteRateLimit records the rate-limit headers; empty reports a reply that
// says no request is left before reset.
func (c *Client) noteRateLimit(h http.Header) (reset time.Time, empty bool) {
	first := func(keys ...string) (int, bool) {
		for _, k := range keys {
			if v := strings.TrimSpace(h.Get(k)); v != "" {
				if n, err := strconv.Atoi(v); err == nil {
					return n, true
				}
			}
		}
		return 0, false
	}
	limit, okL := first("X-RateLimit-Limit", "RateLimit-Limit")
	rem, okR := first("X-RateLimit-Remaining", "RateLimit-Remaining")
	okT := false
	for _, k := range []string{"X-RateLimit-Reset", "RateLimit-Reset"} {
		if t, ok := parseReset(h.Get(k), c.now()); ok {
			reset, okT = t, true
			break
		}
	}
	if !okL && !okR && !okT {
		return time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if okL {
		c.rl.Limit = limit
	}
	if okR {
		c.rl.Remaining = rem
	}
	if okT {
		c.rl.Reset = reset
	}
	return reset, okR && okT && rem <= 0
}

// backoff is exponential with full jitter: a uniform wait between MinBackoff
// and min(MaxBackoff, MinBackoff·2^attempt), so clients that failed together
// do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.minBackoff
	for i := 0; i < attempt && ceil < c.maxBackoff; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.maxBackoff)
	if ceil <= c.minBackoff {
		return c.minBackoff
	}
	return c.minBackoff + rand.N(ceil-c.minBackoff+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// get calls a GET endpoint and decodes data into out.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) (*response, error) {
	resp, err := c.call(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := c.decodeData(http.MethodGet, path, resp, out); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// post calls a POST endpoint once and decodes data into out. A reply that
// cannot be decoded is ambiguous: the server did act on it.
func (c *Client) post(ctx context.Context, path string, body, out any) error {
	resp, err := c.call(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return err
	}
	if out != nil {
		if err := c.decodeData(http.MethodPost, path, resp, out); err != nil {
			err.(*Error).Ambiguous = true
			return err
		}
	}
	return nil
}

func (c *Client) decodeData(method, path string, resp *response, out any) error {
	if isNull(resp.Data) {
		return &Error{Status: http.StatusOK, Method: method, Endpoint: path,
			Err: fmt.Errorf("%w: no data", errDecode)}
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		return &Error{Status: http.StatusOK, Method: method, Endpoint: path,
			Err: fmt.Errorf("%w: %v", errDecode, err)}
	}
	return nil
}
