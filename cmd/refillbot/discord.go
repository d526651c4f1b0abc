package main

// Discord's part of the wiring, kept out of main.go so that each platform's
// wiring can change on its own.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/bot/catalog"
	"refillbot/conversation"
	"refillbot/platforms/discord"
)

var (
	_ bot.Platform = (*discord.Adapter)(nil)
	_ bot.Editor   = (*discord.Adapter)(nil)
	_ bot.Deleter  = (*discord.Adapter)(nil)
	_ bot.Holder   = (*discord.Adapter)(nil)
)

// discordPlatform builds the Discord adapter, or nil when no token is set.
func discordPlatform(cfg config, api *bitrefill.Client, cat *catalog.Catalog, st store, logger *slog.Logger) (*discord.Adapter, error) {
	if cfg.DiscordToken == "" {
		return nil, nil
	}
	if cfg.DiscordAppID == "" {
		return nil, errors.New("DISCORD_APP_ID is required with DISCORD_BOT_TOKEN (the application id from the developer portal)")
	}
	if u, err := url.Parse(cfg.DiscordURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("DISCORD_API_URL %q is not an http(s) URL", cfg.DiscordURL)
	}
	return discord.New(discord.Options{
		Token: cfg.DiscordToken, AppID: cfg.DiscordAppID, GuildID: cfg.DiscordGuild, APIURL: cfg.DiscordURL,
		Suggest: newSuggester(api, cat, st.Session, logger).suggest, Logger: logger,
	})
}

// runDiscord handles interactions until ctx ends. Each one's work is
// cancelled when workCtx is (the shutdown grace period ran out).
func runDiscord(ctx, workCtx context.Context, dc *discord.Adapter, b *bot.Bot) error {
	return dc.Run(ctx, func(ictx context.Context, in bot.Incoming) {
		hctx, cancel := context.WithCancel(ictx)
		stop := context.AfterFunc(workCtx, cancel)
		defer stop()
		defer cancel()
		b.Handle(hctx, in)
	})
}

// suggester answers autocomplete: /buy from the local catalogue (Bitrefill's
// search until the catalogue is loaded), /esim from
// the user's own eSIMs (kept in their session) and the top-up plans of the
// chosen one. Answers are cached briefly: people type a letter at a time,
// Discord wants choices within three seconds, and Bitrefill counts requests.
type suggester struct {
	api      *bitrefill.Client
	cat      *catalog.Catalog // nil: Bitrefill's search only
	sessions func(conversation.SessionKey) (conversation.State, bool, error)
	log      *slog.Logger

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	at      time.Time
	choices []discord.Choice
}

const (
	suggestTTL   = 2 * time.Minute
	suggestCache = 500
)

func newSuggester(api *bitrefill.Client, cat *catalog.Catalog, sessions func(conversation.SessionKey) (conversation.State, bool, error), logger *slog.Logger) *suggester {
	return &suggester{api: api, cat: cat, sessions: sessions, log: logger.With("component", "discord-suggest"), cache: map[string]cached{}}
}

func (s *suggester) suggest(ctx context.Context, key conversation.SessionKey, command, option, typed string, others map[string]string) []discord.Choice {
	typed = strings.ToLower(strings.Join(strings.Fields(typed), " "))
	switch {
	case command == "buy" && option == "query":
		if len(typed) < 2 || len(typed) > 100 {
			return nil
		}
		if s.cat != nil && !s.cat.Stale(time.Now()) {
			return s.fromCatalogue(key, typed)
		}
		return s.cached("search:"+typed, func() ([]discord.Choice, error) { return s.search(ctx, typed) })
	case (command == "esim status" || command == "esim topup") && option == "esim":
		var out []discord.Choice
		for _, e := range s.owned(key) {
			name := e.Name + " · …" + e.ICCID[max(0, len(e.ICCID)-4):]
			if typed == "" || strings.Contains(strings.ToLower(name), typed) || strings.Contains(e.ICCID, typed) {
				out = append(out, discord.Choice{Name: name, Value: e.ICCID})
			}
		}
		return out
	case command == "esim topup" && option == "plan":
		for _, e := range s.owned(key) {
			if e.ICCID != others["esim"] || e.Product == "" {
				continue
			}
			plans := s.cached("plans:"+e.Product, func() ([]discord.Choice, error) { return s.plans(ctx, e.Product) })
			var out []discord.Choice
			for _, p := range plans {
				if typed == "" || strings.Contains(strings.ToLower(p.Name), typed) {
					out = append(out, p)
				}
			}
			return out
		}
	}
	return nil
}

// fromCatalogue answers from memory, the user's country first: no request
// to Bitrefill, so it is fast and costs none of the rate limit.
func (s *suggester) fromCatalogue(key conversation.SessionKey, typed string) []discord.Choice {
	country := ""
	if st, found, err := s.sessions(key); err == nil && found {
		country = st.Country
	}
	var out []discord.Choice
	for _, p := range s.cat.Suggest(typed, country, catalog.MaxSuggestions) {
		out = append(out, discord.Choice{Name: choiceName(p.Name, p.Country), Value: p.ID})
	}
	return out
}

// choiceName adds the country to a name that does not already say it.
func choiceName(name, country string) string {
	if country != "" && !strings.Contains(strings.ToUpper(name), strings.ToUpper(country)) {
		name += " (" + strings.ToUpper(country) + ")"
	}
	return name
}

func (s *suggester) owned(key conversation.SessionKey) []conversation.OwnedESIM {
	st, found, err := s.sessions(key)
	if err != nil {
		s.log.Warn("autocomplete: load session", "err", err)
	}
	if !found {
		return nil
	}
	return st.ESIMs
}

func (s *suggester) search(ctx context.Context, q string) ([]discord.Choice, error) {
	page, err := s.api.Search(ctx, bitrefill.SearchFilter{Query: q, Limit: 25})
	if err != nil {
		return nil, err
	}
	var out []discord.Choice
	for _, p := range page.Items {
		out = append(out, discord.Choice{Name: choiceName(p.Name, p.Country), Value: p.ID})
	}
	return out, nil
}

func (s *suggester) plans(ctx context.Context, product string) ([]discord.Choice, error) {
	p, err := s.api.ESIMProduct(ctx, product)
	if err != nil {
		if p, err = s.api.Product(ctx, product); err != nil {
			return nil, err
		}
	}
	var out []discord.Choice
	for _, pk := range p.Packages {
		name := pk.Value
		if !pk.Price.IsZero() {
			name += " — " + pk.Price.String() + " " + p.Currency
		}
		out = append(out, discord.Choice{Name: name, Value: pk.ID})
	}
	return out, nil
}

// cached returns a fresh enough answer for key, or computes and keeps one.
func (s *suggester) cached(key string, compute func() ([]discord.Choice, error)) []discord.Choice {
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if ok && time.Since(c.at) < suggestTTL {
		return c.choices
	}
	out, err := compute()
	if err != nil {
		s.log.Warn("autocomplete", "err", err)
		return nil
	}
	s.mu.Lock()
	if len(s.cache) >= suggestCache {
		for k, v := range s.cache {
			if time.Since(v.at) >= suggestTTL || len(s.cache) >= suggestCache {
				delete(s.cache, k)
			}
		}
	}
	s.cache[key] = cached{at: time.Now(), choices: out}
	s.mu.Unlock()
	return out
}
