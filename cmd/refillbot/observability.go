package main

// The operator's view of a running bot: the log's format, and the metrics
// server with its health endpoints. That server listens on an address of
// its own (REFILLBOT_METRICS_LISTEN), never on the public webhook server:
// what it tells — sales counts, the build — is for the shop, not the world.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/bot/metrics"
	"refillbot/conversation"
	"refillbot/platforms/console"
	"refillbot/platforms/discord"
	"refillbot/platforms/telegram"
)

// version is the build's version, set with -ldflags "-X main.version=v1.2.3"
// (the Dockerfile does); otherwise the module version or VCS revision.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

// operatorFlags adds the settings of the operator's side.
func (c *config) operatorFlags(fs *flag.FlagSet, getenv func(string) string) {
	define(fs, getenv, []setting{
		{"REFILLBOT_METRICS_LISTEN", "metrics-listen", "", "address serving /metrics (Prometheus), /healthz and /readyz, e.g. 127.0.0.1:9090; never the public server; off when empty", &c.MetricsListen},
		{"REFILLBOT_LOG_FORMAT", "log-format", "text", "text or json (for log collectors)", &c.LogFormat},
		{"REFILLBOT_ADMINS", "admins", "", "the shop's operators, comma-separated platform:user (e.g. telegram:123,discord:456): sale and trouble alerts, /stats, /recent, /balance, /broadcast", &c.Admins},
		{"REFILLBOT_LOW_BALANCE", "low-balance", "", "alert the operators when the Bitrefill balance falls below this amount (account currency); off when empty", &c.LowBalance},
	})
}

func (c config) validateOperators() error {
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("REFILLBOT_LOG_FORMAT must be text or json, not %q", c.LogFormat)
	}
	if _, err := c.admins(); err != nil {
		return err
	}
	if _, err := c.lowBalance(); err != nil {
		return err
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("REFILLBOT_METRICS_LISTEN %q is not host:port (e.g. 127.0.0.1:9090): %v", c.MetricsListen, err)
		}
		if c.MetricsListen == c.Listen {
			return errors.New("REFILLBOT_METRICS_LISTEN must differ from REFILLBOT_LISTEN: metrics are never served on the public server")
		}
	}
	return nil
}

// admins reads REFILLBOT_ADMINS.
func (c config) admins() ([]conversation.SessionKey, error) {
	var out []conversation.SessionKey
	seen := map[conversation.SessionKey]bool{}
	for _, u := range strings.Split(c.Admins, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		platform, id, ok := strings.Cut(u, ":")
		if !ok || platform == "" || id == "" || strings.ContainsAny(id, " :") {
			return nil, fmt.Errorf("REFILLBOT_ADMINS: %q is not platform:user (e.g. telegram:123456)", u)
		}
		switch platform {
		case telegram.Platform, discord.Platform, console.Platform:
		default:
			return nil, fmt.Errorf("REFILLBOT_ADMINS: %q names no platform refillbot serves (telegram, discord, console)", u)
		}
		k := conversation.SessionKey{Platform: platform, User: id}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// lowBalance reads REFILLBOT_LOW_BALANCE; zero means off.
func (c config) lowBalance() (bitrefill.Decimal, error) {
	s := strings.TrimSpace(c.LowBalance)
	if s == "" {
		return bitrefill.Decimal{}, nil
	}
	d, err := bitrefill.ParseDecimal(s)
	if err != nil || d.Sign() <= 0 {
		return bitrefill.Decimal{}, fmt.Errorf("REFILLBOT_LOW_BALANCE %q: use an amount such as 100 or 25.50", c.LowBalance)
	}
	return d, nil
}

// bitrefillWatch is the Bitrefill client's observer: every request goes to
// the metrics and to the bot (which tells operators when Bitrefill is in
// trouble for minutes). The client exists before the bot, hence the pointer.
type bitrefillWatch struct {
	metrics *metrics.Metrics
	bot     atomic.Pointer[bot.Bot]
}

func (w *bitrefillWatch) observe(r bitrefill.Request) {
	if w.metrics != nil {
		w.metrics.Bitrefill(r)
	}
	if b := w.bot.Load(); b != nil {
		b.ObserveBitrefill(r)
	}
}

// operatorConfig fills the bot's operator settings (checked by parseConfig).
func operatorConfig(bcfg *bot.Config, cfg config, obs *metrics.Metrics) {
	if obs != nil { // a nil *Metrics in the interface would not be "no observer"
		bcfg.Observer = obs
	}
	bcfg.Admins, _ = cfg.admins()
	bcfg.LowBalance, _ = cfg.lowBalance()
}

// newLogger builds the process's logger in the configured format.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := cfg.level()
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newMetrics builds the registry when a metrics address is set (nil
// otherwise), with label values for the platforms and methods configured.
func newMetrics(cfg config) *metrics.Metrics {
	if cfg.MetricsListen == "" {
		return nil
	}
	var platforms []string
	if cfg.TelegramToken != "" {
		platforms = append(platforms, telegram.Platform)
	}
	if cfg.DiscordToken != "" {
		platforms = append(platforms, discord.Platform)
	}
	if len(platforms) == 0 {
		platforms = append(platforms, console.Platform)
	}
	// Balance payments are invoices too, for the users allowed them.
	methods := append(cfg.methods(), bitrefill.PayBalance)
	return metrics.New(metrics.Options{Version: buildVersion(), Platforms: platforms, Methods: methods})
}

// serveMetrics starts the metrics server: /metrics, /healthz (the process
// answers: liveness) and /readyz (the store answers and Bitrefill is
// reachable, checked at most once a minute so probes do not spend the API's
// request budget). Binding happens here, so a busy port stops start-up.
func serveMetrics(ctx context.Context, addr string, m *metrics.Metrics, st interface{ Ping() error }, api *apiHealth, logger *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", readiness(st, api, "ready"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("REFILLBOT_METRICS_LISTEN %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "component", "main", "err", err)
		}
	}()
	logger.Info("metrics server", "component", "main", "addr", ln.Addr().String())
	return srv, nil
}

// localURL turns a listen address into a URL this host can reach it at
// (":9090" and "0.0.0.0:9090" become 127.0.0.1:9090).
func localURL(addr, path string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + path
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(strings.Trim(host, "[]"), port) + path
}
