package main

// Restart tests with a real process: the binary is built, run on a database
// against the Bitrefill fake served from this test process, made to die at
// the crash points of the outbox (REFILLBOT_TEST_CRASH), and started again on
// the same database. Every order must be announced exactly once — or twice
// in the one documented window: the process died after the platform (here
// the terminal) accepted the message and before its "sent" mark was written.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/refillbot once per test run.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "refillbot-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "refillbot")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// proc is the bot running as a process, chatting in the terminal on pipes.
type proc struct {
	*session
	cmd    *exec.Cmd
	stderr *screen
}

func startProc(t *testing.T, env map[string]string) *proc {
	t.Helper()
	return startBinary(t, binary(t), env)
}

// startBinary is startProc with a binary of the caller's choosing.
func startBinary(t *testing.T, bin string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// StdinPipe, not an io.Pipe: Wait would wait for a copying goroutine
	// stuck reading from a pipe nobody closes after a crash.
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{session: &session{t: t, in: w, out: newScreen(), done: make(chan error, 1)}, cmd: cmd, stderr: newScreen()}
	cmd.Stdout, cmd.Stderr = p.out, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		w.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// exit waits for the process to end and returns its exit code.
func (p *proc) exit() int {
	p.t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			p.t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("process did not end; stderr:\n%s", p.stderr.String())
		return -1
	}
}

// stop ends the process as an operator would (SIGTERM), expecting exit 0.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.exit(); code != 0 {
		p.t.Fatalf("exit code %d after SIGINT; stderr:\n%s", code, p.stderr.String())
	}
}

type restartEnv struct {
	t    *testing.T
	fake *bitrefilltest.Fake
	api  *bitrefill.Client
	env  map[string]string
}

func newRestartEnv(t *testing.T) *restartEnv {
	fake, srv := bitrefilltest.NewServer(t, bitrefilltest.Options{})
	api, err := bitrefill.New(bitrefill.Config{BaseURL: srv.URL + "/v2", APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	return &restartEnv{t: t, fake: fake, api: api, env: map[string]string{
		"BITREFILL_API_KEY":   "test-key",
		"BITREFILL_API_URL":   srv.URL + "/v2",
		"REFILLBOT_DB":        filepath.Join(t.TempDir(), "bot.db"),
		"REFILLBOT_POLL":      "@every 1s",
		"REFILLBOT_LOG_LEVEL": "warn",
	}}
}

func (e *restartEnv) with(kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range e.env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// buy goes to the invoice view and returns the invoice id.
func (e *restartEnv) buy(p *proc) string {
	e.t.Helper()
	p.expect(`Welcome`)
	p.say("amazon us")
	p.pick("Amazon US")
	p.expect(`Values:`)
	p.say("50")
	p.expect(`Total: 50 USD`)
	p.pick("Bitcoin")
	p.expect(`To: bc1`)
	list, err := e.api.Invoices(context.Background(), bitrefill.ListFilter{Limit: 10})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("invoices at the fake: %d, %v", len(list), err)
	}
	return list[0].ID
}

// Kill the bot at each crash point of a delivery, restart it on the same
// database: the code arrives exactly once, or twice when the process died
// between the platform's acceptance and the mark (the documented window).
func TestRestartAtCrashPoints(t *testing.T) {
	for _, tc := range []struct {
		point string
		want  int
	}{
		{crashCommitted, 1}, // stored, not sent: the restart sends it
		{crashSent, 2},      // shown, not marked: the restart shows it again
		{crashMarked, 1},    // shown and marked: nothing left to send
	} {
		t.Run(tc.point, func(t *testing.T) {
			e := newRestartEnv(t)
			p := startProc(t, e.with("REFILLBOT_TEST_CRASH", tc.point))
			id := e.buy(p)
			if err := e.fake.MarkPaid(id); err != nil {
				t.Fatal(err)
			}
			if code := p.exit(); code != 86 {
				t.Fatalf("exit code %d, want 86 (crash point %s); stderr:\n%s", code, tc.point, p.stderr.String())
			}
			first := strings.Count(p.out.String(), "Code: ")

			q := startProc(t, e.with())
			// What the first process left is sent at start, maybe before the
			// welcome: the waits below scan the whole screen.
			q.expect(`Welcome`)
			if tc.want > first {
				if _, _, ok := q.out.tryWait(`Code: `, 15*time.Second); !ok {
					t.Fatalf("no code after restart; first run:\n%s\nfirst stderr:\n%s\nsecond run:\n%s\nsecond stderr:\n%s",
						p.out.String(), p.stderr.String(), q.out.String(), q.stderr.String())
				}
			}
			if !strings.Contains(p.out.String(), "All done") {
				if _, _, ok := q.out.tryWait(`All done`, 15*time.Second); !ok {
					t.Fatalf("no receipt after restart:\n%s", q.out.String())
				}
			}
			q.say("/help") // a round trip: anything still queued has gone out by now
			q.expect(`How it works`)
			q.stop()
			if got := first + strings.Count(q.out.String(), "Code: "); got != tc.want {
				t.Errorf("code shown %d times (before the crash %d), want %d\nfirst run:\n%s\nsecond run:\n%s",
					got, first, tc.want, p.out.String(), q.out.String())
			}
			if got := strings.Count(p.out.String()+q.out.String(), "All done"); got != 1 {
				t.Errorf("receipt shown %d times, want 1", got)
			}
		})
	}
}

// With a public URL, Bitrefill's webhook alone delivers the code: the poller
// is set to run once an hour, so nothing else could have.
func TestWebhookDeliversWithoutPolling(t *testing.T) {
	e := newRestartEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startProc(t, e.with("REFILLBOT_POLL", "@every 1h", "REFILLBOT_LISTEN", addr, "REFILLBOT_PUBLIC_URL", "http://"+addr))
	id := e.buy(p)
	snap, ok := e.fake.Invoice(id)
	if !ok || !strings.HasPrefix(snap.WebhookURL, "http://"+addr+bot.WebhookPath) {
		t.Fatalf("invoice webhook_url %q, want one under http://%s%s", snap.WebhookURL, addr, bot.WebhookPath)
	}
	// A forged secret is not found.
	resp, err := http.Post("http://"+addr+bot.WebhookPath+"guess", "application/json", strings.NewReader(`{"id":"`+id+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("forged webhook: %d, want 404", resp.StatusCode)
	}
	if err := e.fake.MarkPaid(id); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance() // complete: the fake posts the webhook
	p.expect(`Code: `)
	p.expect(`All done`)
	p.stop()
	if n := strings.Count(p.out.String(), "Code: "); n != 1 {
		t.Errorf("code shown %d times, want 1", n)
	}
}

// tryWait is waitFor without failing the test.
func (s *screen) tryWait(re string, limit time.Duration) (string, int, bool) {
	rx := regexp.MustCompile(re)
	deadline := time.After(limit)
	for {
		s.mu.Lock()
		out, ch := s.buf.String(), s.changed
		s.mu.Unlock()
		if loc := rx.FindStringIndex(out); loc != nil {
			return out[loc[0]:loc[1]], loc[1], true
		}
		select {
		case <-ch:
		case <-deadline:
			return "", 0, false
		}
	}
}
