package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/storage"
)

// deliveryFlags adds the settings of delivery and scheduled work.
func (c *config) deliveryFlags(fs *flag.FlagSet, getenv func(string) string) error {
	hide := time.Duration(0)
	if v := getenv("REFILLBOT_HIDE_CODES_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("REFILLBOT_HIDE_CODES_AFTER %q: use a duration such as 10m or 1h (or 0 for never)", v)
		}
		hide = d
	}
	fs.DurationVar(&c.HideCodesAfter, "hide-codes-after", hide, "remove code messages this long after sending them, where the platform can (0: never) ($REFILLBOT_HIDE_CODES_AFTER)")
	define(fs, getenv, []setting{
		{"REFILLBOT_BACKUP_DIR", "backup-dir", "", "directory of the daily database backups (default: <db>.backups; off disables them)", &c.BackupDir},
		{"REFILLBOT_BACKUP_KEEP", "backup-keep", "7", "how many daily backups to keep", &c.BackupKeep},
	})
	// Test only: make the process die at a crash point (crash.go).
	c.TestCrash = getenv("REFILLBOT_TEST_CRASH")
	return nil
}

func (c config) validateDelivery() error {
	if c.PublicURL != "" && c.Listen == "" {
		return errors.New("REFILLBOT_PUBLIC_URL needs REFILLBOT_LISTEN: webhooks arrive on that server")
	}
	if n, err := strconv.Atoi(c.BackupKeep); err != nil || n < 1 {
		return fmt.Errorf("REFILLBOT_BACKUP_KEEP %q: use a whole number of at least 1", c.BackupKeep)
	}
	return nil
}

func (c config) backupDir() string {
	switch c.BackupDir {
	case "off":
		return ""
	case "":
		return c.DB + ".backups"
	}
	return c.BackupDir
}

func (c config) backupKeep() int { n, _ := strconv.Atoi(c.BackupKeep); return n }

// openStore opens the database with its encryption key and returns the
// webhook secret (created on first use): PostgreSQL with
// REFILLBOT_DATABASE_URL (replicas.go), else the bbolt file.
func openStore(ctx context.Context, cfg config, logger *slog.Logger) (store, string, error) {
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg, logger)
	}
	key, source, err := storage.LoadKey(cfg.DB, cfg.SecretKey)
	if err != nil {
		return nil, "", err
	}
	st, err := storage.Open(cfg.DB, storage.Options{Timeout: time.Second, Key: key})
	if err != nil {
		if errors.Is(err, storage.ErrWrongKey) {
			return nil, "", fmt.Errorf("open database: %w (key from %s)", err, source)
		}
		return nil, "", fmt.Errorf("open database: %w", err)
	}
	logger.Debug("codes are encrypted at rest", "component", "main", "key", source)
	secret, err := st.WebhookSecret()
	if err != nil {
		st.Close()
		return nil, "", err
	}
	return st, secret, nil
}

// deliveryConfig fills the bot's delivery settings.
func deliveryConfig(bcfg *bot.Config, cfg config, secret string, stderr io.Writer, logger *slog.Logger) {
	bcfg.WebhookSecret = secret
	if cfg.PublicURL != "" {
		bcfg.WebhookURL = bot.WebhookURL(cfg.PublicURL, secret)
		logger.Info("Bitrefill webhooks enabled", "component", "main", "url", redactedURL(bcfg.WebhookURL))
	}
	bcfg.HideCodesAfter = cfg.HideCodesAfter
	bcfg.BackupDir, bcfg.BackupKeep = cfg.backupDir(), cfg.backupKeep()
	if cfg.DatabaseURL != "" {
		bcfg.BackupDir = "" // PostgreSQL is backed up with its own tools
	}
	if cfg.TestCrash != "" { // crash.go
		c := crasher{point: cfg.TestCrash, stderr: stderr}
		bcfg.Store = c.store(bcfg.Store)
		for name, p := range bcfg.Platforms {
			bcfg.Platforms[name] = c.platform(p)
		}
	}
}

// apiHealth checks that the Bitrefill API answers, at most once a minute:
// a /healthz probe every few seconds must not eat the API's request budget.
type apiHealth struct {
	api  *bitrefill.Client
	mu   sync.Mutex
	at   time.Time
	last error
}

func (h *apiHealth) check(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < time.Minute {
		return h.last
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	h.last, h.at = h.api.Ping(ctx), time.Now()
	return h.last
}

// mountDelivery adds the Bitrefill webhook receiver to the mux.
func mountDelivery(mux *http.ServeMux, b *bot.Bot, ctx context.Context) {
	mux.Handle(bot.WebhookPath, b.WebhookHandler(ctx))
}

// redactedURL hides the webhook secret: whoever reads the log must not be
// able to post webhooks.
func redactedURL(u string) string {
	if i := strings.Index(u, bot.WebhookPath); i >= 0 {
		return u[:i+len(bot.WebhookPath)] + "…"
	}
	return u
}
