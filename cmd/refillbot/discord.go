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
	"refillbot/conversation"
	"refillbot/platforms/discord"
)

var (
	_ bot.Platform = (*discord.Adapter)(nil)
	_ bot.Editor   = (*discord.Adapter)(nil)
	_ bot.Deleter  = (*discord.Adapter)(nil)
)

// discordPlatform builds the Discord adapter, or nil when no token is set.
func discordPlatform(cfg config, api *bitrefill.Client, logger *slog.Logger) (*discord.Adapter, error) {
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
		Suggest: newSuggester(api, logger).suggest, Logger: logger,
	})
}

// runDiscord handles interactions until ctx ends. Each one's work is
// cancelled when workCtx is (the shutdown grace period ran out).
func runDiscord(ctx, workCtx context.Context, dc *discord.Adapter, b *bot.Bot) error {
	return dc.Run(ctx, func(ictx context.Context, in discord.Incoming) {
		hctx, cancel := context.WithCancel(ictx)
		stop := context.AfterFunc(workCtx, cancel)
		defer stop()
		defer cancel()
		b.Handle(hctx, bot.Incoming(in))
	})
}

// suggester answers /buy autocomplete from Bitrefill's search, with a short
// cache: people type a letter at a time, and Discord wants choices within
// three seconds while Bitrefill counts our requests.
type suggester struct {
	api *bitrefill.Client
	log *slog.Logger

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

func newSuggester(api *bitrefill.Client, logger *slog.Logger) *suggester {
	return &suggester{api: api, log: logger.With("component", "discord-suggest"), cache: map[string]cached{}}
}

func (s *suggester) suggest(ctx context.Context, _ conversation.SessionKey, command, option, typed string, _ map[string]string) []discord.Choice {
	if command != "buy" || option != "query" {
		return nil // eSIM choices come with the eSIM work (issue 6's /esim topup)
	}
	q := strings.ToLower(strings.Join(strings.Fields(typed), " "))
	if len(q) < 2 || len(q) > 100 {
		return nil
	}
	s.mu.Lock()
	c, ok := s.cache[q]
	s.mu.Unlock()
	if ok && time.Since(c.at) < suggestTTL {
		return c.choices
	}
	page, err := s.api.Search(ctx, bitrefill.SearchFilter{Query: q, Limit: 25})
	if err != nil {
		s.log.Warn("autocomplete search", "err", err)
		return nil
	}
	var out []discord.Choice
	for _, p := range page.Items {
		name := p.Name
		if p.Country != "" && !strings.Contains(strings.ToUpper(name), strings.ToUpper(p.Country)) {
			name += " (" + strings.ToUpper(p.Country) + ")"
		}
		out = append(out, discord.Choice{Name: name, Value: p.ID})
	}
	s.mu.Lock()
	if len(s.cache) >= suggestCache {
		for k, v := range s.cache {
			if time.Since(v.at) >= suggestTTL || len(s.cache) >= suggestCache {
				delete(s.cache, k)
			}
		}
	}
	s.cache[q] = cached{at: time.Now(), choices: out}
	s.mu.Unlock()
	return out
}
