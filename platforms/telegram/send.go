package telegram

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram/format"
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
			if a.pace != nil {
				leaveBusy(ctx)
			}
			if err := a.pace.wait(ctx, chat, classOf(ctx, chat)); err != nil {
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
			// The wait is the chat's (or, for a call to no chat, the bot's),
			// not this caller's: the other senders wait it out too, rather
			// than each earning a 429 of its own.
			a.pace.block(chat, after)
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

func (a *Adapter) sendText(ctx context.Context, chat int64, html string, kb *format.InlineKeyboard, reply *models.ReplyParameters) (int, error) {
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

// sendPhoto sends an image and returns the message's id and the image's
// file id.
func (a *Adapter) sendPhoto(ctx context.Context, chat int64, png []byte, caption string, kb *format.InlineKeyboard) (int, string, error) {
	var id int
	var file string
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
			if len(m.Photo) > 0 {
				file = m.Photo[len(m.Photo)-1].FileID
			}
		}
		return err
	})
	return id, file, err
}

// msgRef is what Send returns and Edit and Delete take, as text:
//
//	"12"          message 12 (a reference stored by an older version: a
//	              text or a photo, we do not know which)
//	"12:F"        message 12, a photo showing the image with file id F, so
//	              that an edit can keep the image without asking
//	"12/11:F"     message 12, a text, below photo 11 (file id F) sent with
//	              it because the text did not fit a caption: an edit must
//	              reach the photo too, or its payment QR would outlive the
//	              payment
type msgRef struct {
	msg   int    // the message carrying the text and buttons
	file  string // msg's image, when msg is a photo; else photo's
	photo int    // the photo sent above msg, for a split send
}

func (r msgRef) String() string {
	s := strconv.Itoa(r.msg)
	if r.photo > 0 {
		s += "/" + strconv.Itoa(r.photo)
	}
	if r.file != "" {
		s += ":" + r.file
	}
	return s
}

func photoRef(msg int, file string) string { return msgRef{msg: msg, file: file}.String() }

func parseRef(ref string) (msgRef, error) {
	ids, file, _ := strings.Cut(ref, ":")
	id, photo, split := strings.Cut(ids, "/")
	r := msgRef{file: file}
	var err error
	r.msg, err = strconv.Atoi(id)
	if err == nil && split {
		r.photo, err = strconv.Atoi(photo)
		if r.photo <= 0 {
			err = errors.New("bad photo id")
		}
	}
	if err != nil || r.msg <= 0 {
		return msgRef{}, fmt.Errorf("telegram: bad message ref %q", ref)
	}
	return r, nil
}

// editText replaces a text message; "not modified" is a success.
func (a *Adapter) editText(ctx context.Context, chat int64, msg int, html string, kb *format.InlineKeyboard) error {
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

// editCaption replaces a photo's caption and returns the message as edited;
// "not modified" is a success, with a nil message.
func (a *Adapter) editCaption(ctx context.Context, chat int64, msg int, html string, kb *format.InlineKeyboard) (*models.Message, error) {
	p := &tgbot.EditMessageCaptionParams{ChatID: chat, MessageID: msg, Caption: html, ParseMode: models.ParseModeHTML}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	var edited *models.Message
	err := a.retry(ctx, "editMessageCaption", chat, true, func(ctx context.Context) error {
		m, err := a.lib.EditMessageCaption(ctx, p)
		if err == nil {
			edited = m
		}
		return err
	})
	if isBadRequest(err, "message is not modified") {
		return nil, nil
	}
	return edited, err
}

// editPhoto replaces a message's image with media (an upload from png, or a
// file already on Telegram's servers); a text message gets the image added.
// It returns the file id of the image shown; "not modified" is a success,
// with no file id.
func (a *Adapter) editPhoto(ctx context.Context, chat int64, msg int, png []byte, fileID string, spoiler bool, html string, kb *format.InlineKeyboard) (string, error) {
	var file string
	err := a.retry(ctx, "editMessageMedia", chat, true, func(ctx context.Context) error {
		media := &models.InputMediaPhoto{Media: fileID, Caption: html, HasSpoiler: spoiler}
		if png != nil {
			media.Media, media.MediaAttachment = "attach://qr.png", bytes.NewReader(png)
		}
		if html != "" {
			media.ParseMode = models.ParseModeHTML
		}
		p := &tgbot.EditMessageMediaParams{ChatID: chat, MessageID: msg, Media: media}
		if kb != nil {
			p.ReplyMarkup = kb
		}
		m, err := a.lib.EditMessageMedia(ctx, p)
		if err == nil && m != nil && len(m.Photo) > 0 {
			file = m.Photo[len(m.Photo)-1].FileID
		}
		return err
	})
	if isBadRequest(err, "message is not modified") {
		return "", nil
	}
	return file, err
}

// rendered is a reply laid out for Telegram.
type rendered struct {
	chunks [][]conversation.Span
	html   []string
	kb     *format.InlineKeyboard
}

func (a *Adapter) render(r conversation.Reply) rendered {
	out := rendered{chunks: format.Split(r.Text, format.MaxText), kb: format.Keyboard(r.Options, &a.tokens)}
	if len(out.chunks) == 0 && out.kb != nil {
		// A keyboard needs a message to hang on.
		out.chunks = [][]conversation.Span{{{Text: "…"}}}
	}
	for _, c := range out.chunks {
		out.html = append(out.html, format.HTML(c, r.Secret))
	}
	return out
}

// Send shows a reply in a private chat and returns the reference of the
// message carrying its buttons (the last one), and of the photo above it
// when the image went alone. A menu that answers a button
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
		// what came before it stays in the history, in order. A text stays
		// a text; a photo (the invoice, refreshed) takes the new image, so
		// that no older copy of it is left showing a QR and buttons — and
		// with a text too long for its caption, the image alone, the text
		// following as messages of its own.
		if first && r.Menu && p.photo && png != nil && (len(out.html) != 1 || format.PlainLen(out.chunks[0]) > format.MaxCaption) && len(out.html) > 0 {
			file, err := a.editPhoto(ctx, chat, p.msg, png, "", false, "", nil)
			if err == nil {
				return a.sendTexts(ctx, chat, out, msgRef{msg: p.msg, file: cmp.Or(file, p.file)}, true)
			}
			if stop := a.editFailed(ctx, chat, err); stop {
				return "", err
			}
		} else if first && r.Menu && len(out.html) == 1 && (png == nil) == !p.photo && (png == nil || format.PlainLen(out.chunks[0]) <= format.MaxCaption) {
			var ref string
			if png == nil {
				err = a.editText(ctx, chat, p.msg, out.html[0], out.kb)
				ref = strconv.Itoa(p.msg)
			} else {
				var file string
				file, err = a.editPhoto(ctx, chat, p.msg, png, "", false, out.html[0], out.kb)
				ref = photoRef(p.msg, cmp.Or(file, p.file))
			}
			if err == nil {
				return ref, nil
			}
			if stop := a.editFailed(ctx, chat, err); stop {
				return "", err
			}
		}
	}

	var ref msgRef
	html := out.html
	if png != nil {
		caption := ""
		var kb *format.InlineKeyboard
		if len(out.chunks) == 1 && format.PlainLen(out.chunks[0]) <= format.MaxCaption {
			caption, kb, html = out.html[0], out.kb, nil
		} else if len(out.chunks) == 0 {
			kb = out.kb
		}
		if ref.msg, ref.file, err = a.sendPhoto(ctx, chat, png, caption, kb); err != nil {
			return "", err
		}
		if len(html) > 0 {
			return a.sendTexts(ctx, chat, out, ref, true)
		}
		return ref.String(), nil
	}
	return a.sendTexts(ctx, chat, out, ref, false)
}

// Hold shows notice where the code message r will go (bot.Holder), laid
// out as Send would lay out r, so that Edit turns it into r in place: a
// text message for a text; for an image, a photo showing a plain
// placeholder image with notice as its caption, or — when r's text is too
// long for a caption — that photo alone and notice below it. A text longer
// than one message cannot be one edit: bot.ErrCannotHold.
func (a *Adapter) Hold(ctx context.Context, to conversation.Address, notice, r conversation.Reply, png []byte) (string, error) {
	chat, err := chatID(to)
	if err != nil {
		return "", err
	}
	out, note := a.render(r), a.render(notice)
	if len(out.html) != 1 || len(note.html) != 1 {
		return "", bot.ErrCannotHold
	}
	if p, _ := ctx.Value(callbackKey{}).(*pressed); p != nil && p.chat == chat {
		// As a Send would: what answers a press after this stays below it.
		p.mu.Lock()
		p.used = true
		p.mu.Unlock()
	}
	var ref msgRef
	switch {
	case png == nil:
		ref.msg, err = a.sendText(ctx, chat, note.html[0], nil, nil)
	case format.PlainLen(out.chunks[0]) <= format.MaxCaption:
		ref.msg, ref.file, err = a.sendPhoto(ctx, chat, placeholderPNG(), note.html[0], nil)
	default:
		if ref.photo, ref.file, err = a.sendPhoto(ctx, chat, placeholderPNG(), "", nil); err == nil {
			ref.msg, err = a.sendText(ctx, chat, note.html[0], nil, nil)
		}
	}
	if err != nil {
		return "", err
	}
	return ref.String(), nil
}

// placeholderPNG is the image a held photo shows until the code's own (a
// QR code, a barcode) replaces it: a plain light square, which says
// nothing and gives nothing away.
var placeholderPNG = sync.OnceValue(func() []byte {
	img := image.NewGray(image.Rect(0, 0, 256, 256))
	for i := range img.Pix {
		img.Pix[i] = 0xee
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
})

// editFailed tells whether a failed edit in place ends the send (the user
// unreachable, a 429, the context over) rather than falling back to a new
// message.
func (a *Adapter) editFailed(ctx context.Context, chat int64, err error) (stop bool) {
	var rl *RateLimitedError
	if isUnreachable(err) || ctx.Err() != nil || errors.As(err, &rl) {
		return true
	}
	// Too old, deleted or otherwise not editable: a new message.
	a.log.Debug("edit in place failed, sending anew", "chat", chat, "err", err)
	return false
}

// sendTexts sends the reply's text, the buttons on the last part, and
// returns the reference to that part; below a photo (ref, photo true) the
// reference names the photo too.
func (a *Adapter) sendTexts(ctx context.Context, chat int64, out rendered, ref msgRef, photo bool) (string, error) {
	if photo {
		ref.photo = ref.msg
	}
	html := out.html
	for i, h := range html {
		var kb *format.InlineKeyboard
		if i == len(html)-1 {
			kb = out.kb
		}
		id, err := a.sendText(ctx, chat, h, kb, nil)
		if err != nil {
			return "", err
		}
		ref.msg = id
	}
	return ref.String(), nil
}

// Edit replaces a message sent before (ref from Send): the invoice turning
// into "payment seen", "confirmed" and the receipt. A reply with png gets
// that image (a text message gets it added) and its text as caption. A
// photo edited with a reply without one keeps its image — Telegram cannot
// turn a photo into a text message — with the new text as caption, and the
// image goes under a spoiler: it was the old content's (the invoice's
// payment QR) and must not look current. That is one call when the ref
// names the image, two for a bare message id. A photo sent above a text
// that did not fit its caption (a split ref) keeps the image alone: the
// new one, or the old one hidden, and the text message takes the text.
//
// A reply that cannot be shown by the edit is refused, so that the shell
// sends it anew; a photo is hidden first — under a spoiler, without caption
// or buttons — so that it never keeps offering a payment that is over.
func (a *Adapter) Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error {
	chat, err := chatID(to)
	if err != nil {
		return err
	}
	rf, err := parseRef(ref)
	if err != nil {
		return err
	}
	out := a.render(r)
	if rf.photo > 0 {
		return a.editSplit(ctx, chat, rf, out, png)
	}
	msg, file := rf.msg, rf.file
	if len(out.html) != 1 {
		return a.refuse(ctx, chat, rf, "the reply does not fit one message")
	}
	html, fitsCaption := out.html[0], format.PlainLen(out.chunks[0]) <= format.MaxCaption
	if png != nil {
		if !fitsCaption {
			return a.refuse(ctx, chat, rf, "the text is too long for a caption")
		}
		_, err := a.editPhoto(ctx, chat, msg, png, "", false, html, out.kb)
		return err
	}
	if file == "" {
		err = a.editText(ctx, chat, msg, html, out.kb)
		if !isBadRequest(err, "there is no text in the message to edit") {
			return err
		}
	}
	if !fitsCaption {
		return a.refuse(ctx, chat, rf, "the text is too long for a caption")
	}
	if file != "" {
		_, err := a.editPhoto(ctx, chat, msg, nil, file, true, html, out.kb)
		if !isBadRequest(err, "file identifier") {
			return err
		}
		// The file id is no good (another bot's, say): as for a bare id.
	}
	// A photo known by its message id only: caption first, then the image.
	m, err := a.editCaption(ctx, chat, msg, html, out.kb)
	if err != nil || m == nil || len(m.Photo) == 0 || m.HasMediaSpoiler {
		return err
	}
	// The text is shown; hiding the old image is a courtesy on top, so its
	// failure is not the edit's.
	if _, err := a.editPhoto(ctx, chat, msg, nil, m.Photo[len(m.Photo)-1].FileID, true, html, out.kb); err != nil {
		a.log.Info("could not hide the image of an edited photo", "chat", chat, "err", err)
	}
	return nil
}

// editSplit edits a photo sent above a text message: the photo takes the
// new image, or has its old one hidden, and the text message the text and
// the buttons.
func (a *Adapter) editSplit(ctx context.Context, chat int64, rf msgRef, out rendered, png []byte) error {
	if png != nil && len(out.html) == 1 {
		// The new image alone, as Send would show it with this text.
		if _, err := a.editPhoto(ctx, chat, rf.photo, png, "", false, "", nil); err != nil {
			return err
		}
	} else if err := a.hide(ctx, chat, rf.photo, rf.file); err != nil && !isBadRequest(err, "message to edit not found") {
		// (A photo that is gone shows nothing any more.)
		return err
	}
	if len(out.html) != 1 {
		return errors.New("telegram: edit: the reply does not fit one message")
	}
	return a.editText(ctx, chat, rf.msg, out.html[0], out.kb)
}

// refuse turns down an edit the message cannot show, after hiding its
// image if it is a photo: the shell then sends the reply anew, and the old
// photo must not be left with a live payment QR and its buttons. A failure
// to hide that should be retried (the user unreachable, a 429) is returned
// instead, so that the shell tries the whole edit again later.
func (a *Adapter) refuse(ctx context.Context, chat int64, rf msgRef, why string) error {
	err := a.hide(ctx, chat, rf.msg, rf.file)
	var rl *RateLimitedError
	if isUnreachable(err) || errors.As(err, &rl) || ctx.Err() != nil {
		return err
	}
	if err != nil {
		a.log.Info("could not hide the image of a photo", "chat", chat, "err", err)
	}
	return errors.New("telegram: edit: " + why)
}

// hide puts a photo's image under a spoiler, without caption or buttons.
// file is the image's id; without it (or with a stale one) the image is
// learnt from a caption edit. A message that is not a photo is left alone.
func (a *Adapter) hide(ctx context.Context, chat int64, msg int, file string) error {
	if file != "" {
		_, err := a.editPhoto(ctx, chat, msg, nil, file, true, "", nil)
		if !isBadRequest(err, "file identifier") {
			return err
		}
	}
	m, err := a.editCaption(ctx, chat, msg, "", nil)
	switch {
	case isBadRequest(err, "there is no caption in the message to edit"):
		return nil // a text message: no image to hide
	case err != nil:
		return err
	case m == nil:
		// "Not modified": already without caption and buttons, which is
		// how hide leaves a photo; the image cannot be learnt this way.
		return nil
	case len(m.Photo) == 0 || m.HasMediaSpoiler:
		return nil
	}
	_, err = a.editPhoto(ctx, chat, msg, nil, m.Photo[len(m.Photo)-1].FileID, true, "", nil)
	return err
}

// Delete removes a message sent before; one already gone counts as deleted.
func (a *Adapter) Delete(ctx context.Context, to conversation.Address, ref string) error {
	chat, err := chatID(to)
	if err != nil {
		return err
	}
	rf, err := parseRef(ref)
	if err != nil {
		return err
	}
	// A split send is deleted whole: its image (an eSIM's QR, say) belongs
	// to the text being removed.
	for _, msg := range []int{rf.photo, rf.msg} {
		if msg == 0 {
			continue
		}
		err = a.retry(ctx, "deleteMessage", chat, false, func(ctx context.Context) error {
			_, err := a.lib.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: chat, MessageID: msg})
			return err
		})
		if err != nil && !isBadRequest(err, "message to delete not found") {
			return err
		}
	}
	return nil
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
		var head struct {
			ID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(body, &head); err != nil {
			// Telegram would retry a bad update forever: acknowledge it.
			a.log.Warn("webhook: undecodable update", "err", err)
			return
		}
		// Telegram is told the update was received (200) only once it is
		// stored: a crash from now on does not lose it. Updates stored
		// before Run or while it stops are handled by the next run.
		a.resuming.RLock()
		defer a.resuming.RUnlock()
		fresh, err := a.inbox.PutUpdates(inboxPlatform, []bot.InboxUpdate{{ID: head.ID, Raw: body}})
		if err != nil {
			a.log.Warn("webhook: could not store the update; Telegram will send it again", "update_id", head.ID, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		a.mu.Lock()
		live := a.resumed && !a.stopping
		a.mu.Unlock()
		if live {
			for _, u := range fresh {
				a.dispatch(u)
			}
		}
	})
}
