package bitrefilltest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a mutable clock: tests move time instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r resp) data() map[string]any {
	m, _ := r.body["data"].(map[string]any)
	return m
}

func (r resp) list() []any {
	l, _ := r.body["data"].([]any)
	return l
}

func (r resp) meta() map[string]any {
	m, _ := r.body["meta"].(map[string]any)
	return m
}

func (r resp) code() string {
	s, _ := r.body["error_code"].(string)
	return s
}

// api is a raw HTTP client: tests speak the wire protocol, not Go types.
type api struct {
	t    *testing.T
	base string
	hc   *http.Client
	auth string
}

func newAPI(t *testing.T, opts Options) (*Fake, api) {
	t.Helper()
	f, srv := NewServer(t, opts)
	return f, api{t: t, base: srv.URL + "/v2", hc: srv.Client(), auth: "Bearer test-key"}
}

func (a api) do(method, path string, body any) resp {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = a.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.auth != "" {
		req.Header.Set("Authorization", a.auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out.body); err != nil {
		a.t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, raw)
	}
	return out
}

func (a api) get(path string) resp { return a.do(http.MethodGet, path, nil) }

func (a api) mustOK(r resp) resp {
	a.t.Helper()
	if r.status != http.StatusOK {
		a.t.Fatalf("status %d: %s", r.status, r.raw)
	}
	return r
}

// createInvoice posts an invoice and returns its data.
func (a api) createInvoice(body any) map[string]any {
	a.t.Helper()
	return a.mustOK(a.do(http.MethodPost, "/invoices", body)).data()
}

type hook struct {
	ch  chan map[string]any
	url string
}

// webhookReceiver collects webhook bodies on a channel.
func webhookReceiver(t *testing.T) hook {
	t.Helper()
	h := hook{ch: make(chan map[string]any, 32)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.ch <- m
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hooks/bitrefill/s3cret"
	return h
}

func (h hook) wait(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m := <-h.ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook within 5s")
		return nil
	}
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func orderIDs(inv map[string]any) []string {
	var ids []string
	for _, o := range inv["orders"].([]any) {
		ids = append(ids, str(o.(map[string]any)["id"]))
	}
	return ids
}
