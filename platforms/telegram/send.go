package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"refillbot/conversation"
)

// UnreachableError means the user cannot be written to now: they blocked
// the bot or never started it. The shell keeps the message for later.
type UnreachableError struct {
	Method string
	Reason string // Telegram's description
}

func (e *UnreachableError) Error() string {
	return "telegram: " + e.Method + ": user unreachable: " + e.Reason
}

// Unreachable reports true: the shell's convention for "do not retry soon".
func (e *UnreachableError) Unreachable() bool { return true }

// RateLimitedError is a 429 that was still there after the retries.
type RateLimitedError struct {
	Method string
	After  time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("telegram: %s: too many requests, retry after %v", e.Method, e.After)
}

// RetryAfter is how long Telegram asked us to wait.
func (e *RateLimitedError) RetryAfter() time.Duration { return e.After }

// isUnreachable tells a 403 apart from other failures.
func isUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

func isBadRequest(err error, substr string) bool {
	return err != nil && errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), substr)
}

// statusKey carries a pointer through which statusClient reports the HTTP
// status of a call: the library folds 5xx answers into a plain error.
type statusKey struct{}

// statusClient is the library's HTTP client: it reports the status through
// statusKey, and buffers the request body. The library streams its multipart form
// through a pipe, which net/http sends chunked, one small write per part: a
// dozen syscalls for a message of a few hundred bytes.
type statusClient struct{ c *http.Client }

func (s statusClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.ContentLength <= 0 {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := s.c.Do(r)
	if p, ok := r.Context().Value(statusKey{}).(*int); ok && resp != nil {
		*p = resp.StatusCode
	}
	return resp, err
}

// retry runs one Bot API call, paced when chat is set and paced is true,
// retrying 429 after retry_after and 5xx or network failures after a short
// backoff. Errors come back classified and without the token.
func (a *Adapter) retry(ctx context.Context, name string, chat int64, paced bool, call func(context.Context) error) error {
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if paced {
			if err := a.pace.wait(ctx, chat); err != nil {
				return err
			}
		}
		status := 0
		err := call(context.WithValue(ctx, statusKey{}, &status))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var wait time.Duration
		var tooMany *tgbot.TooManyRequestsError
		switch {
		case errors.As(err, &tooMany):
			after := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
			if attempt >= a.opts.Retries || after > a.opts.MaxRetryWait {
				return &RateLimitedError{Method: name, After: after}
			}
			a.log.Info("rate limited by Telegram, waiting", "chat", chat, "retry_after", after)
			wait = after
		case errors.Is(err, tgbot.ErrorForbidden):
			return &UnreachableError{Method: name, Reason: strings.TrimSpace(strings.TrimPrefix(err.Error(), tgbot.ErrorForbidden.Error()+","))}
		case status >= 500 || (status == 0 && !isAPIError(err)):
			if attempt >= a.opts.Retries {
				return fmt.Errorf("telegram: %s: %w", name, a.redact(err))
			}
			wait = backoff
			backoff *= 2
		default:
			return fmt.Errorf("telegram: %s: %w", name, a.redact(err))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

func isAPIError(err error) bool {
	for _, e := range []error{tgbot.ErrorBadRequest, tgbot.ErrorUnauthorized, tgbot.ErrorNotFound, tgbot.ErrorConflict, tgbot.ErrorForbidden} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func chatID(to conversation.Address) (int64, error) {
	if to.Platform != "" && to.Platform != Platform {
		return 0, fmt.Errorf("telegram: cannot send to platform %q", to.Platform)
	}
	id, err := strconv.ParseInt(to.Chat, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("telegram: bad chat id %q", to.Chat)
	}
	if id < 0 || !to.Private {
		// Engine replies may hold invoices and codes: never in a group.
		return 0, errors.New("telegram: refusing to post an engine reply in a group chat")
	}
	return id, nil
}

var noPreview = &models.LinkPreviewOptions{IsDisabled: tgbot.True()}

func (a *Adapter) sendText(ctx context.Context, chat int64, html string, kb *inlineKeyboard, reply *models.ReplyParameters) (int, error) {
	p := &tgbot.SendMessageParams{ChatID: chat, Text: html, ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview, ReplyParameters: reply}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	var id int
	err := a.retry(ctx, "sendMessage", chat, true, func(ctx context.Context) error {
		m, err := a.lib.SendMessage(ctx, p)
		if err == nil {
			id = m.ID
		}
		return err
	})
	return id, err
}

func (a *Adapter) sendPhoto(ctx context.Context, chat int64, png []byte, caption string, kb *inlineKeyboard) (int, error) {
	var id int
	err := a.retry(ctx, "sendPhoto", chat, true, func(ctx context.Context) error {
		p := &tgbot.SendPhotoParams{ChatID: chat, Photo: &models.InputFileUpload{Filename: "qr.png", Data: bytes.NewReader(png)}, Caption: caption}
		if caption != "" {
			p.ParseMode = models.ParseModeHTML
		}
		if kb != nil {
			p.ReplyMarkup = kb
		}
		m, err := a.lib.SendPhoto(ctx, p)
		if err == nil {
			id = m.ID
		}
		return err
	})
	return id, err
}

// editText replaces a text message; "not modified" is a success.
func (a *Adapter) editText(ctx context.Context, chat int64, msg int, html string, kb *inlineKeyboard) error {
	p := &tgbot.EditMessageTextParams{ChatID: chat, MessageID: msg, Text: html, ParseMode: models.ParseModeHTML, LinkPreviewOptions: noPreview}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	err := a.retry(ctx, "editMessageText", chat, true, func(ctx context.Context) error {
		_, err := a.lib.EditMessageText(ctx, p)
		return err
	})
	if isBadRequest(err, "message is not modified") {
		return nil
	}
	return err
}

func (a *Adapter) editCaption(ctx context.Context, chat int64, msg int, html string, kb *inlineKeyboard) error {
	p := &tgbot.EditMessageCaptionParams{ChatID: chat, MessageID: msg, Caption: html, ParseMode: models.ParseModeHTML}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	err := a.retry(ctx, "editMessageCaption", chat, true, func(ctx context.Context) error {
		_, err := a.lib.EditMessageCaption(ctx, p)
		return err
	})
	if isBadRequest(err, "message is not modified") {
		return nil
	}
	return err
}

// rendered is a reply laid out for Telegram.
type rendered struct {
	chunks [][]conversation.Span
	html   []string
	kb     *inlineKeyboard
}

func (a *Adapter) render(r conversation.Reply) rendered {
	out := rendered{chunks: splitSpans(r.Text, maxText), kb: a.keyboard(r.Options)}
	if len(out.chunks) == 0 && out.kb != nil {
		// A keyboard needs a message to hang on.
		out.chunks = [][]conversation.Span{{{Text: "…"}}}
	}
	for _, c := range out.chunks {
		out.html = append(out.html, renderHTML(c, r.Secret))
	}
	return out
}

// Send shows a reply in a private chat and returns the reference of the
// message carrying its buttons (the last one). A menu that answers a button
// press replaces the pressed message where Telegram can edit it; an image
// goes first, with the text as its caption when it fits.
func (a *Adapter) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	chat, err := chatID(to)
	if err != nil {
		return "", err
	}
	out := a.render(r)

	if p, _ := ctx.Value(callbackKey{}).(*pressed); p != nil && p.chat == chat {
		p.mu.Lock()
		first := !p.used
		p.used = true
		p.mu.Unlock()
		// Only the first reply to a press may replace the pressed message:
		// what came before it stays in the history, in order.
		if first && r.Menu && png == nil && !p.photo && len(out.html) == 1 {
			err := a.editText(ctx, chat, p.msg, out.html[0], out.kb)
			if err == nil {
				return strconv.Itoa(p.msg), nil
			}
			if isUnreachable(err) || ctx.Err() != nil {
				return "", err
			}
			var rl *RateLimitedError
			if errors.As(err, &rl) {
				return "", err
			}
			// Too old, deleted or otherwise not editable: a new message.
			a.log.Debug("edit in place failed, sending anew", "chat", chat, "err", err)
		}
	}

	var ref int
	html := out.html
	if png != nil {
		caption := ""
		var kb *inlineKeyboard
		if len(out.chunks) == 1 && plainLen(out.chunks[0]) <= maxCaption {
			caption, kb, html = out.html[0], out.kb, nil
		} else if len(out.chunks) == 0 {
			kb = out.kb
		}
		if ref, err = a.sendPhoto(ctx, chat, png, caption, kb); err != nil {
			return "", err
		}
	}
	for i, h := range html {
		var kb *inlineKeyboard
		if i == len(html)-1 {
			kb = out.kb
		}
		if ref, err = a.sendText(ctx, chat, h, kb, nil); err != nil {
			return "", err
		}
	}
	return strconv.Itoa(ref), nil
}

// Edit replaces a message sent before (ref from Send). A photo keeps its
// image and gets the new text as caption; an image cannot be added to a
// text message, so a reply with png is refused there.
func (a *Adapter) Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error {
	chat, err := chatID(to)
	if err != nil {
		return err
	}
	msg, err := strconv.Atoi(ref)
	if err != nil {
		return fmt.Errorf("telegram: bad message ref %q", ref)
	}
	out := a.render(r)
	if len(out.html) != 1 {
		return errors.New("telegram: edit: the reply does not fit one message")
	}
	if png == nil {
		err = a.editText(ctx, chat, msg, out.html[0], out.kb)
		if !isBadRequest(err, "there is no text in the message to edit") {
			return err
		}
	}
	if plainLen(out.chunks[0]) > maxCaption {
		return errors.New("telegram: edit: the text is too long for a caption")
	}
	return a.editCaption(ctx, chat, msg, out.html[0], out.kb)
}

// Delete removes a message sent before; one already gone counts as deleted.
func (a *Adapter) Delete(ctx context.Context, to conversation.Address, ref string) error {
	chat, err := chatID(to)
	if err != nil {
		return err
	}
	msg, err := strconv.Atoi(ref)
	if err != nil {
		return fmt.Errorf("telegram: bad message ref %q", ref)
	}
	err = a.retry(ctx, "deleteMessage", chat, false, func(ctx context.Context) error {
		_, err := a.lib.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: chat, MessageID: msg})
		return err
	})
	if isBadRequest(err, "message to delete not found") {
		return nil
	}
	return err
}

// WebhookHandler receives updates in webhook mode. It accepts a request only
// with the secret token registered by setWebhook (compared in constant
// time): the library would merely log a mismatch and go on.
func (a *Adapter) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.secret == "" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(a.secret)) != 1 {
			a.log.Warn("webhook request with a wrong secret token", "remote", r.RemoteAddr)
			http.Error(w, "forbidden", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var u models.Update
		if err := json.Unmarshal(body, &u); err != nil {
			// Telegram would retry a bad update forever: acknowledge it.
			a.log.Warn("webhook: undecodable update", "err", err)
			return
		}
		a.mu.Lock()
		ready := a.handle != nil && !a.stopping
		a.mu.Unlock()
		if !ready {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		a.enqueue(&u)
	})
}
