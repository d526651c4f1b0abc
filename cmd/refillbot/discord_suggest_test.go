package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/bitrefill/bitrefilltest"
	"refillbot/bot/catalog"
	"refillbot/conversation"
	"refillbot/platforms/discord"
)

// Autocomplete offers products for /buy, the user's own eSIMs for /esim,
// and the chosen eSIM's top-up plans, whose values are package ids.
func TestDiscordSuggestions(t *testing.T) {
	fake := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	defer fake.Close()
	api, err := bitrefill.New(bitrefill.Config{BaseURL: "http://sandbox.bitrefill.invalid/v2", HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	me := conversation.SessionKey{Platform: discord.Platform, User: "42"}
	const iccid = "8944500000000000042"
	sessions := func(k conversation.SessionKey) (conversation.State, bool, error) {
		if k != me {
			return conversation.State{}, false, nil
		}
		return conversation.State{Profile: conversation.Profile{ESIMs: []conversation.OwnedESIM{{ICCID: iccid, Product: "bitrefill-esim-europe", Name: "Bitrefill eSIM Europe"}}}}, true, nil
	}
	s := newSuggester(api, nil, sessions, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	buy := s.suggest(ctx, me, "buy", "query", "amazon", nil)
	if len(buy) == 0 || len(buy) > 25 || !hasValue(buy, "amazon-us") {
		t.Errorf("/buy amazon: %+v", buy)
	}
	if got := s.suggest(ctx, me, "buy", "query", "a", nil); len(got) != 0 {
		t.Errorf("/buy with one letter: %+v", got)
	}
	esims := s.suggest(ctx, me, "esim topup", "esim", "", nil)
	if len(esims) != 1 || esims[0].Value != iccid || !strings.Contains(esims[0].Name, "0042") {
		t.Errorf("/esim topup esim: %+v", esims)
	}
	if got := s.suggest(ctx, conversation.SessionKey{Platform: discord.Platform, User: "7"}, "esim status", "esim", "", nil); len(got) != 0 {
		t.Errorf("another user's eSIMs were offered: %+v", got)
	}
	plans := s.suggest(ctx, me, "esim topup", "plan", "", map[string]string{"esim": iccid})
	if len(plans) == 0 {
		t.Fatal("no plans for the eSIM")
	}
	for _, p := range plans {
		if !strings.HasPrefix(p.Value, "bitrefill-esim-europe") || len(p.Value) > 100 {
			t.Errorf("plan %+v is not a package of the eSIM's product", p)
		}
	}
	if got := s.suggest(ctx, me, "esim topup", "plan", "", map[string]string{"esim": "someone-elses"}); len(got) != 0 {
		t.Errorf("plans for an eSIM the user does not own: %+v", got)
	}
}

// With the catalogue loaded, /buy suggestions come from memory: typing
// costs no Bitrefill request, and the user's country comes first.
func TestDiscordSuggestionsFromCatalogue(t *testing.T) {
	fake := bitrefilltest.New(bitrefilltest.Options{Sandbox: true})
	defer fake.Close()
	api, err := bitrefill.New(bitrefill.Config{BaseURL: "http://sandbox.bitrefill.invalid/v2", HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(api, catalog.Options{})
	if err := cat.Refresh(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	me := conversation.SessionKey{Platform: discord.Platform, User: "42"}
	sessions := func(k conversation.SessionKey) (conversation.State, bool, error) {
		return conversation.State{Profile: conversation.Profile{Country: "DE"}}, k == me, nil
	}
	s := newSuggester(api, cat, sessions, slog.New(slog.NewTextHandler(io.Discard, nil)))
	before := len(fake.Requests())
	got := s.suggest(context.Background(), me, "buy", "query", "amazn", nil)
	if len(got) == 0 || len(got) > 25 {
		t.Fatalf("/buy amazn: %+v", got)
	}
	if got[0].Value != "amazon-de" {
		t.Errorf("first suggestion for a user in Germany is %+v, want amazon-de", got[0])
	}
	if n := len(fake.Requests()) - before; n != 0 {
		t.Errorf("autocomplete made %d Bitrefill requests, want none", n)
	}
}

func hasValue(list []discord.Choice, v string) bool {
	for _, c := range list {
		if c.Value == v {
			return true
		}
	}
	return false
}
