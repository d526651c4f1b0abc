package main

// The load benchmark of BENCHMARKS.md: the real binary, in the sandbox,
// against the fake Bot API server, with many buyers at once. It is a test
// guarded by REFILLBOT_LOAD (it takes a while and prints numbers rather
// than asserting them), e.g.
//
//	REFILLBOT_LOAD="users=50 think=0s rate=off rounds=4" go test -run TestLoad -v ./cmd/refillbot
//
// users: buyers at once; think: pause before each step; rate:
// TELEGRAM_RATE_LIMIT (with a number the fake enforces Telegram's limits
// and counts its 429s); rounds: purchases per buyer; mode: polling or
// webhook; bitrefill: sandbox (the fake inside the bot, as `go run
// ./cmd/refillbot` has it) or remote (the fake served over HTTP by the
// test, as a shop has Bitrefill: the bot's CPU and memory then hold only
// its own work, plus its HTTP calls to Bitrefill); busy: TELEGRAM_MAX_BUSY
// (default 0, no bound); profile: a file
// for a CPU profile of the bot process over the purchases, with heap
// profiles beside it (<file>.heap-start, <file>.heap), the bot's stderr in
// <file>.stderr (with GODEBUG=gctrace=1: its collections) and the Go runtime's
// memory figures printed (the binary is then built with -tags loadprofile,
// loadprofile.go), e.g.
//
//	REFILLBOT_LOAD="users=200 think=0s rate=off rounds=2 profile=/tmp/bot.cpu" go test -run TestLoad -v ./cmd/refillbot
//	go tool pprof -top -cum /tmp/bot.cpu
//	go tool pprof -sample_index=alloc_space -base /tmp/bot.cpu.heap-start -top /tmp/bot.cpu.heap
//
// The profiler costs a few per cent of CPU: compare numbers from runs
// without it.

import (
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"refillbot/platforms/telegram/telegramtest"
)

type loadConfig struct {
	users, rounds int
	think         time.Duration
	rate, mode    string
	busy, profile string
	bitrefill     string
}

func parseLoad(t *testing.T, s string) loadConfig {
	c := loadConfig{users: 50, rounds: 3, rate: "off", mode: "polling", busy: "0", bitrefill: "sandbox"}
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "users":
			c.users, err = strconv.Atoi(v)
		case "rounds":
			c.rounds, err = strconv.Atoi(v)
		case "think":
			c.think, err = time.ParseDuration(v)
		case "rate":
			c.rate = v
		case "mode":
			c.mode = v
		case "busy":
			c.busy = v
		case "bitrefill":
			if v != "sandbox" && v != "remote" {
				err = fmt.Errorf("want sandbox or remote")
			}
			c.bitrefill = v
		case "profile":
			c.profile, err = filepath.Abs(v)
		default:
			err = fmt.Errorf("unknown setting")
		}
		if err != nil {
			t.Fatalf("REFILLBOT_LOAD %q: %v", f, err)
		}
	}
	return c
}

// loadStep is one step of the measured purchase: what the buyer does, and
// what the screen that answers it says.
type loadStep struct {
	name string
	do   func(d *telegramtest.Dialog) error
	want string
}

var purchaseSteps = []loadStep{
	{"search", func(d *telegramtest.Dialog) error { d.Say("amazon us"); return nil }, "Results for"},
	{"product", func(d *telegramtest.Dialog) error { _, err := d.Tap("Amazon US"); return err }, "Values:"},
	{"value", func(d *telegramtest.Dialog) error { d.Say("50"); return nil }, "Confirm your order"},
	{"method", func(d *telegramtest.Dialog) error { _, err := d.Tap("Bitcoin"); return err }, "Invoice for"},
}

// procStat reads a process's CPU time (user+system) and peak RSS from /proc.
func procStat(t *testing.T, pid int) (cpu time.Duration, hwmKB int) {
	cpu, m := procMem(t, pid)
	return cpu, m["VmHWM"]
}

// procMem reads a process's CPU time (user+system) and the memory lines of
// /proc/<pid>/status, in kB: VmHWM (peak RSS), VmRSS, RssAnon (heap,
// stacks), RssFile (the binary's pages, bbolt's mmap).
func procMem(t *testing.T, pid int) (cpu time.Duration, kB map[string]int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): state is the
	// 3rd field, utime the 14th, stime the 15th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	kB = map[string]int{}
	for _, l := range strings.Split(string(s), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if v, isKB := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && isKB {
			kB[k], _ = strconv.Atoi(v)
		}
	}
	return cpu, kB
}

// rssByMapping sums the resident memory of a process by what is mapped
// (a file's path, or "anonymous": the Go heap, stacks and runtime), the
// largest first: "the bot's RSS" is partly its own binary and bbolt's
// mmap of the database, which no heap profile shows.
func rssByMapping(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return err.Error()
	}
	kB := map[string]int{}
	name := ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			name = "anonymous"
			if len(f) >= 6 {
				name = filepath.Base(f[5])
			}
		case len(f) == 3 && f[0] == "Rss:":
			n, _ := strconv.Atoi(f[1])
			kB[name] += n
		}
	}
	names := slices.Collect(maps.Keys(kB))
	slices.SortFunc(names, func(a, b string) int { return kB[b] - kB[a] })
	var out []string
	for _, n := range names[:min(5, len(names))] {
		out = append(out, fmt.Sprintf("%s %.1f MB", n, float64(kB[n])/1024))
	}
	return strings.Join(out, ", ")
}

// rssSampler reads the bot's resident memory every few milliseconds: VmHWM
// says how high RSS went, not of what, and the peak of a short run is
// over before the end. It keeps the sample with the most RSS.
type rssSampler struct {
	mu    sync.Mutex
	peak  map[string]int
	at    time.Duration
	phase string
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

func sampleRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{peak: map[string]int{}, phase: "start-up", start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				return
			}
			kB := map[string]int{}
			for _, l := range strings.Split(string(b), "\n") {
				k, v, ok := strings.Cut(l, ":")
				if v, isKB := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && isKB {
					kB[k], _ = strconv.Atoi(v)
				}
			}
			s.mu.Lock()
			if kB["VmRSS"] > s.peak["VmRSS"] {
				s.peak, s.at = kB, time.Since(s.start)
				s.peak["phase:"+s.phase] = 1
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *rssSampler) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

// report stops the sampler and says what the largest sample held.
func (s *rssSampler) report() string {
	close(s.stop)
	<-s.done
	phase := "?"
	for k := range s.peak {
		if p, ok := strings.CutPrefix(k, "phase:"); ok {
			phase = p
		}
	}
	return fmt.Sprintf("%.1f MB at %v (%s): anonymous %.1f, files and mmap %.1f",
		float64(s.peak["VmRSS"])/1024, s.at.Round(time.Millisecond), phase,
		float64(s.peak["RssAnon"])/1024, float64(s.peak["RssFile"]+s.peak["RssShmem"])/1024)
}

// selfCPU is the CPU time the test process (the fake Bot API server and the
// scripted buyers) has used so far: if it nears the cores left over by the
// bot, the harness, not the bot, caps throughput.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadProfiler drives the profiling hooks of a binary built with -tags
// loadprofile (loadprofile.go).
type loadProfiler struct {
	t    *testing.T
	addr string
}

func (p *loadProfiler) post(path string) string {
	if p == nil {
		return ""
	}
	r, err := http.Post("http://"+p.addr+path, "text/plain", nil)
	if err != nil {
		p.t.Fatalf("profiler %s: %v", path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK {
		p.t.Fatalf("profiler %s: %s: %s", path, r.Status, b)
	}
	return string(b)
}

// loadBinary builds the bot as the Dockerfile does (static, no cgo,
// stripped): its resident pages are part of what is measured. With
// profiling, -tags loadprofile adds the hooks of loadprofile.go.
func loadBinary(t *testing.T, dir string, profiling bool) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "refillbot")
	args := []string{"build", "-trimpath", "-ldflags", "-s -w", "-o", bin}
	if profiling {
		args = append(args, "-tags", "loadprofile")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

func TestLoad(t *testing.T) {
	spec, ok := os.LookupEnv("REFILLBOT_LOAD")
	if !ok {
		t.Skip("the load benchmark runs only with REFILLBOT_LOAD set (see BENCHMARKS.md)")
	}
	c := parseLoad(t, spec)
	opts := telegramtest.Options{CountOnly: true, WaitTimeout: 2 * time.Minute, LocalMode: true}
	if c.rate != "off" {
		opts.Limits = &telegramtest.TelegramLimits
	}
	srv := telegramtest.NewServer(t, opts)
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":  srv.Token(),
		"TELEGRAM_API_URL":    srv.URL(),
		"TELEGRAM_RATE_LIMIT": c.rate,
		"TELEGRAM_MAX_BUSY":   c.busy,
		"REFILLBOT_DB":        filepath.Join(t.TempDir(), "bot.db"),
		"REFILLBOT_LOG_LEVEL": "warn",
	}
	if c.bitrefill == "remote" {
		// An account with raised limits: what is measured is the bot,
		// not Bitrefill's budget (issue 11's benchmark measures that).
		_, url := newKillLoopFake(t)
		env["BITREFILL_API_KEY"], env["BITREFILL_API_URL"], env["BITREFILL_RATE_LIMITS"] = "test-key", url+"/v2", "off"
	}
	if c.mode == "webhook" {
		addr := freeAddr(t)
		env["TELEGRAM_MODE"], env["REFILLBOT_LISTEN"], env["REFILLBOT_PUBLIC_URL"] = "webhook", addr, "http://"+addr
	}
	// The Go runtime's own settings, when the test has them, reach the
	// bot: to measure their effect on RSS and CPU.
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	var (
		p    *proc
		prof *loadProfiler
	)
	if c.profile != "" {
		prof = &loadProfiler{t: t, addr: freeAddr(t)}
		env["REFILLBOT_LOADPROFILE_ADDR"], env["REFILLBOT_LOAD_CPUPROFILE"] = prof.addr, c.profile
		p = startBinary(t, loadBinary(t, t.TempDir(), true), env)
	} else {
		p = startBinary(t, loadBinary(t, t.TempDir(), false), env)
	}
	rss := sampleRSS(t, p.cmd.Process.Pid)

	buyers := make([]*telegramtest.Dialog, c.users)
	for i := range buyers {
		u := srv.NewUser("Load"+strconv.Itoa(i), "en")
		buyers[i] = u.In(u.Chat())
	}
	// Every buyer has started the bot before the clock runs: start-up
	// (the catalogue, the first connections) is not measured.
	var wg sync.WaitGroup
	for _, d := range buyers {
		wg.Go(func() {
			d.Say("/start")
			if _, err := d.Await("Welcome"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.Fatalf("stderr:\n%s", p.stderr.String())
	}
	calls0 := srv.CallCounts()
	cpu0, mem0 := procMem(t, p.cmd.Process.Pid)
	self0 := selfCPU()
	if prof != nil {
		t.Logf("Go runtime before the buyers: %s", prof.post("/heap/heap-start"))
		t.Logf("Go runtime's peak before the buyers: %s", prof.post("/peak"))
		prof.post("/cpu/start")
	}
	rss.setPhase("buyers")

	lat := make([][]time.Duration, len(purchaseSteps))
	var mu sync.Mutex
	start := time.Now()
	for _, d := range buyers {
		wg.Go(func() {
			mine := make([][]time.Duration, len(purchaseSteps))
			if c.think > 0 {
				// Buyers arrive spread over a think time, not all at once.
				time.Sleep(rand.N(c.think))
			}
			for range c.rounds {
				for i, s := range purchaseSteps {
					if c.think > 0 {
						time.Sleep(c.think) // the buyer reading the screen, not synchronisation
					}
					t0 := time.Now()
					if err := s.do(d); err != nil {
						t.Error(err)
						return
					}
					if _, err := d.Await(s.want); err != nil {
						t.Error(err)
						return
					}
					mine[i] = append(mine[i], time.Since(t0))
				}
			}
			mu.Lock()
			for i := range mine {
				lat[i] = append(lat[i], mine[i]...)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, mem1 := procMem(t, p.cmd.Process.Pid)
	self1 := selfCPU()
	mapped := rssByMapping(p.cmd.Process.Pid)
	sampled := rss.report()
	calls1 := srv.CallCounts()
	var heap string
	if prof != nil {
		prof.post("/cpu/stop")
		heap = prof.post("/peak") + "\n" + prof.post("/heap/heap")
	}
	if n := srv.WebhookFailures(); n > 0 {
		t.Logf("webhook posts failed %d times; last: %s", n, srv.WebhookError())
	}
	throttled := len(srv.Throttled())
	for i, c := range srv.Throttled() {
		if i < 5 {
			t.Logf("429: %s to chat %d at %s: %s", c.Method, c.Chat, c.At.Format("15:04:05.000"), c.Error)
		}
	}
	p.stop()
	if t.Failed() {
		t.Fatalf("stderr:\n%s", p.stderr.String())
	}
	if prof != nil {
		// The bot's own log, and with GODEBUG=gctrace=1 its collections.
		if err := os.WriteFile(c.profile+".stderr", []byte(p.stderr.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		t.Logf("rusage of the whole run, start-up and shutdown included: user %v, system %v, max RSS %.1f MB",
			time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), float64(ru.Maxrss)/1024)
	}

	purchases := c.users * c.rounds
	updates := purchases * len(purchaseSteps)
	delta := func(m string) int { return calls1[m] - calls0[m] }
	messages := 0
	for _, m := range []string{"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"} {
		messages += delta(m)
	}
	all := 0
	for m := range calls1 {
		all += delta(m)
	}
	t.Logf("users=%d think=%v rate=%s busy=%s mode=%s bitrefill=%s purchases=%d updates=%d in %v", c.users, c.think, c.rate, c.busy, c.mode, c.bitrefill, purchases, updates, elapsed.Round(time.Millisecond))
	t.Logf("updates/s %.0f", float64(updates)/elapsed.Seconds())
	for i, s := range purchaseSteps {
		l := lat[i]
		slices.Sort(l)
		if len(l) == 0 {
			continue
		}
		pct := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
		t.Logf("  %-8s p50 %7.1f ms   p99 %7.1f ms", s.name, ms(pct(0.5)), ms(pct(0.99)))
	}
	t.Logf("message calls per purchase %.2f (send %d, photo %d, edits %d); all Bot API calls per purchase %.2f",
		float64(messages)/float64(purchases), delta("sendMessage"), delta("sendPhoto"),
		messages-delta("sendMessage")-delta("sendPhoto"), float64(all)/float64(purchases))
	t.Logf("getUpdates per 1000 updates %.0f; answerCallbackQuery %d; 429 answers %d",
		float64(delta("getUpdates"))*1000/float64(updates), delta("answerCallbackQuery"), throttled)
	t.Logf("CPU-ms per purchase %.2f (CPU %v over %v: %.0f%% of a core); peak RSS %.1f MB",
		ms(cpu1-cpu0)/float64(purchases), cpu1-cpu0, elapsed.Round(time.Millisecond),
		100*(cpu1-cpu0).Seconds()/elapsed.Seconds(), float64(mem1["VmHWM"])/1024)
	t.Logf("  RSS: peak %.1f MB before the buyers started, %.1f MB after; now %.1f MB (anonymous %.1f, files and mmap %.1f)",
		float64(mem0["VmHWM"])/1024, float64(mem1["VmHWM"])/1024, float64(mem1["VmRSS"])/1024,
		float64(mem1["RssAnon"])/1024, float64(mem1["RssFile"]+mem1["RssShmem"])/1024)
	t.Logf("  resident by mapping: %s", mapped)
	t.Logf("  largest RSS sampled (every 5 ms): %s", sampled)
	t.Logf("  the harness (fake Bot API server and buyers): CPU %v, %.0f%% of a core; load average %s",
		(self1 - self0).Round(time.Millisecond), 100*(self1-self0).Seconds()/elapsed.Seconds(), loadAvg())
	if prof != nil {
		t.Logf("  Go runtime at the end: %s", heap)
		t.Logf("  profiles: go tool pprof -top -cum %s (heap: %[1]s.heap-start, %[1]s.heap)", c.profile)
	}
}

// loadAvg is the machine's 1-minute load average: other work on the shared
// cores shows in every number.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TestIdle measures the real binary doing nothing: no users, Telegram by
// long polling against the fake, the sandbox. Guarded by REFILLBOT_IDLE,
// the time to watch, e.g.
//
//	REFILLBOT_IDLE=60s go test -run TestIdle -v ./cmd/refillbot
//
// It reports the share of a core used and the Bot API calls made while
// idle; start-up (the catalogue, the command menus) is left out.
func TestIdle(t *testing.T) {
	spec, ok := os.LookupEnv("REFILLBOT_IDLE")
	if !ok {
		t.Skip("the idle measurement runs only with REFILLBOT_IDLE set (see BENCHMARKS.md)")
	}
	window, err := time.ParseDuration(spec)
	if err != nil {
		t.Fatalf("REFILLBOT_IDLE: %v", err)
	}
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	p := startProc(t, map[string]string{
		"TELEGRAM_BOT_TOKEN":  srv.Token(),
		"TELEGRAM_API_URL":    srv.URL(),
		"REFILLBOT_DB":        filepath.Join(t.TempDir(), "bot.db"),
		"REFILLBOT_LOG_LEVEL": "warn",
	})
	u := srv.NewUser("Idle", "en")
	d := u.In(u.Chat())
	d.Say("/start") // up and serving
	if _, err := d.Await("Welcome"); err != nil {
		t.Fatal(err)
	}
	calls0 := srv.CallCounts()
	cpu0, _ := procStat(t, p.cmd.Process.Pid)
	start := time.Now()
	time.Sleep(window) // the measurement itself: the bot left alone
	cpu1, hwm := procStat(t, p.cmd.Process.Pid)
	elapsed := time.Since(start)
	calls := srv.CallCounts()
	p.stop()
	var made []string
	for m, n := range calls {
		if n > calls0[m] {
			made = append(made, fmt.Sprintf("%s %d", m, n-calls0[m]))
		}
	}
	slices.Sort(made)
	t.Logf("idle %v: CPU %v = %.3f%% of a core; peak RSS %.1f MB; Bot API calls: %s",
		elapsed.Round(time.Second), cpu1-cpu0, 100*(cpu1-cpu0).Seconds()/elapsed.Seconds(), float64(hwm)/1024, strings.Join(made, ", "))
}
