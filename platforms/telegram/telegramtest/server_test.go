package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"refillbot/platforms/telegram/telegramtest"
)

func newBot(t *testing.T, s *telegramtest.Server, opts ...tgbot.Option) *tgbot.Bot {
	t.Helper()
	b, err := tgbot.New(s.Token(), append([]tgbot.Option{tgbot.WithServerURL(s.URL()), tgbot.WithErrorsHandler(func(error) {})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The library's own errors come out of the fake's answers: Telegram's
// wording, status codes and retry_after.
func TestLimitsAndErrors(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.Options{})
	ctx := t.Context()
	if _, err := tgbot.New("1:wrong", tgbot.WithServerURL(s.URL())); !errors.Is(err, tgbot.ErrorUnauthorized) {
		t.Errorf("wrong token: %v, want unauthorized", err)
	}
	b := newBot(t, s)
	u := s.NewUser("Ann", "en")
	send := func(text string, mode models.ParseMode, markup models.ReplyMarkup) (*models.Message, error) {
		return b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: u.ID, Text: text, ParseMode: mode, ReplyMarkup: markup})
	}
	if _, err := send("hi", "", nil); !errors.Is(err, tgbot.ErrorForbidden) || !strings.Contains(err.Error(), "can't initiate conversation") {
		t.Errorf("message to a user who never wrote: %v", err)
	}
	u.Send(u.Chat(), "/start")

	cases := []struct {
		name   string
		text   string
		mode   models.ParseMode
		markup models.ReplyMarkup
		want   string
	}{
		{"empty", "  ", "", nil, "message text is empty"},
		{"too long", strings.Repeat("a", 4097), "", nil, "message is too long"},
		{"too long in UTF-16", strings.Repeat("😀", 2049), "", nil, "message is too long"},
		{"bad HTML", "<b>x", models.ParseModeHTML, nil, "can't parse entities"},
		{"data too long", "x", "", map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "b", "callback_data": strings.Repeat("d", 65)}}}}, "BUTTON_DATA_INVALID"},
		{"button without action", "x", "", map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "b"}}}}, "can't parse inline keyboard button"},
	}
	for _, c := range cases {
		if _, err := send(c.text, c.mode, c.markup); !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// 4096 characters after entity parsing are fine, however long the HTML.
	if _, err := send("<b>"+strings.Repeat("&amp;", 4096)+"</b>", models.ParseModeHTML, nil); err != nil {
		t.Errorf("4096 characters of entities: %v", err)
	}
	m, err := send("<b>hi</b>", models.ParseModeHTML, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: u.ID, MessageID: m.ID, Text: "<b>hi</b>", ParseMode: models.ParseModeHTML})
	if !strings.Contains(fmtErr(err), "message is not modified") {
		t.Errorf("identical edit: %v", err)
	}
	_, err = b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: u.ID, MessageID: 9999, Text: "x"})
	if !strings.Contains(fmtErr(err), "message to edit not found") {
		t.Errorf("edit of a missing message: %v", err)
	}
	if _, err := b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: u.ID, MessageID: m.ID, Text: "<i>new</i>", ParseMode: models.ParseModeHTML}); err != nil {
		t.Errorf("edit: %v", err)
	}
	if got, _ := s.Message(u.ID, m.ID); got.Text != "new" || got.Edits != 1 {
		t.Errorf("edited message %+v", got)
	}

	s.InjectFault(telegramtest.Fault{Method: "sendMessage", Status: 429, RetryAfter: 7})
	var tm *tgbot.TooManyRequestsError
	if _, err := send("x", "", nil); !errors.As(err, &tm) || tm.RetryAfter != 7 {
		t.Errorf("injected 429: %v", err)
	}
	s.InjectFault(telegramtest.Fault{Method: "sendMessage", Chat: u.ID, Status: 502, Times: 2})
	for range 2 {
		if _, err := send("x", "", nil); err == nil || !strings.Contains(err.Error(), "502") {
			t.Errorf("injected 502: %v", err)
		}
	}
	if _, err := send("x", "", nil); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	u.Block()
	if _, err := send("x", "", nil); !errors.Is(err, tgbot.ErrorForbidden) || !strings.Contains(err.Error(), "blocked by the user") {
		t.Errorf("blocked: %v", err)
	}
	if n := len(s.CallsTo("sendMessage")); n < 10 {
		t.Errorf("only %d sendMessage calls recorded", n)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// sendPhoto uploads multipart bytes the test can read back.
func TestSendPhotoKeepsBytes(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.Options{})
	b := newBot(t, s)
	u := s.NewUser("Pia", "en")
	u.Send(u.Chat(), "hi")
	img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 5000)...)
	_, err := b.SendPhoto(t.Context(), &tgbot.SendPhotoParams{ChatID: u.ID, Photo: &models.InputFileUpload{Filename: "a.png", Data: bytes.NewReader(img)},
		Caption: strings.Repeat("c", 1025)})
	if err == nil || !strings.Contains(err.Error(), "caption is too long") {
		t.Errorf("1025-character caption: %v", err)
	}
	m, err := b.SendPhoto(t.Context(), &tgbot.SendPhotoParams{ChatID: u.ID, Photo: &models.InputFileUpload{Filename: "a.png", Data: bytes.NewReader(img)},
		Caption: "<b>scan</b>", ParseMode: models.ParseModeHTML})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Message(u.ID, m.ID)
	if !bytes.Equal(got.Photo, img) || got.Caption != "scan" {
		t.Errorf("photo %d bytes, caption %q", len(got.Photo), got.Caption)
	}
	if _, err := b.EditMessageText(t.Context(), &tgbot.EditMessageTextParams{ChatID: u.ID, MessageID: m.ID, Text: "x"}); err == nil || !strings.Contains(err.Error(), "no text in the message") {
		t.Errorf("editMessageText on a photo: %v", err)
	}
}

// getUpdates long-polls: it waits until an update arrives (not the whole
// timeout), and an offset acknowledges everything before it.
func TestLongPoll(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.Options{})
	u := s.NewUser("Lu", "en")
	poll := func(offset int64, timeout int) []map[string]any {
		form := url.Values{"offset": {itoa(offset)}, "timeout": {itoa(int64(timeout))}}
		resp, err := http.PostForm(s.URL()+"/bot"+s.Token()+"/getUpdates", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			OK     bool
			Result []map[string]any
		}
		json.NewDecoder(resp.Body).Decode(&r)
		if !r.OK {
			t.Fatalf("getUpdates answered %d", resp.StatusCode)
		}
		return r.Result
	}
	var got []map[string]any
	var wg sync.WaitGroup
	wg.Go(func() { got = poll(0, 30) })
	// A message ends the 30-second poll early.
	u.Send(u.Chat(), "hello")
	wg.Wait()
	if len(got) == 0 {
		t.Fatal("no update")
	}
	id := int64(got[0]["update_id"].(float64))
	if again := poll(id, 0); len(again) == 0 {
		t.Error("offset = id must still return the update")
	}
	if rest := poll(id+1, 0); len(rest) != 0 {
		t.Errorf("offset id+1 returned %d updates: they were acknowledged", len(rest))
	}
	if s.Pending() != 0 {
		t.Errorf("%d updates pending after acknowledgement", s.Pending())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// With a webhook set, getUpdates is refused with 409 and updates are posted
// to the webhook with the secret token.
func TestWebhookDelivery(t *testing.T) {
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case got <- r:
			bodies <- b
		default:
		}
	}))
	defer hook.Close()
	s := telegramtest.NewServer(t, telegramtest.Options{WebhookClient: hook.Client()})
	b := newBot(t, s)
	// Telegram refuses plain http:// (only a self-hosted server in --local
	// mode takes it).
	plain := "http://" + strings.TrimPrefix(hook.URL, "https://")
	if _, err := b.SetWebhook(t.Context(), &tgbot.SetWebhookParams{URL: plain}); err == nil || !strings.Contains(err.Error(), "An HTTPS URL must be provided") {
		t.Errorf("setWebhook with an http:// URL: %v", err)
	}
	local := newBot(t, telegramtest.NewServer(t, telegramtest.Options{LocalMode: true}))
	if _, err := local.SetWebhook(t.Context(), &tgbot.SetWebhookParams{URL: plain}); err != nil {
		t.Errorf("setWebhook with an http:// URL in --local mode: %v", err)
	}
	if _, err := b.SetWebhook(t.Context(), &tgbot.SetWebhookParams{URL: hook.URL, SecretToken: "s3cret_-"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetWebhook(t.Context(), &tgbot.SetWebhookParams{URL: hook.URL, SecretToken: "bad secret!"}); err == nil {
		t.Error("a secret with spaces was accepted")
	}
	info, err := b.GetWebhookInfo(t.Context())
	if err != nil || info.URL != hook.URL {
		t.Fatalf("getWebhookInfo: %+v %v", info, err)
	}
	resp, err := http.Post(s.URL()+"/bot"+s.Token()+"/getUpdates", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("getUpdates with a webhook: %d, want 409", resp.StatusCode)
	}
	u := s.NewUser("Wes", "en")
	u.Send(u.Chat(), "/start")
	select {
	case r := <-got:
		if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != "s3cret_-" {
			t.Errorf("webhook secret header %q", r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		}
		var upd models.Update
		if err := json.Unmarshal(<-bodies, &upd); err != nil || upd.Message == nil || upd.Message.Text != "/start" {
			t.Errorf("webhook update %+v (%v)", upd, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery")
	}
	if _, err := b.DeleteWebhook(context.Background(), &tgbot.DeleteWebhookParams{}); err != nil {
		t.Fatal(err)
	}
}

// The scripted user taps buttons by label and waits for the bot's answer.
func TestScriptedUser(t *testing.T) {
	s := telegramtest.NewServer(t, telegramtest.Options{WaitTimeout: 5 * time.Second})
	b := newBot(t, s, tgbot.WithDefaultHandler(func(ctx context.Context, b *tgbot.Bot, u *models.Update) {
		switch {
		case u.Message != nil:
			b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "pick",
				ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Yes please", CallbackData: "y"}}}}})
		case u.CallbackQuery != nil:
			b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID, Text: "ok"})
			msg := u.CallbackQuery.Message.Message
			b.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: msg.Chat.ID, MessageID: msg.ID, Text: "chose " + u.CallbackQuery.Data})
		}
	}))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { b.Start(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	u := s.NewUser("Sam", "en")
	d := u.In(u.Chat())
	d.Say("hi")
	if m, err := d.Await("pick"); err != nil || m.Labels()[0] != "Yes please" {
		t.Fatalf("%+v %v", m, err)
	}
	ans, err := d.Tap("Yes")
	if err != nil || ans.Text != "ok" {
		t.Fatalf("tap: %+v %v", ans, err)
	}
	if m, err := d.Await("chose y"); err != nil || len(m.Buttons) != 0 {
		t.Errorf("edit: %+v %v (an edit without reply_markup drops the keyboard)", m, err)
	}
}
