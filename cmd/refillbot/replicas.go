package main

// Replicas: REFILLBOT_DATABASE_URL puts the bot on PostgreSQL, where several
// processes started alike are replicas of one bot. This file opens that
// store and runs what only one replica may do at a time (Telegram long
// polling, the Discord gateway, the scheduled jobs) under leadership.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/storage"
	"refillbot/storage/postgres"
)

// store is what the wiring needs of either store: the shell's roles, plus
// health, the webhook secret and closing.
type store interface {
	bot.Store
	Ping() error
	Close() error
	WebhookSecret() (string, error)
}

var (
	_ store = (*storage.Store)(nil)
	_ store = (*postgres.Store)(nil)
)

func (c config) validateReplicas() error {
	if s := c.TelegramWebhookSecret; s != "" && !telegramSecretToken.MatchString(s) {
		return errors.New("TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters among A-Z, a-z, 0-9, _ and - (Telegram's rule)")
	}
	if c.DatabaseURL == "" {
		return nil
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return errors.New("REFILLBOT_DATABASE_URL must be a postgres:// URL")
	}
	if c.SecretKey == "" {
		return errors.New("REFILLBOT_SECRET_KEY is required with REFILLBOT_DATABASE_URL (no key file sits beside a database server; make one with: openssl rand -hex 32, and give every replica the same)")
	}
	return nil
}

var telegramSecretToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// openPostgres opens the shared store; it migrates the schema if needed.
func openPostgres(ctx context.Context, cfg config, logger *slog.Logger) (*postgres.Store, string, error) {
	key, err := storage.ParseKey(cfg.SecretKey)
	if err != nil {
		return nil, "", fmt.Errorf("REFILLBOT_SECRET_KEY %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Key: key, Logger: logger})
	if err != nil {
		if errors.Is(err, postgres.ErrWrongKey) {
			return nil, "", fmt.Errorf("open database: %w (REFILLBOT_SECRET_KEY must be the key every replica uses)", err)
		}
		return nil, "", fmt.Errorf("open database: %w", err)
	}
	secret, err := st.WebhookSecret()
	if err != nil {
		st.Close()
		return nil, "", err
	}
	logger.Info("PostgreSQL store: this process is one replica of the bot", "component", "main", "replica", st.Replica())
	return st, secret, nil
}

// leadership runs, on a store shared by replicas, what one replica at a
// time may do. On bbolt (one process) everything simply runs.
type leadership struct {
	pg  *postgres.Store // nil: one process, always the leader
	log *slog.Logger
}

// run calls fn each time this replica becomes the leader of name, with a
// context that ends when leadership is lost, until ctx ends. An error from
// fn while still leading ends run with it (the platform cannot go on).
func (l leadership) run(ctx context.Context, name string, fn func(context.Context) error) error {
	if l.pg == nil {
		return fn(ctx)
	}
	for ctx.Err() == nil {
		lease, err := l.pg.Lead(ctx, name)
		if err != nil {
			break // ctx ended
		}
		l.log.Info("leading", "component", "main", "role", name)
		lctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lease.Done():
				cancel()
			case <-lctx.Done():
			}
		}()
		err = fn(lctx)
		lost := lctx.Err() != nil && ctx.Err() == nil
		cancel()
		lease.Release()
		switch {
		case lost:
			l.log.Warn("leadership lost; following", "component", "main", "role", name)
		case ctx.Err() == nil:
			return err // fn ended on its own while leading
		}
	}
	return ctx.Err()
}

// flag keeps a leadership role's state for polling (bot.Config.Leading).
func (l leadership) flag(ctx context.Context, name string) func() bool {
	if l.pg == nil {
		return nil
	}
	var leading atomic.Bool
	go l.run(ctx, name, func(ctx context.Context) error {
		leading.Store(true)
		<-ctx.Done()
		leading.Store(false)
		return nil
	})
	return leading.Load
}

// shareTelegramSecret gives Telegram's webhook mode the secret token every
// replica accepts: TELEGRAM_WEBHOOK_SECRET, or one generated once and kept
// in the database. (A random token per start, as one process uses, would
// have each replica's setWebhook lock the others out.)
func shareTelegramSecret(tg *telegram.Adapter, cfg config, pg *postgres.Store) error {
	if tg == nil || cfg.TelegramMode != "webhook" {
		return nil
	}
	secret, err := pg.TelegramWebhookSecret(cfg.TelegramWebhookSecret)
	if err != nil {
		return err
	}
	tg.UseWebhookSecret(secret)
	return nil
}

// keepAbilities gives a decorated store (the test-only crash points) back
// the abilities the shell looks for on a store shared by replicas, which a
// decorator embedding bot.Store would hide.
func keepAbilities(s bot.Store, pg *postgres.Store) bot.Store {
	if pg == nil || s == bot.Store(pg) {
		return s
	}
	return sharedStore{Store: s, pg: pg}
}

type sharedStore struct {
	bot.Store
	pg *postgres.Store
}

func (s sharedStore) LockSession(ctx context.Context, key conversation.SessionKey) (func(), error) {
	return s.pg.LockSession(ctx, key)
}

func (s sharedStore) OutboxIDs(n int) ([]uint64, error) { return s.pg.OutboxIDs(n) }

var (
	_ bot.SessionLocker = sharedStore{}
	_ bot.IDSource      = sharedStore{}
)
