package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"refillbot/bot"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"refillbot/conversation"
)

// Platform is the platform name used in session keys and addresses.
const Platform = "discord"

// Choice is one autocomplete suggestion: Name is shown, Value is what the
// command then receives.
type Choice struct{ Name, Value string }

// SuggestFunc returns autocomplete choices for the option being typed.
// command is the command path ("buy", "esim topup"), option the option's
// name, typed what the user typed so far, others the other options' values.
// It must be fast: Discord shows nothing if the answer takes 3 seconds.
type SuggestFunc func(ctx context.Context, key conversation.SessionKey, command, option, typed string, others map[string]string) []Choice

// Options configures an Adapter. Token and AppID are required.
type Options struct {
	Token   string // the bot token, with or without the "Bot " prefix
	AppID   string // the application id
	GuildID string // register commands in this guild only; global when empty
	// APIURL is the HTTP API base; default https://discord.com. Requests
	// discordgo makes to discord.com go there instead.
	APIURL  string
	Suggest SuggestFunc
	// DeferAfter is how long an interaction may wait for its first reply
	// before it is acknowledged with a deferral; default 400ms. Discord
	// allows 3s, but a user who sees nothing for two seconds presses again:
	// most first replies come within milliseconds (the engine says
	// "Searching…" before it searches), so only a slow answer pays the extra
	// request a deferral costs.
	DeferAfter time.Duration
	// DMInterval paces direct messages: at most one per interval across all
	// users; default 50ms, well inside Discord's 50 requests a second
	// (discordgo's limiter also keeps each channel inside its own bucket).
	DMInterval time.Duration
	// DMClosedFor is how long after a "cannot send messages to this user"
	// no DM is attempted for that user, unless they interact again; default 10m.
	DMClosedFor time.Duration
	// HTTPClient is the client discordgo uses (its transport is wrapped);
	// default one with a 20s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Adapter is the Discord chat platform. Send, Edit and Delete are safe for
// concurrent use; Run is called once.
type Adapter struct {
	opts Options
	log  *slog.Logger
	s    *discordgo.Session

	handle  func(context.Context, bot.Incoming)
	base    context.Context // parent of the handlers' contexts
	running sync.WaitGroup  // interactions being handled

	mu       sync.Mutex
	seen     map[string]time.Time // interaction ids handled, for resumes that replay
	dmChan   map[string]string    // user id → DM channel id
	closed   map[string]time.Time // user id → when their DMs were found closed
	tell     map[string]bool      // users to tell about a DM that could not be sent
	locale   map[string]string    // user id → last client locale
	refs     map[string]msgRef    // interaction answers, while their tokens live
	refSeq   uint64
	boot     string    // this run's mark in references (send.go)
	dmNext   time.Time // pacing of DMs
	lastSeen time.Time // last pruning of seen
	stopped  bool      // Run is ending: no new interactions are handled
}

// New checks the options and builds the client; nothing is sent until Run.
func New(opts Options) (*Adapter, error) {
	tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(opts.Token), "Bot "))
	if tok == "" || opts.AppID == "" {
		return nil, errors.New("discord: DISCORD_BOT_TOKEN and DISCORD_APP_ID are both required")
	}
	if opts.APIURL == "" {
		opts.APIURL = "https://discord.com"
	}
	base, err := url.Parse(strings.TrimSuffix(opts.APIURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("discord: DISCORD_API_URL %q is not an http(s) URL", opts.APIURL)
	}
	if opts.DeferAfter <= 0 {
		opts.DeferAfter = 400 * time.Millisecond
	}
	if opts.DMInterval <= 0 {
		opts.DMInterval = 50 * time.Millisecond
	}
	if opts.DMClosedFor <= 0 {
		opts.DMClosedFor = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s, err := discordgo.New("Bot " + tok)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client := *hc
	client.Transport = rewrite{base: base, next: next}
	s.Client = &client
	s.StateEnabled = false
	s.Identify.Intents = discordgo.IntentsNone // interactions arrive without any intent
	s.ShouldReconnectOnError = true
	a := &Adapter{
		opts: opts, s: s, log: opts.Logger.With("component", "discord"),
		seen: map[string]time.Time{}, dmChan: map[string]string{}, closed: map[string]time.Time{},
		tell: map[string]bool{}, locale: map[string]string{}, refs: map[string]msgRef{},
		boot: strconv.FormatInt(time.Now().UnixNano(), 36),
	}
	return a, nil
}

// rewrite sends discordgo's requests for discord.com to the configured base.
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "discord.com" || (t.base.Host == "discord.com" && t.base.Scheme == "https" && t.base.Path == "") {
		return t.next.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host = t.base.Scheme, t.base.Host
	r2.URL.Path = t.base.Path + r.URL.Path
	r2.URL.RawPath = ""
	r2.Host = ""
	return t.next.RoundTrip(r2)
}

// Run registers the slash commands, connects to the gateway and handles
// interactions until ctx ends; then it disconnects and waits for the
// interactions in flight. A bad token or an unreachable API ends it at once
// with an error. handle is called on its own goroutine per interaction; its
// context carries the interaction, so replies sent with it answer there.
// In-flight handlers keep their context when ctx ends (they finish their
// work); cancel them through the context the caller's handle derives.
func (a *Adapter) Run(ctx context.Context, handle func(context.Context, bot.Incoming)) error {
	a.handle = handle
	a.base = context.WithoutCancel(ctx)
	a.mu.Lock()
	a.stopped = false // Run again after a stop: a replica that leads anew
	a.mu.Unlock()
	cmds := Commands()
	if _, err := a.s.ApplicationCommandBulkOverwrite(a.opts.AppID, a.opts.GuildID, cmds, discordgo.WithContext(ctx)); err != nil {
		return fmt.Errorf("discord: registering slash commands: %w", describeErr(err))
	}
	a.log.Info("slash commands registered", "count", len(cmds), "guild", a.opts.GuildID)
	remove := a.s.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
		a.mu.Lock()
		if a.stopped {
			a.mu.Unlock()
			return
		}
		a.running.Add(1)
		a.mu.Unlock()
		defer a.running.Done()
		a.onInteraction(ic.Interaction)
	})
	defer remove()
	if err := a.s.Open(); err != nil {
		return fmt.Errorf("discord: connecting to the gateway: %w", describeErr(err))
	}
	a.log.Info("connected to the Discord gateway")
	<-ctx.Done()
	if err := a.s.Close(); err != nil {
		a.log.Warn("closing the gateway", "err", err)
	}
	a.mu.Lock()
	a.stopped = true // no handler starts after this, so Wait cannot race an Add
	a.mu.Unlock()
	a.running.Wait()
	return ctx.Err()
}

// describeErr turns discordgo's errors into a short reason without request
// URLs (interaction tokens are in them).
func describeErr(err error) error {
	var rest *discordgo.RESTError
	if errors.As(err, &rest) {
		if rest.Response != nil && rest.Response.StatusCode == http.StatusUnauthorized {
			return errors.New("Discord refused the bot token (401 Unauthorized)")
		}
		if rest.Message != nil {
			return fmt.Errorf("Discord answered %d: %s (code %d)", rest.Response.StatusCode, rest.Message.Message, rest.Message.Code)
		}
		return fmt.Errorf("Discord answered %s", rest.Response.Status)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s %s: %w", uerr.Op, redactURL(uerr.URL), uerr.Err)
	}
	return err
}

// redactURL drops everything after /interactions/ or /webhooks/: the
// interaction token is a credential for 15 minutes.
func redactURL(u string) string {
	for _, p := range []string{"/interactions/", "/webhooks/"} {
		if i := strings.Index(u, p); i >= 0 {
			return u[:i+len(p)] + "…"
		}
	}
	return u
}

// firstSight records an interaction id, reporting false for one already
// handled (a resume may replay it).
func (a *Adapter) firstSight(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.seen[id]; dup {
		return false
	}
	now := time.Now()
	a.seen[id] = now
	if now.Sub(a.lastSeen) > time.Minute {
		a.lastSeen = now
		for k, t := range a.seen {
			if now.Sub(t) > 30*time.Minute {
				delete(a.seen, k)
			}
		}
	}
	return true
}

func userOf(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

func (a *Adapter) onInteraction(i *discordgo.Interaction) {
	u := userOf(i)
	if u == nil || u.ID == "" || !a.firstSight(i.ID) {
		return
	}
	locale := string(i.Locale)
	a.mu.Lock()
	if locale != "" {
		a.locale[u.ID] = locale
	}
	a.mu.Unlock()
	lang := conversation.LangFromLocale(locale)
	key := conversation.SessionKey{Platform: Platform, User: u.ID}
	in := bot.Incoming{Key: key, Address: conversation.Address{Platform: Platform, Chat: u.ID, Private: true}, Locale: locale}

	switch i.Type {
	case discordgo.InteractionApplicationCommandAutocomplete:
		a.autocomplete(i, key)
		return
	case discordgo.InteractionApplicationCommand:
		ev, ok := invoked(i.ApplicationCommandData()).event()
		if !ok {
			a.log.Warn("unknown slash command", "name", i.ApplicationCommandData().Name)
			ev = conversation.Command{Name: i.ApplicationCommandData().Name}
		}
		in.Event = ev
	case discordgo.InteractionMessageComponent:
		d := i.MessageComponentData()
		if expect, ok := strings.CutPrefix(d.CustomID, modalPrefix); ok {
			a.openModal(i, conversation.Expect(expect), lang)
			return
		}
		tok := d.CustomID
		if d.CustomID == selectID {
			if len(d.Values) == 0 {
				a.ackSilently(i)
				return
			}
			tok = d.Values[0]
		}
		in.Event = conversation.Chose{Token: tok}
	case discordgo.InteractionModalSubmit:
		in.Event = conversation.Text{Text: modalValue(i.ModalSubmitData())}
	default:
		return
	}

	x := a.newIx(i, u.ID)
	defer x.finish()
	a.mu.Lock()
	tell := a.tell[u.ID]
	delete(a.tell, u.ID)
	if tell {
		delete(a.closed, u.ID) // they are here: the next notification may try again
	}
	a.mu.Unlock()
	if tell {
		// First, so that it heads what the shell owes them: it sends a
		// returning user's waiting messages ahead of the answer, here.
		note := conversation.Reply{Text: []conversation.Span{{Text: phrase(lang, "ui.dm_closed")}}}
		if _, err := x.send(render(note, nil, lang)); err != nil {
			a.log.Warn("telling a user their DMs are closed", "err", err)
		}
	}
	a.handle(context.WithValue(a.base, ixKey{}, x), in)
}

func modalValue(d discordgo.ModalSubmitInteractionData) string {
	for _, row := range d.Components {
		r, ok := row.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, c := range r.Components {
			if in, ok := c.(*discordgo.TextInput); ok {
				return strings.TrimSpace(in.Value)
			}
		}
	}
	return ""
}

// openModal answers a "type it" button with the form for that input.
func (a *Adapter) openModal(i *discordgo.Interaction, expect conversation.Expect, lang string) {
	var t string
	switch expect {
	case conversation.ExpectPhone:
		t = conversation.Phrase(lang, conversation.UIPhoneTitle)
	case conversation.ExpectICCID:
		t = conversation.Phrase(lang, conversation.UIICCIDTitle)
	case conversation.ExpectQuery:
		t = describe(lang, "search")
	default:
		t = conversation.Phrase(lang, conversation.UIAmountTitle)
	}
	t = clip(t, 45)
	err := a.s.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{
			CustomID: modalPrefix + string(expect),
			Title:    t,
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{CustomID: modalInputID, Label: t, Style: discordgo.TextInputShort, Required: true, MaxLength: 64},
			}}},
		},
	})
	if err != nil {
		a.log.Warn("opening a modal", "err", describeErr(err))
	}
}

// ackSilently acknowledges a component interaction without showing anything.
func (a *Adapter) ackSilently(i *discordgo.Interaction) {
	if err := a.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}); err != nil {
		a.log.Warn("acknowledging an interaction", "err", describeErr(err))
	}
}

// autocomplete answers with the Suggest callback's choices, or none if it
// is missing or slow.
func (a *Adapter) autocomplete(i *discordgo.Interaction, key conversation.SessionKey) {
	inv := invoked(i.ApplicationCommandData())
	var list []Choice
	if a.opts.Suggest != nil && inv.focused != "" {
		others := map[string]string{}
		for k, v := range inv.values {
			if k != inv.focused {
				others[k] = v
			}
		}
		ctx, cancel := context.WithTimeout(a.base, 1500*time.Millisecond)
		done := make(chan []Choice, 1)
		go func() { done <- a.opts.Suggest(ctx, key, inv.path, inv.focused, inv.values[inv.focused], others) }()
		select {
		case list = <-done:
		case <-ctx.Done():
			a.log.Warn("autocomplete too slow", "command", inv.path)
		}
		cancel()
	}
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	for _, c := range list {
		if len(choices) == maxChoices {
			break
		}
		if c.Value == "" || len(c.Value) > maxChoiceText {
			continue
		}
		choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: clip(label(c.Name), maxChoiceText), Value: c.Value})
	}
	// Discord requires the choices array even when it is empty, which
	// discordgo's type omits; so the answer is built here.
	body := map[string]any{"type": discordgo.InteractionApplicationCommandAutocompleteResult, "data": map[string]any{"choices": choices}}
	endpoint := discordgo.EndpointInteractionResponse(i.ID, i.Token)
	if _, err := a.s.RequestWithBucketID("POST", endpoint, body, endpoint); err != nil {
		a.log.Warn("answering autocomplete", "err", describeErr(err))
	}
}
