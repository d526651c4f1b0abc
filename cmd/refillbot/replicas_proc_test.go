package main

// Replicas as real processes on one PostgreSQL: the binary is built and run
// two or three times with the same database, key, bot token and Bitrefill
// (the fake, served from this test process), and killed with SIGKILL.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/platforms/telegram/telegramtest"
	"refillbot/storage/postgres/pgtest"
)

// replicaShop is one bot's world: PostgreSQL, Bitrefill's fake, Telegram's fake.
type replicaShop struct {
	t    *testing.T
	fake *bitrefilltest.Fake
	api  *bitrefill.Client
	tg   *telegramtest.Server
	env  map[string]string
}

func newReplicaShop(t *testing.T, tgOpts telegramtest.Options) *replicaShop {
	t.Helper()
	db := pgtest.URL(t)
	binary(t)
	fake, srv := bitrefilltest.NewServer(t, bitrefilltest.Options{})
	api, err := bitrefill.New(bitrefill.Config{BaseURL: srv.URL + "/v2", APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	tgOpts.WaitTimeout = max(tgOpts.WaitTimeout, 45*time.Second)
	tg := telegramtest.NewServer(t, tgOpts)
	return &replicaShop{t: t, fake: fake, api: api, tg: tg, env: map[string]string{
		"BITREFILL_API_KEY":      "test-key",
		"BITREFILL_API_URL":      srv.URL + "/v2",
		"TELEGRAM_BOT_TOKEN":     tg.Token(),
		"TELEGRAM_API_URL":       tg.URL(),
		"REFILLBOT_DATABASE_URL": db,
		"REFILLBOT_SECRET_KEY":   testKey(t),
		"REFILLBOT_POLL":         "@every 1s",
		"REFILLBOT_LOG_LEVEL":    "info",
		"BITREFILL_RATE_LIMITS":  fastLimits,
	}}
}

// fastLimits are Bitrefill budgets a hundred times the documented ones, so
// that the poller's schedule, not the budget, paces the tests' checks.
const fastLimits = "general=6000/10m,products=6000/1m"

func (s *replicaShop) replica(kv ...string) *proc {
	s.t.Helper()
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return startProc(s.t, env)
}

// kill ends a replica as a crash would: SIGKILL, nothing flushed.
func (p *proc) kill() {
	p.t.Helper()
	p.cmd.Process.Kill()
	<-p.done
}

// waitLog waits for a line matching re in the replica's log.
func (p *proc) waitLog(re string, limit time.Duration) bool {
	_, _, ok := p.stderr.tryWait(re, limit)
	return ok
}

// invoices is the number of invoices Bitrefill made.
func (s *replicaShop) invoices() []bitrefill.Invoice {
	s.t.Helper()
	list, err := s.api.Invoices(context.Background(), bitrefill.ListFilter{Limit: 100})
	if err != nil {
		s.t.Fatal(err)
	}
	return list
}

// buyer walks a Telegram user through a purchase, step by step.
type buyer struct {
	u *telegramtest.User
	d *telegramtest.Dialog
}

func (s *replicaShop) buyers(n int) []*buyer {
	out := make([]*buyer, n)
	for i := range out {
		u := s.tg.NewUser(fmt.Sprintf("Buyer%d", i), "en")
		out[i] = &buyer{u: u, d: u.In(u.Chat())}
	}
	return out
}

type step struct{ say, tap, want string }

var (
	toProduct = []step{{say: "/start", want: "Welcome"}, {say: "amazon us", want: "Results for"}, {tap: "Amazon US", want: "Values:"}}
	toInvoice = []step{{say: "50", want: "Confirm your order"}, {tap: "Bitcoin", want: "Invoice for"}}
)

func (b *buyer) walk(steps []step) error {
	for _, st := range steps {
		if st.say != "" {
			b.d.Say(st.say)
		} else if _, err := b.d.Tap(st.tap); err != nil {
			return fmt.Errorf("tap %q not answered: %w", st.tap, err)
		}
		if _, err := b.d.Await(st.want); err != nil {
			return fmt.Errorf("after %q: %w", st.say+st.tap, err)
		}
	}
	return nil
}

// all runs fn for every buyer at once and fails the test on any error.
func all(t *testing.T, bs []*buyer, fn func(*buyer) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(bs))
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(b)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("buyer %d: %v", i, err)
		}
	}
}

func (b *buyer) count(tg *telegramtest.Server, substr string) int {
	n := 0
	for _, m := range tg.Messages(b.u.Chat()) {
		if strings.Contains(m.Content(), substr) {
			n++
		}
	}
	return n
}

// roundRobin is the load balancer in front of the replicas: each request
// goes to the next one, and to the one after when that one is down.
type roundRobin struct {
	mu       sync.Mutex
	backends []string
	next     int
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rr.mu.Lock()
	start := rr.next
	rr.next++
	n := len(rr.backends)
	backends := rr.backends
	rr.mu.Unlock()
	for i := range n {
		target := "http://" + backends[(start+i)%n] + r.URL.RequestURI()
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue // down: the next one
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no replica up", http.StatusBadGateway)
}

// Two replicas behind a round-robin proxy serve one Telegram bot by
// webhook; ten buyers replicaShop at once; one replica is killed mid-purchase and
// started again. Every tap is answered, every buyer gets one invoice and
// exactly one code.
func TestReplicasSurviveAKillMidPurchase(t *testing.T) {
	s := newReplicaShop(t, telegramtest.Options{LocalMode: true, WebhookClient: &http.Client{Timeout: time.Minute}})
	addrs := []string{freeAddr(t), freeAddr(t)}
	lb := httptest.NewServer(&roundRobin{backends: addrs})
	t.Cleanup(lb.Close)
	webhook := func(i int) *proc {
		return s.replica("TELEGRAM_MODE", "webhook", "REFILLBOT_LISTEN", addrs[i], "REFILLBOT_PUBLIC_URL", lb.URL)
	}
	a, b := webhook(0), webhook(1)
	for _, p := range []*proc{a, b} {
		if !p.waitLog(`receiving updates by webhook`, 60*time.Second) {
			t.Fatalf("a replica did not start:\n%s", p.stderr.String())
		}
	}
	buyers := s.buyers(10)
	all(t, buyers, func(b *buyer) error { return b.walk(toProduct) })

	// Mid-purchase: every buyer is choosing a value, their sessions were
	// served by both replicas. Kill one; start it again while they go on.
	a.kill()
	a = webhook(0) // starting while the buyers go on
	all(t, buyers, func(b *buyer) error { return b.walk(toInvoice) })

	invoices := s.invoices()
	if len(invoices) != len(buyers) {
		t.Fatalf("%d invoices for %d checkouts", len(invoices), len(buyers))
	}
	for _, inv := range invoices {
		if err := s.fake.MarkPaid(inv.ID); err != nil {
			t.Fatal(err)
		}
	}
	all(t, buyers, func(b *buyer) error {
		if _, err := b.d.Await("Code:"); err != nil {
			return err
		}
		// A round trip: anything still on its way has arrived by now.
		return b.walk([]step{{say: "/help", want: "How it works"}})
	})
	for i, b := range buyers {
		if n := b.count(s.tg, "Code:"); n != 1 {
			t.Errorf("buyer %d got %d code messages, want 1", i, n)
		}
	}
	a.stop()
	b.stop()
}

// Long polling with two replicas: one polls; kill it and the other polls
// within 30 seconds, and a purchase completes.
func TestPollingFailover(t *testing.T) {
	s := newReplicaShop(t, telegramtest.Options{})
	a, b := s.replica(), s.replica()
	var leader, follower *proc
	deadline := time.Now().Add(60 * time.Second)
	for leader == nil && time.Now().Before(deadline) {
		for _, p := range [][2]*proc{{a, b}, {b, a}} {
			if p[0].waitLog(`leading.*role=telegram-polling`, 200*time.Millisecond) {
				leader, follower = p[0], p[1]
				break
			}
		}
	}
	if leader == nil {
		t.Fatalf("no replica polls:\n%s\n%s", a.stderr.String(), b.stderr.String())
	}
	if follower.waitLog(`leading.*role=telegram-polling`, time.Second) {
		t.Fatal("both replicas poll")
	}
	bs := s.buyers(1)
	if err := bs[0].walk(toProduct[:1]); err != nil {
		t.Fatal(err)
	}
	leader.kill()
	killed := time.Now()
	if !follower.waitLog(`leading.*role=telegram-polling`, 30*time.Second) {
		t.Fatalf("no takeover within 30 s:\n%s", follower.stderr.String())
	}
	t.Logf("takeover %v after the kill", time.Since(killed).Round(time.Millisecond))
	if err := bs[0].walk(append(toProduct[1:], toInvoice...)); err != nil {
		t.Fatal(err)
	}
	for _, inv := range s.invoices() {
		if err := s.fake.MarkPaid(inv.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bs[0].d.Await("Code:"); err != nil {
		t.Fatal(err)
	}
	follower.stop()
}

// Three replicas run the scheduled jobs once per tick, not three times: the
// invoice poller's list call comes about once a second (its schedule), and
// only one replica leads the jobs.
func TestJobsRunOncePerTickWithThreeReplicas(t *testing.T) {
	s := newReplicaShop(t, telegramtest.Options{})
	ps := []*proc{s.replica(), s.replica(), s.replica()}
	bs := s.buyers(1)
	if err := bs[0].walk(append(toProduct, toInvoice...)); err != nil { // an open invoice to poll
		t.Fatal(err)
	}
	lists := func() int {
		n := 0
		for _, r := range s.fake.Requests() {
			if r.Method == http.MethodGet && strings.TrimSuffix(r.Path, "/") == "/v2/invoices" {
				n++
			}
		}
		return n
	}
	// Wait for the jobs' leader, then count the poller's list calls.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(ps[0].stderr.String()+ps[1].stderr.String()+ps[2].stderr.String(), "role=jobs") {
		if time.Now().After(deadline) {
			t.Fatal("no replica leads the jobs")
		}
		ps[0].stderr.tryWait(`role=jobs`, 100*time.Millisecond)
	}
	start, before := time.Now(), lists()
	const ticks = 6
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for lists()-before < ticks && time.Now().Before(deadline) {
		<-tick.C
	}
	elapsed := time.Since(start)
	if got := lists() - before; got < ticks {
		t.Fatalf("%d poller list calls in %v", got, elapsed)
	}
	// Once per tick: six ticks of one second take five seconds at least;
	// three replicas each polling would make six calls in about two.
	if elapsed < 4*time.Second {
		t.Errorf("%d list calls in %v: the poller runs on more than one replica", ticks, elapsed)
	}
	n := 0
	var leader *proc
	for _, p := range ps {
		if strings.Contains(p.stderr.String(), "role=jobs") {
			n++
			leader = p
		}
	}
	if n != 1 {
		t.Fatalf("%d replicas lead the jobs, want 1", n)
	}
	// The catalogue too: the leader walks Bitrefill's listing, the others
	// will read what it kept.
	line, _, ok := leader.stderr.tryWait(`catalogue refreshed.*pages=\d+`, 60*time.Second)
	if !ok {
		t.Fatalf("the leader did not load the catalogue:\n%s", leader.stderr.String())
	}
	pages, _ := strconv.Atoi(line[strings.LastIndex(line, "=")+1:])
	listings := 0
	for _, r := range s.fake.Requests() {
		if r.Method == http.MethodGet && strings.TrimSuffix(r.Path, "/") == "/v2/products" {
			listings++
		}
	}
	if listings != pages {
		t.Errorf("%d product listing requests for a catalogue of %d pages: more than one replica walked it", listings, pages)
	}
	for _, p := range ps {
		p.stop()
	}
}

// The outbox's crash points on PostgreSQL, as TestRestartAtCrashPoints has
// them on bbolt: the code arrives exactly once, or twice when the process
// died between the platform's acceptance and the mark — the same window,
// no wider.
func TestRestartAtCrashPointsOnPostgres(t *testing.T) {
	for _, tc := range []struct {
		point string
		want  int
	}{
		{crashCommitted, 1},
		{crashSent, 2},
		{crashMarked, 1},
	} {
		t.Run(tc.point, func(t *testing.T) {
			e := newRestartEnv(t)
			e.env["REFILLBOT_DATABASE_URL"] = pgtest.URL(t)
			e.env["REFILLBOT_SECRET_KEY"] = testKey(t)
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
			q.expect(`Welcome`)
			if tc.want > first {
				if _, _, ok := q.out.tryWait(`Code: `, 45*time.Second); !ok {
					t.Fatalf("no code after restart; first run:\n%s\nsecond run:\n%s\nsecond stderr:\n%s",
						p.out.String(), q.out.String(), q.stderr.String())
				}
			}
			if !strings.Contains(p.out.String(), "All done") {
				if _, _, ok := q.out.tryWait(`All done`, 45*time.Second); !ok {
					t.Fatalf("no receipt after restart:\n%s", q.out.String())
				}
			}
			q.say("/help")
			q.expect(`How it works`)
			q.stop()
			if got := first + strings.Count(q.out.String(), "Code: "); got != tc.want {
				t.Errorf("code shown %d times (before the crash %d), want %d", got, first, tc.want)
			}
			if got := strings.Count(p.out.String()+q.out.String(), "All done"); got != 1 {
				t.Errorf("receipt shown %d times, want 1", got)
			}
		})
	}
}
