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
	"refillbot/conversation"
	"refillbot/platforms/console"
	"refillbot/platforms/telegram"
	"refillbot/storage"
	"refillbot/storage/botstore"
)

// Compile-time checks that the concrete adapters fit the shell's interfaces.
var (
	_ bot.Platform         = (*console.Adapter)(nil)
	_ bot.API              = (*bitrefill.Client)(nil)
	_ bot.PaymentSimulator = (*bitrefilltest.Fake)(nil)
)

// shutdownGrace is how long in-flight work may finish after a signal.
const shutdownGrace = 5 * time.Second

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
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	level, _ := cfg.level()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if cfg.DiscordToken != "" {
		return errors.New("DISCORD_BOT_TOKEN is set, but this build has no Discord adapter; unset it")
	}
	// --- telegram (issue 5) ---
	tg, err := newTelegram(ctx, cfg, logger)
	if err != nil {
		return err
	}
	// --- end telegram ---

	st, err := storage.Open(cfg.DB, storage.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()

	// Work gets a context of its own, cancelled a grace period after the
	// signal, so a purchase in flight can finish and be saved.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownGrace, cancelWork) })
	defer stopGrace()

	api, sim, err := bitrefillClient(workCtx, cfg, logger)
	if err != nil {
		return err
	}

	// The terminal chat runs only when no chat platform is configured.
	var term *console.Adapter
	platforms := map[string]bot.Platform{}
	if cfg.TelegramToken == "" && cfg.DiscordToken == "" {
		term = console.New(console.Options{In: stdin, Out: stdout, Color: isTerminal(stdout)})
		platforms[console.Platform] = term
	}
	if tg != nil { // --- telegram (issue 5) ---
		platforms[telegram.Platform] = tg
	}
	poll := cfg.Poll
	if poll == "" {
		poll = "@every 15s" // about 40 checks per 10 minutes: inside Bitrefill's 60
		if sim != nil {
			poll = "@every 2s"
		}
	}
	bcfg := bot.Config{
		API:       api,
		Store:     botstore.New(st),
		Platforms: platforms,
		Engine:    conversation.Engine{Methods: cfg.methods(), Sandbox: sim != nil},
		PollSpec:  poll,
		Logger:    logger,
	}
	if sim != nil { // a nil *Fake in the interface would look like a simulator
		bcfg.Simulator = sim
	}
	b, err := bot.New(bcfg)
	if err != nil {
		return err
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	if cfg.Listen != "" {
		srv, err := serveHTTP(runCtx, cfg.Listen, st, logger, func(mux *http.ServeMux) {
			mountTelegram(mux, tg) // --- telegram (issue 5) ---
		})
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
	// --- telegram (issue 5) ---
	tgDone := make(chan error, 1)
	if tg != nil {
		go func() { tgDone <- runTelegram(runCtx, tg, b) }()
	}
	// --- end telegram ---
	if term != nil {
		err = term.Run(runCtx, func(_ context.Context, in console.Incoming) {
			b.Handle(workCtx, bot.Incoming{Key: in.Key, Address: in.Address, Event: in.Event, Locale: getenv("LANG")})
		})
	} else {
		// With a chat platform, stdin is not ours: only a signal (or a
		// platform that cannot go on) stops the bot.
		select {
		case <-runCtx.Done():
		case err = <-tgDone:
			tgDone <- err
		}
	}
	stopRun()      // input ended or a signal came: stop scheduling, finish in-flight work
	if tg != nil { // --- telegram (issue 5) ---
		if terr := <-tgDone; err == nil {
			err = terr
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
func bitrefillClient(ctx context.Context, cfg config, logger *slog.Logger) (*bitrefill.Client, *bitrefilltest.Fake, error) {
	if cfg.sandbox() {
		fake := bitrefilltest.New(bitrefilltest.Options{Sandbox: true, ConfirmAfter: cfg.SandboxDelay, DeliverAfter: cfg.SandboxDelay})
		go fake.Run(ctx)
		c, err := bitrefill.New(bitrefill.Config{BaseURL: "http://sandbox.bitrefill.invalid/v2", HTTPClient: fake.Client(), Logger: logger})
		return c, fake, err
	}
	c, err := bitrefill.New(bitrefill.Config{BaseURL: cfg.APIURL, APIKey: cfg.APIKey, APIID: cfg.APIID, APISecret: cfg.APISecret, Logger: logger})
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

// serveHTTP starts the bot's HTTP server. Binding happens here, so a busy
// port is a start-up error rather than a log line.
func serveHTTP(ctx context.Context, addr string, st *storage.Store, logger *slog.Logger, mount ...func(*http.ServeMux)) (*http.Server, error) {
	mux := http.NewServeMux()
	for _, m := range mount {
		m(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := st.Ping(); err != nil {
			http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
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
