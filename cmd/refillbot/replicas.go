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
	"sync"
	"sync/atomic"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/bot/catalog"
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

// budgetShareEvery is how often a replica counts the live replicas to take
// its share of the Bitrefill request budget: for at most this long after a
// replica joins, the others still spend their old, larger shares.
const budgetShareEvery = 15 * time.Second

// shareBudget keeps api's request budget at 1/n of the account's, n the
// live replicas on pg, counted now and every budgetShareEvery until ctx
// ends, so the replicas together stay within the documented limits.
func shareBudget(ctx context.Context, pg *postgres.Store, api *bitrefill.Client, logger *slog.Logger) {
	ticks := time.NewTicker(budgetShareEvery)
	share := keepShare(pg.LiveReplicas, api.ShareBudget, logger)
	share(ctx)
	go func() {
		defer ticks.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticks.C:
				share(ctx)
			}
		}
	}()
}

// keepShare returns one refresh of the share: count the replicas, and set
// the share when it changed. A failed count keeps the last share.
func keepShare(count func(context.Context) (int, error), set func(int), logger *slog.Logger) func(context.Context) {
	last := 1
	return func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			logger.Warn("cannot count the live replicas; keeping the Bitrefill budget share", "component", "main", "replicas", last, "err", err)
			return
		}
		n = max(n, 1)
		if n != last {
			set(n)
			logger.Info("Bitrefill request budget shared among the live replicas", "component", "main", "replicas", n)
			last = n
		}
	}
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
	// The first try is made now, so that a replica that leads knows it
	// before its first jobs and its first catalogue refresh.
	if lease, err := l.pg.TryLead(ctx, name); err == nil && lease != nil {
		leading.Store(true)
		l.log.Info("leading", "component", "main", "role", name)
		go func() {
			select {
			case <-lease.Done():
			case <-ctx.Done():
				lease.Release()
			}
			leading.Store(false)
			if ctx.Err() == nil {
				l.log.Warn("leadership lost; following", "component", "main", "role", name)
				l.run(ctx, name, hold(&leading))
			}
		}()
		return leading.Load
	}
	go l.run(ctx, name, hold(&leading))
	return leading.Load
}

// hold keeps leading set while a leadership lasts.
func hold(leading *atomic.Bool) func(context.Context) error {
	return func(ctx context.Context) error {
		leading.Store(true)
		<-ctx.Done()
		leading.Store(false)
		return nil
	}
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

// sharedCatalogue is the catalogue's source on replicas. The jobs' leader
// walks Bitrefill's listing as one process does, and keeps the whole of it
// in the database once the walk is done; the others read it from there. So
// the catalogue costs Bitrefill's product budget (60 a minute) once, not
// once per replica, which with two replicas would already overspend it.
type sharedCatalogue struct {
	api     *bitrefill.Client
	pg      *postgres.Store
	leading func() bool

	mu   sync.Mutex
	walk []bitrefill.Product // the leader's pages so far
}

// errNotShared: no replica has kept a catalogue yet; the catalogue retries
// later and searches go to Bitrefill meanwhile, as at any start.
var errNotShared = errors.New("no replica has fetched the catalogue yet")

func (s *sharedCatalogue) ProductsPage(ctx context.Context, f bitrefill.ProductFilter, start, limit int) (bitrefill.Page[bitrefill.Product], error) {
	if s.leading() {
		page, err := s.api.ProductsPage(ctx, f, start, limit)
		if err != nil {
			return page, err
		}
		s.mu.Lock()
		if start == 0 {
			s.walk = nil // a new walk
		}
		s.walk = append(s.walk, page.Items...)
		walk := s.walk
		s.mu.Unlock()
		if !page.Next {
			// Not keeping it only costs the others a later load.
			_ = s.pg.SaveCatalogue("products", walk, time.Now())
		}
		return page, nil
	}
	ps, _, ok, err := s.pg.Catalogue("products")
	if err == nil && !ok {
		err = errNotShared
	}
	if err != nil {
		return bitrefill.Page[bitrefill.Product]{}, err
	}
	// All that is left in one page: one read, one charge of the
	// catalogue's request budget.
	return bitrefill.Page[bitrefill.Product]{Items: ps[min(start, len(ps)):], Start: start}, nil
}

func (s *sharedCatalogue) ESIMProducts(ctx context.Context) ([]bitrefill.Product, error) {
	if s.leading() {
		list, err := s.api.ESIMProducts(ctx)
		if err == nil {
			_ = s.pg.SaveCatalogue("esims", list, time.Now())
		}
		return list, err
	}
	ps, _, ok, err := s.pg.Catalogue("esims")
	if err == nil && !ok {
		err = errNotShared
	}
	return ps, err
}

// catalogueSource is Bitrefill itself for one process, the shared
// catalogue for replicas.
func catalogueSource(api *bitrefill.Client, l leadership, leading func() bool) catalog.Source {
	if l.pg == nil || leading == nil {
		return api
	}
	return &sharedCatalogue{api: api, pg: l.pg, leading: leading}
}
