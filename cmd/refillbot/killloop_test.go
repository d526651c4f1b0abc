package main

// The kill loop: the real binary serves several Telegram buyers (the fake
// Bot API) who buy continuously, every invoice they are shown is paid (the
// Bitrefill fake over HTTP, webhooks on), and the process is killed with
// SIGKILL at random moments and started again on the same database. At the
// end every code of every paid invoice must have reached its buyer (0 lost)
// and no one else; codes shown in more than one message are counted and
// reported, and so are placeholders left behind (a kill between a code's
// placeholder being sent and its reference being recorded).
//
// The short form (a few kills, three buyers) runs with the package's tests.
// The long form measures (BENCHMARKS.md):
//
//	go test ./cmd/refillbot -run '^TestKillLoop$' -v -timeout 30m -kills 100 [-buyers 12] [-seed N]

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
	"refillbot/platforms/telegram/telegramtest"
)

var (
	killLoopKills  = flag.Int("kills", 0, "kill loop: SIGKILLs of the long form (0: the short form)")
	killLoopBuyers = flag.Int("buyers", 0, "kill loop: concurrent buyers (default 12 in the long form, 3 in the short)")
	killLoopSeed   = flag.Uint64("seed", 0, "kill loop: seed of the kill times (0: from the clock)")
)

type killLoop struct {
	t    *testing.T
	tg   *telegramtest.Server
	fake *bitrefilltest.Fake

	mu       sync.Mutex
	owner    map[string]int64 // paid invoice → the buyer's chat
	searches map[int64]int    // searches typed, by chat
	late     int              // codes not there 20 s after the payment
	kills    []time.Time      // when each SIGKILL was sent
}

// settle is how long a chat stays quiet before a buyer acts: a buyer who
// tapped whatever came first would tap menus that replayed updates (after a
// restart) are about to replace.
const settle = 1200 * time.Millisecond

var addressRE = regexp.MustCompile(`To: (bc1q[a-z0-9]+)`)

func TestKillLoop(t *testing.T) {
	kills, buyers := 4, 3
	if *killLoopKills > 0 {
		kills, buyers = *killLoopKills, 12
	}
	if *killLoopBuyers > 0 {
		buyers = *killLoopBuyers
	}
	seed := *killLoopSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	binary(t) // skips with -short

	l := &killLoop{
		t:        t,
		tg:       telegramtest.NewServer(t, telegramtest.Options{WaitTimeout: settle}),
		owner:    map[string]int64{},
		searches: map[int64]int{},
	}
	var srvURL string
	l.fake, srvURL = newKillLoopFake(t)
	addr := freeAddr(t)
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN":   l.tg.Token(),
		"TELEGRAM_API_URL":     l.tg.URL(),
		"BITREFILL_API_KEY":    "test-key",
		"BITREFILL_API_URL":    srvURL + "/v2",
		"REFILLBOT_DB":         filepath.Join(t.TempDir(), "bot.db"),
		"REFILLBOT_POLL":       "@every 1s",
		"REFILLBOT_LOG_LEVEL":  "error",
		"REFILLBOT_LISTEN":     addr,
		"REFILLBOT_PUBLIC_URL": "http://" + addr,
		"REFILLBOT_BACKUP_DIR": "off",
		// An account with raised limits: what is measured is crash safety,
		// and at Bitrefill's documented 60 requests per 10 minutes the
		// buyers would mostly wait their turn.
		"BITREFILL_RATE_LIMITS": "off",
	}

	start := time.Now()
	p := startProc(t, env)
	ctx, stopBuying := context.WithCancel(context.Background())
	defer stopBuying()
	var wg sync.WaitGroup
	var chats []int64
	for i := range buyers {
		u := l.tg.NewUser(fmt.Sprintf("Buyer%d", i), "en")
		chats = append(chats, u.Chat())
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.buy(ctx, u.In(u.Chat()))
		}()
	}

	// The short form kills on until a few invoices are paid, so that it
	// checks something; the long form does as many kills as asked.
	minPaid := 1
	if *killLoopKills == 0 {
		minPaid = buyers
	}
	done := 0
	for ; done < kills || (l.paid() < minPaid && time.Since(start) < time.Minute); done++ {
		<-time.After(400*time.Millisecond + time.Duration(rng.Int64N(int64(2600*time.Millisecond)))) // the workload's rhythm, not a synchronisation
		l.kills = append(l.kills, time.Now())
		p.cmd.Process.Kill()
		<-p.done
		if code := p.cmd.ProcessState.ExitCode(); code != -1 { // -1: ended by the signal
			t.Fatalf("the bot ended by itself (exit code %d) before it was killed; stderr:\n%s", code, p.stderr.String())
		}
		p = startProc(t, env)
	}
	stopBuying()
	wg.Wait()

	// The last process runs on until every paid invoice's codes are out.
	deadline := time.Now().Add(2 * time.Minute)
	for !l.allDelivered() && time.Now().Before(deadline) {
		<-time.After(200 * time.Millisecond) // polling a condition, with a deadline
	}
	p.stop()
	elapsed := time.Since(start)

	r := l.count(chats)
	t.Logf("kill loop (seed %d): %d kills, %d buyers, %s; %d invoices paid, %d codes: %d lost, %d to a wrong user, "+
		"%d duplicated (%.2f %%, %d extra copies); %d placeholders left without their code; %d searches answered more than once; "+
		"%d codes came more than 20 s after the payment",
		seed, done, buyers, elapsed.Round(time.Second), r.invoices, r.codes, r.lost, r.wrong, r.duplicated,
		100*float64(r.duplicated)/float64(max(r.codes, 1)), r.extra, r.orphans, r.answeredTwice, l.late)
	for _, d := range r.why {
		t.Log(d)
	}
	if r.lost != 0 || r.wrong != 0 {
		t.Errorf("%d codes lost, %d sent to a wrong user; last stderr:\n%s", r.lost, r.wrong, p.stderr.String())
	}
	if r.invoices == 0 {
		t.Error("no invoice was paid: the buyers never got through")
	}
}

// newKillLoopFake serves the Bitrefill fake over HTTP, advancing on its own
// so that paid invoices complete and post their webhooks.
func newKillLoopFake(t *testing.T) (*bitrefilltest.Fake, string) {
	fake, srv := bitrefilltest.NewServer(t, bitrefilltest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fake.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return fake, srv.URL
}

// buy makes one buyer purchase again and again until ctx ends. The buyer
// waits for the chat to settle (no news for a moment), then looks at the
// newest message and does what it asks for next, as a person would after a
// hiccup: the bot may have answered twice, or not at all (it was killed),
// or carried on after a restart.
func (l *killLoop) buy(ctx context.Context, d *telegramtest.Dialog) {
	for ctx.Err() == nil {
		for ctx.Err() == nil {
			if _, err := d.Next(); err != nil {
				break // settled
			}
		}
		last, ok := newestFromBot(l.tg.Messages(d.Chat))
		addr := addressRE.FindStringSubmatch(last.Content())
		switch {
		case ctx.Err() != nil:
		case ok && addr != nil:
			l.pay(d, addr[1])
			l.search(d)
		case ok && hasButton(last, "Bitcoin"):
			l.tap(d, last, "Bitcoin")
		case ok && hasButton(last, "50 USD"):
			l.tap(d, last, "50 USD")
		case ok && hasButton(last, "Amazon US"):
			l.tap(d, last, "Amazon US")
		case ok && strings.Contains(last.Content(), "being created") && hasButton(last, "✖ Cancel"):
			l.tap(d, last, "✖ Cancel") // the process died while creating it
		default:
			l.search(d)
		}
	}
}

func (l *killLoop) search(d *telegramtest.Dialog) {
	l.mu.Lock()
	l.searches[d.Chat]++
	l.mu.Unlock()
	d.Say("/search amazon us")
}

func (l *killLoop) tap(d *telegramtest.Dialog, m telegramtest.Message, label string) {
	b, _ := m.Button(label)
	d.U.Press(d.Chat, m.ID, b.Data) // the answer to the press may never come (a kill): not waited for
	d.Skip()
}

// pay pays the invoice to address from the buyer's wallet, once, and waits
// for its code (which may come only after a restart).
func (l *killLoop) pay(d *telegramtest.Dialog, address string) {
	id, ok := l.fake.InvoiceByAddress(address)
	if !ok {
		l.t.Errorf("the bot showed an address %s no invoice has", address)
		return
	}
	l.mu.Lock()
	_, paid := l.owner[id]
	if !paid {
		l.owner[id] = d.Chat
	}
	l.mu.Unlock()
	if !paid {
		if err := l.fake.MarkPaid(id); err != nil {
			l.t.Errorf("paying %s: %v", id, err)
			return
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := d.AwaitMatch("the code of "+id, func(e telegramtest.Event) bool {
			for _, c := range l.codesOf(id) {
				if strings.Contains(e.Message.Content(), c) {
					return true
				}
			}
			return false
		}); err == nil {
			return
		}
	}
	l.mu.Lock()
	l.late++
	l.mu.Unlock()
}

// newestFromBot is the bot's newest message in a chat.
func newestFromBot(ms []telegramtest.Message) (telegramtest.Message, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].FromBot {
			return ms[i], true
		}
	}
	return telegramtest.Message{}, false
}

func hasButton(m telegramtest.Message, label string) bool {
	b, ok := m.Button(label)
	return ok && b.Data != ""
}

func (l *killLoop) paid() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.owner)
}

// codesOf returns the codes of an invoice's delivered orders.
func (l *killLoop) codesOf(id string) []string {
	snap, ok := l.fake.Invoice(id)
	if !ok {
		return nil
	}
	var out []string
	for _, o := range snap.Orders {
		if o.Code != "" {
			out = append(out, o.Code)
		}
	}
	return out
}

// allDelivered reports whether every code of every paid invoice is in its
// buyer's chat.
func (l *killLoop) allDelivered() bool {
	l.mu.Lock()
	owner := make(map[string]int64, len(l.owner))
	for id, chat := range l.owner {
		owner[id] = chat
	}
	l.mu.Unlock()
	seen := map[int64]string{}
	for id, chat := range owner {
		snap, ok := l.fake.Invoice(id)
		if !ok || snap.Status != "complete" {
			return false
		}
		if _, ok := seen[chat]; !ok {
			var b strings.Builder
			for _, m := range l.tg.Messages(chat) {
				b.WriteString(m.Content())
				b.WriteByte(0)
			}
			seen[chat] = b.String()
		}
		for _, c := range l.codesOf(id) {
			if !strings.Contains(seen[chat], c) {
				return false
			}
		}
	}
	return true
}

type killLoopResult struct {
	invoices, codes, lost, wrong, duplicated, extra, answeredTwice int
	orphans                                                        int      // placeholders never edited into their code
	why                                                            []string // how each duplicate came about
}

// placeholderText is in the placeholder a code is delivered into
// (conversation.CodeComingNotice), until the edit that shows the code.
const placeholderText = "Your code is on its way"

// count compares what every chat shows with what was paid for. A code is
// counted once per message that shows it now (chat and message id, after
// every edit): a code edited into its placeholder, however often the edit
// was repeated, is in one message.
func (l *killLoop) count(chats []int64) killLoopResult {
	var r killLoopResult
	shown := map[int64][]string{}
	for _, chat := range chats {
		for _, m := range l.tg.Messages(chat) { // one per message id, as it is now
			shown[chat] = append(shown[chat], m.Content())
			if strings.Contains(m.Content(), placeholderText) {
				r.orphans++
				r.why = append(r.why, l.explainOrphan(chat, m.ID))
			}
		}
		results := 0
		for _, e := range l.tg.Events(chat) {
			if e.Kind != telegramtest.Deleted && strings.Contains(e.Message.Content(), "Results for") {
				results++
			}
		}
		l.mu.Lock()
		r.answeredTwice += max(results-l.searches[chat], 0)
		l.mu.Unlock()
	}
	copies := func(chat int64, code string) int {
		n := 0
		for _, s := range shown[chat] {
			if strings.Contains(s, code) {
				n++
			}
		}
		return n
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, chat := range l.owner {
		r.invoices++
		codes := l.codesOf(id)
		if len(codes) == 0 {
			l.t.Errorf("invoice %s was paid but has no code at the fake", id)
		}
		for _, c := range codes {
			r.codes++
			switch n := copies(chat, c); {
			case n == 0:
				r.lost++
			case n > 1:
				r.duplicated++
				r.extra += n - 1
				r.why = append(r.why, l.explain(chat, c))
			}
			for _, other := range chats {
				if other != chat && copies(other, c) > 0 {
					r.wrong++
				}
			}
		}
	}
	return r
}

// explainOrphan tells when a placeholder left without its code was sent,
// against the first kill after it: a few milliseconds before it means the
// kill came before its reference was recorded.
func (l *killLoop) explainOrphan(chat int64, id int) string {
	var at time.Time
	for _, e := range l.tg.Events(chat) {
		if e.Kind == telegramtest.Sent && e.Message.ID == id {
			at = e.At
			break
		}
	}
	for _, k := range l.kills {
		if k.After(at) {
			return fmt.Sprintf("placeholder left in chat %d: sent %v before a kill", chat, k.Sub(at).Round(time.Millisecond))
		}
	}
	return fmt.Sprintf("placeholder left in chat %d: sent after the last kill", chat)
}

// explain tells when the copies of a duplicated code were shown (each
// message's first send or edit showing it), against the kill just before
// the second: a first copy a few milliseconds before that kill was caught
// in its send; one long before it, by something else.
func (l *killLoop) explain(chat int64, code string) string {
	var at []time.Time
	seen := map[int]bool{}
	for _, e := range l.tg.Events(chat) {
		if e.Kind != telegramtest.Deleted && !seen[e.Message.ID] && strings.Contains(e.Message.Content(), code) {
			seen[e.Message.ID] = true
			at = append(at, e.At)
		}
	}
	if len(at) < 2 {
		return fmt.Sprintf("duplicate in chat %d: %d messages ever showed it", chat, len(at))
	}
	var kill time.Time
	for _, k := range l.kills {
		if k.Before(at[1]) {
			kill = k
		}
	}
	return fmt.Sprintf("duplicate in chat %d: first copy %v before the kill, second %v after it",
		chat, kill.Sub(at[0]).Round(time.Millisecond), at[1].Sub(kill).Round(time.Millisecond))
}
