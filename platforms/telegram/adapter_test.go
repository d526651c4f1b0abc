package telegram_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skip2/go-qrcode"

	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
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
		if telegramtest.UTF16Len(m.Text) > 4096 {
			t.Errorf("part %d has %d characters", i, telegramtest.UTF16Len(m.Text))
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

// Edit replaces a message ("not modified" is fine), a photo gets a new
// caption, and Delete removes a message once (again is fine).
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
	id, _ := strconv.Atoi(ref)
	if m, _ := srv.Message(u.Chat(), id); m.Text != "second" || m.Labels()[0] != "B" || m.Edits != 1 {
		t.Errorf("after the edits: %q %v, %d edits", m.Text, m.Labels(), m.Edits)
	}
	img, _ := qrcode.Encode("x", qrcode.Low, 128)
	pref, err := ad.Send(ctx, to, reply("invoice"), img)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Edit(ctx, to, pref, reply("receipt"), nil); err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(pref)
	if m, _ := srv.Message(u.Chat(), pid); m.Caption != "receipt" || m.Photo == nil {
		t.Errorf("edited photo: caption %q", m.Caption)
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
	group := conversation.Address{Platform: telegram.Platform, Chat: "-100123", Private: false}
	if _, err := ad.Send(ctx, group, reply("invoice"), nil); err == nil {
		t.Error("an engine reply was posted to a group chat")
	}
}

// Webhook mode: setWebhook with a secret token, updates arrive through the
// handler, and requests without the secret are refused (the library would
// only log them).
func TestWebhookMode(t *testing.T) {
	var h atomic.Pointer[http.Handler]
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := h.Load(); p != nil {
			(*p).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	e := newEnv(t, envOptions{opts: telegram.Options{WebhookURL: hook.URL + telegram.WebhookPath}})
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
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %q: status %d, want 401", secret, resp.StatusCode)
		}
	}
}

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
