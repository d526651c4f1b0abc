package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Options configures a Server. Zero values get the defaults.
type Options struct {
	Token     string // accepted bot token (sent as "Bot <token>"); default "test-token"
	AppID     string // the application id; default "100"
	BotUserID string // the bot's user id; default "200"
	// CallbackWindow is how long after its creation an interaction can be
	// acknowledged; default 3s, as on Discord.
	CallbackWindow time.Duration
	// TokenLifetime is how long an interaction token works for edits and
	// followups; default 15 minutes.
	TokenLifetime time.Duration
	// HeartbeatInterval is announced in Hello; default 41.25s.
	HeartbeatInterval time.Duration
}

// Discord's limits the fake enforces.
const (
	maxContent     = 2000
	maxRows        = 5
	maxRowButtons  = 5
	maxSelect      = 25
	maxCustomID    = 100
	maxButtonLabel = 80
	maxChoices     = 25
)

// Interaction callback types (Discord's numbers).
const (
	CallbackMessage         = 4
	CallbackDeferredMessage = 5
	CallbackDeferredUpdate  = 6
	CallbackUpdateMessage   = 7
	CallbackAutocomplete    = 8
	CallbackModal           = 9
)

// FlagEphemeral is the message flag of a reply only its user sees.
const FlagEphemeral = 1 << 6

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *httptest.Server

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change users can see
	nextID  int64

	commands map[string][]*discordgo.ApplicationCommand // by guild id; "" = global
	users    map[string]*User
	channels map[string]*channel
	messages []*Message
	version  int64 // bumped by every message created or changed
	msgByID  map[string]*Message
	ixByID   map[string]*Interaction
	ixByTok  map[string]*Interaction
	faults   []*Fault
	requests []Request

	gw gateway
}

// Request is one REST request as the fake answered it.
type Request struct {
	Method, Path string
	Status       int
	Code         int // Discord's JSON error code, when there was one
}

type channel struct {
	id, guild string
	dmUser    string // set for a DM channel
}

// New starts a fake Discord on a local port. Close it when done.
func New(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = "test-token"
	}
	if opts.AppID == "" {
		opts.AppID = "100"
	}
	if opts.BotUserID == "" {
		opts.BotUserID = "200"
	}
	if opts.CallbackWindow <= 0 {
		opts.CallbackWindow = 3 * time.Second
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 15 * time.Minute
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	s := &Server{
		opts:     opts,
		changed:  make(chan struct{}),
		nextID:   1_000_000,
		commands: map[string][]*discordgo.ApplicationCommand{},
		users:    map[string]*User{},
		channels: map[string]*channel{},
		msgByID:  map[string]*Message{},
		ixByID:   map[string]*Interaction{},
		ixByTok:  map[string]*Interaction{},
	}
	s.gw.s = s
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base to give the bot as DISCORD_API_URL.
func (s *Server) URL() string { return s.srv.URL }

// Token is the bot token the fake accepts.
func (s *Server) Token() string { return s.opts.Token }

// AppID is the application id.
func (s *Server) AppID() string { return s.opts.AppID }

// Close disconnects the gateway and stops the server.
func (s *Server) Close() {
	s.gw.closeAll()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func (s *Server) id() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// notify wakes waiters; callers hold mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until cond (called with mu held) is true or timeout passes.
func (s *Server) wait(timeout time.Duration, what string, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return fmt.Errorf("discordtest: no %s within %v", what, timeout)
		}
	}
}

// Commands returns the commands registered for a guild ("" = global).
func (s *Server) Commands(guild string) []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*discordgo.ApplicationCommand(nil), s.commands[guild]...)
}

// WaitCommands waits until some commands are registered for guild.
func (s *Server) WaitCommands(guild string, timeout time.Duration) error {
	return s.wait(timeout, "command registration", func() bool { return len(s.commands[guild]) > 0 })
}

// Requests returns the REST request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count counts logged requests with this method whose path contains part.
func (s *Server) Count(method, part string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

// ExpireTokens ages every interaction so far past its token's lifetime, as
// if fifteen minutes had passed: its answers can no longer be edited,
// deleted or followed up (401, code 50027).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ix := range s.ixByID {
		ix.created = ix.created.Add(-s.opts.TokenLifetime - time.Second)
	}
}

// InvalidRequests counts the 401, 403 and 429 answers: Discord bans
// addresses that collect too many of them.
func (s *Server) InvalidRequests() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status == 401 || r.Status == 403 || r.Status == 429 {
			n++
		}
	}
	return n
}

// Fault makes matching REST requests fail with a 429.
type Fault struct {
	Method     string        // "" = any
	Path       string        // substring of the path after /api/v9, e.g. "/channels/"
	RetryAfter time.Duration // the retry_after the 429 carries
	Global     bool          // a global rate limit
	Times      int           // how many matching requests (0 = 1)
}

// RateLimit queues a 429 for the next matching requests.
func (s *Server) RateLimit(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

func (s *Server) takeFaultLocked(method, path string) *Fault {
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == method) && strings.Contains(path, f.Path) {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// ---- REST ----

type apiError struct {
	status int
	code   int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errUnknownInteraction() *apiError { return &apiError{404, 10062, "Unknown interaction"} }
func errUnknownWebhook() *apiError     { return &apiError{404, 10015, "Unknown Webhook"} }
func errUnknownMessage() *apiError     { return &apiError{404, 10008, "Unknown Message"} }
func errInvalid(why string) *apiError  { return &apiError{400, 50035, "Invalid Form Body: " + why} }

type reqCtx struct {
	w      http.ResponseWriter
	r      *http.Request
	path   string // after /api/v9
	status int
	code   int
}

func (c *reqCtx) json(status int, v any) {
	c.status = status
	c.w.Header().Set("Content-Type", "application/json")
	if v == nil {
		c.w.WriteHeader(status)
		return
	}
	b, _ := json.Marshal(v)
	c.w.WriteHeader(status)
	c.w.Write(b)
}

func (c *reqCtx) fail(e *apiError) {
	c.code = e.code
	c.json(e.status, map[string]any{"code": e.code, "message": e.msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/gateway" || r.URL.Path == "/gateway/" {
		s.gw.serve(w, r)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v9")
	if !ok {
		http.NotFound(w, r)
		return
	}
	c := &reqCtx{w: w, r: r, path: path}
	s.route(c)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, Status: c.status, Code: c.code})
	s.mu.Unlock()
}

func (s *Server) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bot "+s.opts.Token
}

func (s *Server) route(c *reqCtx) {
	r, path := c.r, c.path
	h := c.w.Header()
	h.Set("X-RateLimit-Limit", "50")
	h.Set("X-RateLimit-Remaining", "49")
	h.Set("X-RateLimit-Reset-After", "1.000")
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(time.Now().Add(time.Second).UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", "fake")

	s.mu.Lock()
	f := s.takeFaultLocked(r.Method, path)
	s.mu.Unlock()
	if f != nil {
		secs := f.RetryAfter.Seconds()
		ra := strconv.FormatFloat(secs, 'f', 3, 64)
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset-After", ra)
		h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(time.Now().Add(f.RetryAfter).UnixMilli())/1000, 'f', 3, 64))
		h.Set("Retry-After", strconv.Itoa(int(secs+0.999)))
		if f.Global {
			h.Set("X-RateLimit-Global", "true")
			h.Set("X-RateLimit-Scope", "global")
		} else {
			h.Set("X-RateLimit-Scope", "user")
		}
		c.json(429, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": f.Global})
		return
	}

	parts := strings.Split(strings.Trim(path, "/"), "/")
	at := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	needAuth := func() bool {
		if !s.authorized(r) {
			c.code = 0
			c.json(401, map[string]any{"code": 0, "message": "401: Unauthorized"})
			return false
		}
		return true
	}
	switch {
	case r.Method == "GET" && path == "/gateway":
		c.json(200, map[string]any{"url": s.gw.url()})
	case r.Method == "GET" && path == "/gateway/bot":
		if needAuth() {
			c.json(200, map[string]any{"url": s.gw.url(), "shards": 1,
				"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
		}
	case r.Method == "GET" && path == "/users/@me":
		if needAuth() {
			c.json(200, map[string]any{"id": s.opts.BotUserID, "username": "refillbot", "bot": true})
		}
	case r.Method == "PUT" && at(0) == "applications" && len(parts) == 3 && at(2) == "commands":
		if needAuth() {
			s.putCommands(c, at(1), "")
		}
	case r.Method == "PUT" && at(0) == "applications" && len(parts) == 5 && at(2) == "guilds" && at(4) == "commands":
		if needAuth() {
			s.putCommands(c, at(1), at(3))
		}
	case r.Method == "POST" && at(0) == "interactions" && len(parts) == 4 && at(3) == "callback":
		s.callback(c, at(1), at(2))
	case at(0) == "webhooks" && len(parts) >= 3:
		s.webhook(c, at(1), at(2), parts[3:])
	case r.Method == "POST" && path == "/users/@me/channels":
		if needAuth() {
			s.createDM(c)
		}
	case at(0) == "channels" && at(2) == "messages":
		if needAuth() {
			s.channelMessages(c, at(1), at(3))
		}
	default:
		c.fail(&apiError{404, 0, "404: Not Found"})
	}
}

func (s *Server) putCommands(c *reqCtx, app, guild string) {
	if app != s.opts.AppID {
		c.fail(&apiError{403, 50001, "Missing Access"})
		return
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.NewDecoder(c.r.Body).Decode(&cmds); err != nil {
		c.fail(errInvalid(err.Error()))
		return
	}
	if len(cmds) > 100 {
		c.fail(errInvalid("too many commands"))
		return
	}
	for _, cmd := range cmds {
		if err := validCommand(cmd); err != nil {
			c.fail(errInvalid(err.Error()))
			return
		}
	}
	s.mu.Lock()
	for _, cmd := range cmds {
		cmd.ID, cmd.ApplicationID, cmd.GuildID, cmd.Version = s.id(), app, guild, "1"
	}
	s.commands[guild] = cmds
	s.notify()
	s.mu.Unlock()
	c.json(200, cmds)
}

func validName(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func validCommand(cmd *discordgo.ApplicationCommand) error {
	if !validName(cmd.Name) {
		return fmt.Errorf("command name %q", cmd.Name)
	}
	if n := len([]rune(cmd.Description)); n < 1 || n > 100 {
		return fmt.Errorf("command %s: description length %d", cmd.Name, n)
	}
	if cmd.DescriptionLocalizations != nil {
		for l, d := range *cmd.DescriptionLocalizations {
			if n := len([]rune(d)); n < 1 || n > 100 {
				return fmt.Errorf("command %s: %s description length %d", cmd.Name, l, n)
			}
		}
	}
	return validOptions(cmd.Name, cmd.Options)
}

func validOptions(where string, opts []*discordgo.ApplicationCommandOption) error {
	if len(opts) > 25 {
		return fmt.Errorf("%s: too many options", where)
	}
	for _, o := range opts {
		if !validName(o.Name) {
			return fmt.Errorf("%s: option name %q", where, o.Name)
		}
		if n := len([]rune(o.Description)); n < 1 || n > 100 {
			return fmt.Errorf("%s %s: description length %d", where, o.Name, n)
		}
		if o.Autocomplete && len(o.Choices) > 0 {
			return fmt.Errorf("%s %s: autocomplete with choices", where, o.Name)
		}
		if err := validOptions(where+" "+o.Name, o.Options); err != nil {
			return err
		}
	}
	return nil
}

// ---- messages ----

// Message is a message as the fake holds it. Methods return copies.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string
	Content   string
	Flags     int
	// Audience is the only user who sees an ephemeral message.
	Audience   string
	Components []Component
	Files      []File
	// Interaction is the interaction this message answers (its response or
	// a followup); empty for plain channel messages.
	Interaction string
	Followup    bool
	// Thinking is a deferred response not yet filled in by an edit.
	Thinking bool
	Edits    int
	Deleted  bool
	Seq      int64 // creation order
	// Changed is the history point of the message's creation or last edit
	// (see Server.Mark).
	Changed int64
}

// Ephemeral reports whether only Audience sees the message.
func (m Message) Ephemeral() bool { return m.Flags&FlagEphemeral != 0 }

// Text is the message's content as a user reads it: markdown markers
// dropped and escapes resolved.
func (m Message) Text() string { return Plain(m.Content) }

// Plain removes Discord markdown from s: emphasis and code markers go,
// backslash-escaped characters stay as themselves.
func Plain(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		switch {
		case esc:
			b.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == '*' || r == '_' || r == '`' || r == '~' || r == '|':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Labels lists the message's buttons' labels and select options' labels.
func (m Message) Labels() []string {
	var out []string
	for _, row := range m.Components {
		for _, c := range row.Components {
			if c.Type == 2 {
				out = append(out, c.Label)
			}
			for _, o := range c.Options {
				out = append(out, o.Label)
			}
		}
	}
	return out
}

// File is an attachment.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Component is any message component as JSON carries it: an action row
// (type 1) holding buttons (2), string selects (3) or text inputs (4).
type Component struct {
	Type        int            `json:"type"`
	CustomID    string         `json:"custom_id,omitempty"`
	Label       string         `json:"label,omitempty"`
	Style       int            `json:"style,omitempty"`
	URL         string         `json:"url,omitempty"`
	Disabled    bool           `json:"disabled,omitempty"`
	Placeholder string         `json:"placeholder,omitempty"`
	MinValues   *int           `json:"min_values,omitempty"`
	MaxValues   int            `json:"max_values,omitempty"`
	Options     []SelectOption `json:"options,omitempty"`
	Required    bool           `json:"required,omitempty"`
	Value       string         `json:"value,omitempty"`
	MinLength   int            `json:"min_length,omitempty"`
	MaxLength   int            `json:"max_length,omitempty"`
	Components  []Component    `json:"components,omitempty"`
}

// SelectOption is one item of a string select.
type SelectOption struct {
	Label       string `json:"label"`
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// Choice is one autocomplete choice.
type Choice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// payload is the body of every message-shaped request.
type payload struct {
	Type int `json:"type"` // callbacks only
	Data *struct {
		Content    *string      `json:"content"`
		Components *[]Component `json:"components"`
		Flags      int          `json:"flags"`
		Choices    *[]Choice    `json:"choices"`
		CustomID   string       `json:"custom_id"`
		Title      string       `json:"title"`
	} `json:"data"`
	// Top-level fields of messages, followups and edits.
	Content    *string      `json:"content"`
	Components *[]Component `json:"components"`
	Flags      int          `json:"flags"`
	// Attachments, in an edit, lists the files to keep (API v9: without
	// it every file stays, and new files are added).
	Attachments *[]struct {
		ID string `json:"id"`
	} `json:"attachments"`
}

// readPayload reads a JSON body or a multipart one (payload_json plus files).
func readPayload(r *http.Request) ([]byte, []File, error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		return b, nil, err
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var body []byte
	var files []File
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(io.LimitReader(p, 10<<20))
		if err != nil {
			return nil, nil, err
		}
		switch name := p.FormName(); {
		case name == "payload_json":
			body = data
		case strings.HasPrefix(name, "files["):
			files = append(files, File{Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
		}
	}
	if body == nil {
		return nil, nil, fmt.Errorf("multipart body without payload_json")
	}
	return body, files, nil
}

func decodePayload(r *http.Request) (payload, []File, *apiError) {
	body, files, err := readPayload(r)
	if err != nil {
		return payload{}, nil, errInvalid(err.Error())
	}
	var p payload
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &p); err != nil {
			return payload{}, nil, errInvalid(err.Error())
		}
	}
	return p, files, nil
}

// validComponents checks a message's components against Discord's limits.
func validComponents(rows []Component) error {
	if len(rows) > maxRows {
		return fmt.Errorf("%d component rows", len(rows))
	}
	ids := map[string]bool{}
	for _, row := range rows {
		if row.Type != 1 {
			return fmt.Errorf("top-level component of type %d", row.Type)
		}
		if len(row.Components) == 0 || len(row.Components) > maxRowButtons {
			return fmt.Errorf("a row of %d components", len(row.Components))
		}
		for _, c := range row.Components {
			switch c.Type {
			case 2:
				if len([]rune(c.Label)) > maxButtonLabel {
					return fmt.Errorf("button label of %d characters", len([]rune(c.Label)))
				}
			case 3:
				if len(row.Components) != 1 {
					return fmt.Errorf("a select shares its row")
				}
				if len(c.Options) == 0 || len(c.Options) > maxSelect {
					return fmt.Errorf("a select with %d options", len(c.Options))
				}
				for _, o := range c.Options {
					if len([]rune(o.Label)) > 100 || len(o.Value) > 100 || o.Label == "" {
						return fmt.Errorf("select option %q", o.Label)
					}
				}
			default:
				return fmt.Errorf("component of type %d in a message", c.Type)
			}
			if c.URL == "" {
				if c.CustomID == "" || len(c.CustomID) > maxCustomID {
					return fmt.Errorf("custom_id %q", c.CustomID)
				}
				if ids[c.CustomID] {
					return fmt.Errorf("duplicate custom_id %q", c.CustomID)
				}
				ids[c.CustomID] = true
			}
		}
	}
	return nil
}

func validContent(content string, comps []Component, files []File) *apiError {
	if len([]rune(content)) > maxContent {
		return errInvalid("content longer than 2000")
	}
	if content == "" && len(comps) == 0 && len(files) == 0 {
		return &apiError{400, 50006, "Cannot send an empty message"}
	}
	if err := validComponents(comps); err != nil {
		return errInvalid(err.Error())
	}
	return nil
}

func (s *Server) newMessageLocked(ch, guild string) *Message {
	m := &Message{ID: s.id(), ChannelID: ch, GuildID: guild, Seq: int64(len(s.messages) + 1)}
	s.touchLocked(m)
	s.messages = append(s.messages, m)
	s.msgByID[m.ID] = m
	return m
}

// touchLocked moves m to the end of the history: a user who waits for news
// after a mark sees an edited message as news, as the client shows it.
func (s *Server) touchLocked(m *Message) {
	s.version++
	m.Changed = s.version
}

func (m *Message) wire() map[string]any {
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "flags": m.Flags,
		"type": 0, "timestamp": time.Now().UTC().Format(time.RFC3339),
		"author": map[string]any{"id": "200", "username": "refillbot", "bot": true},
	}
	if m.GuildID != "" {
		out["guild_id"] = m.GuildID
	}
	comps := m.Components
	if comps == nil {
		comps = []Component{}
	}
	out["components"] = comps
	atts := []map[string]any{}
	for i, f := range m.Files {
		atts = append(atts, map[string]any{"id": strconv.Itoa(i + 1), "filename": f.Name, "content_type": f.ContentType, "size": len(f.Data)})
	}
	out["attachments"] = atts
	return out
}

// apply sets a message's content from a payload (nil fields stay).
func (m *Message) apply(content *string, comps *[]Component, files []File) {
	if content != nil {
		m.Content = *content
	}
	if comps != nil {
		m.Components = append([]Component(nil), (*comps)...)
	}
	if files != nil {
		m.Files = files
	}
}

// edit applies an edit's payload as Discord's API v9 does: files uploaded
// are added to those kept, which are all of them unless the payload lists
// the ones to keep.
func (m *Message) edit(p payload, files []File) {
	m.apply(p.Content, p.Components, nil)
	kept := m.Files
	if p.Attachments != nil {
		kept = nil
		for i, f := range m.Files {
			for _, a := range *p.Attachments {
				if a.ID == strconv.Itoa(i+1) {
					kept = append(kept, f)
				}
			}
		}
	}
	m.Files = append(kept, files...)
}

func (s *Server) createDM(c *reqCtx) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.NewDecoder(c.r.Body).Decode(&body); err != nil {
		c.fail(errInvalid(err.Error()))
		return
	}
	s.mu.Lock()
	u := s.users[body.RecipientID]
	var ch *channel
	if u != nil {
		ch = s.dmLocked(u)
	}
	s.mu.Unlock()
	if u == nil {
		c.fail(errInvalid("recipient_id"))
		return
	}
	c.json(200, map[string]any{"id": ch.id, "type": 1, "recipients": []map[string]any{{"id": u.ID, "username": u.Name}}})
}

func (s *Server) dmLocked(u *User) *channel {
	if u.dm == "" {
		u.dm = s.id()
		s.channels[u.dm] = &channel{id: u.dm, dmUser: u.ID}
	}
	return s.channels[u.dm]
}

func (s *Server) channelMessages(c *reqCtx, chID, msgID string) {
	s.mu.Lock()
	ch := s.channels[chID]
	s.mu.Unlock()
	if ch == nil {
		c.fail(&apiError{404, 10003, "Unknown Channel"})
		return
	}
	switch {
	case c.r.Method == "POST" && msgID == "":
		p, files, aerr := decodePayload(c.r)
		if aerr != nil {
			c.fail(aerr)
			return
		}
		content, comps := deref(p.Content), derefComps(p.Components)
		if aerr := validContent(content, comps, files); aerr != nil {
			c.fail(aerr)
			return
		}
		s.mu.Lock()
		if ch.dmUser != "" && s.users[ch.dmUser].dmsClosed {
			s.mu.Unlock()
			c.fail(&apiError{403, 50007, "Cannot send messages to this user"})
			return
		}
		m := s.newMessageLocked(chID, ch.guild)
		m.apply(&content, &comps, files)
		wire := m.wire()
		s.notify()
		s.mu.Unlock()
		c.json(200, wire)
	case c.r.Method == "PATCH" && msgID != "":
		p, files, aerr := decodePayload(c.r)
		if aerr != nil {
			c.fail(aerr)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.msgByID[msgID]
		if m == nil || m.ChannelID != chID || m.Deleted {
			c.fail(errUnknownMessage())
			return
		}
		m.edit(p, files)
		m.Edits++
		s.touchLocked(m)
		s.notify()
		c.json(200, m.wire())
	case c.r.Method == "DELETE" && msgID != "":
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.msgByID[msgID]
		if m == nil || m.ChannelID != chID || m.Deleted {
			c.fail(errUnknownMessage())
			return
		}
		m.Deleted = true
		s.notify()
		c.json(204, nil)
	default:
		c.fail(&apiError{405, 0, "405: Method Not Allowed"})
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefComps(p *[]Component) []Component {
	if p == nil {
		return nil
	}
	return *p
}

// ---- interactions ----

// callback answers POST /interactions/{id}/{token}/callback.
func (s *Server) callback(c *reqCtx, id, token string) {
	p, files, aerr := decodePayload(c.r)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.ixByID[id]
	if ix == nil || ix.Token != token {
		c.fail(errUnknownInteraction())
		return
	}
	now := time.Now()
	if ix.response != nil {
		c.fail(&apiError{400, 40060, "Interaction has already been acknowledged."})
		return
	}
	if now.Sub(ix.created) > s.opts.CallbackWindow {
		ix.late = true
		s.notify()
		c.fail(errUnknownInteraction())
		return
	}
	resp := &Response{Type: p.Type, At: now.Sub(ix.created)}
	d := p.Data
	if d == nil && (p.Type == CallbackMessage || p.Type == CallbackAutocomplete || p.Type == CallbackModal || p.Type == CallbackUpdateMessage) {
		c.fail(errInvalid("data is required"))
		return
	}
	switch p.Type {
	case CallbackMessage, CallbackDeferredMessage:
		if ix.Type == typeAutocomplete {
			c.fail(errInvalid("autocomplete interactions take choices"))
			return
		}
		m := s.newMessageLocked(ix.ChannelID, ix.GuildID)
		m.Interaction, m.Audience = ix.ID, ix.User.ID
		if d != nil {
			m.Flags = d.Flags & FlagEphemeral
		}
		if p.Type == CallbackDeferredMessage {
			m.Thinking = true
		} else {
			content, comps := deref(d.Content), derefComps(d.Components)
			if aerr := validContent(content, comps, files); aerr != nil {
				s.dropMessageLocked(m)
				c.fail(aerr)
				return
			}
			m.apply(&content, &comps, files)
		}
		ix.original = m.ID
		resp.Message = m.ID
	case CallbackDeferredUpdate, CallbackUpdateMessage:
		if ix.Type != typeComponent && ix.Type != typeModal || ix.message == "" {
			c.fail(errInvalid("only component interactions can update a message"))
			return
		}
		ix.original = ix.message
		resp.Message = ix.message
		if p.Type == CallbackUpdateMessage {
			m := s.msgByID[ix.message]
			comps := derefComps(d.Components)
			if aerr := validContent(deref(d.Content), comps, files); aerr != nil {
				c.fail(aerr)
				return
			}
			m.apply(d.Content, d.Components, files)
			m.Edits++
			s.touchLocked(m)
		}
	case CallbackAutocomplete:
		if ix.Type != typeAutocomplete {
			c.fail(errInvalid("choices answer autocomplete only"))
			return
		}
		if d.Choices == nil {
			c.fail(errInvalid("data.choices is required"))
			return
		}
		if len(*d.Choices) > maxChoices {
			c.fail(errInvalid("more than 25 choices"))
			return
		}
		for _, ch := range *d.Choices {
			if n := len([]rune(ch.Name)); n < 1 || n > 100 {
				c.fail(errInvalid("choice name length"))
				return
			}
		}
		resp.Choices = *d.Choices
	case CallbackModal:
		if ix.Type == typeAutocomplete || ix.Type == typeModal {
			c.fail(errInvalid("a modal cannot answer this interaction"))
			return
		}
		if d.CustomID == "" || len(d.CustomID) > maxCustomID || d.Title == "" || len([]rune(d.Title)) > 45 {
			c.fail(errInvalid("modal custom_id or title"))
			return
		}
		comps := derefComps(d.Components)
		if len(comps) == 0 || len(comps) > 5 {
			c.fail(errInvalid("modal rows"))
			return
		}
		for _, row := range comps {
			if row.Type != 1 || len(row.Components) != 1 || row.Components[0].Type != 4 || row.Components[0].CustomID == "" {
				c.fail(errInvalid("modal rows hold one text input each"))
				return
			}
		}
		resp.Modal = &Modal{CustomID: d.CustomID, Title: d.Title, Components: comps, from: ix}
	default:
		c.fail(errInvalid(fmt.Sprintf("callback type %d", p.Type)))
		return
	}
	ix.response = resp
	s.notify()
	c.json(204, nil)
}

func (s *Server) dropMessageLocked(m *Message) {
	s.messages = s.messages[:len(s.messages)-1]
	delete(s.msgByID, m.ID)
}

// webhook serves /webhooks/{app}/{token}[/messages/{id}].
func (s *Server) webhook(c *reqCtx, app, token string, rest []string) {
	s.mu.Lock()
	ix := s.ixByTok[token]
	s.mu.Unlock()
	if ix == nil || app != s.opts.AppID {
		c.fail(errUnknownWebhook())
		return
	}
	if time.Since(ix.created) > s.opts.TokenLifetime {
		c.fail(&apiError{401, 50027, "Invalid Webhook Token"})
		return
	}
	switch {
	case len(rest) == 0 && c.r.Method == "POST":
		s.followup(c, ix)
	case len(rest) == 2 && rest[0] == "messages":
		s.webhookMessage(c, ix, rest[1])
	default:
		c.fail(&apiError{404, 0, "404: Not Found"})
	}
}

func (s *Server) followup(c *reqCtx, ix *Interaction) {
	p, files, aerr := decodePayload(c.r)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	content, comps := deref(p.Content), derefComps(p.Components)
	if aerr := validContent(content, comps, files); aerr != nil {
		c.fail(aerr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix.response == nil || ix.response.Type == CallbackAutocomplete || ix.response.Type == CallbackModal {
		c.fail(errUnknownWebhook())
		return
	}
	m := s.newMessageLocked(ix.ChannelID, ix.GuildID)
	m.Interaction, m.Audience, m.Followup = ix.ID, ix.User.ID, true
	m.Flags = p.Flags & FlagEphemeral
	m.apply(&content, &comps, files)
	s.notify()
	c.json(200, m.wire())
}

func (s *Server) webhookMessage(c *reqCtx, ix *Interaction, id string) {
	var p payload
	var files []File
	if c.r.Method == "PATCH" {
		var aerr *apiError
		if p, files, aerr = decodePayload(c.r); aerr != nil {
			c.fail(aerr)
			return
		}
		if p.Components != nil {
			if err := validComponents(*p.Components); err != nil {
				c.fail(errInvalid(err.Error()))
				return
			}
		}
		if p.Content != nil && len([]rune(*p.Content)) > maxContent {
			c.fail(errInvalid("content longer than 2000"))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "@original" {
		id = ix.original
	}
	m := s.msgByID[id]
	if m == nil || m.Deleted || (m.Interaction != ix.ID && id != ix.message) {
		c.fail(errUnknownMessage())
		return
	}
	switch c.r.Method {
	case "GET":
		c.json(200, m.wire())
	case "PATCH":
		m.edit(p, files)
		m.Thinking = false
		m.Edits++
		s.touchLocked(m)
		s.notify()
		c.json(200, m.wire())
	case "DELETE":
		m.Deleted = true
		s.notify()
		c.json(204, nil)
	default:
		c.fail(&apiError{405, 0, "405: Method Not Allowed"})
	}
}
