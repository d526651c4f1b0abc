package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"refillbot/bot"
	"refillbot/platforms/telegram"
)

var _ bot.Platform = (*telegram.Adapter)(nil)
var _ bot.Editor = (*telegram.Adapter)(nil)
var _ bot.Deleter = (*telegram.Adapter)(nil)
var _ bot.Holder = (*telegram.Adapter)(nil)

// newTelegram builds the Telegram adapter when TELEGRAM_BOT_TOKEN is set
// (nil, nil otherwise). It checks the token with getMe, so a bad token stops
// start-up with one clear line. Webhook mode is chosen only by
// TELEGRAM_MODE=webhook: a public URL alone keeps long polling.
func newTelegram(ctx context.Context, cfg config, logger *slog.Logger) (*telegram.Adapter, error) {
	if cfg.TelegramToken == "" {
		return nil, nil
	}
	if u, err := url.Parse(cfg.TelegramURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("TELEGRAM_API_URL %q is not an http(s) URL", cfg.TelegramURL)
	}
	opts := telegram.Options{Token: cfg.TelegramToken, APIURL: cfg.TelegramURL, Logger: logger}
	var err error
	if opts.Global, opts.NoPacing, err = telegram.ParseRateLimit(cfg.TelegramRate); err != nil {
		return nil, err
	}
	if opts.MaxBusy, err = strconv.Atoi(cfg.TelegramMaxBusy); err != nil || opts.MaxBusy < 0 {
		return nil, fmt.Errorf("TELEGRAM_MAX_BUSY %q: give a number of updates (e.g. 16), or 0 for no bound", cfg.TelegramMaxBusy)
	}
	if cfg.TelegramMode == "webhook" {
		if cfg.Listen == "" || cfg.PublicURL == "" {
			return nil, errors.New("TELEGRAM_MODE=webhook needs REFILLBOT_LISTEN and REFILLBOT_PUBLIC_URL")
		}
		opts.WebhookURL = strings.TrimRight(cfg.PublicURL, "/") + telegram.WebhookPath
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	a, err := telegram.New(ctx, opts)
	switch {
	case errors.Is(err, telegram.ErrUnauthorized):
		return nil, fmt.Errorf("TELEGRAM_BOT_TOKEN was refused by %s (401 Unauthorized): check the token", cfg.TelegramURL)
	case err != nil:
		return nil, err
	}
	logger.Info("telegram bot ready", "component", "main", "bot", "@"+a.Username(), "mode", cfg.TelegramMode)
	return a, nil
}

// mountTelegram adds the webhook endpoint to the bot's HTTP server.
func mountTelegram(mux *http.ServeMux, tg *telegram.Adapter) {
	if tg != nil {
		mux.Handle("POST "+telegram.WebhookPath, tg.WebhookHandler())
	}
}

// runTelegram receives Telegram updates until ctx ends.
func runTelegram(ctx context.Context, tg *telegram.Adapter, b *bot.Bot) error {
	return tg.Run(ctx, b.Handle)
}
