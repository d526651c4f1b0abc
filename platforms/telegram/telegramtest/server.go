package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"refillbot/platforms/telegram/telegramtest/parsemode"
)

// Options configures a Server. The zero value is ready to use.
type Options struct {
	Token       string // accepted bot token; default DefaultToken
	BotUsername string // default "refill_test_bot"
	BotName     string // default "Refill Test Bot"
	// WaitTimeout bounds every wait of the scripted users; default 10s.
	WaitTimeout time.Duration
	// WebhookConnections is how many updates are posted to a webhook at
	// once (Telegram's max_connections); default 40, Telegram's default.
	// One chat's updates go one at a time, in order.
	WebhookConnections int
	// WebhookClient posts updates to a webhook; default a client with a 5s
	// timeout. A test serving its webhook with httptest.NewTLSServer passes
	// that server's Client(), which trusts its certificate.
	WebhookClient *http.Client
	// LocalMode makes the server behave as a self-hosted Bot API server run
	// with --local, which accepts http:// webhook URLs. Telegram's own
	// servers (the default) refuse them: "An HTTPS URL must be provided".
	LocalMode bool
	// Limits, when set, are the flood limits the server enforces (see
	// TelegramLimits); by default it answers every call at once.
	Limits *Limits
	// CountOnly keeps counts of the calls (CallCounts, Throttled) but not
	// each call (Calls): for long benchmarks.
	CountOnly bool
}

// DefaultToken is the token a Server accepts unless Options.Token is set.
const DefaultToken = "123456789:AAtest-token-for-the-fake-server"

// Button is one inline keyboard button as the bot sent it.
type Button struct {
	Text     string `json:"text"`
	Data     string `json:"callback_data,omitempty"`
	URL      string `json:"url,omitempty"`
	CopyText string `json:"copy_text,omitempty"`
}

// Message is a message as the fake holds it. Text and Caption are the plain
// texts after entity parsing; HTML and CaptionHTML what the bot sent.
type Message struct {
	ID       int
	ChatID   int64
	FromBot  bool
	From     int64 // the user who wrote it, when not the bot
	Text     string
	HTML     string
	Entities []Entity
	Caption  string
	// CaptionHTML is the caption as sent.
	CaptionHTML     string
	CaptionEntities []Entity
	Photo           []byte // the uploaded image, for a photo message
	// Spoiler: the photo is shown blurred until tapped (has_media_spoiler).
	Spoiler   bool
	Buttons   [][]Button
	Date      time.Time
	Edits     int
	Deleted   bool
	Protected bool
}

// Content is the message's text, or its caption for a photo.
func (m Message) Content() string {
	if m.Photo != nil {
		return m.Caption
	}
	return m.Text
}

// Labels lists the labels of the message's buttons, row by row.
func (m Message) Labels() []string {
	var out []string
	for _, row := range m.Buttons {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// Button finds a button by its label: exactly, else the first containing label.
func (m Message) Button(label string) (Button, bool) {
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.Text == label {
				return b, true
			}
		}
	}
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, label) {
				return b, true
			}
		}
	}
	return Button{}, false
}

func (m Message) clone() Message {
	m.Entities = slices.Clone(m.Entities)
	m.CaptionEntities = slices.Clone(m.CaptionEntities)
	m.Buttons = cloneButtons(m.Buttons)
	return m
}

func cloneButtons(b [][]Button) [][]Button {
	if b == nil {
		return nil
	}
	out := make([][]Button, len(b))
	for i, row := range b {
		out[i] = slices.Clone(row)
	}
	return out
}

// EventKind is what happened to a bot message.
type EventKind string

const (
	Sent    EventKind = "sent"
	Edited  EventKind = "edited"
	Deleted EventKind = "deleted"
)

// Event is one change the bot made in a chat, with the message as it was
// right after.
type Event struct {
	Kind    EventKind
	Message Message
	At      time.Time
}

// Call is one Bot API request as the fake received it.
type Call struct {
	Method string // as in the URL, e.g. "sendMessage"
	Params map[string]string
	Files  map[string][]byte
	Chat   int64 // chat_id when it is numeric
	At     time.Time
	Status int    // HTTP status answered
	Error  string // description of an error answer
	// Throttled: answered 429 by the server's own flood limits
	// (Options.Limits), not by an injected fault.
	Throttled bool
}

// Fault makes the next Times calls of Method (case-insensitive; "" for any)
// to Chat (0 for any) fail with Status. For 429 RetryAfter is sent as
// parameters.retry_after; Description defaults to Telegram's wording.
type Fault struct {
	Method      string
	Chat        int64
	Status      int
	RetryAfter  int
	Description string
	Times       int
}

// Answer is a bot's answer to a callback query.
type Answer struct {
	QueryID   string
	Text      string
	ShowAlert bool
	URL       string
}

// Command is one entry of the bot's command menu.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

type chat struct {
	id      int64
	typ     string
	title   string
	user    *User // the other party of a private chat
	nextMsg int
	msgs    map[int]*Message
	log     []Event
	blocked bool
	started bool
	changed chan struct{} // closed and replaced on every bot event in the chat
}

func (c *chat) notify() {
	if c.changed != nil {
		close(c.changed)
	}
	c.changed = make(chan struct{})
}

type pendingUpdate struct {
	id     int64
	chat   int64 // the chat it comes from, 0 if none
	raw    json.RawMessage
	served bool // handed out by getUpdates already
}

// chatOfUpdate is the chat an update comes from: a message's, or the
// pressed message's for a callback query.
func chatOfUpdate(u map[string]any) int64 {
	m, _ := u["message"].(map[string]any)
	if cq, ok := u["callback_query"].(map[string]any); ok {
		m, _ = cq["message"].(map[string]any)
	}
	c, _ := m["chat"].(map[string]any)
	id, _ := c["id"].(int64)
	return id
}

type query struct {
	id       string
	answered bool
	answer   Answer
	done     chan struct{} // closed when answered
}

// Server is a fake Bot API server. Safe for concurrent use.
type Server struct {
	opts Options
	http *httptest.Server

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every change
	closed       bool
	nextUpdate   int64
	pending      []pendingUpdate
	nextUser     int64
	nextGroup    int64
	nextQuery    int
	nextFile     int
	chats        map[int64]*chat
	queries      map[string]*query
	calls        []Call
	counts       map[string]int // calls by method, as in the URL
	throttled    []Call
	flood        *flood
	faults       []*Fault
	commands     map[string][]Command // by scope type + "/" + language code
	webhook      string
	secret       string
	lastHookErr  string
	delivered    int
	redelivered  int
	hookFailures int
	files        map[string][]byte
	stop         chan struct{}
	wg           sync.WaitGroup
}

// New starts a fake server. Close it when done (NewServer does that for a test).
func New(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "refill_test_bot"
	}
	if opts.BotName == "" {
		opts.BotName = "Refill Test Bot"
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 10 * time.Second
	}
	if opts.WebhookConnections <= 0 {
		opts.WebhookConnections = 40
	}
	if opts.WebhookClient == nil {
		opts.WebhookClient = &http.Client{Timeout: 5 * time.Second}
	}
	s := &Server{
		opts:       opts,
		changed:    make(chan struct{}),
		nextUpdate: 700000000,
		nextUser:   100000,
		nextGroup:  -1001000000000,
		chats:      map[int64]*chat{},
		queries:    map[string]*query{},
		commands:   map[string][]Command{},
		files:      map[string][]byte{},
		stop:       make(chan struct{}),
		counts:     map[string]int{},
	}
	if l := opts.Limits; l != nil {
		s.flood = &flood{l: *l, global: newBucket(l.Global), chats: map[int64]*rate.Limiter{}, groups: map[int64]*rate.Limiter{}}
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.wg.Add(1)
	go s.deliverWebhooks()
	return s
}

// NewServer starts a fake server closed when the test ends.
func NewServer(tb testing.TB, opts Options) *Server {
	s := New(opts)
	tb.Cleanup(s.Close)
	return s
}

// URL is the server's base URL, for TELEGRAM_API_URL or tgbot.WithServerURL.
func (s *Server) URL() string { return s.http.URL }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.opts.Token }

// BotUsername is the bot's username, without "@".
func (s *Server) BotUsername() string { return s.opts.BotUsername }

// Close stops the server; pending long polls return at once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stop)
	s.notifyLocked()
	s.mu.Unlock()
	s.http.CloseClientConnections()
	s.http.Close()
	s.wg.Wait()
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// InjectFault adds a fault; faults are used in the order they were added.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Calls returns a copy of every call so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallCounts is how many calls of each method (as in the URL, e.g.
// "sendMessage") the server has answered, errors included.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// Throttled returns every call the server answered 429 because of its own
// flood limits (Options.Limits), oldest first.
func (s *Server) Throttled() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.throttled)
}

func (s *Server) throttle(method string, chat int64) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	after, limited := s.flood.throttle(strings.ToLower(method), chat, time.Now())
	if !limited {
		return nil
	}
	return &apiError{status: 429, desc: fmt.Sprintf("Too Many Requests: retry after %d", after), retryAfter: after}
}

// CallsTo returns the calls of one method (case-insensitive).
func (s *Server) CallsTo(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// AwaitCall waits for a call of method (case-insensitive), the first one
// if there were several, and returns it.
func (s *Server) AwaitCall(method string) (Call, error) {
	deadline := time.NewTimer(s.opts.WaitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for _, c := range s.calls {
			if strings.EqualFold(c.Method, method) {
				s.mu.Unlock()
				return c, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return Call{}, fmt.Errorf("no %s call after %v", method, s.opts.WaitTimeout)
		}
	}
}

// Commands returns the command menu set for a language code ("" for the
// default) in the default scope.
func (s *Server) Commands(lang string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands["default/"+lang])
}

// Webhook returns the webhook URL set, if any.
func (s *Server) Webhook() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

// Redelivered is how many times getUpdates handed out an update it had
// handed out before (not yet confirmed by the offset): a bot that confirms
// what it has received at once causes none.
func (s *Server) Redelivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.redelivered
}

// Pending is how many updates wait for the bot.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// ---- HTTP ----

type apiError struct {
	status     int
	desc       string
	retryAfter int
}

func (e *apiError) Error() string { return e.desc }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: 400, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

var pathRE = regexp.MustCompile(`^/bot([^/]+)/([A-Za-z]+)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeJSON(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	token, method := m[1], m[2]
	params, files, err := readParams(r)
	call := Call{Method: method, Params: params, Files: files, At: time.Now()}
	if id, perr := strconv.ParseInt(params["chat_id"], 10, 64); perr == nil {
		call.Chat = id
	}
	var result any
	var aerr *apiError
	switch {
	case token != s.opts.Token:
		aerr = &apiError{status: 401, desc: "Unauthorized"}
	case err != nil:
		aerr = badRequest("%v", err)
	default:
		if aerr = s.fault(method, call.Chat); aerr == nil {
			if aerr = s.throttle(method, call.Chat); aerr != nil {
				call.Throttled = true
			} else {
				result, aerr = s.dispatch(r.Context(), strings.ToLower(method), params, files)
			}
		}
	}
	call.Status = 200
	if aerr != nil {
		call.Status, call.Error = aerr.status, aerr.desc
	}
	s.mu.Lock()
	if !s.opts.CountOnly {
		s.calls = append(s.calls, call)
	}
	s.counts[method]++
	if call.Throttled {
		s.throttled = append(s.throttled, call)
	}
	s.notifyLocked()
	s.mu.Unlock()
	if aerr != nil {
		body := map[string]any{"ok": false, "error_code": aerr.status, "description": aerr.desc}
		if aerr.retryAfter > 0 {
			body["parameters"] = map[string]any{"retry_after": aerr.retryAfter}
		}
		writeJSON(w, aerr.status, body)
		return
	}
	writeJSON(w, 200, map[string]any{"ok": true, "result": result})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readParams accepts the three encodings the Bot API accepts: query string,
// URL-encoded or multipart form, and JSON.
func readParams(r *http.Request) (map[string]string, map[string][]byte, error) {
	params := map[string]string{}
	files := map[string][]byte{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, files, nil // a call without parameters
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			return nil, nil, err
		}
		for k, v := range r.MultipartForm.Value {
			params[k] = v[0]
		}
		for k, fh := range r.MultipartForm.File {
			f, err := fh[0].Open()
			if err != nil {
				return nil, nil, err
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			files[k] = b
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil && err != io.EOF {
			return nil, nil, err
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				params[k] = str
			} else {
				params[k] = string(v)
			}
		}
	}
	return params, files, nil
}

func (s *Server) fault(method string, chatID int64) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method != "" && !strings.EqualFold(f.Method, method)) || (f.Chat != 0 && f.Chat != chatID) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		e := &apiError{status: f.Status, desc: f.Description, retryAfter: f.RetryAfter}
		if e.desc == "" {
			switch f.Status {
			case 429:
				e.desc = fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter)
			case 403:
				e.desc = "Forbidden: bot was blocked by the user"
			case 400:
				e.desc = "Bad Request"
			default:
				e.desc = "Internal Server Error"
			}
		}
		return e
	}
	return nil
}

func (s *Server) dispatch(ctx context.Context, method string, p map[string]string, files map[string][]byte) (any, *apiError) {
	switch method {
	case "getme":
		return s.me(), nil
	case "getupdates":
		return s.getUpdates(ctx, p)
	case "sendmessage":
		return s.sendMessage(p)
	case "sendphoto":
		return s.sendPhoto(p, files)
	case "editmessagetext":
		return s.editText(p)
	case "editmessagecaption":
		return s.editCaption(p)
	case "editmessagemedia":
		return s.editMedia(p, files)
	case "editmessagereplymarkup":
		return s.editMarkup(p)
	case "deletemessage":
		return s.deleteMessage(p)
	case "answercallbackquery":
		return s.answerCallback(p)
	case "setmycommands":
		return s.setCommands(p)
	case "getmycommands":
		return s.getCommands(p)
	case "setwebhook":
		return s.setWebhook(p)
	case "deletewebhook":
		return s.deleteWebhook(p)
	case "getwebhookinfo":
		return s.webhookInfo(), nil
	case "sendchataction":
		return s.chatAction(p)
	}
	return nil, &apiError{status: 404, desc: "Not Found"}
}

func (s *Server) me() map[string]any {
	return map[string]any{"id": s.botID(), "is_bot": true, "first_name": s.opts.BotName,
		"username": s.opts.BotUsername, "can_join_groups": true, "can_read_all_group_messages": false,
		"supports_inline_queries": false}
}

func (s *Server) botID() int64 {
	id, _ := strconv.ParseInt(strings.SplitN(s.opts.Token, ":", 2)[0], 10, 64)
	return id
}

// ---- updates ----

func (s *Server) pushUpdate(build func(id int64) map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdate++
	id := s.nextUpdate
	u := build(id)
	u["update_id"] = id
	raw, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	s.pending = append(s.pending, pendingUpdate{id: id, chat: chatOfUpdate(u), raw: raw})
	s.notifyLocked()
	return id
}

func (s *Server) getUpdates(ctx context.Context, p map[string]string) (any, *apiError) {
	offset, _ := strconv.ParseInt(p["offset"], 10, 64)
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p["timeout"])
	deadline := time.NewTimer(time.Duration(max(timeout, 0)) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.webhook != "" {
			s.mu.Unlock()
			return nil, &apiError{status: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
		}
		if offset > 0 {
			// Telegram forgets every update below the offset: they are acknowledged.
			i := 0
			for i < len(s.pending) && s.pending[i].id < offset {
				i++
			}
			s.pending = s.pending[i:]
		}
		if len(s.pending) > 0 || timeout <= 0 || s.closed {
			n := min(len(s.pending), limit)
			out := make([]json.RawMessage, n)
			for i := range n {
				out[i] = s.pending[i].raw
				if s.pending[i].served {
					s.redelivered++
				}
				s.pending[i].served = true
			}
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return []json.RawMessage{}, nil
		case <-ctx.Done():
			return []json.RawMessage{}, nil
		}
	}
}

// ---- webhooks ----

func (s *Server) setWebhook(p map[string]string) (any, *apiError) {
	u, err := url.Parse(p["url"])
	if p["url"] != "" && (err != nil || (u.Scheme != "https" && (u.Scheme != "http" || !s.opts.LocalMode)) || u.Host == "") {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	if sec := p["secret_token"]; sec != "" && !regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`).MatchString(sec) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook, s.secret = p["url"], p["secret_token"]
	if p["drop_pending_updates"] == "true" {
		s.pending = nil
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) deleteWebhook(p map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook, s.secret = "", ""
	if p["drop_pending_updates"] == "true" {
		s.pending = nil
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) webhookInfo() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := map[string]any{"url": s.webhook, "has_custom_certificate": false, "pending_update_count": len(s.pending)}
	if s.lastHookErr != "" {
		info["last_error_message"] = s.lastHookErr
		info["last_error_date"] = time.Now().Unix()
	}
	return info
}

// deliverWebhooks posts pending updates while a webhook is set, as
// Telegram does: on up to Options.WebhookConnections connections at once,
// one chat's updates in order (the next only once the one before was
// answered 2xx), a refused one again after a pause.
func (s *Server) deliverWebhooks() {
	defer s.wg.Done()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	sending := map[int64]bool{} // update ids being posted, under s.mu
	busy := map[int64]bool{}    // chats with an update being posted, under s.mu
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		hook, secret, ch := s.webhook, s.secret, s.changed
		var start []pendingUpdate
		if hook != "" {
			held := map[int64]bool{} // chats with an earlier update still to go
			for _, p := range s.pending {
				if len(sending)+len(start) >= s.opts.WebhookConnections {
					break
				}
				if !sending[p.id] && !busy[p.chat] && !held[p.chat] {
					start = append(start, p)
				}
				held[p.chat] = true
			}
			for _, p := range start {
				sending[p.id], busy[p.chat] = true, true
			}
		}
		s.mu.Unlock()
		if len(start) == 0 {
			select {
			case <-ch:
			case <-s.stop:
				return
			}
			continue
		}
		for _, p := range start {
			inflight.Go(func() {
				err := s.postUpdate(hook, secret, p.raw)
				if err != nil {
					s.hookFailed(err.Error())
				}
				s.mu.Lock()
				delete(sending, p.id)
				delete(busy, p.chat)
				if err == nil {
					if i := slices.IndexFunc(s.pending, func(q pendingUpdate) bool { return q.id == p.id }); i >= 0 {
						s.pending = slices.Delete(s.pending, i, i+1)
					}
					s.delivered++
					s.lastHookErr = ""
				}
				s.notifyLocked()
				s.mu.Unlock()
			})
		}
	}
}

// postUpdate posts one update to the webhook; an answer other than 2xx is
// an error.
func (s *Server) postUpdate(hook, secret string, raw []byte) error {
	req, err := http.NewRequest(http.MethodPost, hook, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := s.opts.WebhookClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("Wrong response from the webhook: %s", resp.Status)
	}
	return nil
}

func (s *Server) hookFailed(msg string) {
	s.mu.Lock()
	s.lastHookErr = msg
	s.hookFailures++
	s.notifyLocked()
	s.mu.Unlock()
	select {
	case <-time.After(50 * time.Millisecond):
	case <-s.stop:
	}
}

// WebhookFailures is how many webhook posts failed (no 2xx answer).
func (s *Server) WebhookFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hookFailures
}

// WebhookError is the last delivery error, "" after a success.
func (s *Server) WebhookError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHookErr
}

// ---- messages ----

func (s *Server) chatFor(p map[string]string) (*chat, *apiError) {
	raw := p["chat_id"]
	if raw == "" {
		return nil, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, badRequest("chat not found")
	}
	c := s.chats[id]
	if c == nil {
		return nil, badRequest("chat not found")
	}
	return c, nil
}

func (c *chat) writable() *apiError {
	if c.typ != "private" {
		return nil
	}
	if c.blocked {
		return &apiError{status: 403, desc: "Forbidden: bot was blocked by the user"}
	}
	if !c.started {
		return &apiError{status: 403, desc: "Forbidden: bot can't initiate conversation with a user"}
	}
	return nil
}

// parseText applies parse_mode and Telegram's limits to a text or caption.
func parseText(raw, mode string, caption bool) (string, []Entity, *apiError) {
	text, ents := raw, []Entity(nil)
	switch strings.ToLower(mode) {
	case "":
	case "html":
		var err error
		text, ents, err = parsemode.HTML(raw)
		if err != nil {
			return "", nil, badRequest("%v", err)
		}
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}
	text, ents = trimEntities(text, ents)
	n := parsemode.UTF16Len(text)
	switch {
	case caption && n > 1024:
		return "", nil, badRequest("message caption is too long")
	case !caption && n == 0:
		return "", nil, badRequest("message text is empty")
	case !caption && n > 4096:
		return "", nil, badRequest("message is too long")
	}
	return text, ents, nil
}

func parseMarkup(raw string) ([][]Button, *apiError) {
	if raw == "" {
		return nil, nil
	}
	var m struct {
		InlineKeyboard [][]map[string]json.RawMessage `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	if m.InlineKeyboard == nil {
		return nil, badRequest("field \"inline_keyboard\" must be of type Array")
	}
	var out [][]Button
	n := 0
	for _, row := range m.InlineKeyboard {
		var r []Button
		for _, raw := range row {
			var b Button
			actions := 0
			for k, v := range raw {
				var str string
				switch k {
				case "text":
					json.Unmarshal(v, &b.Text)
				case "callback_data":
					json.Unmarshal(v, &str)
					b.Data = str
					actions++
					if len(str) < 1 || len(str) > 64 {
						return nil, badRequest("BUTTON_DATA_INVALID")
					}
				case "url":
					json.Unmarshal(v, &str)
					b.URL = str
					actions++
					u, err := url.Parse(str)
					if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "tg") || (u.Scheme != "tg" && u.Host == "") {
						return nil, badRequest("BUTTON_URL_INVALID")
					}
				case "copy_text":
					var ct struct{ Text string }
					json.Unmarshal(v, &ct)
					if ct.Text != "" {
						b.CopyText = ct.Text
						actions++
					}
				case "switch_inline_query", "switch_inline_query_current_chat", "web_app", "login_url", "pay", "callback_game", "switch_inline_query_chosen_chat":
					actions++
				}
			}
			if strings.TrimSpace(b.Text) == "" {
				return nil, badRequest("BUTTON_TEXT_INVALID")
			}
			if actions != 1 {
				return nil, badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
			r = append(r, b)
			n++
		}
		if len(r) > 8 {
			return nil, badRequest("BUTTONS_TOO_MUCH")
		}
		out = append(out, r)
	}
	if n > 100 {
		return nil, badRequest("BUTTONS_TOO_MUCH")
	}
	return out, nil
}

func (s *Server) addBotMessage(c *chat, m *Message) {
	c.nextMsg++
	m.ID, m.ChatID, m.FromBot, m.Date = c.nextMsg, c.id, true, time.Now()
	c.msgs[m.ID] = m
	c.log = append(c.log, Event{Kind: Sent, Message: m.clone(), At: m.Date})
	c.notify()
}

func (s *Server) sendMessage(p map[string]string) (any, *apiError) {
	text, ents, aerr := parseText(p["text"], p["parse_mode"], false)
	if aerr != nil {
		return nil, aerr
	}
	buttons, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.chatFor(p)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.writable(); aerr != nil {
		return nil, aerr
	}
	m := &Message{Text: text, HTML: p["text"], Entities: ents, Buttons: buttons, Protected: p["protect_content"] == "true"}
	s.addBotMessage(c, m)
	return s.messageJSON(c, m), nil
}

func (s *Server) sendPhoto(p map[string]string, files map[string][]byte) (any, *apiError) {
	caption, ents, aerr := parseText(p["caption"], p["parse_mode"], true)
	if aerr != nil {
		return nil, aerr
	}
	buttons, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	photo := files["photo"]
	if photo == nil {
		ref := p["photo"]
		if strings.HasPrefix(ref, "attach://") {
			photo = files[strings.TrimPrefix(ref, "attach://")]
		} else {
			photo = s.files[ref]
		}
	}
	if len(photo) == 0 {
		return nil, badRequest("there is no photo in the request")
	}
	if !bytes.HasPrefix(photo, []byte("\x89PNG")) && !bytes.HasPrefix(photo, []byte("\xff\xd8")) {
		return nil, badRequest("IMAGE_PROCESS_FAILED")
	}
	c, aerr := s.chatFor(p)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.writable(); aerr != nil {
		return nil, aerr
	}
	m := &Message{Caption: caption, CaptionHTML: p["caption"], CaptionEntities: ents, Photo: photo, Buttons: buttons, Protected: p["protect_content"] == "true"}
	s.addBotMessage(c, m)
	return s.messageJSON(c, m), nil
}

// editable finds the bot's message for an edit.
func (s *Server) editable(p map[string]string, verb string) (*chat, *Message, *apiError) {
	c, aerr := s.chatFor(p)
	if aerr != nil {
		return nil, nil, aerr
	}
	id, _ := strconv.Atoi(p["message_id"])
	m := c.msgs[id]
	if m == nil || m.Deleted {
		return nil, nil, badRequest("message to %s not found", verb)
	}
	if !m.FromBot {
		return nil, nil, badRequest("message can't be edited")
	}
	// A user who blocked the bot cannot have its messages changed either.
	if c.typ == "private" && c.blocked {
		return nil, nil, &apiError{status: 403, desc: "Forbidden: bot was blocked by the user"}
	}
	return c, m, nil
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) edited(c *chat, m *Message) {
	m.Edits++
	c.log = append(c.log, Event{Kind: Edited, Message: m.clone(), At: time.Now()})
	c.notify()
}

func (s *Server) editText(p map[string]string) (any, *apiError) {
	text, ents, aerr := parseText(p["text"], p["parse_mode"], false)
	if aerr != nil {
		return nil, aerr
	}
	buttons, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, aerr := s.editable(p, "edit")
	if aerr != nil {
		return nil, aerr
	}
	if m.Photo != nil {
		return nil, badRequest("there is no text in the message to edit")
	}
	if m.Text == text && slices.Equal(m.Entities, ents) && buttonsEqual(m.Buttons, buttons) {
		return nil, badRequest(notModified)
	}
	// Without reply_markup Telegram removes the keyboard.
	m.Text, m.HTML, m.Entities, m.Buttons = text, p["text"], ents, buttons
	s.edited(c, m)
	return s.messageJSON(c, m), nil
}

func (s *Server) editCaption(p map[string]string) (any, *apiError) {
	caption, ents, aerr := parseText(p["caption"], p["parse_mode"], true)
	if aerr != nil {
		return nil, aerr
	}
	buttons, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, aerr := s.editable(p, "edit")
	if aerr != nil {
		return nil, aerr
	}
	if m.Photo == nil {
		return nil, badRequest("there is no caption in the message to edit")
	}
	if m.Caption == caption && slices.Equal(m.CaptionEntities, ents) && buttonsEqual(m.Buttons, buttons) {
		return nil, badRequest(notModified)
	}
	m.Caption, m.CaptionHTML, m.CaptionEntities, m.Buttons = caption, p["caption"], ents, buttons
	s.edited(c, m)
	return s.messageJSON(c, m), nil
}

// editMedia replaces a message's media (here: photos only), or adds a photo
// to a text message, whose text is then replaced by the caption.
func (s *Server) editMedia(p map[string]string, files map[string][]byte) (any, *apiError) {
	var media struct {
		Type       string `json:"type"`
		Media      string `json:"media"`
		Caption    string `json:"caption"`
		ParseMode  string `json:"parse_mode"`
		HasSpoiler bool   `json:"has_spoiler"`
	}
	if err := json.Unmarshal([]byte(p["media"]), &media); err != nil {
		return nil, badRequest("can't parse InputMedia JSON object")
	}
	if media.Type != "photo" {
		return nil, badRequest("unsupported media type %q in the fake", media.Type)
	}
	caption, ents, aerr := parseText(media.Caption, media.ParseMode, true)
	if aerr != nil {
		return nil, aerr
	}
	buttons, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var photo []byte
	if name, ok := strings.CutPrefix(media.Media, "attach://"); ok {
		photo = files[name]
	} else {
		photo = s.files[media.Media]
	}
	if len(photo) == 0 {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	if !bytes.HasPrefix(photo, []byte("\x89PNG")) && !bytes.HasPrefix(photo, []byte("\xff\xd8")) {
		return nil, badRequest("IMAGE_PROCESS_FAILED")
	}
	c, m, aerr := s.editable(p, "edit")
	if aerr != nil {
		return nil, aerr
	}
	if bytes.Equal(m.Photo, photo) && m.Spoiler == media.HasSpoiler && m.Caption == caption &&
		slices.Equal(m.CaptionEntities, ents) && buttonsEqual(m.Buttons, buttons) {
		return nil, badRequest(notModified)
	}
	m.Photo, m.Spoiler = photo, media.HasSpoiler
	m.Caption, m.CaptionHTML, m.CaptionEntities = caption, media.Caption, ents
	m.Text, m.HTML, m.Entities = "", "", nil
	m.Buttons = buttons
	s.edited(c, m)
	return s.messageJSON(c, m), nil
}

func (s *Server) editMarkup(p map[string]string) (any, *apiError) {
	buttons, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, m, aerr := s.editable(p, "edit")
	if aerr != nil {
		return nil, aerr
	}
	if buttonsEqual(m.Buttons, buttons) {
		return nil, badRequest(notModified)
	}
	m.Buttons = buttons
	s.edited(c, m)
	return s.messageJSON(c, m), nil
}

func buttonsEqual(a, b [][]Button) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func (s *Server) deleteMessage(p map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.chatFor(p)
	if aerr != nil {
		return nil, aerr
	}
	if c.typ == "private" && c.blocked {
		return nil, &apiError{status: 403, desc: "Forbidden: bot was blocked by the user"}
	}
	id, _ := strconv.Atoi(p["message_id"])
	m := c.msgs[id]
	if m == nil || m.Deleted {
		return nil, badRequest("message to delete not found")
	}
	if !m.FromBot && c.typ == "private" {
		// A bot may delete incoming messages in private chats, too.
	}
	m.Deleted = true
	c.log = append(c.log, Event{Kind: Deleted, Message: m.clone(), At: time.Now()})
	c.notify()
	return true, nil
}

func (s *Server) answerCallback(p map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queries[p["callback_query_id"]]
	if q == nil || q.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	if len([]rune(p["text"])) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	q.answered = true
	q.answer = Answer{QueryID: q.id, Text: p["text"], ShowAlert: p["show_alert"] == "true", URL: p["url"]}
	close(q.done)
	return true, nil
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) setCommands(p map[string]string) (any, *apiError) {
	var cmds []Command
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too much commands")
	}
	for _, c := range cmds {
		if !commandRE.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := len([]rune(c.Description)); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	lang := p["language_code"]
	if lang != "" && !regexp.MustCompile(`^[a-z]{2}$`).MatchString(lang) {
		return nil, badRequest("LANG_CODE_INVALID")
	}
	scope := "default"
	if raw := p["scope"]; raw != "" {
		var sc struct{ Type string }
		if json.Unmarshal([]byte(raw), &sc) != nil || sc.Type == "" {
			return nil, badRequest("can't parse BotCommandScope JSON object")
		}
		scope = sc.Type
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands[scope+"/"+lang] = cmds
	return true, nil
}

func (s *Server) getCommands(p map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.commands["default/"+p["language_code"]]
	if out == nil {
		out = []Command{}
	}
	return out, nil
}

func (s *Server) chatAction(p map[string]string) (any, *apiError) {
	switch p["action"] {
	case "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note":
	default:
		return nil, badRequest("wrong parameter action in request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.chatFor(p)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.writable(); aerr != nil {
		return nil, aerr
	}
	return true, nil
}

// ---- JSON shapes ----

func (s *Server) chatJSON(c *chat) map[string]any {
	out := map[string]any{"id": c.id, "type": c.typ}
	if c.typ == "private" && c.user != nil {
		out["first_name"] = c.user.FirstName
		if c.user.Username != "" {
			out["username"] = c.user.Username
		}
	} else {
		out["title"] = c.title
	}
	return out
}

func entitiesJSON(ents []Entity) []map[string]any {
	out := make([]map[string]any, 0, len(ents))
	for _, e := range ents {
		m := map[string]any{"type": e.Type, "offset": e.Offset, "length": e.Length}
		if e.URL != "" {
			m["url"] = e.URL
		}
		out = append(out, m)
	}
	return out
}

func (s *Server) messageJSON(c *chat, m *Message) map[string]any {
	out := map[string]any{"message_id": m.ID, "date": m.Date.Unix(), "chat": s.chatJSON(c)}
	if m.FromBot {
		out["from"] = map[string]any{"id": s.botID(), "is_bot": true, "first_name": s.opts.BotName, "username": s.opts.BotUsername}
	} else if u := s.userByID(m.From); u != nil {
		out["from"] = u.json()
	}
	if m.Edits > 0 {
		out["edit_date"] = time.Now().Unix()
	}
	if m.Photo != nil {
		s.nextFile++
		id := fmt.Sprintf("photo-%d", s.nextFile)
		s.files[id] = m.Photo
		out["photo"] = []map[string]any{{"file_id": id, "file_unique_id": id, "width": 256, "height": 256, "file_size": len(m.Photo)}}
		if m.Spoiler {
			out["has_media_spoiler"] = true
		}
		if m.Caption != "" {
			out["caption"] = m.Caption
			if len(m.CaptionEntities) > 0 {
				out["caption_entities"] = entitiesJSON(m.CaptionEntities)
			}
		}
	} else {
		out["text"] = m.Text
		if len(m.Entities) > 0 {
			out["entities"] = entitiesJSON(m.Entities)
		}
	}
	if len(m.Buttons) > 0 {
		rows := make([][]map[string]any, len(m.Buttons))
		for i, row := range m.Buttons {
			for _, b := range row {
				bj := map[string]any{"text": b.Text}
				switch {
				case b.Data != "":
					bj["callback_data"] = b.Data
				case b.URL != "":
					bj["url"] = b.URL
				case b.CopyText != "":
					bj["copy_text"] = map[string]any{"text": b.CopyText}
				}
				rows[i] = append(rows[i], bj)
			}
		}
		out["reply_markup"] = map[string]any{"inline_keyboard": rows}
	}
	return out
}
