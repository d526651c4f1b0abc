package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"refillbot/bot"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
	"refillbot/platforms/telegram/telegramtest/parsemode"
)

// A menu that answers a button press replaces the pressed message; the rest
// of the history stays.
func TestMenuEditedInPlace(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Ed", "en")
	results, err := b.say("uber", txtResults)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.d.Tap("Next ›"); err != nil {
		t.Fatal(err)
	}
	m, err := b.d.AwaitMatch("an edit of the results", func(ev telegramtest.Event) bool {
		return ev.Kind == telegramtest.Edited && ev.Message.ID == results.ID
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "page 2") {
		t.Errorf("the results message now says %q, want page 2", m.Text)
	}
	before := len(e.tg.Messages(b.u.Chat()))
	if _, err := b.d.Tap("Previous"); err != nil {
		t.Fatal(err)
	}
	if m, err := b.d.Await("page 1"); err != nil || m.ID != results.ID {
		t.Errorf("back to page 1 in message %d (%v), want %d", m.ID, err, results.ID)
	}
	if after := len(e.tg.Messages(b.u.Chat())); after != before {
		t.Errorf("paging added %d messages", after-before)
	}
}

// adapterOnly is an adapter without Run, for Send/Edit/Delete, with a user
// whose private chat exists.
func adapterOnly(t *testing.T) (*telegramtest.Server, *telegram.Adapter, *telegramtest.User, conversation.Address) {
	t.Helper()
	srv := telegramtest.NewServer(t, telegramtest.Options{})
	ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), NoPacing: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	u := srv.NewUser("Al", "en")
	u.Send(u.Chat(), "/start")
	return srv, ad, u, conversation.Address{Platform: telegram.Platform, Chat: strconv.FormatInt(u.ID, 10), Private: true}
}

func reply(text string, opts ...string) conversation.Reply {
	r := conversation.Reply{Text: []conversation.Span{{Text: text}}}
	for i, o := range opts {
		r.Options = append(r.Options, conversation.Option{Label: o, Token: "tok." + strconv.Itoa(i)})
	}
	return r
}

// Long texts are split at line boundaries within 4096 characters, with the
// buttons on the last part; an image takes the text as caption only when it
// fits 1024 characters.
func TestLongTextsAndCaptions(t *testing.T) {
	srv, ad, u, to := adapterOnly(t)
	var lines []string
	for i := range 300 {
		lines = append(lines, strings.Repeat("line "+strconv.Itoa(i)+" ", 4))
	}
	long := strings.Join(lines, "\n")
	if _, err := ad.Send(t.Context(), to, reply(long, "OK"), nil); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages(u.Chat())
	if len(msgs) < 2 {
		t.Fatalf("%d messages for %d characters", len(msgs), len(long))
	}
	var joined []string
	for i, m := range msgs {
		if parsemode.UTF16Len(m.Text) > 4096 {
			t.Errorf("part %d has %d characters", i, parsemode.UTF16Len(m.Text))
		}
		if (len(m.Buttons) > 0) != (i == len(msgs)-1) {
			t.Errorf("part %d of %d has buttons: %v", i, len(msgs), m.Labels())
		}
		joined = append(joined, m.Text)
	}
	// Telegram trims each message, so compare line by line without the
	// trailing blanks.
	trim := func(s string) string {
		ls := strings.Split(s, "\n")
		for i := range ls {
			ls[i] = strings.TrimSpace(ls[i])
		}
		return strings.Join(ls, "\n")
	}
	if trim(strings.Join(joined, "\n")) != trim(long) {
		t.Error("the parts do not add up to the text, line by line")
	}

	img, err := qrcode.Encode("bitcoin:bc1qexample", qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	m0 := srv.Mark(u.Chat())
	if _, err := ad.Send(t.Context(), to, reply("short <caption> & more", "Pay"), img); err != nil {
		t.Fatal(err)
	}
	ev := srv.Events(u.Chat())[m0:]
	if len(ev) != 1 || ev[0].Message.Caption != "short <caption> & more" || !bytes.Equal(ev[0].Message.Photo, img) || len(ev[0].Message.Buttons) != 1 {
		t.Errorf("photo with caption: %+v", ev)
	}
	m0 = srv.Mark(u.Chat())
	if _, err := ad.Send(t.Context(), to, reply(strings.Repeat("c", 1500), "Pay"), img); err != nil {
		t.Fatal(err)
	}
	ev = srv.Events(u.Chat())[m0:]
	if len(ev) != 2 || ev[0].Message.Photo == nil || ev[0].Message.Caption != "" || ev[1].Message.Text == "" || len(ev[1].Message.Buttons) != 1 {
		t.Errorf("photo then text: %d events", len(ev))
	}
}

// msgID is the message id in a reference from Send.
func msgID(t *testing.T, ref string) int {
	t.Helper()
	id, _, _ := strings.Cut(ref, ":")
	n, err := strconv.Atoi(id)
	if err != nil {
		t.Fatalf("ref %q has no message id", ref)
	}
	return n
}

// Edit replaces a message ("not modified" is fine), and Delete removes a
// message once (again is fine); engine replies never go to a group.
func TestEditAndDelete(t *testing.T) {
	srv, ad, u, to := adapterOnly(t)
	ctx := t.Context()
	ref, err := ad.Send(ctx, to, reply("first", "A"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Edit(ctx, to, ref, reply("second", "B"), nil); err != nil {
		t.Fatal(err)
	}
	if err := ad.Edit(ctx, to, ref, reply("second", "B"), nil); err != nil {
		t.Errorf("an identical edit must count as done: %v", err)
	}
	id := msgID(t, ref)
	if m, _ := srv.Message(u.Chat(), id); m.Text != "second" || m.Labels()[0] != "B" || m.Edits != 1 {
		t.Errorf("after the edits: %q %v, %d edits", m.Text, m.Labels(), m.Edits)
	}
	if err := ad.Delete(ctx, to, ref); err != nil {
		t.Fatal(err)
	}
	if err := ad.Delete(ctx, to, ref); err != nil {
		t.Errorf("deleting a deleted message: %v", err)
	}
	if m, _ := srv.Message(u.Chat(), id); !m.Deleted {
		t.Error("not deleted")
	}
	// A message that is gone cannot be edited: an error that is neither
	// "unreachable" nor "slow down", so the shell sends the reply anew.
	err = ad.Edit(ctx, to, ref, reply("third"), nil)
	var un interface{ Unreachable() bool }
	var ra interface{ RetryAfter() time.Duration }
	if err == nil || errors.As(err, &un) || errors.As(err, &ra) {
		t.Errorf("edit of a deleted message: %v, want a plain error", err)
	}
	group := conversation.Address{Platform: telegram.Platform, Chat: "-100123", Private: false}
	if _, err := ad.Send(ctx, group, reply("invoice"), nil); err == nil {
		t.Error("an engine reply was posted to a group chat")
	}
}

// The invoice is a QR photo with its text as caption. Edited without an
// image (payment seen, receipt) it keeps the photo — Telegram cannot drop
// it — under a spoiler, so the old QR no longer looks payable; edited with
// an image it shows the new one, and a text message gets the image added.
// What cannot be shown by an edit comes back as an error, the message
// untouched, so that the shell sends it anew.
func TestEditPhotos(t *testing.T) {
	srv, ad, u, to := adapterOnly(t)
	ctx := t.Context()
	qr := func(s string) []byte {
		img, err := qrcode.Encode(s, qrcode.Low, 128)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	img1, img2 := qr("bitcoin:one"), qr("bitcoin:two")
	msg := func(ref string) telegramtest.Message {
		m, _ := srv.Message(u.Chat(), msgID(t, ref))
		return m
	}

	ref, err := ad.Send(ctx, to, reply("invoice <1>", "Pay"), img1)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Edit(ctx, to, ref, reply("payment seen & more"), nil); err != nil {
		t.Fatal(err)
	}
	m := msg(ref)
	if m.Caption != "payment seen & more" || !bytes.Equal(m.Photo, img1) || !m.Spoiler || len(m.Buttons) != 0 || m.Edits != 1 {
		t.Errorf("photo edited without an image: caption %q, same image %v, spoiler %v, buttons %q, %d edits",
			m.Caption, bytes.Equal(m.Photo, img1), m.Spoiler, m.Labels(), m.Edits)
	}
	if err := ad.Edit(ctx, to, ref, reply("payment seen & more"), nil); err != nil {
		t.Errorf("an identical edit must count as done: %v", err)
	}
	if err := ad.Edit(ctx, to, ref, reply(strings.Repeat("r", 1500)), nil); err == nil {
		t.Error("a 1500-character caption was accepted")
	}
	// (Refused, the photo is left hidden, without caption or buttons: see
	// TestRefusedEditHidesPhoto.)
	if m := msg(ref); !m.Spoiler || len(m.Buttons) != 0 || strings.Contains(m.Caption, "rrr") {
		t.Errorf("a refused edit left caption %q, spoiler %v, buttons %q", m.Caption, m.Spoiler, m.Labels())
	}

	if err := ad.Edit(ctx, to, ref, reply("new invoice", "Pay"), img2); err != nil {
		t.Fatal(err)
	}
	m = msg(ref)
	if m.Caption != "new invoice" || !bytes.Equal(m.Photo, img2) || m.Spoiler || len(m.Buttons) != 1 {
		t.Errorf("photo edited with a new image: caption %q, new image %v, spoiler %v, buttons %q", m.Caption, bytes.Equal(m.Photo, img2), m.Spoiler, m.Labels())
	}
	if got := decodeQR(t, m.Photo); got != "bitcoin:two" {
		t.Errorf("the QR now reads %q", got)
	}

	// A photo known by its message id alone (a reference stored by an
	// older version): caption, then the spoiler.
	bare := strconv.Itoa(msgID(t, ref))
	if err := ad.Edit(ctx, to, bare, reply("receipt"), nil); err != nil {
		t.Fatal(err)
	}
	if m := msg(ref); m.Caption != "receipt" || !m.Spoiler || !bytes.Equal(m.Photo, img2) {
		t.Errorf("photo edited by a bare ref: caption %q, spoiler %v", m.Caption, m.Spoiler)
	}

	// A file id Telegram does not know: the same, by the caption.
	if err := ad.Edit(ctx, to, bare+":no-such-file", reply("receipt, again"), nil); err != nil {
		t.Fatal(err)
	}
	if m := msg(ref); m.Caption != "receipt, again" || !m.Spoiler {
		t.Errorf("photo edited by a ref with a bad file id: caption %q, spoiler %v", m.Caption, m.Spoiler)
	}

	tref, err := ad.Send(ctx, to, reply("plain text", "A"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Edit(ctx, to, tref, reply("now with a QR"), img1); err != nil {
		t.Fatal(err)
	}
	if m := msg(tref); m.Caption != "now with a QR" || !bytes.Equal(m.Photo, img1) || m.Text != "" {
		t.Errorf("text message edited with an image: caption %q text %q image %v", m.Caption, m.Text, m.Photo != nil)
	}

	// A user who blocked the bot: edits and deletes wait, like a send.
	u.Block()
	err = ad.Edit(ctx, to, ref, reply("confirmed"), nil)
	var un interface{ Unreachable() bool }
	if !errors.As(err, &un) || !un.Unreachable() {
		t.Errorf("edit for a user who blocked the bot: %v, want Unreachable", err)
	}
	if err := ad.Delete(ctx, to, ref); !errors.As(err, &un) || !un.Unreachable() {
		t.Errorf("delete for a user who blocked the bot: %v, want Unreachable", err)
	}
	if m := msg(ref); m.Deleted || m.Caption != "receipt, again" {
		t.Errorf("a user who blocked the bot saw the message change: deleted %v, caption %q", m.Deleted, m.Caption)
	}
}

// Webhook mode: setWebhook with a secret token, updates arrive through the
// handler, and requests without the secret are refused (the library would
// only log them).
func TestWebhookMode(t *testing.T) {
	var h atomic.Pointer[http.Handler]
	// Telegram posts only to https:// webhooks: a TLS test server, which
	// the fake reaches through the server's own client.
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := h.Load(); p != nil {
			(*p).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	e := newEnv(t, envOptions{opts: telegram.Options{WebhookURL: hook.URL + telegram.WebhookPath},
		tgOpts: telegramtest.Options{WebhookClient: hook.Client()}})
	mux := http.NewServeMux()
	mux.Handle("POST "+telegram.WebhookPath, e.ad.WebhookHandler())
	var hh http.Handler = mux
	h.Store(&hh)

	b := e.newBuyer("Web", "en")
	if _, err := b.say("/start", txtWelcome); err != nil {
		t.Fatal(err)
	}
	if got := e.tg.Webhook(); got != hook.URL+telegram.WebhookPath {
		t.Errorf("webhook %q", got)
	}
	calls := e.tg.CallsTo("setWebhook")
	if len(calls) != 1 || len(calls[0].Params["secret_token"]) < 32 {
		t.Fatalf("setWebhook calls %+v: want one with a long random secret", calls)
	}
	if n := len(e.tg.CallsTo("getUpdates")); n != 0 {
		t.Errorf("%d getUpdates calls in webhook mode", n)
	}
	for _, secret := range []string{"", "wrong", calls[0].Params["secret_token"] + "x"} {
		req, _ := http.NewRequest(http.MethodPost, hook.URL+telegram.WebhookPath, strings.NewReader(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1,"is_bot":false,"first_name":"x"},"text":"/start"}}`))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := hook.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %q: status %d, want 401", secret, resp.StatusCode)
		}
	}
}

// A plain http:// webhook is refused with a clear error: by New at once
// for Telegram's own servers, and by Run when the Bot API server says no;
// a self-hosted server in --local mode takes it.
func TestWebhookNeedsHTTPS(t *testing.T) {
	// (No call may reach the real Telegram from a test.)
	offline := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("offline") })}
	_, err := telegram.New(t.Context(), telegram.Options{Token: "1:x", WebhookURL: "http://bot.example/telegram/webhook", HTTPClient: offline})
	if err == nil || !strings.Contains(err.Error(), "https:// webhook") {
		t.Errorf("New with an http:// webhook for api.telegram.org: %v, want an error naming https://", err)
	}

	hook := "http://127.0.0.1:1" + telegram.WebhookPath
	for _, local := range []bool{false, true} {
		srv := telegramtest.NewServer(t, telegramtest.Options{LocalMode: local})
		ad, err := telegram.New(t.Context(), telegram.Options{Token: srv.Token(), APIURL: srv.URL(), WebhookURL: hook, NoPacing: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- ad.Run(ctx, func(context.Context, bot.Incoming) {}) }()
		if !local {
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "https:// webhook") {
					t.Errorf("Run with an http:// webhook: %v, want an error naming https://", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run goes on with an http:// webhook (set: %q)", srv.Webhook())
				cancel()
				<-done
			}
			cancel()
			continue
		}
		if _, err := srv.AwaitCall("setWebhook"); err != nil {
			t.Fatal(err)
		}
		if srv.Webhook() != hook {
			t.Errorf("a server in --local mode refused the http:// webhook")
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// In polling mode there is no webhook endpoint.
func TestWebhookHandlerOffWhenPolling(t *testing.T) {
	_, ad, _, _ := adapterOnly(t)
	rec := httptest.NewRecorder()
	ad.WebhookHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, telegram.WebhookPath, strings.NewReader("{}")))
	if rec.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", rec.Code)
	}
}

// The command menu is registered in English (the default) and Spanish.
func TestCommandMenus(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBuyer("Cy", "es")
	if _, err := b.say("/start", "refillbot"); err != nil {
		t.Fatal(err)
	}
	for lang, code := range map[string]string{"en": "", "es": "es"} {
		got := e.tg.Commands(code)
		want := conversation.Commands(lang)
		if len(got) != len(want) {
			t.Fatalf("%s: %d commands, want %d", lang, len(got), len(want))
		}
		for i := range want {
			if got[i].Command != want[i].Name || got[i].Description != want[i].Description {
				t.Errorf("%s command %d: %+v, want %+v", lang, i, got[i], want[i])
			}
		}
	}
}
