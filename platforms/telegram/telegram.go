package telegram

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
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

// Platform is the platform name used in session keys and addresses.
const Platform = "telegram"

// DefaultAPIURL is the public Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// WebhookPath is where the bot's HTTP server should mount WebhookHandler.
const WebhookPath = "/telegram/webhook"

// Options configures an Adapter. Token is required.
type Options struct {
	Token  string
	APIURL string // default DefaultAPIURL
	// WebhookURL, when set, selects webhook mode: Run registers it with
	// setWebhook and updates arrive through WebhookHandler. Otherwise Run
	// long-polls getUpdates.
	WebhookURL string
	// HTTPClient makes the Bot API calls; its Timeout must exceed PollTimeout.
	// Default: a client with a timeout of PollTimeout + 15s.
	HTTPClient *http.Client
	// PollTimeout is how long one getUpdates call may wait; default 50s.
	PollTimeout time.Duration
	Logger      *slog.Logger
	// Pacing of outbound messages; zero fields get the Default* limits.
	// NoPacing turns pacing off (benchmarks against the fake server).
	PerChat, Global, Group Limit
	NoPacing               bool
	// Retries is how many times a call answered 429, 5xx or with a network
	// error is tried again (default 3). MaxRetryWait is the longest
	// retry_after honoured before giving up (default 60s).
	Retries      int
	MaxRetryWait time.Duration
	// ShutdownGrace is how long events being handled may go on after Run's
	// context ends (default 5s).
	ShutdownGrace time.Duration
	// MaxBusy bounds the updates handled at once across chats (see
	// busyGate); 0, the default, for no bound.
	MaxBusy int
	// Inbox keeps the updates received until they are handled (the store,
	// in production); default NewMemoryInbox(), which loses those not yet
	// handled with the process.
	Inbox bot.Inbox
}

// Adapter is the Telegram platform. Send, Edit and Delete are safe for
// concurrent use; Run is called once.
type Adapter struct {
	opts     Options
	log      *slog.Logger
	lib      *tgbot.Bot
	username string
	botID    int64
	secret   string // webhook secret token; "" in polling mode
	pace     *pacer
	tokens   format.Tokens
	busy     *busyGate

	inbox bot.Inbox
	// resuming is held by Run while it queues the updates an earlier run
	// left in the inbox, and read-held by each webhook request storing its
	// update: an update is queued either by Run's resume or by its own
	// request, never by both, nor by neither.
	resuming sync.RWMutex

	mu       sync.Mutex
	handle   func(context.Context, bot.Incoming)
	workCtx  context.Context
	queues   map[int64]*chatQueue
	stopping bool
	resumed  bool // Run has queued the inbox's pending updates
	// open holds the updates queued or being handled, so that none is
	// queued twice.
	open map[int64]struct{}
	// next is the getUpdates offset: one past the highest update stored in
	// the inbox, which confirms to Telegram every update before it.
	next int64
	wg   sync.WaitGroup // chat workers and callback answers
}

type chatQueue struct {
	id    int64
	items []*models.Update
}

// ErrUnauthorized is wrapped by New's error when Telegram refuses the token.
var ErrUnauthorized = errors.New("telegram: the bot token was refused (401 Unauthorized)")

// New checks the token with getMe and returns an adapter ready to Run.
func New(ctx context.Context, opts Options) (*Adapter, error) {
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("telegram: no bot token")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	opts.APIURL = strings.TrimRight(opts.APIURL, "/")
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = 50 * time.Second
	}
	if opts.PollTimeout < 2*time.Second {
		opts.PollTimeout = 2 * time.Second // the library asks for PollTimeout-1s, in whole seconds
	}
	if opts.HTTPClient == nil {
		const maxConns = 24
		// Chats are served in parallel: keep enough idle connections to the
		// Bot API for them, rather than net/http's default of two per host,
		// which makes busy senders dial a new connection for most calls.
		//
		// And no more connections than that: under a rush each open one
		// holds two goroutines and their buffers (with 200 buyers at once,
		// 90 connections and 2 MB), while two cores gain nothing from more
		// than a few dozen calls on the wire at once. A call beyond the
		// bound waits for the next free connection. (Telegram's own server
		// speaks HTTP/2: one connection carries every call.)
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = maxConns
		tr.MaxConnsPerHost = maxConns
		opts.HTTPClient = &http.Client{Timeout: opts.PollTimeout + 15*time.Second, Transport: tr}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PerChat == (Limit{}) {
		opts.PerChat = DefaultPerChat
	}
	if opts.Global == (Limit{}) {
		opts.Global = DefaultGlobal
	}
	if opts.Group == (Limit{}) {
		opts.Group = DefaultGroup
	}
	if opts.Retries <= 0 {
		opts.Retries = 3
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = time.Minute
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 5 * time.Second
	}
	if err := checkWebhookURL(opts.WebhookURL, opts.APIURL); err != nil {
		return nil, err
	}
	a := &Adapter{opts: opts, log: opts.Logger.With("component", "telegram"), queues: map[int64]*chatQueue{},
		open: map[int64]struct{}{}, inbox: opts.Inbox, busy: newBusyGate(opts.MaxBusy, busyLease)}
	if a.inbox == nil {
		a.inbox = NewMemoryInbox()
	}
	if !opts.NoPacing {
		a.pace = newPacer(opts.PerChat, opts.Global, opts.Group)
	}
	if opts.WebhookURL != "" {
		var raw [32]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, err
		}
		a.secret = base64.RawURLEncoding.EncodeToString(raw[:])
	}
	lib, err := tgbot.New(opts.Token,
		tgbot.WithServerURL(opts.APIURL),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(opts.PollTimeout, statusClient{opts.HTTPClient}),
		tgbot.WithErrorsHandler(func(err error) { a.log.Warn("bot api", "err", a.redact(err)) }),
		tgbot.WithDefaultHandler(func(_ context.Context, _ *tgbot.Bot, u *models.Update) { a.enqueue(u) }),
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithWorkers(1),
		tgbot.WithAllowedUpdates(tgbot.AllowedUpdates{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", a.redact(err))
	}
	a.lib = lib
	me, err := lib.GetMe(ctx)
	switch {
	case errors.Is(err, tgbot.ErrorUnauthorized):
		return nil, ErrUnauthorized
	case err != nil:
		return nil, fmt.Errorf("telegram: cannot use the Bot API at %s: %w", opts.APIURL, a.redact(err))
	case me.Username == "":
		return nil, errors.New("telegram: getMe returned a bot without a username")
	}
	a.username, a.botID = me.Username, me.ID
	return a, nil
}

// errHTTPSWebhook is Telegram's rule, in the words of our errors.
const errHTTPSWebhook = "Telegram accepts only an https:// webhook URL (a self-hosted Bot API server in --local mode also takes http://)"

// checkWebhookURL refuses, before any call, a webhook URL Telegram would
// refuse at setWebhook: not an absolute URL, or plain http:// with
// Telegram's own servers.
func checkWebhookURL(hook, api string) error {
	if hook == "" {
		return nil
	}
	u, err := url.Parse(hook)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("telegram: webhook URL %q is not an https:// URL: %s", hook, errHTTPSWebhook)
	}
	if u.Scheme != "https" && api == DefaultAPIURL {
		return fmt.Errorf("telegram: webhook URL %q: %s", hook, errHTTPSWebhook)
	}
	return nil
}

// Username is the bot's username, without "@".
func (a *Adapter) Username() string { return a.username }

// redact removes the token from an error text: it is part of every Bot API URL.
func (a *Adapter) redact(err error) error {
	if err == nil || a.opts.Token == "" || !strings.Contains(err.Error(), a.opts.Token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), a.opts.Token, "<token>"))
}

// UseWebhookSecret replaces webhook mode's random secret token with s, for
// replicas of one bot that must all accept the token the last setWebhook
// registered. Call it before Run and before serving WebhookHandler; it does
// nothing in polling mode or with an empty s.
func (a *Adapter) UseWebhookSecret(s string) {
	if a.secret != "" && s != "" {
		a.secret = s
	}
}

// Run registers the command menus, hands over the updates an earlier run
// left in the inbox, then receives updates (long polling, or the webhook)
// and hands each to handle, one at a time per chat, until ctx ends. Every
// update is stored in the inbox before Telegram is told it was received,
// and marked done there once handled. Events received get ShutdownGrace to
// finish after ctx ends (after it their Bot API calls fail fast, and events
// still queued are not handed over): those not handled stay in the inbox
// for the next run. It returns nil after a clean shutdown.
func (a *Adapter) Run(ctx context.Context, handle func(context.Context, bot.Incoming)) error {
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(a.opts.ShutdownGrace, cancelWork) })
	defer stopGrace()

	a.mu.Lock()
	a.handle, a.workCtx, a.stopping = handle, workCtx, false
	a.mu.Unlock()

	a.setCommands(ctx)
	if err := a.resume(); err != nil {
		return err
	}
	if a.secret != "" {
		_, err := a.lib.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL:            a.opts.WebhookURL,
			SecretToken:    a.secret,
			AllowedUpdates: []string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery},
		})
		if err != nil && ctx.Err() != nil {
			return nil // stopped while starting: a clean shutdown
		}
		if isBadRequest(err, "HTTPS URL must be provided") {
			return fmt.Errorf("telegram: setWebhook %q refused: %s", a.opts.WebhookURL, errHTTPSWebhook)
		}
		if err != nil {
			return fmt.Errorf("telegram: setWebhook: %w", a.redact(err))
		}
		a.log.Info("receiving updates by webhook", "url", a.opts.WebhookURL)
		<-ctx.Done()
	} else {
		// A webhook left by an earlier run would make every getUpdates fail.
		if _, err := a.lib.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
			a.log.Warn("deleteWebhook", "err", a.redact(err))
		}
		a.log.Info("receiving updates by long polling", "bot", a.username)
		a.poll(ctx)
	}
	// Events already received are handled (within the grace period); the
	// rest stay in the inbox for the next run, as do updates stored from
	// now on. The last batch polled is confirmed: it is stored.
	a.mu.Lock()
	a.stopping = true
	next := a.next
	a.mu.Unlock()
	a.wg.Wait()
	if a.secret == "" && next > 0 {
		a.acknowledge(next - 1)
	}
	return nil
}

// resume queues the updates stored and not handled by an earlier run (or
// stored by the webhook before Run started).
func (a *Adapter) resume() error {
	a.resuming.Lock()
	defer a.resuming.Unlock()
	pending, err := a.inbox.PendingUpdates(inboxPlatform)
	if err != nil {
		return fmt.Errorf("telegram: reading the updates left in the inbox: %w", err)
	}
	if len(pending) > 0 {
		a.log.Info("handling updates received before the restart", "updates", len(pending))
	}
	for _, u := range pending {
		a.dispatch(u)
	}
	a.mu.Lock()
	a.resumed = true
	a.mu.Unlock()
	return nil
}

// poll long-polls getUpdates until ctx ends. Each batch is stored in the
// inbox, then confirmed at once by the next call's offset — so one call per
// batch, whatever the handling takes — and then handed over. A batch the
// inbox cannot store is not confirmed: it comes again.
func (a *Adapter) poll(ctx context.Context) {
	var backoff time.Duration
	retry := func(what string, err error) bool {
		backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		a.log.Warn(what, "err", err, "retry_in", backoff)
		return sleep(ctx, backoff) == nil
	}
	for ctx.Err() == nil {
		a.mu.Lock()
		offset := a.next
		a.mu.Unlock()
		raws, err := a.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil || !retry("getUpdates", err) {
				return
			}
			continue
		}
		if len(raws) == 0 {
			backoff = 0
			continue
		}
		batch := make([]bot.InboxUpdate, 0, len(raws))
		last := offset - 1
		for _, raw := range raws {
			var head struct {
				ID int64 `json:"update_id"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				a.log.Warn("getUpdates: update without an id", "err", err)
				continue
			}
			batch = append(batch, bot.InboxUpdate{ID: head.ID, Raw: raw})
			last = max(last, head.ID)
		}
		fresh, err := a.inbox.PutUpdates(inboxPlatform, batch)
		if err != nil {
			if !retry("storing updates in the inbox", err) {
				return
			}
			continue
		}
		backoff = 0
		a.mu.Lock()
		a.next = max(a.next, last+1)
		a.mu.Unlock()
		for _, u := range fresh {
			a.dispatch(u)
		}
	}
}

// getUpdates makes one getUpdates call (the library's poller decodes
// every update into the library's types before we could store it as sent).
func (a *Adapter) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, error) {
	allowed, _ := json.Marshal([]string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery})
	form := url.Values{
		"offset":          {strconv.FormatInt(offset, 10)},
		"timeout":         {strconv.Itoa(int((a.opts.PollTimeout - time.Second) / time.Second))},
		"allowed_updates": {string(allowed)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.opts.APIURL+"/bot"+a.opts.Token+"/getUpdates", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, a.redact(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, a.redact(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		Description string            `json:"description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if !out.OK {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, out.Description)
	}
	return out.Result, nil
}

// acknowledge tells Telegram that every update up to last was received.
// An update is confirmed by the next getUpdates call, which never comes
// after shutdown: without this the last batch would be fetched again after
// a restart (and left out by the inbox, which has seen it).
func (a *Adapter) acknowledge(last int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	form := url.Values{"offset": {strconv.FormatInt(last+1, 10)}, "limit": {"1"}, "timeout": {"0"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.opts.APIURL+"/bot"+a.opts.Token+"/getUpdates", strings.NewReader(form.Encode()))
	if err != nil {
		a.log.Warn("acknowledge updates", "err", a.redact(err))
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.opts.HTTPClient.Do(req)
	if err != nil {
		a.log.Warn("acknowledge updates", "err", a.redact(err))
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// setCommands registers the command menu in every catalogue language, the
// default language for everyone else.
func (a *Adapter) setCommands(ctx context.Context) {
	for i, lang := range conversation.Languages {
		var cmds []models.BotCommand
		for _, c := range conversation.Commands(lang) {
			cmds = append(cmds, models.BotCommand{Command: c.Name, Description: c.Description})
		}
		p := &tgbot.SetMyCommandsParams{Commands: cmds, LanguageCode: lang}
		if i == 0 {
			p.LanguageCode = "" // the default list
		}
		err := a.retry(ctx, "setMyCommands", 0, false, func(ctx context.Context) error {
			_, err := a.lib.SetMyCommands(ctx, p)
			return err
		})
		if err != nil {
			a.log.Warn("setMyCommands", "lang", lang, "err", err)
		}
	}
}

// dispatch decodes a stored update and queues it; one that cannot be
// handled (undecodable, or of a kind we do not serve) is done at once.
func (a *Adapter) dispatch(stored bot.InboxUpdate) {
	u := new(models.Update)
	if err := json.Unmarshal(stored.Raw, u); err != nil {
		a.log.Warn("undecodable update", "update_id", stored.ID, "err", err)
		a.done(stored.ID)
		return
	}
	u.ID = stored.ID
	if queued, ignored := a.enqueue(u); !queued && ignored {
		a.done(stored.ID)
	}
}

// done marks an update handled in the inbox. Should that fail, the update
// is handled again after a restart.
func (a *Adapter) done(id int64) {
	if err := a.inbox.DoneUpdate(inboxPlatform, id); err != nil {
		a.log.Warn("could not mark an update done in the inbox", "update_id", id, "err", err)
	}
}

// enqueue puts an update on its chat's queue and starts the chat's worker
// if it is idle. A callback query is answered here, at once, so the user's
// button stops spinning even while earlier events of the chat are handled.
// It reports whether the update was queued, and if not, whether it is one
// we ignore (rather than one left for the next run, or already queued).
func (a *Adapter) enqueue(u *models.Update) (queued, ignored bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping || a.handle == nil {
		return false, false // stays in the inbox for the next run
	}
	if _, ok := a.open[u.ID]; ok {
		return false, false
	}
	chat, ok := updateChat(u)
	if cq := u.CallbackQuery; cq != nil {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.answer(cq)
		}()
	}
	if !ok {
		return false, true // another kind of update, or an inline-mode message: not ours
	}
	a.open[u.ID] = struct{}{}
	q := a.queues[chat]
	if q == nil {
		q = &chatQueue{id: chat}
		a.queues[chat] = q
		a.wg.Add(1)
		go a.work(q)
	}
	q.items = append(q.items, u)
	return true, false
}

// work drains one chat's queue, then exits.
func (a *Adapter) work(q *chatQueue) {
	defer a.wg.Done()
	for {
		a.mu.Lock()
		if len(q.items) == 0 {
			delete(a.queues, q.id)
			a.mu.Unlock()
			return
		}
		u := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		handle, ctx := a.handle, a.workCtx
		a.mu.Unlock()
		// After the grace period an event is not handed over at all: with
		// its context over it could only be half handled. It stays in the
		// inbox for the next run.
		if ctx.Err() != nil {
			continue
		}
		// The shell marks the update done with the first commit it causes;
		// one that committed nothing is marked here, once handled.
		hctx, handled := bot.WithInboxUpdate(ctx, inboxPlatform, u.ID)
		leave := a.busy.enter(ctx)
		a.process(withBusy(hctx, leave), handle, u)
		leave()
		if ctx.Err() == nil && !handled.Committed() {
			a.done(u.ID)
		}
		a.mu.Lock()
		delete(a.open, u.ID)
		a.mu.Unlock()
	}
}

// callbackKey carries the pressed message from Run to Send through the
// context bot.Handle passes along.
type callbackKey struct{}

type pressed struct {
	chat  int64
	msg   int
	photo bool
	file  string // the photo's file id
	mu    sync.Mutex
	used  bool // the event has had its first reply
}

func (a *Adapter) process(ctx context.Context, handle func(context.Context, bot.Incoming), u *models.Update) {
	if c, ok := updateChat(u); ok {
		ctx = withReplyTo(ctx, c)
	}
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot || m.Text == "" {
			return
		}
		if m.Chat.Type != models.ChatTypePrivate {
			a.group(ctx, m)
			return
		}
		ev := format.Parse(m.Text, a.username)
		if ev == nil {
			return
		}
		handle(ctx, a.incoming(m.From, m.Chat.ID, ev))
	case u.CallbackQuery != nil:
		cq := u.CallbackQuery
		c, ok := callbackChat(cq)
		if !ok || c.Type != models.ChatTypePrivate || cq.Data == "" {
			return // answered in enqueue; nothing else happens in groups
		}
		// A message too old for Telegram to show us (inaccessible) cannot be
		// edited either: its press gets its answers as new messages.
		if msg := cq.Message.Message; msg != nil {
			p := &pressed{chat: c.ID, msg: msg.ID, photo: len(msg.Photo) > 0}
			if p.photo {
				p.file = msg.Photo[len(msg.Photo)-1].FileID
			}
			ctx = context.WithValue(ctx, callbackKey{}, p)
		}
		handle(ctx, a.incoming(&cq.From, c.ID, conversation.Chose{Token: a.tokens.Token(cq.Data)}))
	}
}

// callbackChat is the chat of the message whose button was pressed.
func callbackChat(cq *models.CallbackQuery) (models.Chat, bool) {
	switch {
	case cq.Message.Message != nil:
		return cq.Message.Message.Chat, true
	case cq.Message.InaccessibleMessage != nil:
		return cq.Message.InaccessibleMessage.Chat, true
	}
	return models.Chat{}, false
}

// updateChat is the chat an update belongs to, for the updates we handle.
func updateChat(u *models.Update) (int64, bool) {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID, true
	case u.CallbackQuery != nil:
		c, ok := callbackChat(u.CallbackQuery)
		return c.ID, ok
	}
	return 0, false
}

func (a *Adapter) incoming(from *models.User, chat int64, ev conversation.Event) bot.Incoming {
	return bot.Incoming{
		Key:     conversation.SessionKey{Platform: Platform, User: strconv.FormatInt(from.ID, 10)},
		Address: conversation.Address{Platform: Platform, Chat: strconv.FormatInt(chat, 10), Private: true},
		Event:   ev,
		Locale:  from.LanguageCode,
	}
}

// purchaseCommands are commands the engine knows besides the menu's.
var purchaseCommands = []string{"buy", "phone", "topup", "esim"}

// ourCommand tells whether a command (lower case) is one the bot answers.
func ourCommand(name string) bool {
	if slices.Contains(purchaseCommands, name) {
		return true
	}
	for _, c := range conversation.Commands(conversation.Languages[0]) {
		if c.Name == name {
			return true
		}
	}
	return false
}

var payloadRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// group answers a message in a group: only commands get a reply — addressed
// to this bot, or bare but one of ours (Telegram hands a bot bare commands
// in a group only when they are meant for it: its privacy mode lets
// commands through) — and the reply sends the user to the private chat.
// Nothing from a group reaches the engine.
func (a *Adapter) group(ctx context.Context, m *models.Message) {
	if m.Chat.Type != models.ChatTypeGroup && m.Chat.Type != models.ChatTypeSupergroup {
		return
	}
	name, args, to, ok := format.Command(m.Text, a.username)
	if !ok || (to == "" && !ourCommand(name)) {
		return
	}
	lang := conversation.LangFromLocale(m.From.LanguageCode)
	link := "https://t.me/" + a.username
	if name == "start" && payloadRE.MatchString(args) {
		link += "?start=" + args
	}
	// Probe the private chat: a user who never started the bot cannot be
	// written to there, and is told to open it first.
	text := conversation.Phrase(lang, conversation.UIGoPrivate)
	err := a.retry(ctx, "sendChatAction", 0, false, func(ctx context.Context) error {
		_, err := a.lib.SendChatAction(ctx, &tgbot.SendChatActionParams{ChatID: m.From.ID, Action: models.ChatActionTyping})
		return err
	})
	if isUnreachable(err) {
		text = conversation.Phrase(lang, conversation.UIStartPrivate)
	}
	kb := &format.InlineKeyboard{InlineKeyboard: [][]format.InlineButton{{{Text: format.Label(conversation.Phrase(lang, conversation.UIOpenPrivate)), URL: link}}}}
	_, err = a.sendText(ctx, m.Chat.ID, format.Escape(text), kb, &models.ReplyParameters{MessageID: m.ID, AllowSendingWithoutReply: true})
	if err != nil {
		a.log.Warn("group reply failed", "chat", m.Chat.ID, "err", err)
	}
}

// answer answers a callback query: silently in a private chat (the reply
// follows as a message), with the way to the private chat in a group.
func (a *Adapter) answer(cq *models.CallbackQuery) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p := &tgbot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID}
	if c, ok := callbackChat(cq); ok && c.Type != models.ChatTypePrivate {
		p.Text = conversation.Phrase(conversation.LangFromLocale(cq.From.LanguageCode), conversation.UIGoPrivate)
	}
	err := a.retry(ctx, "answerCallbackQuery", 0, false, func(ctx context.Context) error {
		_, err := a.lib.AnswerCallbackQuery(ctx, p)
		return err
	})
	if err != nil {
		a.log.Warn("answerCallbackQuery", "err", err)
	}
}
