package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"refillbot/conversation"
)

// tokenLife is how long an interaction token is used for edits and
// followups: Discord's 15 minutes, less a margin.
const tokenLife = 14 * time.Minute

// Discord's JSON error codes the adapter acts on.
const (
	codeCannotDM           = 50007
	codeUnknownInteraction = 10062
	codeAlreadyAcked       = 40060
)

type ixKey struct{}

// ix is one interaction being answered. Its lock orders the first response,
// the deferral timer and everything sent after.
type ix struct {
	a         *Adapter
	i         *discordgo.Interaction
	user      string
	ephemeral bool // in a guild: only the user may see the answers
	component bool
	created   time.Time
	timer     *time.Timer

	mu       sync.Mutex
	acked    bool // a callback was sent
	deferred bool // the callback was a deferral
	filled   bool // the deferred "thinking" message was replaced by a reply
	gone     bool // the interaction cannot be answered any more
}

func (a *Adapter) newIx(i *discordgo.Interaction, user string) *ix {
	x := &ix{a: a, i: i, user: user, ephemeral: i.GuildID != "", component: i.Type == discordgo.InteractionMessageComponent, created: time.Now()}
	x.timer = time.AfterFunc(a.opts.DeferAfter, x.deferNow)
	return x
}

func (x *ix) flags() discordgo.MessageFlags {
	if x.ephemeral {
		return discordgo.MessageFlagsEphemeral
	}
	return 0
}

// deferNow acknowledges the interaction when no reply came in time: a
// "thinking" message for commands and forms (filled in by the first reply),
// a silent acknowledgement for buttons (replies then follow up).
func (x *ix) deferNow() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.acked || x.gone {
		return
	}
	typ := discordgo.InteractionResponseDeferredChannelMessageWithSource
	if x.component {
		typ = discordgo.InteractionResponseDeferredMessageUpdate
	}
	err := x.a.s.InteractionRespond(x.i, &discordgo.InteractionResponse{Type: typ, Data: &discordgo.InteractionResponseData{Flags: x.flags()}})
	if err != nil {
		x.gone = true
		x.a.log.Warn("deferring an interaction", "err", describeErr(err))
		return
	}
	x.acked, x.deferred = true, true
}

// finish runs after the shell handled the interaction: one that got no reply
// at all is still acknowledged, and a "thinking" message never filled is
// removed.
func (x *ix) finish() {
	x.timer.Stop()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.gone {
		return
	}
	s := x.a.s
	switch {
	case !x.acked && x.component:
		if err := s.InteractionRespond(x.i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}); err != nil {
			x.a.log.Warn("acknowledging an interaction", "err", describeErr(err))
		}
	case !x.acked:
		if err := s.InteractionRespond(x.i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource, Data: &discordgo.InteractionResponseData{Flags: x.flags()}}); err == nil {
			_ = s.InteractionResponseDelete(x.i)
		}
	case x.deferred && !x.component && !x.filled:
		_ = s.InteractionResponseDelete(x.i)
	}
	x.acked = true
}

// errGone means the interaction can no longer carry a reply (too old, or
// never acknowledged in time); the reply goes by DM instead.
var errGone = errors.New("discord: interaction can no longer be answered")

// send shows a rendered message as the interaction's answer: the response
// itself when it is the first, the deferred message's content after a
// deferral, a followup after that.
func (x *ix) send(m message) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.gone || time.Since(x.created) > tokenLife {
		return "", errGone
	}
	var ref string
	for n, content := range m.contents {
		last := n == len(m.contents)-1
		var comps []discordgo.MessageComponent
		var files []*discordgo.File
		if last {
			comps, files = m.components, m.discordFiles()
		}
		r, err := x.sendOne(content, comps, files)
		if err != nil {
			return "", err
		}
		ref = r
	}
	return ref, nil
}

func (x *ix) sendOne(content string, comps []discordgo.MessageComponent, files []*discordgo.File) (string, error) {
	a, s := x.a, x.a.s
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	switch {
	case !x.acked:
		// The deferral timer keeps running until this succeeds: if the
		// answer fails, the interaction is still acknowledged in time.
		err := s.InteractionRespond(x.i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: content, Components: comps, Files: files, Flags: x.flags(), AllowedMentions: noMentions},
		})
		if err != nil {
			if code(err) == codeUnknownInteraction || code(err) == codeAlreadyAcked {
				x.gone = true
				return "", errGone
			}
			return "", classify(err)
		}
		x.timer.Stop()
		x.acked, x.filled = true, true
		return a.newRef(msgRef{ix: x.i, original: true, created: x.created}), nil
	case x.deferred && !x.component && !x.filled:
		_, err := s.InteractionResponseEdit(x.i, &discordgo.WebhookEdit{Content: &content, Components: &comps, Files: files, AllowedMentions: noMentions})
		if err != nil {
			return "", classify(err)
		}
		x.filled = true
		return a.newRef(msgRef{ix: x.i, original: true, created: x.created}), nil
	default:
		msg, err := s.FollowupMessageCreate(x.i, true, &discordgo.WebhookParams{Content: content, Components: comps, Files: files, Flags: x.flags(), AllowedMentions: noMentions})
		if err != nil {
			return "", classify(err)
		}
		return a.newRef(msgRef{ix: x.i, id: msg.ID, created: x.created}), nil
	}
}

// msgRef is what Edit and Delete need to find a message again.
type msgRef struct {
	ix       *discordgo.Interaction // set for interaction answers
	original bool                   // the interaction's own response
	id       string                 // a followup's or a channel message's id
	channel  string                 // a DM's channel
	created  time.Time
}

func (a *Adapter) newRef(r msgRef) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refSeq++
	ref := "m" + strconv.FormatUint(a.refSeq, 36)
	a.refs[ref] = r
	if len(a.refs) > 20000 {
		for k, v := range a.refs {
			if v.ix != nil && time.Since(v.created) > tokenLife {
				delete(a.refs, k)
			}
		}
	}
	return ref
}

func (a *Adapter) ref(ref string) (msgRef, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.refs[ref]
	return r, ok
}

// Send shows a reply to a user. With the interaction that caused it in ctx
// it answers that interaction (ephemerally in a guild); otherwise, or when
// the interaction can no longer be answered, it goes by DM. It returns a
// reference for Edit and Delete.
func (a *Adapter) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if to.Platform != Platform {
		return "", fmt.Errorf("discord: cannot send to platform %q", to.Platform)
	}
	m := render(r, png, a.lang(to.Chat))
	if x, ok := ctx.Value(ixKey{}).(*ix); ok && x.user == to.Chat {
		ref, err := x.send(m)
		if !errors.Is(err, errGone) {
			return ref, err
		}
	}
	return a.dm(ctx, to.Chat, m)
}

func (a *Adapter) lang(user string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return conversation.LangFromLocale(a.locale[user])
}

// dm sends a direct message, paced, and never to someone whose DMs were just
// found closed: Discord bans addresses that collect invalid requests.
func (a *Adapter) dm(ctx context.Context, user string, m message) (string, error) {
	a.mu.Lock()
	at, closed := a.closed[user]
	if closed && time.Since(at) > a.opts.DMClosedFor {
		delete(a.closed, user)
		closed = false
	}
	a.mu.Unlock()
	if closed {
		return "", unreachableError{}
	}
	ch, err := a.dmChannel(ctx, user)
	if err != nil {
		return "", err
	}
	var ref string
	for n, content := range m.contents {
		send := &discordgo.MessageSend{Content: content, AllowedMentions: noMentions}
		if n == len(m.contents)-1 {
			send.Components, send.Files = m.components, m.discordFiles()
		}
		if err := a.pace(ctx); err != nil {
			return "", err
		}
		msg, err := a.s.ChannelMessageSendComplex(ch, send, discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false))
		if err != nil {
			if isForbidden(err) {
				a.mu.Lock()
				a.closed[user] = time.Now()
				a.tell[user] = true
				a.mu.Unlock()
				a.log.Info("DMs closed; the user will be told at their next interaction", "code", code(err))
				return "", unreachableError{}
			}
			return "", classify(err)
		}
		ref = a.newRef(msgRef{id: msg.ID, channel: ch, created: time.Now()})
	}
	return ref, nil
}

func (a *Adapter) dmChannel(ctx context.Context, user string) (string, error) {
	a.mu.Lock()
	ch := a.dmChan[user]
	a.mu.Unlock()
	if ch != "" {
		return ch, nil
	}
	c, err := a.s.UserChannelCreate(user, discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false))
	if err != nil {
		if isForbidden(err) {
			a.mu.Lock()
			a.closed[user] = time.Now()
			a.tell[user] = true
			a.mu.Unlock()
			return "", unreachableError{}
		}
		return "", classify(err)
	}
	a.mu.Lock()
	a.dmChan[user] = c.ID
	a.mu.Unlock()
	return c.ID, nil
}

func (a *Adapter) pace(ctx context.Context) error {
	a.mu.Lock()
	now := time.Now()
	at := a.dmNext
	if at.Before(now) {
		at = now
	}
	a.dmNext = at.Add(a.opts.DMInterval)
	a.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Edit replaces a message sent before.
func (a *Adapter) Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error {
	mr, ok := a.ref(ref)
	if !ok {
		return fmt.Errorf("discord: unknown message ref %q", ref)
	}
	m := render(r, png, a.lang(to.Chat))
	content := ""
	if len(m.contents) > 0 {
		content = m.contents[0] // an edit keeps to one message
	}
	comps := m.components
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	files := m.discordFiles()
	var err error
	switch {
	case mr.ix != nil && time.Since(mr.created) > tokenLife:
		return errGone
	case mr.ix != nil && mr.original:
		_, err = a.s.InteractionResponseEdit(mr.ix, &discordgo.WebhookEdit{Content: &content, Components: &comps, Files: files, AllowedMentions: noMentions}, discordgo.WithContext(ctx))
	case mr.ix != nil:
		_, err = a.s.FollowupMessageEdit(mr.ix, mr.id, &discordgo.WebhookEdit{Content: &content, Components: &comps, Files: files, AllowedMentions: noMentions}, discordgo.WithContext(ctx))
	default:
		_, err = a.s.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: mr.id, Channel: mr.channel, Content: &content, Components: &comps, Files: files, AllowedMentions: noMentions}, discordgo.WithContext(ctx))
	}
	if err != nil {
		return classify(err)
	}
	return nil
}

// Delete removes a message sent before.
func (a *Adapter) Delete(ctx context.Context, to conversation.Address, ref string) error {
	mr, ok := a.ref(ref)
	if !ok {
		return fmt.Errorf("discord: unknown message ref %q", ref)
	}
	var err error
	switch {
	case mr.ix != nil && time.Since(mr.created) > tokenLife:
		return errGone
	case mr.ix != nil && mr.original:
		err = a.s.InteractionResponseDelete(mr.ix, discordgo.WithContext(ctx))
	case mr.ix != nil:
		err = a.s.FollowupMessageDelete(mr.ix, mr.id, discordgo.WithContext(ctx))
	default:
		err = a.s.ChannelMessageDelete(mr.channel, mr.id, discordgo.WithContext(ctx))
	}
	if err != nil {
		return classify(err)
	}
	a.mu.Lock()
	delete(a.refs, ref)
	a.mu.Unlock()
	return nil
}

// ---- errors ----

// unreachableError means the user cannot get DMs now (closed them, or
// blocked the bot); the shell keeps the message for later.
type unreachableError struct{}

func (unreachableError) Error() string     { return "discord: the user does not accept direct messages" }
func (unreachableError) Unreachable() bool { return true }

// rateLimitedError means Discord asked us to slow down.
type rateLimitedError struct{ after time.Duration }

func (e rateLimitedError) Error() string {
	return "discord: rate limited, retry after " + e.after.String()
}
func (e rateLimitedError) RetryAfter() time.Duration { return e.after }

func code(err error) int {
	var rest *discordgo.RESTError
	if errors.As(err, &rest) && rest.Message != nil {
		return rest.Message.Code
	}
	return 0
}

func isForbidden(err error) bool {
	var rest *discordgo.RESTError
	if code(err) == codeCannotDM {
		return true
	}
	return errors.As(err, &rest) && rest.Response != nil && rest.Response.StatusCode == http.StatusForbidden
}

// classify maps discordgo's errors to the shell's conventions, without URLs.
func classify(err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return rateLimitedError{after: rl.RetryAfter}
	}
	if isForbidden(err) {
		return unreachableError{}
	}
	return fmt.Errorf("discord: %w", describeErr(err))
}
