package bot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"refillbot/bitrefill"
	"refillbot/bot/catalog"
	"refillbot/conversation"
)

// Config wires the shell. API, Store and at least one platform are required.
type Config struct {
	API       API
	Store     Store
	Platforms map[string]Platform // by conversation.Address.Platform
	Engine    conversation.Engine
	// Simulator is set in the sandbox only: it backs the "simulate payment" option.
	Simulator PaymentSimulator
	// WebhookURL, when set, is sent with every invoice so Bitrefill can call us.
	WebhookURL string
	// PollSpec is the robfig/cron schedule of the invoice poller (default "@every 10s").
	PollSpec string
	// APITimeout bounds each Bitrefill call made for a user (default 20s).
	APITimeout time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
	// InterimGrace is how long a step's interim message ("Searching…") is
	// held back for the answer to replace it (interim.go); default 300ms,
	// negative sends it at once. AfterFunc runs f after d and returns a
	// function that stops it (default time.AfterFunc's): tests make the
	// grace deterministic with it.
	InterimGrace time.Duration
	AfterFunc    func(d time.Duration, f func()) (stop func() bool)

	// --- catalogue (issue 3; see search.go) ---
	// Catalog, when set, serves searches from memory and Run keeps it
	// refreshed; nil searches the API every time.
	Catalog *catalog.Catalog
	// CatalogSpec is the robfig/cron schedule on which Run checks whether
	// the catalogue is due a refresh (default "@every 1m").
	CatalogSpec string
	// --- end catalogue ---

	// Delivery and scheduled work (outbox.go, webhook.go, jobs.go).
	// WebhookSecret is the path secret WebhookHandler accepts.
	WebhookSecret string
	// HideCodesAfter, when positive, removes code messages that long after
	// they were sent, on platforms that can delete (Deleter).
	HideCodesAfter time.Duration
	// DrainSpec schedules the outbox retry job (default "@every 2s").
	DrainSpec string
	// BackupDir, when set, gets a daily hot backup; BackupKeep are kept (default 7).
	BackupDir  string
	BackupKeep int

	// The shop's side (observe.go, operators.go, alerts.go, broadcast.go).
	// Observer is told what happens, for metrics; nil: nobody.
	Observer Observer
	// Admins are the shop's operators: sale and trouble alerts in their
	// private chat, and the operator commands (/stats, /recent, /balance),
	// which are unknown commands to everyone else.
	Admins []conversation.SessionKey
	// LowBalance, when not zero, alerts operators when the Bitrefill account
	// balance falls below it.
	LowBalance bitrefill.Decimal
	// BroadcastPace is the time between two /broadcast messages (default
	// 50ms: 20 a second, bulk traffic below the platforms' overall limits).
	BroadcastPace time.Duration

	// Leading, when set, says whether this process runs the scheduled jobs
	// now: with replicas (replicas.go) one leader runs them, once per tick;
	// the outbox drain runs on every replica. nil: always.
	Leading func() bool
}

// Bot runs conversations. It is safe for concurrent use.
type Bot struct {
	cfg    Config
	log    *slog.Logger
	locks  keyedLocks     // one per session in use: its events in order
	wg     sync.WaitGroup // in-flight Handle calls and notifications
	out    *outbox        // outbox.go; its sending is send.go
	send   *courier       // courier.go: one record to its platform
	checks checks         // checks.go: invoice checks under way and their pacing
	// esimTurn is where the next eSIM reminder run starts (jobs.go).
	esimTurn rota
	ops      *operators // operators.go: admins, their alerts, the shop's statistics
	// started is when this process's Bot was made: an invoice created
	// before it may have had its webhook while no process listened.
	started time.Time
	// paid gathers final webhooks whose orders are fetched together (paid.go).
	paid paidQueue
	// life ends when Run stops: work that outlives an event (a checkout
	// waiting for its turn, queue.go) ends with it.
	life    context.Context
	endLife context.CancelFunc
}

// New checks the configuration and returns a Bot ready to Handle events.
func New(cfg Config) (*Bot, error) {
	if cfg.API == nil || cfg.Store == nil {
		return nil, errors.New("bot: API and Store are required")
	}
	if len(cfg.Platforms) == 0 {
		return nil, errors.New("bot: no chat platform configured")
	}
	if len(cfg.Engine.Methods) == 0 {
		cfg.Engine.Methods = []string{bitrefill.PayBitcoin, bitrefill.PayLightning}
	}
	if cfg.PollSpec == "" {
		cfg.PollSpec = "@every 10s"
	}
	if _, err := cron.ParseStandard(cfg.PollSpec); err != nil {
		return nil, fmt.Errorf("bot: poll schedule %q: %w", cfg.PollSpec, err)
	}
	if cfg.APITimeout <= 0 {
		cfg.APITimeout = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InterimGrace == 0 {
		cfg.InterimGrace = defaultInterimGrace
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if cfg.DrainSpec == "" {
		cfg.DrainSpec = "@every 2s"
	}
	if _, err := cron.ParseStandard(cfg.DrainSpec); err != nil {
		return nil, fmt.Errorf("bot: outbox schedule %q: %w", cfg.DrainSpec, err)
	}
	if cfg.BackupKeep <= 0 {
		cfg.BackupKeep = 7
	}
	last, err := cfg.Store.OutboxLast()
	if err != nil {
		return nil, fmt.Errorf("bot: outbox: %w", err)
	}
	b := &Bot{cfg: cfg, log: cfg.Logger.With("component", "bot"), started: cfg.Now()}
	b.life, b.endLife = context.WithCancel(context.Background())
	b.out = newOutbox(cfg.Store, last, b.log)
	b.ops = newOperators(cfg)
	b.send = &courier{out: b.out, obs: b.ops.obs, platforms: cfg.Platforms, hideAfter: cfg.HideCodesAfter, lang: b.lang, log: b.log,
		flushLater: func() {
			b.wg.Add(1)
			time.AfterFunc(markDelay, func() {
				defer b.wg.Done()
				b.out.flush()
			})
		}}
	return b, nil
}

// Wait blocks until the work in flight — handlers, webhook checks, "sent"
// marks — is done. Tests use it to observe a quiet bot.
func (b *Bot) Wait() { b.wg.Wait() }

// Handle processes one event from a platform, and everything it leads to,
// before returning — but for a screen load slower than loadInline, whose
// answer follows on its own (process) and which Wait waits for. Events of
// one session are processed in arrival order.
func (b *Bot) Handle(ctx context.Context, in Incoming) {
	b.wg.Add(1)
	defer b.wg.Done()
	b.ops.obs.Update(in.Address.Platform)
	ev := commandToken(in.Event)
	if b.operatorCommand(ctx, in.Key, in.Address, ev) { // operators.go
		return
	}
	b.process(withLocale(ctx, in.Locale), in.Key, in.Address, ev)
}

// Run drives the scheduled work (jobs.go) until ctx ends, then waits for
// in-flight work to finish and writes the last "sent" marks.
func (b *Bot) Run(ctx context.Context) error {
	c := cron.New(cron.WithChain(cron.Recover(cronLogger{b.log}), cron.SkipIfStillRunning(cronLogger{b.log})))
	for _, j := range b.jobs(ctx) {
		if _, err := c.AddFunc(j.spec, j.run); err != nil {
			return fmt.Errorf("bot: job %s: %w", j.name, err)
		}
	}
	if err := b.scheduleCatalog(ctx, c); err != nil { // catalogue refresh (search.go)
		return err
	}
	c.Start()
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.runBroadcasts(ctx) }() // broadcast.go; resumes one under way
	// Whatever a previous process left unsent goes out now, not at the first tick.
	b.Drain(ctx, b.cfg.Now())
	<-ctx.Done()
	b.endLife()
	<-c.Stop().Done()
	b.wg.Wait()
	b.FlushMarks()
	b.FlushStats(b.cfg.Now())
	return nil
}

// process runs one event through the engine under the session's lock, then
// the events its effects produce, until the session is quiet. It reports
// whether every step was committed. A panic (an engine or adapter bug) is
// logged and ends this event's processing only: the lock is released and
// the bot keeps serving everyone else.
//
// A screen load (a product card, an eSIM, a phone lookup: offScreenLock)
// runs with the lock released, so that a user who moves on while Bitrefill
// is slow is answered at once instead of waiting behind it; its result
// comes back through the lock as an event, and the engine drops it when the
// user has left the screen it was for. A load slower than loadInline is
// left to finish on its own (load), so that Handle returns. Everything else —
// a search, an invoice — runs under the lock, so a user's events and their
// answers stay strictly in order and a checkout makes one invoice.
func (b *Bot) process(ctx context.Context, key conversation.SessionKey, addr conversation.Address, ev conversation.Event) (ok bool) {
	unlock := b.lockSession(ctx, key)
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			// Not the panic value: it may quote a message or a code.
			b.log.Error("panic while processing an event", "session", key.String(), "event", fmt.Sprintf("%T", ev),
				"panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	held := &interim{} // interim.go
	defer b.settle(ctx, held)
	queue := []conversation.Event{ev}
	var carried *conversation.State // a step's state not committed: the next step's (step)
	for len(queue) > 0 {
		ev, queue = queue[0], queue[1:]
		next, loads, pass, err := b.step(ctx, key, addr, ev, held, carried)
		if err != nil {
			b.log.Error("step failed", "session", key.String(), "event", fmt.Sprintf("%T", ev), "err", err)
			return false
		}
		carried = pass
		queue = append(queue, next...)
		if len(loads) == 0 {
			continue
		}
		// The user's next event need not wait for the load: it may go in
		// meanwhile, and the result is then for a screen they have left.
		unlock()
		locked = false
		for _, e := range loads {
			if res, done := b.load(ctx, key, addr, e); done && res != nil {
				queue = append(queue, res)
			}
		}
		unlock = b.lockSession(ctx, key)
		locked = true
	}
	return true
}

// loadInline is how long the handling of an event waits for a screen load:
// a quicker answer is shown as the event's own (a platform that takes one
// chat's events one at a time waits no longer than this for the next).
const loadInline = 500 * time.Millisecond

// load runs a screen load, outside the session's lock. Its result is
// returned (done) when it came within loadInline; otherwise the load goes
// on and its result is processed on its own when it comes. The state that asked
// for it is committed and its replies sent before: a crash meanwhile
// leaves a loading screen, which the user's next word or tap replaces.
// Bot.Wait and Run wait for it.
func (b *Bot) load(ctx context.Context, key conversation.SessionKey, addr conversation.Address, e conversation.Effect) (res conversation.Event, done bool) {
	// The event's context carries the platform's reply handle (the pressed
	// message, the interaction), kept; its end is not the load's end.
	base := context.WithoutCancel(ctx)
	lctx, cancel := context.WithCancel(base)
	stop := context.AfterFunc(b.life, cancel)
	out := make(chan conversation.Event, 1)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer cancel()
		defer stop()
		defer func() {
			if v := recover(); v != nil {
				b.log.Error("panic while loading a screen", "session", key.String(), "effect", fmt.Sprintf("%T", e),
					"panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
				out <- nil
			}
		}()
		out <- b.run(lctx, e)
	}()
	t := time.NewTimer(loadInline)
	defer t.Stop()
	select {
	case res := <-out:
		return res, true
	case <-t.C:
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if res := <-out; res != nil {
			b.process(base, key, addr, res)
		}
	}()
	return nil, false
}

// offScreenLock reports whether an effect only fetches what a screen shows:
// its result is safe to drop, so it need not hold the user's other events
// back (process).
func (b *Bot) offScreenLock(e conversation.Effect) bool {
	switch e := e.(type) {
	case conversation.LoadProduct:
		if cat := b.cfg.Catalog; cat != nil {
			if _, ok := cat.Card(e.ID, b.cfg.Now()); ok {
				return false // no request: the card is shown at once, in order
			}
		}
		return true
	case conversation.LoadESIM, conversation.CheckPhone:
		return true
	}
	return false
}

// step is the shell's loop body: load, Step, persist, then send and run
// effects. Screen loads are returned for process to run outside the lock.
// held is the interim message of the step before, if any (interim.go):
// this step's replies answer it.
//
// carried, when set, is the session's state as the step before left it
// without committing it (passing), instead of the stored one. A step
// passes when all it asks for is an answer from memory (instantWork) and
// all it says is interim: its results are stepped at once, under the same
// lock, and that next step commits the outcome of both. Its interim replies
// would never be shown (the answer comes within the grace), so they are
// not written either: two commits, each with an outbox record written and
// deleted, become one. A crash in between loses nothing the user saw: the
// stored state is the one before the event, whose inbox update (when there
// is one) is not marked done yet and comes again.
func (b *Bot) step(ctx context.Context, key conversation.SessionKey, addr conversation.Address, ev conversation.Event, held *interim, carried *conversation.State) (next []conversation.Event, loads []conversation.Effect, pass *conversation.State, err error) {
	done, next, pass, err := b.commitStep(ctx, key, addr, ev, held, carried)
	if done == nil {
		return next, nil, pass, err
	}
	effects, queued, own, news, now := done.effects, done.queued, done.own, done.news, done.now
	// Only work done here, under the lock, has its interim held: a screen
	// load runs with the lock released (the user may act meanwhile, and a
	// held line must not go out after their next screen), and a queued
	// checkout runs later on its own.
	inline := false
	for _, e := range effects {
		switch e := e.(type) {
		case conversation.Reply, conversation.TrackInvoice:
		case conversation.CreateInvoice:
			inline = inline || !queued[e.Checkout]
		default:
			inline = inline || !b.offScreenLock(e)
		}
	}
	b.ops.count(news, now)
	editRef := b.settle(ctx, held)
	if b.cfg.InterimGrace > 0 && holdable(inline, own) {
		b.hold(ctx, held, own)
	} else {
		b.deliverAnswer(ctx, own, editRef)
	}

	for _, e := range effects {
		if _, ok := e.(conversation.Reply); ok {
			continue
		}
		if b.offScreenLock(e) {
			loads = append(loads, e)
			continue
		}
		if ci, ok := e.(conversation.CreateInvoice); ok && queued[ci.Checkout] {
			b.queueCheckout(key, addr, ci) // queue.go: it waits its turn in the request budget
			continue
		}
		if ev := b.run(ctx, e); ev != nil {
			next = append(next, ev)
		}
	}
	return next, loads, nil, nil
}

// committed is what step needs of a committed step to deliver its answer
// and run its work.
type committed struct {
	effects []conversation.Effect
	queued  map[string]bool
	own     []OutboxRecord
	news    invoiceNews
	now     time.Time
}

// commitStep is the first half of step: the session loaded, the engine's
// step, its commit. It returns nil with step's results when the step ends
// here (an answer passed on, or a failed commit).
//
// It is a function of its own for the stack's sake: its frame holds
// several copies of the session (a few KB), and the second half (sending
// the answer over HTTP, creating the invoice, drawing its QR code) goes
// deepest. Called from here, those calls run on top of step's small frame,
// and a chat's goroutine fits in a 16 KB stack rather than 32 KB: with
// hundreds of chats busy at once, megabytes of stacks, which the garbage
// collector also counts when it sets the heap's goal.
func (b *Bot) commitStep(ctx context.Context, key conversation.SessionKey, addr conversation.Address, ev conversation.Event, held *interim, carried *conversation.State) (done *committed, next []conversation.Event, pass *conversation.State, err error) {
	st, effects, prior, now, err := b.advance(ctx, key, ev, carried)
	if err != nil {
		return nil, nil, nil, err
	}
	if b.instantWork(ev, effects, now) {
		for _, e := range effects {
			if _, ok := e.(conversation.Reply); !ok {
				if res := b.run(ctx, e); res != nil {
					next = append(next, res)
				}
			}
		}
		if len(next) > 0 {
			return nil, next, st, nil
		}
		// No answer came (none of these effects does that today): the
		// step is committed as any other, its work done.
		effects = slices.DeleteFunc(effects, func(e conversation.Effect) bool {
			_, reply := e.(conversation.Reply)
			return !reply
		})
	}

	commit := Commit{Key: key, State: *st, Address: addr}
	var replies []conversation.Reply
	queued := map[string]bool{} // checkouts waiting for their turn (queue.go)
	for _, e := range effects {
		switch e := e.(type) {
		case conversation.Reply:
			replies = append(replies, e)
		case conversation.CreateInvoice:
			if wait, ok := b.checkoutWait(ctx, e); ok {
				queued[e.Checkout] = true
				replies = append(replies, conversation.QueuedNotice(st.Lang, wait))
			}
		case conversation.TrackInvoice:
			if e.Untrack {
				commit.Untrack = append(commit.Untrack, e.InvoiceID)
				continue
			}
			tr := Tracked{InvoiceID: e.InvoiceID, Session: key, Address: addr, Status: conversation.StatusUnpaid, Created: now, NextCheck: now}
			for _, p := range st.Purchases {
				if p.Invoice.ID == e.InvoiceID {
					tr.Status, tr.Expires = p.Invoice.Status, p.Invoice.Expires
				}
			}
			commit.Track = append(commit.Track, tr)
		}
	}
	if u, ok := ev.(conversation.InvoiceUpdated); ok {
		commit.Schedule = giftCardReminders(key, addr, u.Invoice, now)
	}
	own := b.outgoing(key, addr, replies, now)
	var news invoiceNews
	if u, ok := ev.(conversation.InvoiceUpdated); ok && prior.found {
		news = newsOf(prior, u.Invoice)
	}
	// Operators' alerts are committed with the news they tell, and sent by
	// the drain job under their own sessions' locks, as bulk traffic.
	commit.Outbox = append(own, b.operatorRecords(news.alerts, now)...)
	marks := b.out.takeMarks()
	dropped := b.drop(held, own) // interim.go: never shown, marked with the answer
	commit.Done = marks
	for _, r := range dropped {
		commit.Done = append(commit.Done, r.ID)
	}
	handled := inboxUpdate(ctx) // inbox.go: done with the update's first commit
	if handled != nil {
		commit.Handled = &handled.ref
	}
	err = b.cfg.Store.Commit(commit)
	b.out.marksWritten(marks, err == nil)
	if err != nil {
		// No answer to show: the held replies go out after all.
		for _, r := range dropped {
			b.out.release(r.ID)
		}
		b.deliverNow(ctx, dropped)
		return nil, nil, nil, fmt.Errorf("commit: %w", err)
	}
	b.out.marksWritten(commit.Done[len(marks):], true)
	if handled != nil {
		handled.committed.Store(true)
	}
	return &committed{effects: effects, queued: queued, own: own, news: news, now: now}, nil, nil, nil
}

// advance loads the session (unless carried over from the step before)
// and takes the engine's step. Its frame, with the session's copies on
// their way in and out of the engine, is gone before the commit (see
// commitStep).
func (b *Bot) advance(ctx context.Context, key conversation.SessionKey, ev conversation.Event, carried *conversation.State) (_ *conversation.State, _ []conversation.Effect, prior purchaseSnapshot, now time.Time, err error) {
	var state conversation.State
	if carried != nil {
		state = *carried
	} else {
		var found bool
		state, found, err = b.cfg.Store.Session(key)
		if err != nil {
			return nil, nil, prior, now, fmt.Errorf("load session: %w", err)
		}
		if !found {
			state = conversation.NewState(key, nonce(), localeOf(ctx))
		}
	}
	now = b.cfg.Now()
	// What the session had announced of an invoice, before the step: the
	// difference is the news operators and metrics hear of (observe.go).
	if u, ok := ev.(conversation.InvoiceUpdated); ok {
		prior = snapshotPurchase(state, u.Invoice.ID)
	}
	next, effects := b.cfg.Engine.Step(state, ev, now)
	return &next, effects, prior, now, nil
}

// instantWork reports whether a step may pass its state on uncommitted
// (step): interim replies are held (Config.InterimGrace), it says only
// interim text (holdable), and the work it starts is
// answered from memory at once — a search or a product card served by a
// fresh catalogue. Anything else (a request, an invoice to watch, news of
// an invoice, a screen of its own) is committed before it runs or shows.
func (b *Bot) instantWork(ev conversation.Event, effects []conversation.Effect, now time.Time) bool {
	cat := b.cfg.Catalog
	if cat == nil || b.cfg.InterimGrace <= 0 { // no catalogue; interim replies wanted at once
		return false
	}
	if _, ok := ev.(conversation.InvoiceUpdated); ok {
		return false
	}
	work := 0
	for _, e := range effects {
		switch e := e.(type) {
		case conversation.Reply:
			if !holdable(true, []OutboxRecord{{Reply: e}}) || e.Secret {
				return false
			}
		case conversation.SearchProducts:
			if cat.Stale(now) {
				return false
			}
			work++
		case conversation.LoadProduct:
			if _, ok := cat.Card(e.ID, now); !ok {
				return false
			}
			work++
		default:
			return false
		}
	}
	return work > 0
}

// run carries out one piece of work the engine asked for and returns the
// event that reports its outcome (nil when there is none).
func (b *Bot) run(ctx context.Context, e conversation.Effect) conversation.Event {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.APITimeout)
	defer cancel()
	switch e := e.(type) {
	case conversation.SearchProducts:
		b.ops.stats.add(b.cfg.Now(), func(d *DayStats) { d.Searches++ })
		return b.searchProducts(ctx, e) // search.go
	case conversation.LoadProduct:
		if cat := b.cfg.Catalog; cat != nil {
			if p, ok := cat.Card(e.ID, b.cfg.Now()); ok {
				return conversation.ProductLoaded{Product: product(p)} // no request: the catalogue has it
			}
		}
		p, err := b.cfg.API.Product(ctx, e.ID)
		if err != nil {
			return b.failedFor(conversation.OpLoadProduct, e.ID, err)
		}
		return conversation.ProductLoaded{Product: product(p)}
	case conversation.CreateInvoice:
		return b.createInvoice(ctx, e)
	case conversation.RefreshInvoice:
		inv, err := b.fetchInvoice(ctx, e.InvoiceID)
		if err != nil {
			return b.failed(conversation.OpRefreshInvoice, err)
		}
		return conversation.InvoiceUpdated{Invoice: inv, Requested: true, Reveal: e.Reveal}
	case conversation.SimulatePayment:
		if b.cfg.Simulator == nil {
			return conversation.Failed{Op: conversation.OpSimulatePayment, Kind: conversation.ErrInvalid}
		}
		if err := b.cfg.Simulator.SimulatePayment(ctx, e.InvoiceID); err != nil {
			return b.failed(conversation.OpSimulatePayment, err)
		}
		inv, err := b.fetchInvoice(ctx, e.InvoiceID)
		if err != nil {
			return b.failed(conversation.OpRefreshInvoice, err)
		}
		return conversation.InvoiceUpdated{Invoice: inv}
	case conversation.TrackInvoice:
		return nil // committed with the state
	default:
		if ev, ok := b.runMore(ctx, e); ok {
			return ev
		}
	}
	b.log.Error("unknown effect", "type", fmt.Sprintf("%T", e))
	return nil
}

// failedFor is failed for a screen load: the engine drops it when the user
// has left the screen it was for (process runs loads outside the lock).
func (b *Bot) failedFor(op, subject string, err error) conversation.Event {
	f := b.failed(op, err).(conversation.Failed)
	f.For = subject
	return f
}

func (b *Bot) failed(op string, err error) conversation.Event {
	k := kind(err)
	lvl := slog.LevelWarn
	if k == conversation.ErrInternal {
		lvl = slog.LevelError
	}
	b.log.Log(context.Background(), lvl, "bitrefill call failed", "op", op, "kind", string(k), "err", err)
	return conversation.Failed{Op: op, Kind: k, RetryAfter: retryAfter(err)}
}

// createInvoice makes the one invoice of a checkout. A checkout already
// served (a replay after a crash, a duplicate effect) returns its invoice;
// an ambiguous failure is resolved by looking for the invoice before the user
// is told anything, because a blind retry could make the buyer pay twice.
func (b *Bot) createInvoice(ctx context.Context, e conversation.CreateInvoice) conversation.Event {
	if id, ok, err := b.cfg.Store.CheckoutInvoice(e.Checkout); err != nil {
		return b.failed(conversation.OpCreateInvoice, err)
	} else if ok {
		inv, err := b.fetchInvoice(ctx, id)
		if err != nil {
			return b.failed(conversation.OpCreateInvoice, err)
		}
		return conversation.InvoiceCreated{Checkout: e.Checkout, Invoice: inv}
	}
	req := bitrefill.InvoiceRequest{PaymentMethod: e.Method, WebhookURL: b.cfg.WebhookURL}
	for _, l := range e.Lines {
		line := bitrefill.InvoiceLine{ProductID: l.ProductID, PackageID: l.PackageID, Quantity: l.Quantity, PhoneNumber: l.PhoneNumber, ESIMID: l.ESIMID}
		if l.PackageID == "" {
			line.Value = l.Value.String()
		}
		req.Products = append(req.Products, line)
	}
	started := b.cfg.Now()
	created, err := b.cfg.API.CreateInvoice(ctx, req)
	if err != nil && errors.Is(err, bitrefill.ErrAmbiguous) {
		if found, ok := b.findCreated(started, e.Method, e.Lines); ok {
			created, err = found, nil
		}
	}
	if err != nil {
		return b.failed(conversation.OpCreateInvoice, err)
	}
	if err := b.cfg.Store.PutCheckoutInvoice(e.Checkout, created.ID); err != nil {
		b.log.Error("record checkout", "err", err)
	}
	b.ops.obs.InvoiceCreated(e.Method)
	b.ops.stats.add(b.cfg.Now(), func(d *DayStats) { d.Invoices++ })
	return conversation.InvoiceCreated{Checkout: e.Checkout, Invoice: invoice(created)}
}

// findCreated looks for an invoice made since started with the same lines and
// payment method. An invoice some session already tracks belongs to another
// checkout (another buyer's identical order, made a moment before): adopting
// it would show it to the wrong person and move its delivery to them. If more
// than one candidate is left it cannot tell which is ours, and adopts none.
func (b *Bot) findCreated(started time.Time, method string, lines []conversation.Line) (bitrefill.Invoice, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.APITimeout)
	defer cancel()
	list, err := b.cfg.API.Invoices(ctx, bitrefill.ListFilter{After: started.Add(-time.Minute), Limit: 50})
	if err != nil {
		b.log.Warn("look up after ambiguous invoice creation", "err", err)
		return bitrefill.Invoice{}, false
	}
	tracked, err := b.cfg.Store.Tracked()
	if err != nil {
		b.log.Error("look up after ambiguous invoice creation: tracked invoices", "err", err)
		return bitrefill.Invoice{}, false
	}
	claimed := make(map[string]bool, len(tracked))
	for _, t := range tracked {
		claimed[t.InvoiceID] = true
	}
	var found []bitrefill.Invoice
	for _, inv := range list {
		if inv.Status != bitrefill.InvoiceUnpaid || claimed[inv.ID] || !sameLines(inv, lines) ||
			(inv.Payment.Method != "" && inv.Payment.Method != method) {
			continue
		}
		found = append(found, inv)
	}
	if len(found) != 1 {
		if len(found) > 1 {
			b.log.Warn("look up after ambiguous invoice creation: several candidates, adopting none", "candidates", len(found))
		}
		return bitrefill.Invoice{}, false
	}
	return found[0], true
}

// fetchInvoice gets an invoice with the redemption details of its delivered
// orders, which the invoice object itself may not carry. The orders are
// fetched as Paid, whoever asked: they are what a buyer already paid for,
// and the request budget serves them before anyone else waiting.
func (b *Bot) fetchInvoice(ctx context.Context, id string) (conversation.Invoice, error) {
	inv, err := b.cfg.API.Invoice(ctx, id)
	if err != nil {
		return conversation.Invoice{}, err
	}
	return b.completeOrders(ctx, inv)
}

// batchOrders is the client's list fetch of several invoices' orders.
type batchOrders interface {
	OrdersOf(ctx context.Context, after time.Time, invoiceIDs ...string) (map[string][]bitrefill.Order, error)
}

// completeOrders fetches the delivered orders of inv that carry no
// redemption details, as Paid: codes only ever come from these
// authenticated order fetches. Several orders cost one list call; a single
// one, or what the list missed, its own GET /orders/{id}. The fetched order
// is what counts, its status included.
func (b *Bot) completeOrders(ctx context.Context, inv bitrefill.Invoice) (conversation.Invoice, error) {
	paid := bitrefill.WithPriority(ctx, bitrefill.Paid)
	apply := func(i int, full bitrefill.Order) {
		o := &inv.Orders[i]
		o.Status, o.Redemption = full.Status, full.Redemption
		if o.ESIMID == "" {
			o.ESIMID = full.ESIMID // the invoice's order list omits it; kept for top-ups
		}
	}
	var need []int
	for i, o := range inv.Orders {
		if o.Status == bitrefill.OrderDelivered && o.Redemption.IsEmpty() {
			need = append(need, i)
		}
	}
	if api, ok := b.cfg.API.(batchOrders); ok && len(need) > 1 && !inv.CreatedTime.IsZero() {
		if got, err := api.OrdersOf(paid, inv.CreatedTime.Add(-time.Minute), inv.ID); err == nil {
			byID := map[string]bitrefill.Order{}
			for _, o := range got[inv.ID] {
				byID[o.ID] = o
			}
			left := need[:0]
			for _, i := range need {
				if full, ok := byID[inv.Orders[i].ID]; ok {
					apply(i, full)
				} else {
					left = append(left, i)
				}
			}
			need = left
		}
	}
	for _, i := range need {
		full, err := b.cfg.API.Order(paid, inv.Orders[i].ID)
		if err != nil {
			return conversation.Invoice{}, err
		}
		if full.InvoiceID != "" && full.InvoiceID != inv.ID {
			return conversation.Invoice{}, fmt.Errorf("order %s belongs to another invoice", inv.Orders[i].ID)
		}
		apply(i, full)
	}
	b.esimDetails(paid, &inv) // delivery.go
	return invoice(inv), nil
}

func nonce() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	out := make([]byte, len(raw))
	for i, c := range raw {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

// keyedLocks serialises work per session without one global lock: entries
// exist only while someone holds or waits for them.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	refs int
}

func (k *keyedLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedLock)
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// cronLogger adapts slog to cron's logger interface.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
