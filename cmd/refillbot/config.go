package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"refillbot/bitrefill"
)

// config is everything the operator can set. Every field has an environment
// variable (the public contract in the README) and a flag that overrides it.
type config struct {
	APIURL, APIKey, APIID, APISecret string
	RateLimits                       string
	DB                               string
	SecretKey                        string
	DatabaseURL                      string
	TelegramWebhookSecret            string
	Listen, PublicURL                string
	TelegramToken, TelegramURL       string
	TelegramMode, TelegramRate       string
	TelegramMaxBusy                  string
	DiscordToken, DiscordAppID       string
	DiscordGuild, DiscordURL         string
	Methods                          string
	BalanceUsers, BalanceCap         string
	IdleTimeout                      string
	Poll                             string
	SandboxDelay                     time.Duration
	LogLevel                         string
	// Delivery (issue 4).
	HideCodesAfter        time.Duration
	BackupDir, BackupKeep string
	TestCrash             string
	// The operator's side (observability.go, operators issue).
	MetricsListen, LogFormat string
	Admins, LowBalance       string
}

// sandbox reports whether no Bitrefill credentials were given.
func (c config) sandbox() bool { return c.APIKey == "" && c.APIID == "" && c.APISecret == "" }

type setting struct {
	env, flag, def, help string
	dst                  *string
}

func (c *config) settings() []setting {
	return []setting{
		{"BITREFILL_API_URL", "bitrefill-api-url", "https://api.bitrefill.com/v2", "Bitrefill API base, including /v2", &c.APIURL},
		{"BITREFILL_API_KEY", "bitrefill-api-key", "", "personal API key (sent as Bearer)", &c.APIKey},
		{"BITREFILL_API_ID", "bitrefill-api-id", "", "business/affiliate API id (Basic auth, with the secret)", &c.APIID},
		{"BITREFILL_API_SECRET", "bitrefill-api-secret", "", "business/affiliate API secret", &c.APISecret},
		{"BITREFILL_RATE_LIMITS", "bitrefill-rate-limits", "", "Bitrefill's request limits, for accounts with raised ones: class=N/period,… over general, products, ping, esims, e.g. general=600/10m,products=300/1m (default the documented 60/10m, 60/1m+1000/1h, 1/3s, 60/10m)", &c.RateLimits},
		{"REFILLBOT_DB", "db", "./refillbot.db", "path of the bbolt database (created if missing)", &c.DB},
		{"REFILLBOT_SECRET_KEY", "secret-key", "", "key for encrypting redemption codes at rest (default: generated key file beside the DB; required with PostgreSQL)", &c.SecretKey},
		{"REFILLBOT_DATABASE_URL", "database-url", "", "postgres:// URL: PostgreSQL instead of bbolt; processes sharing it are replicas of one bot", &c.DatabaseURL},
		{"REFILLBOT_LISTEN", "listen", "", "address of the bot's HTTP server (Bitrefill webhooks, Telegram webhook mode, /healthz), e.g. :8080; off when empty", &c.Listen},
		{"REFILLBOT_PUBLIC_URL", "public-url", "", "public base URL of that server; invoices then carry a webhook_url under it", &c.PublicURL},
		{"TELEGRAM_BOT_TOKEN", "telegram-token", "", "enables Telegram", &c.TelegramToken},
		{"TELEGRAM_API_URL", "telegram-api-url", "https://api.telegram.org", "Telegram Bot API server base", &c.TelegramURL},
		{"TELEGRAM_MODE", "telegram-mode", "polling", "polling or webhook", &c.TelegramMode},
		{"TELEGRAM_WEBHOOK_SECRET", "telegram-webhook-secret", "", "webhook mode: the secret token Telegram sends (default: random per start; with PostgreSQL generated once and kept there)", &c.TelegramWebhookSecret},
		{"TELEGRAM_RATE_LIMIT", "telegram-rate-limit", "30", "messages per second the bot sends to Telegram overall (replies first, notifications with the rest); off for a Bot API server that does not limit", &c.TelegramRate},
		{"TELEGRAM_MAX_BUSY", "telegram-max-busy", "0", "most Telegram updates handled at once across chats, to bound memory under a rush of users (e.g. 16: about 10 MB less peak RSS with 200 buyers at once, about 10 % more CPU); 0 for no bound", &c.TelegramMaxBusy},
		{"DISCORD_BOT_TOKEN", "discord-token", "", "enables Discord (with DISCORD_APP_ID)", &c.DiscordToken},
		{"DISCORD_APP_ID", "discord-app-id", "", "Discord application id", &c.DiscordAppID},
		{"DISCORD_GUILD_ID", "discord-guild-id", "", "register slash commands in this server only", &c.DiscordGuild},
		{"DISCORD_API_URL", "discord-api-url", "https://discord.com", "Discord HTTP API base", &c.DiscordURL},
		{"REFILLBOT_PAYMENT_METHODS", "payment-methods", "bitcoin,lightning", "payment methods offered, comma-separated, in Bitrefill's names", &c.Methods},
		{"REFILLBOT_BALANCE_USERS", "balance-users", "", "users who may pay from the account balance, comma-separated platform:user (e.g. telegram:123456)", &c.BalanceUsers},
		{"REFILLBOT_BALANCE_DAILY_CAP", "balance-daily-cap", "", "most each of those users may pay from the balance per UTC day, in the account currency (e.g. 50)", &c.BalanceCap},
		{"REFILLBOT_IDLE_TIMEOUT", "idle-timeout", "1h", "a conversation left alone this long starts afresh (cart and purchases kept); 0 disables", &c.IdleTimeout},
		{"REFILLBOT_POLL", "poll", "", "invoice poller schedule (robfig/cron), default @every 15s, sandbox @every 2s", &c.Poll},
		{"REFILLBOT_LOG_LEVEL", "log-level", "", "debug, info, warn or error (default info; error in the terminal chat)", &c.LogLevel},
	}
}

// define adds each setting as a flag whose default is its variable's value,
// so the environment is read first and a flag overrides it.
func define(fs *flag.FlagSet, getenv func(string) string, settings []setting) {
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		fs.StringVar(s.dst, s.flag, def, s.help+" ($"+s.env+")")
	}
}

// parseConfig reads the environment, then flags on top.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("refillbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	define(fs, getenv, c.settings())
	delay := 3 * time.Second
	if v := getenv("REFILLBOT_SANDBOX_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("REFILLBOT_SANDBOX_DELAY: %w", err)
		}
		delay = d
	}
	if err := c.deliveryFlags(fs, getenv); err != nil {
		return c, err
	}
	c.operatorFlags(fs, getenv)
	fs.DurationVar(&c.SandboxDelay, "sandbox-delay", delay, "sandbox: time from a simulated payment to its confirmation, and again to delivery ($REFILLBOT_SANDBOX_DELAY)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "refillbot: buy Bitrefill gift cards, top-ups and eSIMs in chat.\n\n"+
			"With no configuration it runs the sandbox (fake Bitrefill, no real money) in this terminal.\n"+
			"Every flag can also be set with the environment variable named in its help.\n\nFlags:\n")
		fs.PrintDefaults()
		commandUsage(fs.Output()) // commands.go
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see -help)", fs.Arg(0))
	}
	return c, c.validate()
}

func (c config) validate() error {
	if (c.APIID == "") != (c.APISecret == "") {
		return errors.New("BITREFILL_API_ID and BITREFILL_API_SECRET go together: set both or neither")
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("BITREFILL_API_URL %q is not an http(s) URL", c.APIURL)
	}
	if _, err := bitrefill.ParseLimits(c.RateLimits); err != nil {
		return fmt.Errorf("BITREFILL_RATE_LIMITS: %w", err)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("REFILLBOT_PUBLIC_URL %q is not an http(s) URL", c.PublicURL)
		}
	}
	if c.TelegramMode != "polling" && c.TelegramMode != "webhook" {
		return fmt.Errorf("TELEGRAM_MODE must be polling or webhook, not %q", c.TelegramMode)
	}
	if err := c.validateReplicas(); err != nil {
		return err
	}
	if c.DB == "" {
		return errors.New("REFILLBOT_DB must not be empty")
	}
	if len(c.methods()) == 0 {
		return errors.New("REFILLBOT_PAYMENT_METHODS names no payment method")
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if _, err := c.engine(false); err != nil {
		return err
	}
	if err := c.validateOperators(); err != nil {
		return err
	}
	return c.validateDelivery()
}

func (c config) methods() []string {
	var out []string
	for _, m := range strings.Split(c.Methods, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

func (c config) level() (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(c.LogLevel) {
	case "":
		if c.TelegramToken == "" && c.DiscordToken == "" {
			return slog.LevelError, nil // the terminal chat shares the screen with the log
		}
		return slog.LevelInfo, nil
	default:
		if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
			return l, fmt.Errorf("REFILLBOT_LOG_LEVEL %q: use debug, info, warn or error", c.LogLevel)
		}
	}
	return l, nil
}
