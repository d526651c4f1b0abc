package main

import (
	"context"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"refillbot/conversation"
	"refillbot/storage"
)

// screen is the terminal's output, with a way to wait for something to appear.
type screen struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func newScreen() *screen { return &screen{changed: make(chan struct{})} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor blocks until the output after offset from matches re, and returns
// the match's submatches and the new offset.
func (s *screen) waitFor(t *testing.T, from int, re string) ([]string, int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(15 * time.Second)
	for {
		s.mu.Lock()
		out, ch := s.buf.String(), s.changed
		s.mu.Unlock()
		if loc := rx.FindStringSubmatchIndex(out[from:]); loc != nil {
			m := make([]string, 0, len(loc)/2)
			for i := 0; i < len(loc); i += 2 {
				if loc[i] >= 0 {
					m = append(m, out[from+loc[i]:from+loc[i+1]])
				} else {
					m = append(m, "")
				}
			}
			return m, from + loc[1]
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %q; screen after offset %d:\n%s", re, from, out[from:])
		}
	}
}

type session struct {
	t    *testing.T
	in   io.WriteCloser
	out  *screen
	pos  int
	done chan error
}

func start(t *testing.T, db string, extra ...string) *session {
	t.Helper()
	r, w := io.Pipe()
	s := &session{t: t, in: w, out: newScreen(), done: make(chan error, 1)}
	args := append([]string{"-db", db, "-sandbox-delay", "0s", "-poll", "@every 1s"}, extra...)
	env := func(string) string { return "" }
	go func() { s.done <- run(context.Background(), args, env, r, s.out, io.Discard) }()
	t.Cleanup(func() { w.Close() })
	return s
}

func (s *session) expect(re string) []string {
	s.t.Helper()
	m, pos := s.out.waitFor(s.t, s.pos, re)
	s.pos = pos
	return m
}

func (s *session) say(line string) {
	s.t.Helper()
	if _, err := fmt.Fprintln(s.in, line); err != nil {
		s.t.Fatal(err)
	}
}

// pick types the number or letter the terminal shows for an option label.
func (s *session) pick(label string) {
	s.t.Helper()
	m := s.expect(`(?m)^  ([0-9]+|[a-z])\) ` + regexp.QuoteMeta(label) + `$`)
	s.say(m[1])
}

func (s *session) quit() {
	s.t.Helper()
	s.in.Close()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		s.t.Fatal("bot did not stop after its input closed")
	}
}

// The newcomer's path, as the README promises it: no configuration, search
// "amazon", pick a value (after a few bad ones), pay in the sandbox, see the code.
func TestTerminalPurchaseEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	s := start(t, db)
	s.expect(`SANDBOX`)
	s.say("amazon us")
	s.pick("Amazon US")
	s.expect(`Amazon US\nCountry: United States \(US\) · Currency: USD`)
	for _, bad := range []string{"abc", "-5", "1e9", "5000000"} {
		s.say(bad)
		s.expect(`(not an amount|more than zero|above the maximum|more than Amazon US allows)`)
	}
	s.say("50")
	s.expect(`Total: 50 USD`)
	s.pick("Bitcoin")
	s.expect(`SANDBOX invoice`)
	s.expect(`To: bc1`)
	s.pick("🧪 Simulate payment (sandbox)")
	// The QR the buyer scans must hold exactly the payment URI shown.
	m := regexp.MustCompile(`🖼 (\S+)`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatal("the invoice's QR image was not saved")
	}
	if got := decodeQR(t, m[1]); !strings.HasPrefix(got, "bitcoin:bc1") || !strings.Contains(got, "amount=") {
		t.Errorf("invoice QR decodes to %q, want a BIP21 bitcoin URI with an amount", got)
	}
	code := s.expect(`Amazon US 50 USD is ready:[^\n]*\n(?:[^\n]*\n)*?Code: ([A-Z0-9-]+)`)
	if len(code[1]) < 6 {
		t.Fatalf("no code delivered: %q", code)
	}
	s.expect(`All done`)
	s.quit()

	// Everything survived the stop: the session is on disk, the invoice is settled.
	st, err := openKeyed(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	state, ok, err := st.Session(conversation.SessionKey{Platform: "console", User: "local"})
	if err != nil || !ok {
		t.Fatalf("session not saved: %v %v", ok, err)
	}
	if len(state.Purchases) != 0 {
		t.Errorf("delivered purchase still pending: %+v", state.Purchases)
	}
	if tracked, _ := st.Tracked(); len(tracked) != 0 {
		t.Errorf("invoice still tracked after delivery: %+v", tracked)
	}
}

// A code is announced once: a restart on the same database, with the poller
// running, does not deliver it again; an unpaid invoice is still watched.
func TestRestartKeepsInvoiceAndAnnouncesOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	s := start(t, db)
	s.say("netflix us")
	s.pick("Netflix US")
	s.pick("25 USD")
	s.pick("Lightning")
	s.expect(`Payment request: lnbc`)
	s.quit()

	st, err := openKeyed(db)
	if err != nil {
		t.Fatal(err)
	}
	tracked, err := st.Tracked()
	st.Close()
	if err != nil || len(tracked) != 1 {
		t.Fatalf("unpaid invoice not tracked across restart: %v %v", tracked, err)
	}

	s = start(t, db)
	s.expect(`Welcome`)
	s.say("/start")
	s.expect(`Welcome`)
	s.quit()
	if strings.Contains(s.out.String(), "is ready") {
		t.Fatal("something was delivered for an unpaid invoice")
	}
}

// A second bot on the same database fails fast with one clear line.
func TestDatabaseInUseFailsFast(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	s := start(t, db)
	s.expect(`Welcome`)
	err := run(context.Background(), []string{"-db", db}, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "database") {
		t.Fatalf("second opener: %v", err)
	}
	s.quit()
}

func TestConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"id without secret":    {env: map[string]string{"BITREFILL_API_ID": "x"}, want: "go together"},
		"bad api url":          {env: map[string]string{"BITREFILL_API_URL": "ftp://x"}, want: "BITREFILL_API_URL"},
		"bad telegram mode":    {env: map[string]string{"TELEGRAM_MODE": "carrier-pigeon"}, want: "TELEGRAM_MODE"},
		"unknown argument":     {args: []string{"extra"}, want: "unexpected argument"},
		"bad log level":        {args: []string{"-log-level", "loud"}, want: "REFILLBOT_LOG_LEVEL"},
		"unreachable real api": {env: map[string]string{"BITREFILL_API_KEY": "k", "BITREFILL_API_URL": "http://127.0.0.1:1/v2"}, want: "cannot use the Bitrefill API"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"-db", filepath.Join(t.TempDir(), "x.db")}, tc.args...)
			err := run(context.Background(), args, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func decodeQR(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("QR image is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// PURE_BARCODE: the PNG is exactly what we send, not a photo of it.
	// Without it gozxing's finder misses about 3 % of perfect images
	// (every one of them decodes with the hint).
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("QR image does not decode: %v", err)
	}
	return res.GetText()
}

// With REFILLBOT_LISTEN set, /healthz answers while the bot runs.
func TestHealthz(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := start(t, filepath.Join(t.TempDir(), "bot.db"), "-listen", addr)
	s.expect(`Welcome`)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	s.quit()
}

// openKeyed opens a database the bot wrote, with the key file it generated.
func openKeyed(db string) (*storage.Store, error) {
	key, _, err := storage.LoadKey(db, "")
	if err != nil {
		return nil, err
	}
	return storage.Open(db, storage.Options{Key: key})
}
