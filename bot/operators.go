package bot

// The operator's side at run time: who the operators are, the alerts
// queued for them, the statistics kept for them, and the commands only they
// have. Alerts go through the outbox like any message, under the
// operator's own session (sent by the drain job: bulk traffic, never ahead
// of a buyer's reply), to the private address the operator last wrote from:
// an operator must have started the bot once.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

type operators struct {
	obs       Observer
	admins    []conversation.SessionKey
	isAdmin   map[conversation.SessionKey]bool
	stats     statsBuffer
	api       apiWatch
	balance   balanceWatch
	broadcast broadcasts // broadcast.go
}

func newOperators(cfg Config) *operators {
	o := &operators{obs: cfg.Observer, isAdmin: map[conversation.SessionKey]bool{}, balance: balanceWatch{threshold: cfg.LowBalance},
		broadcast: broadcasts{drafts: map[conversation.SessionKey]string{}, kick: make(chan struct{}, 1)}}
	if o.obs == nil {
		o.obs = nopObserver{}
	}
	for _, k := range cfg.Admins {
		if !o.isAdmin[k] {
			o.isAdmin[k] = true
			o.admins = append(o.admins, k)
		}
	}
	return o
}

// count feeds one committed step's news to the metrics and the statistics.
func (o *operators) count(n invoiceNews, now time.Time) {
	if n.paid {
		o.obs.InvoicePaid()
	}
	for _, kind := range n.delivered {
		o.obs.OrderDelivered(kind)
	}
	for range n.troubles {
		o.obs.OrderFailed()
	}
	if n.paid || len(n.delivered) > 0 || n.troubles > 0 {
		o.stats.add(now, func(d *DayStats) { d.Add(n.stats) })
	}
}

// operatorRecords are outbox records carrying texts to every operator who
// can be reached (has written to the bot privately).
func (b *Bot) operatorRecords(texts []string, now time.Time) []OutboxRecord {
	if len(texts) == 0 || len(b.ops.admins) == 0 {
		return nil
	}
	var recs []OutboxRecord
	for _, admin := range b.ops.admins {
		addr, ok, err := b.cfg.Store.Address(admin)
		if err != nil || !ok {
			if err != nil {
				b.log.Error("operator alert: address", "err", err)
			} else {
				b.log.Warn("operator alert not sent: the operator has not written to the bot privately yet", "operator", admin.String())
			}
			continue
		}
		for _, t := range texts {
			recs = append(recs, OutboxRecord{Session: admin, Address: addr, Reply: conversation.Reply{Text: []conversation.Span{{Text: t}}}, Created: now})
		}
	}
	ids := b.out.ids(len(recs), now)
	for i := range recs {
		recs[i].ID = ids[i]
	}
	return recs
}

// alertOperators queues texts for the operators outside any session's step
// (Bitrefill trouble, a low balance); the drain job sends them.
func (b *Bot) alertOperators(texts ...string) {
	recs := b.operatorRecords(texts, b.cfg.Now())
	if len(recs) == 0 {
		return
	}
	if err := b.cfg.Store.Enqueue(recs); err != nil {
		b.log.Error("operator alert: enqueue", "err", err)
	}
}

// ObserveBitrefill is told about every Bitrefill request (chain it into the
// client's Observer): Bitrefill unreachable, or answering 429s, for minutes
// is news for the operators.
func (b *Bot) ObserveBitrefill(r bitrefill.Request) {
	if alert := b.ops.api.observe(r, b.cfg.Now()); alert != "" {
		b.alertOperators(alert)
	}
}

// balanceReader is the client's balance call, which the shell uses only for
// operators (/balance and the low-balance alert).
type balanceReader interface {
	Balance(ctx context.Context) (bitrefill.Balance, error)
}

// outboxCounter is a store's count of pending outbox records, for the
// refillbot_outbox_pending gauge.
type outboxCounter interface {
	OutboxCount() (int, error)
}

// operatorJobs are the scheduled work of the operator's side.
func (b *Bot) operatorJobs(wrap func(func(context.Context, time.Time)) func()) []job {
	js := []job{{"stats", "@every 30s", wrap(func(_ context.Context, now time.Time) { b.FlushStats(now) })}}
	if oc, ok := b.cfg.Store.(outboxCounter); ok {
		if _, nop := b.ops.obs.(nopObserver); !nop {
			js = append(js, job{"outbox-gauge", "@every 15s", wrap(func(context.Context, time.Time) {
				if n, err := oc.OutboxCount(); err == nil {
					b.ops.obs.OutboxPending(n)
				}
			})})
		}
	}
	if br, ok := b.cfg.API.(balanceReader); ok && !b.cfg.LowBalance.IsZero() && len(b.ops.admins) > 0 {
		// One request every 15 minutes: 40 of Bitrefill's 8,640 a day.
		js = append(js, job{"low-balance", "@every 15m", wrap(func(ctx context.Context, _ time.Time) {
			ctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
			defer cancel()
			ctx = bitrefill.WithPriority(ctx, bitrefill.Background) // only what buyers leave
			bal, err := br.Balance(ctx)
			if err != nil {
				b.log.Warn("low-balance check", "err", err)
				return
			}
			if alert := b.ops.balance.check(bal); alert != "" {
				b.alertOperators(alert)
			}
		})})
	}
	return js
}

// FlushStats writes the statistics gathered in memory to the store, when
// it keeps them; the stats job calls it every 30 s, and Run at the end.
func (b *Bot) FlushStats(now time.Time) {
	ss, ok := b.cfg.Store.(StatsStore)
	if !ok {
		return
	}
	days := b.ops.stats.take()
	if len(days) == 0 {
		return
	}
	if err := ss.AddStats(days); err != nil {
		b.log.Error("statistics: flush", "err", err)
		b.ops.stats.putBack(days)
	}
}

// operatorCommands are the commands only operators have; to anyone else
// they are unknown, and the engine says so.
var operatorCommands = []string{"stats", "recent", "balance", "broadcast"}

// operatorCommand answers an operator's command in their private chat and
// reports whether it did; anything else goes to the engine.
func (b *Bot) operatorCommand(ctx context.Context, key conversation.SessionKey, addr conversation.Address, ev conversation.Event) bool {
	c, ok := ev.(conversation.Command)
	if !ok || !b.ops.isAdmin[key] || !addr.Private {
		return false // in a group the numbers would be everyone's to read
	}
	name, _, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(c.Name, "/")), "@")
	if !slices.Contains(operatorCommands, name) {
		return false
	}
	now := b.cfg.Now()
	var text string
	switch name {
	case "stats":
		text = b.statsText(c.Args, now)
	case "recent":
		text = b.recentText(ctx)
	case "balance":
		text = b.balanceText(ctx)
	case "broadcast":
		text = b.broadcastCommand(key, c.Args, now)
	}
	unlock := b.locks.lock(key.String())
	defer unlock()
	recs := b.outgoing(key, addr, []conversation.Reply{{Text: []conversation.Span{{Text: text}}}}, now)
	if err := b.cfg.Store.Enqueue(recs); err != nil {
		b.log.Error("operator command: enqueue", "err", err)
		return true
	}
	b.deliverNow(ctx, recs)
	return true
}

func (b *Bot) statsText(arg string, now time.Time) string {
	from, to, label, ok := statsPeriod(arg, now)
	if !ok {
		return "Use /stats, /stats 7d or /stats 30d."
	}
	var days []DayStats
	if ss, ok := b.cfg.Store.(StatsStore); ok {
		stored, err := ss.Stats(from, to)
		if err != nil {
			b.log.Error("statistics: read", "err", err)
			return "The statistics cannot be read right now; see the log."
		}
		days = stored
	}
	for _, d := range b.ops.stats.peek() {
		if d.Day >= from && d.Day <= to {
			days = append(days, d)
		}
	}
	return formatStats(label, days)
}

// recentInvoices is how many invoices /recent lists (one API request).
const recentInvoices = 10

func (b *Bot) recentText(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
	defer cancel()
	list, err := b.cfg.API.Invoices(ctx, bitrefill.ListFilter{Limit: recentInvoices})
	if err != nil {
		return "Bitrefill did not answer (" + string(kind(err)) + "); try again in a minute."
	}
	if len(list) == 0 {
		return "No invoices yet."
	}
	var sb strings.Builder
	sb.WriteString("🧾 Last invoices (newest first):")
	for _, in := range list {
		inv := invoice(in)
		lines := linesText(inv.Orders)
		fmt.Fprintf(&sb, "\n%s · %s · %s", shortInvoice(inv.ID), inv.Status, orDefault(lines, "—"))
		if inv.Method != "" {
			sb.WriteString(" · " + inv.Method)
		}
		if !in.CreatedTime.IsZero() {
			sb.WriteString(" · " + in.CreatedTime.UTC().Format("01-02 15:04"))
		}
	}
	return sb.String()
}

func (b *Bot) balanceText(ctx context.Context) string {
	br, ok := b.cfg.API.(balanceReader)
	if !ok {
		return "This Bitrefill client cannot read the balance."
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
	defer cancel()
	bal, err := br.Balance(ctx)
	if err != nil {
		return "Bitrefill did not answer (" + string(kind(err)) + "); try again in a minute."
	}
	text := fmt.Sprintf("💳 Bitrefill balance: %s %s", moneyText(bal.Amount), bal.Currency)
	if t := b.cfg.LowBalance; !t.IsZero() {
		text += fmt.Sprintf(" (alert below %s)", moneyText(t))
	}
	return text
}
