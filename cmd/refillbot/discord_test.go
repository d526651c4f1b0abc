package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refillbot/platforms/discord/discordtest"
)

func discordEnv(dc *discordtest.Server, token string) func(string) string {
	env := map[string]string{
		"DISCORD_BOT_TOKEN": token,
		"DISCORD_APP_ID":    dc.AppID(),
		"DISCORD_GUILD_ID":  "g1",
		"DISCORD_API_URL":   dc.URL(),
	}
	return func(k string) string { return env[k] }
}

// With a Discord token the bot serves slash commands from the sandbox, and
// an empty stdin does not stop it; a signal does, cleanly.
func TestDiscordFromEnvironment(t *testing.T) {
	dc := discordtest.New(discordtest.Options{})
	defer dc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	args := []string{"-db", filepath.Join(t.TempDir(), "bot.db"), "-sandbox-delay", "0s"}
	go func() {
		done <- run(ctx, args, discordEnv(dc, dc.Token()), strings.NewReader(""), io.Discard, io.Discard)
	}()

	if err := dc.WaitGateway(discordtest.Patience, "gateway connection", func(g discordtest.GatewayStats) bool { return g.Connected && g.Heartbeats > 0 }); err != nil {
		select {
		case err := <-done:
			t.Fatalf("run ended: %v", err)
		default:
		}
		t.Fatal(err)
	}
	if cmds := dc.Commands("g1"); len(cmds) < 10 {
		t.Errorf("%d slash commands registered in the guild, want the full set", len(cmds))
	}
	u := dc.NewUser("zoe", "en-US")
	mark := dc.Mark()
	p, err := u.Slash(dc.GuildChannel("g1", "general"), "search", discordtest.Opt{Name: "query", Value: "amazon"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(discordtest.Patience); err != nil {
		t.Fatal(err)
	}
	if _, err := u.AwaitText(mark, "Results for"); err != nil {
		t.Fatal(err)
	}
	choices, err := u.Autocomplete(dc.GuildChannel("g1", "general"), "buy", discordtest.Opt{Name: "query", Value: "steam", Focused: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) == 0 || len(choices) > 25 {
		t.Errorf("/buy autocomplete for %q gave %d choices", "steam", len(choices))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after the signal: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the bot did not stop after the signal")
	}
}

// A token Discord refuses ends start-up with a clear error, not a hang.
func TestDiscordBadToken(t *testing.T) {
	dc := discordtest.New(discordtest.Options{})
	defer dc.Close()
	errc := make(chan error, 1)
	args := []string{"-db", filepath.Join(t.TempDir(), "bot.db")}
	go func() {
		errc <- run(context.Background(), args, discordEnv(dc, "not-the-token"), strings.NewReader(""), io.Discard, io.Discard)
	}()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "token") {
			t.Fatalf("got %v, want an error about the token", err)
		}
		if strings.Contains(err.Error(), "not-the-token") {
			t.Errorf("the error %q shows the token", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("start-up with a bad token hangs")
	}
}

func TestDiscordConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"token without app id": {env: map[string]string{"DISCORD_BOT_TOKEN": "x"}, want: "DISCORD_APP_ID"},
		"bad api url":          {env: map[string]string{"DISCORD_BOT_TOKEN": "x", "DISCORD_APP_ID": "1", "DISCORD_API_URL": "discord"}, want: "DISCORD_API_URL"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"-db", filepath.Join(t.TempDir(), "x.db")}
			err := run(context.Background(), args, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
