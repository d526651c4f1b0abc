package main

// The kill loop: the real binary serves several Telegram buyers (the fake
// Bot API) who buy continuously, every invoice they are shown is paid (the
// Bitrefill fake over HTTP, webhooks on), and the process is killed with
// SIGKILL at random moments and started again on the same database. At the
// end every code of every paid invoice must have reached its buyer (0 lost)
// and no one else; codes shown in more than one message are counted and
// reported, and so are placeholders left behind (a kill between a code's
// placeholder being sent and its reference being recorded).
// Every typed search is told apart by its spelling, which its answer
// quotes: one answered more than once must have been answered across a
// kill that came during its first answer's send — the one window a restart
// can still repeat an answer in (RELIABILITY.md) — and such searches are
// counted and reported.
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
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	killLoopLogs   = flag.String("logs", "", "kill loop: a directory for each process's debug log (NNN.log), to explain what the loop counts")
)

type killLoop struct {
	t    *testing.T
	tg   *telegramtest.Server
	fake *bitrefilltest.Fake

	mu      sync.Mutex
	owner   map[string]int64        // paid invoice → the buyer's chat
	actions map[int64][]buyerAction // what each buyer did, by chat, in order
	late    int                     // codes not there 20 s after the payment
	kills   []time.Time             // when each SIGKILL was sent
}

// buyerAction is one update a buyer sent: a search typed or a button
// tapped. A search's query is spelled differently each time (the case of
// its letters), which the search ignores and the answer quotes, so each
// answer names the update it answers.
type buyerAction struct {
	update int64
	msg    int // the message typed, or the message whose button was tapped
	at     time.Time
	query  string // a search's, as typed
	label  string // a tap's button
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
		t:       t,
		tg:      telegramtest.NewServer(t, telegramtest.Options{WaitTimeout: settle}),
		owner:   map[string]int64{},
		actions: map[int64][]buyerAction{},
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

	if *killLoopLogs != "" {
		env["REFILLBOT_LOG_LEVEL"] = "debug"
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
		keepLog(t, done, p)
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
	keepLog(t, done, p)
	elapsed := time.Since(start)

	r := l.count(chats)
	t.Logf("kill loop (seed %d): %d kills, %d buyers, %s; %d invoices paid, %d codes: %d lost, %d to a wrong user, "+
		"%d duplicated (%.2f %%, %d extra copies); %d placeholders left without their code; %d codes came more than 20 s after the payment; "+
		"%d searches typed, %d answered, %d answered more than once, %d with their interim line shown more than once, %d after their answer; "+
		"%d messages repeated with no buyer action between the copies",
		seed, done, buyers, elapsed.Round(time.Second), r.invoices, r.codes, r.lost, r.wrong, r.duplicated,
		100*float64(r.duplicated)/float64(max(r.codes, 1)), r.extra, r.orphans, l.late,
		r.searches, r.answered, r.answeredTwice, r.interimTwice, r.interimLate, r.repeats)
	for _, d := range r.why {
		t.Log(d)
	}
	for _, d := range r.twice {
		t.Log(d)
	}
	// An update answered twice: only a kill during the send of its answer
	// can do that (RELIABILITY.md), so every search answered twice must be
	// across a kill that came while its first answer was being sent.
	t.Logf("searches answered twice: the first copy at most %v before the kill", r.longest.Round(time.Millisecond))
	if r.unexplained != 0 {
		t.Errorf("%d searches answered more than once other than across a kill during the first answer's send", r.unexplained)
	}
	if r.lost != 0 || r.wrong != 0 {
		t.Errorf("%d codes lost, %d sent to a wrong user; last stderr:\n%s", r.lost, r.wrong, p.stderr.String())
	}
	if r.invoices == 0 {
		t.Error("no invoice was paid: the buyers never got through")
	}
}

// keepLog writes the n-th process's log into the -logs directory, if set.
func keepLog(t *testing.T, n int, p *proc) {
	if *killLoopLogs == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(*killLoopLogs, fmt.Sprintf("%03d.log", n)), []byte(p.stderr.String()), 0o644); err != nil {
		t.Error(err)
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
	n := 0
	for _, a := range l.actions[d.Chat] {
		if a.query != "" {
			n++
		}
	}
	l.mu.Unlock()
	q := spelling("amazon us", n)
	d.Skip()
	at := time.Now()
	msg, update := d.U.SendUpdate(d.Chat, "/search "+q)
	l.record(d.Chat, buyerAction{update: update, msg: msg, at: at, query: q})
}

func (l *killLoop) tap(d *telegramtest.Dialog, m telegramtest.Message, label string) {
	b, _ := m.Button(label)
	at := time.Now()
	_, update := d.U.PressUpdate(d.Chat, m.ID, b.Data) // the answer to the press may never come (a kill): not waited for
	l.record(d.Chat, buyerAction{update: update, msg: m.ID, at: at, label: label})
	d.Skip()
}

func (l *killLoop) record(chat int64, a buyerAction) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.actions[chat] = append(l.actions[chat], a)
}

// spelling writes text with the case of its letters given by the bits of
// n, so that successive searches read differently (256 spellings of
// "amazon us" before one comes again).
func spelling(text string, n int) string {
	b := []byte(text)
	bit := 0
	for i, c := range b {
		if c < 'a' || c > 'z' {
			continue
		}
		if n>>bit&1 == 1 {
			b[i] = c - 'a' + 'A'
		}
		bit++
	}
	return string(b)
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
	invoices, codes, lost, wrong, duplicated, extra int
	orphans                                         int      // placeholders never edited into their code
	why                                             []string // how each duplicate came about

	// searches typed, those answered (results shown), those answered more
	// than once, and those whose "Searching…" line was shown more than once
	// or after the search's answer
	searches, answered, answeredTwice, interimTwice, interimLate int
	// repeats are messages sent again with nothing the buyer did between
	// the two copies: what a restart repeated, whatever the update
	repeats int
	twice   []string // how each of those came about
	// longest is the longest time from the first copy of a search's answer
	// shown twice to the kill before its second; unexplained counts the
	// searches answered twice other than across a kill during the first
	// answer's send (see acrossKill), which the loop fails on
	longest     time.Duration
	unexplained int
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
		l.mu.Lock()
		actions := slices.Clone(l.actions[chat])
		var codes []string
		for id, owner := range l.owner {
			if owner == chat {
				codes = append(codes, l.codesOf(id)...)
			}
		}
		l.mu.Unlock()
		l.countAnswers(&r, chat, actions, codes)
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

// countAnswers counts the answers of each search a buyer typed: the
// messages that showed its results (sent so, or edited into them from its
// "Searching…" line), told apart from other searches' by the query's
// spelling, which the answer quotes. It also counts every message the bot
// sent again, identical to one shown before with nothing the buyer did
// between the two: an update answered again, or a notice repeated (code
// messages, codes..., are counted as duplicated codes instead).
func (l *killLoop) countAnswers(r *killLoopResult, chat int64, actions []buyerAction, codes []string) {
	events := l.tg.Events(chat)
	type shown struct {
		msg  int
		at   time.Time
		kind telegramtest.EventKind
	}
	// The answers of each query, and its interim lines, in order.
	results := map[string][]shown{}
	interims := map[string][]shown{}
	content := map[int]string{} // each message as last shown
	for i, e := range events {
		if e.Kind == telegramtest.Deleted {
			continue
		}
		c := e.Message.Content()
		before := content[e.Message.ID]
		content[e.Message.ID] = c
		if i > 0 && strings.HasPrefix(events[i-1].Message.Content(), staleNotice) {
			continue // the results shown again after a tap on an old menu: that tap's answer
		}
		for _, q := range quoted(c, "Results for “") {
			if e.Kind == telegramtest.Sent || !strings.Contains(before, "Results for “"+q+"”") {
				results[q] = append(results[q], shown{e.Message.ID, e.At, e.Kind})
			}
		}
		if e.Kind == telegramtest.Sent {
			for _, q := range quoted(c, "Searching for “") {
				interims[q] = append(interims[q], shown{e.Message.ID, e.At, e.Kind})
			}
		}
	}
	typed := map[string][]buyerAction{}
	for _, a := range actions {
		if a.query != "" {
			r.searches++
			typed[a.query] = append(typed[a.query], a)
		}
	}
	describe := func(what string, q string, got []shown) string {
		a := typed[q][len(typed[q])-1]
		var b strings.Builder
		fmt.Fprintf(&b, "chat %d: search update %d (message #%d, typed at %s) %s %d times:", chat, a.update, a.msg, a.at.Format("15:04:05.000"), what, len(got))
		for _, g := range got {
			fmt.Fprintf(&b, " #%d %s at %s;", g.msg, g.kind, g.at.Format("15:04:05.000"))
		}
		text, gap, across := l.sinceKill(got[0].at, got[len(got)-1].at)
		b.WriteString(text)
		r.longest = max(r.longest, gap)
		if !across {
			r.unexplained++
			b.WriteString(" — NOT across a kill during the first copy's send")
		}
		b.WriteString(l.timeline(events, actions, a.at.Add(-time.Second), got[len(got)-1].at.Add(time.Second)))
		return b.String()
	}
	for q, as := range typed {
		got := results[q]
		r.answered += min(len(got), len(as))
		if len(got) > len(as) {
			r.answeredTwice += len(got) - len(as)
			r.twice = append(r.twice, describe("answered", q, got))
		}
		if n := len(interims[q]); n > len(as) {
			r.interimTwice += n - len(as)
			r.twice = append(r.twice, describe("had its interim line shown", q, interims[q]))
		}
		// An interim line after the answer: held, replaced by the answer,
		// and still sent after a restart.
		if len(got) > 0 {
			for _, in := range interims[q] {
				if in.at.After(got[0].at) {
					r.interimLate++
					r.twice = append(r.twice, describe("had its interim line shown after its answer", q, append(got[:1:1], in)))
				}
			}
		}
	}

	// Any message sent again: identical to one shown before (sent or
	// edited into), with no buyer action between the two.
	acted := func(from, to time.Time) bool {
		for _, a := range actions {
			if a.at.After(from) && a.at.Before(to) {
				return true
			}
		}
		return false
	}
	look := func(m telegramtest.Message) string {
		return m.Content() + "\x00" + strings.Join(m.Labels(), "\x00")
	}
	for i, e := range events {
		if e.Kind != telegramtest.Sent || slices.ContainsFunc(codes, func(c string) bool { return strings.Contains(e.Message.Content(), c) }) {
			continue
		}
		// A tap on a menu the bot had replaced is answered "That menu
		// has expired" and the current menu again: a buyer who tapped
		// twice while the bot was down gets that, each tap answered once.
		if strings.HasPrefix(e.Message.Content(), staleNotice) ||
			i > 0 && strings.HasPrefix(events[i-1].Message.Content(), staleNotice) {
			continue
		}
		for _, p := range events[:i] {
			if p.Kind == telegramtest.Deleted || look(p.Message) != look(e.Message) || acted(p.At, e.At) {
				continue
			}
			r.repeats++
			line, _, _ := strings.Cut(e.Message.Content(), "\n")
			if len(line) > 40 {
				line = line[:40] + "…"
			}
			var b strings.Builder
			fmt.Fprintf(&b, "chat %d: %q shown as #%d (%s at %s) and sent again as #%d at %s;", chat, line,
				p.Message.ID, p.Kind, p.At.Format("15:04:05.000"), e.Message.ID, e.At.Format("15:04:05.000"))
			text, _, _ := l.sinceKill(p.At, e.At)
			b.WriteString(text)
			r.twice = append(r.twice, b.String())
			break
		}
	}
}

// timeline lists what happened in a chat between from and to: the bot's
// messages and edits, the buyer's actions and the kills.
func (l *killLoop) timeline(events []telegramtest.Event, actions []buyerAction, from, to time.Time) string {
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	in := func(t time.Time) bool { return !t.Before(from) && !t.After(to) }
	for _, e := range events {
		if in(e.At) {
			first, _, _ := strings.Cut(e.Message.Content(), "\n")
			if len(first) > 50 {
				first = first[:50] + "…"
			}
			lines = append(lines, line{e.At, fmt.Sprintf("bot %s #%d %q %q", e.Kind, e.Message.ID, first, e.Message.Labels())})
		}
	}
	for _, a := range actions {
		if in(a.at) {
			lines = append(lines, line{a.at, fmt.Sprintf("buyer: update %d on #%d %q%q", a.update, a.msg, a.query, a.label)})
		}
	}
	for _, k := range l.kills {
		if in(k) {
			lines = append(lines, line{k, "KILL"})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.at.Compare(b.at) })
	var b strings.Builder
	for _, ln := range lines {
		fmt.Fprintf(&b, "\n\t%s %s", ln.at.Format("15:04:05.000"), ln.text)
	}
	return b.String()
}

// staleNotice begins the answer to a tap on a menu the bot has replaced,
// which then shows the current menu again.
const staleNotice = "That menu has expired"

// quoted returns what follows each occurrence of prefix up to the closing
// quote.
func quoted(s, prefix string) []string {
	var out []string
	for {
		_, after, ok := strings.Cut(s, prefix)
		if !ok {
			return out
		}
		q, rest, ok := strings.Cut(after, "”")
		if !ok {
			return out
		}
		out = append(out, q)
		s = rest
	}
}

// sinceKill tells when the first and the last copy of something shown
// twice came against the last kill before the last copy: how long before
// the kill the first went out (gap), and whether the copies are across that
// kill, the first caught in its send (see sendWindow).
func (l *killLoop) sinceKill(first, last time.Time) (text string, gap time.Duration, across bool) {
	k, ok := l.killBefore(last)
	if !ok {
		return " no kill before the last copy", 0, false
	}
	gap = k.Sub(first)
	return fmt.Sprintf(" the last kill before it at %s: first copy %v before the kill, last %v after it",
		k.Format("15:04:05.000"), gap.Round(time.Millisecond), last.Sub(k).Round(time.Millisecond)), gap, gap >= -inFlight && gap <= sendWindow
}

// sendWindow bounds how long before a kill a message that the restart sends
// again may have gone out: the time from the platform accepting it to its
// "sent" mark being durable — one storage write, grouped, 3 ms at the median
// but up to ~0.9 s seen (fsync) on this shared machine under load. A kill
// later than that finds the mark written. inFlight is how long after the
// kill the fake may still handle the killed process's last request.
const (
	sendWindow = 1500 * time.Millisecond
	inFlight   = 100 * time.Millisecond
)

// killBefore is the last kill before t.
func (l *killLoop) killBefore(t time.Time) (time.Time, bool) {
	var k time.Time
	for _, at := range l.kills {
		if at.Before(t) {
			k = at
		}
	}
	return k, !k.IsZero()
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
