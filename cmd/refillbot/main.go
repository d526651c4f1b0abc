package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot"
	"refillbot/bot/catalog"
	"refillbot/platforms/console"
	"refillbot/platforms/discord"
	"refillbot/platforms/telegram"
	"refillbot/storage/postgres"
)

// Compile-time checks that the concrete adapters fit the shell's interfaces.
var (
	_ bot.Platform         = (*console.Adapter)(nil)
	_ bot.API              = (*bitrefill.Client)(nil)
	_ bot.PaymentSimulator = (*bitrefilltest.Fake)(nil)
)

// shutdownGrace is how long in-flight work may finish after a signal.
const shutdownGrace = 5 * time.Second

// catalogRefresh is how often the product catalogue is fetched again; it is
// trusted for search up to four times as long if refreshes fail.
const catalogRefresh = 6 * time.Hour

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "refillbot:", err)
		os.Exit(1)
	}
}

// run is the whole program; main only adds the process's signals and exit code.
// It returns when ctx ends (a signal) or the terminal chat's input ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 { // refillbot doctor, backup, restore... (commands.go)
		if cmd, ok := commands[args[0]]; ok {
			return cmd(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr) // observability.go
	obs := newMetrics(cfg)

	tg, err := newTelegram(ctx, cfg, logger) // telegram.go; checks the token first
	if err != nil {
		return err
	}

	st, webhookSecret, err := openStore(ctx, cfg, logger) // delivery.go
	if err != nil {
		return err
	}
	defer st.Close()
	// With PostgreSQL, one replica at a time polls, holds the gateway and
	// runs the jobs (replicas.go).
	lead := leadership{log: logger}
	if pg, ok := st.(*postgres.Store); ok {
		lead.pg = pg
		if err := shareTelegramSecret(tg, cfg, pg); err != nil {
			return err
		}
	} else if tg != nil && cfg.TelegramWebhookSecret != "" {
		tg.UseWebhookSecret(cfg.TelegramWebhookSecret)
	}
	if ib, ok := st.(bot.Inbox); ok && tg != nil {
		tg.UseInbox(ib) // updates are stored before Telegram is told they were received
	}

	// Work gets a context of its own, cancelled a grace period after the
	// signal, so a purchase in flight can finish and be saved.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownGrace, cancelWork) })
	defer stopGrace()

	watch := &bitrefillWatch{metrics: obs} // observability.go
	api, sim, err := bitrefillClient(workCtx, cfg, logger, watch.observe)
	if err != nil {
		return err
	}
	if lead.pg != nil {
		shareBudget(workCtx, lead.pg, api, logger) // replicas.go
	}
	if obs != nil {
		obs.BitrefillBudget(func() (int, bool) { rl := api.RateLimit(); return rl.Remaining, rl.Limit > 0 })
	}

	// The catalogue is empty at start: b.Run loads it in the background, and
	// searches go to the API until it is there, so start-up never waits.
	jobs := lead.flag(ctx, "jobs") // replicas.go: with replicas, one runs the jobs
	cat := catalog.New(catalogueSource(api, lead, jobs), catalog.Options{RefreshEvery: catalogRefresh, MaxAge: 4 * catalogRefresh, Logger: logger})
	if sim != nil {
		// The sandbox is in-process and answers in milliseconds: load it now,
		// so the newcomer's very first search already forgives typos.
		if err := cat.Refresh(workCtx, time.Now()); err != nil {
			logger.Warn("sandbox catalogue", "component", "main", "err", err)
		}
	}
	dc, err := discordPlatform(cfg, api, cat, st, logger)
	if err != nil {
		return err
	}
	// Each platform with a token runs; with none, the terminal chat does
	// (stdin is not ours otherwise, and its end must not stop the bot).
	platforms := map[string]bot.Platform{}
	if tg != nil {
		platforms[telegram.Platform] = tg
	}
	if dc != nil {
		platforms[discord.Platform] = dc
	}
	var term *console.Adapter
	if len(platforms) == 0 {
		term = console.New(console.Options{In: stdin, Out: stdout, Color: isTerminal(stdout), Locale: getenv("LANG")})
		platforms[console.Platform] = term
	}
	poll := cfg.Poll
	if poll == "" {
		poll = "@every 15s" // about 40 checks per 10 minutes: inside Bitrefill's 60
		if sim != nil {
			poll = "@every 2s"
		}
	}
	eng, _ := cfg.engine(sim != nil) // checked by parseConfig
	bcfg := bot.Config{
		API:       api,
		Store:     st,
		Platforms: platforms,
		Engine:    eng,
		PollSpec:  poll,
		Logger:    logger,
	}
	if sim != nil { // a nil *Fake in the interface would look like a simulator
		bcfg.Simulator = sim
	}
	bcfg.Catalog = cat
	bcfg.Leading = jobs
	deliveryConfig(&bcfg, cfg, webhookSecret, stderr, logger)
	bcfg.Store = keepAbilities(bcfg.Store, lead.pg) // replicas.go
	operatorConfig(&bcfg, cfg, obs)                 // observability.go
	b, err := bot.New(bcfg)
	if err != nil {
		return err
	}
	watch.bot.Store(b)

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	health := &apiHealth{api: api}
	if cfg.Listen != "" {
		srv, err := serveHTTP(runCtx, cfg.Listen, st, health, logger, func(mux *http.ServeMux) {
			mountDelivery(mux, b, workCtx)
			mountTelegram(mux, tg)
		})
		if err != nil {
			return err
		}
		defer srv.Shutdown(context.Background())
	}
	if obs != nil {
		srv, err := serveMetrics(runCtx, cfg.MetricsListen, obs, st, health, logger)
		if err != nil {
			return err
		}
		defer srv.Shutdown(context.Background())
	}
	botDone := make(chan error, 1)
	go func() { botDone <- b.Run(runCtx) }()

	if sim != nil {
		logger.Info("no Bitrefill credentials: running the SANDBOX, nothing costs real money")
	}
	// The first platform to stop (a signal, the terminal's input ending, a
	// platform that cannot go on) stops them all.
	done := make(chan error, 3)
	running := 0
	if tg != nil {
		running++
		go func() {
			if cfg.TelegramMode == "webhook" { // every replica serves the webhook
				done <- runTelegram(runCtx, tg, b)
				return
			}
			done <- lead.run(runCtx, "telegram-polling", func(ctx context.Context) error { return runTelegram(ctx, tg, b) })
		}()
	}
	if dc != nil {
		running++
		go func() {
			done <- lead.run(runCtx, "discord-gateway", func(ctx context.Context) error { return runDiscord(ctx, workCtx, dc, b) })
		}()
	}
	if term != nil {
		running++
		go func() {
			// The terminal's events finish under workCtx: the end of input
			// must not cut short the purchase it was answering.
			done <- term.Run(runCtx, func(_ context.Context, in bot.Incoming) { b.Handle(workCtx, in) })
		}()
	}
	err = <-done
	stopRun() // stop scheduling and the other platforms, finish in-flight work
	for ; running > 1; running-- {
		if perr := <-done; err == nil || errors.Is(err, context.Canceled) {
			err = perr
		}
	}
	if berr := <-botDone; err == nil {
		err = berr
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// bitrefillClient builds the real client, or the in-process sandbox when no
// credentials are set. A real API that cannot be reached stops start-up.
func bitrefillClient(ctx context.Context, cfg config, logger *slog.Logger, observe bitrefill.Observer) (*bitrefill.Client, *bitrefilltest.Fake, error) {
	if cfg.sandbox() {
		fake := bitrefilltest.New(bitrefilltest.Options{Sandbox: true, ConfirmAfter: cfg.SandboxDelay, DeliverAfter: cfg.SandboxDelay})
		go fake.Run(ctx)
		c, err := bitrefill.New(bitrefill.Config{BaseURL: "http://sandbox.bitrefill.invalid/v2", HTTPClient: fake.Client(), Logger: logger, Observer: observe})
		return c, fake, err
	}
	limits, err := bitrefill.ParseLimits(cfg.RateLimits) // validated with the config
	if err != nil {
		return nil, nil, err
	}
	c, err := bitrefill.New(bitrefill.Config{BaseURL: cfg.APIURL, APIKey: cfg.APIKey, APIID: cfg.APIID, APISecret: cfg.APISecret, Logger: logger, Limits: limits, Observer: observe})
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := c.Ping(pctx); err != nil {
		return nil, nil, fmt.Errorf("cannot use the Bitrefill API at %s: %w", cfg.APIURL, err)
	}
	return c, nil, nil
}

// readiness answers 200 with ready when the store answers and Bitrefill is
// reachable (api checks at most once a minute), else 503 naming which.
func readiness(st interface{ Ping() error }, api *apiHealth, ready string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := st.Ping(); err != nil {
			http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := api.check(r.Context()); err != nil {
			http.Error(w, "Bitrefill API unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, ready)
	})
}

// serveHTTP starts the bot's HTTP server. Binding happens here, so a busy
// port is a start-up error rather than a log line.
func serveHTTP(ctx context.Context, addr string, st store, api *apiHealth, logger *slog.Logger, mount ...func(*http.ServeMux)) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", readiness(st, api, "ok"))
	for _, m := range mount {
		m(mux)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("REFILLBOT_LISTEN %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server", "component", "main", "err", err)
		}
	}()
	return srv, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
