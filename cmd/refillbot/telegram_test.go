package main

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refillbot/platforms/telegram/telegramtest"
)

// tgRun runs the program with a Telegram token against the fake Bot API and
// a closed stdin; stop cancels it (a signal) and returns run's error.
func tgRun(t *testing.T, srv *telegramtest.Server, env map[string]string, args ...string) (stop func() error) {
	t.Helper()
	full := map[string]string{"TELEGRAM_BOT_TOKEN": srv.Token(), "TELEGRAM_API_URL": srv.URL()}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args = append([]string{"-db", filepath.Join(t.TempDir(), "bot.db"), "-sandbox-delay", "0s", "-poll", "@every 1s"}, args...)
	go func() {
		done <- run(ctx, args, func(k string) string { return full[k] }, strings.NewReader(""), io.Discard, io.Discard)
	}()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			t.Fatal("the bot did not stop after the signal")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return stop
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// With a token the bot serves Telegram by long polling, even with a public
// URL set; the closed stdin does not stop it; a signal does, cleanly.
func TestTelegramPolling(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	addr := freeAddr(t)
	stop := tgRun(t, srv, map[string]string{"REFILLBOT_LISTEN": addr, "REFILLBOT_PUBLIC_URL": "http://" + addr})
	u := srv.NewUser("Tia", "en")
	d := u.In(u.Chat())
	d.Say("/start")
	if _, err := d.Await("SANDBOX"); err != nil {
		t.Fatal(err)
	}
	d.Say("amazon us")
	if _, err := d.Await("Results for"); err != nil {
		t.Fatal(err)
	}
	if srv.Webhook() != "" {
		t.Errorf("a public URL alone set a webhook: %q", srv.Webhook())
	}
	if len(srv.CallsTo("getUpdates")) == 0 {
		t.Error("no long polling")
	}
	if err := stop(); err != nil {
		t.Errorf("run after a signal: %v", err)
	}
}

// TELEGRAM_MODE=webhook registers REFILLBOT_PUBLIC_URL's webhook path and
// takes updates on the bot's HTTP server. The fake plays a self-hosted Bot
// API server in --local mode, the one kind that accepts an http:// webhook.
func TestTelegramWebhook(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{LocalMode: true})
	addr := freeAddr(t)
	stop := tgRun(t, srv, map[string]string{"TELEGRAM_MODE": "webhook", "REFILLBOT_LISTEN": addr, "REFILLBOT_PUBLIC_URL": "http://" + addr + "/"})
	u := srv.NewUser("Wu", "en")
	d := u.In(u.Chat())
	d.Say("/start")
	if _, err := d.Await("SANDBOX"); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.Webhook(), "http://"+addr+"/telegram/webhook"; got != want {
		t.Errorf("webhook %q, want %q", got, want)
	}
	if n := len(srv.CallsTo("getUpdates")); n != 0 {
		t.Errorf("%d getUpdates calls in webhook mode", n)
	}
	if err := stop(); err != nil {
		t.Errorf("run after a signal: %v", err)
	}
}

// Start-up problems end with one clear error, never a hang, and never show
// the token.
func TestTelegramStartupErrors(t *testing.T) {
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"bad token":           {map[string]string{"TELEGRAM_BOT_TOKEN": "42:not-the-token", "TELEGRAM_API_URL": srv.URL()}, "TELEGRAM_BOT_TOKEN was refused"},
		"unreachable API":     {map[string]string{"TELEGRAM_BOT_TOKEN": "42:not-the-token", "TELEGRAM_API_URL": "http://127.0.0.1:1"}, "cannot use the Bot API"},
		"bad API URL":         {map[string]string{"TELEGRAM_BOT_TOKEN": "42:x", "TELEGRAM_API_URL": "telegram"}, "TELEGRAM_API_URL"},
		"webhook without URL": {map[string]string{"TELEGRAM_BOT_TOKEN": srv.Token(), "TELEGRAM_API_URL": srv.URL(), "TELEGRAM_MODE": "webhook"}, "REFILLBOT_PUBLIC_URL"},
		"bad rate limit":      {map[string]string{"TELEGRAM_BOT_TOKEN": srv.Token(), "TELEGRAM_API_URL": srv.URL(), "TELEGRAM_RATE_LIMIT": "fast"}, "TELEGRAM_RATE_LIMIT"},
		"bad busy bound":      {map[string]string{"TELEGRAM_BOT_TOKEN": srv.Token(), "TELEGRAM_API_URL": srv.URL(), "TELEGRAM_MAX_BUSY": "-1"}, "TELEGRAM_MAX_BUSY"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"-db", filepath.Join(t.TempDir(), "x.db")}
			err := run(context.Background(), args, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "not-the-token") || strings.Contains(err.Error(), srv.Token()) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}
