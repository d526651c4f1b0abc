package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"refillbot/bot"
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
		return a.newRef(msgRef{ix: x.i, original: true, channel: x.i.ChannelID, ephemeral: x.ephemeral, created: x.created}), nil
	case x.deferred && !x.component && !x.filled:
		_, err := s.InteractionResponseEdit(x.i, &discordgo.WebhookEdit{Content: &content, Components: &comps, Files: files, AllowedMentions: noMentions})
		if err != nil {
			return "", classify(err)
		}
		x.filled = true
		return a.newRef(msgRef{ix: x.i, original: true, channel: x.i.ChannelID, ephemeral: x.ephemeral, created: x.created}), nil
	default:
		msg, err := s.FollowupMessageCreate(x.i, true, &discordgo.WebhookParams{Content: content, Components: comps, Files: files, Flags: x.flags(), AllowedMentions: noMentions})
		if err != nil {
			return "", classify(err)
		}
		return a.newRef(msgRef{ix: x.i, id: msg.ID, channel: x.i.ChannelID, ephemeral: x.ephemeral, created: x.created}), nil
	}
}

// msgRef is what Edit and Delete need to find an interaction's answer
// again: its token, which is a credential, stays in memory.
type msgRef struct {
	ix        *discordgo.Interaction
	original  bool   // the interaction's own response
	id        string // a followup's id
	channel   string // where the interaction happened
	ephemeral bool
	created   time.Time
}

// References returned by Send. A DM is found by its channel and id alone,
// so its reference is those ("dm:<channel>:<id>") and still works after a
// restart (the shell stores references: hiding a code comes hours later).
// An interaction's answer needs the interaction's token, which is kept in
// memory only; its reference ("ix:<boot>:<n>") names this process's run, so
// a reference stored before a restart never finds another message.
const (
	dmRefPrefix = "dm:"
	ixRefPrefix = "ix:"
)

func dmRef(channel, id string) string { return dmRefPrefix + channel + ":" + id }

func parseDMRef(ref string) (channel, id string, ok bool) {
	rest, ok := strings.CutPrefix(ref, dmRefPrefix)
	if !ok {
		return "", "", false
	}
	channel, id, ok = strings.Cut(rest, ":")
	return channel, id, ok && channel != "" && id != ""
}

func (a *Adapter) newRef(r msgRef) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refSeq++
	ref := ixRefPrefix + a.boot + ":" + strconv.FormatUint(a.refSeq, 36)
	a.refs[ref] = r
	if a.refSeq%256 == 0 {
		for k, v := range a.refs {
			if time.Since(v.created) > tokenLife {
				delete(a.refs, k) // its token is useless now
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

// Hold shows notice by DM where the code message r will go (bot.Holder),
// so that Edit turns that DM into r — its image, if any, added as an
// attachment — and a repeat of the edit after a restart changes the same
// message. A DM's reference (channel and message id) outlives the process;
// an answer to an interaction's is in memory only, so a reply with the
// user's own interaction at hand (their /orders, say) is not held and goes
// as it always did, and so is one longer than one message.
func (a *Adapter) Hold(ctx context.Context, to conversation.Address, notice, r conversation.Reply, png []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if to.Platform != Platform {
		return "", fmt.Errorf("discord: cannot send to platform %q", to.Platform)
	}
	if x, ok := ctx.Value(ixKey{}).(*ix); ok && x.user == to.Chat {
		return "", bot.ErrCannotHold
	}
	lang := a.lang(to.Chat)
	if len(render(r, png, lang).contents) != 1 {
		return "", bot.ErrCannotHold
	}
	return a.dm(ctx, to.Chat, render(notice, nil, lang))
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
		ref = dmRef(ch, msg.ID)
	}
	a.mu.Lock()
	delete(a.tell, user) // they got it after all: nothing to explain
	a.mu.Unlock()
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

// errStale means a reference no longer finds its message: it is from
// before a restart, or the interaction's token has expired. The shell then
// sends the reply as a new message.
var errStale = errors.New("discord: the message can no longer be edited")

// errUnseen means an ephemeral message was edited for a notification.
// Discord does not tell anyone about edits, and an ephemeral message lives
// only on the screen that asked for it (gone after a reload, unseen in
// another channel), so the edit keeps that screen current (an invoice no
// longer offers to be paid) but does not count as reaching the user: the
// shell then sends the news anew, by DM.
var errUnseen = errors.New("discord: an edit of an ephemeral message does not reach the user")

// Edit replaces a message sent before. A DM is edited in place. An answer
// to an interaction is edited with that interaction's token while it is
// valid; in a server, where answers are ephemeral, the edit counts as seen
// only when it is caused by the same user's interaction in that channel
// (they are looking at it), otherwise it returns errUnseen after editing.
func (a *Adapter) Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error {
	if err := ctx.Err(); err != nil {
		return err
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
	// Files in an edit are added to the message's; an empty list of those
	// to keep makes the new ones (or none) replace them: a paid invoice
	// loses its payment QR.
	keep := &[]*discordgo.MessageAttachment{}
	if ch, id, ok := parseDMRef(ref); ok {
		_, err := a.s.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: id, Channel: ch, Content: &content, Components: &comps, Files: files, Attachments: keep, AllowedMentions: noMentions}, discordgo.WithContext(ctx))
		if err != nil {
			return classify(err)
		}
		return nil
	}
	mr, ok := a.ref(ref)
	if !ok || time.Since(mr.created) > tokenLife {
		return errStale
	}
	edit := &discordgo.WebhookEdit{Content: &content, Components: &comps, Files: files, Attachments: keep, AllowedMentions: noMentions}
	var err error
	if mr.original {
		_, err = a.s.InteractionResponseEdit(mr.ix, edit, discordgo.WithContext(ctx))
	} else {
		_, err = a.s.FollowupMessageEdit(mr.ix, mr.id, edit, discordgo.WithContext(ctx))
	}
	if err != nil {
		var rl rateLimitedError
		if cerr := classify(err); errors.As(cerr, &rl) {
			return cerr
		}
		// Unknown message or webhook, invalid token: the message is gone
		// from Discord's side, so the reply goes anew (by DM, for a
		// notification, where closed DMs are found and reported).
		a.log.Debug("editing an interaction's answer", "err", describeErr(err))
		return errStale
	}
	if mr.ephemeral {
		x, ok := ctx.Value(ixKey{}).(*ix)
		if !ok || x.user != to.Chat || x.i.ChannelID != mr.channel {
			return errUnseen
		}
	}
	return nil
}

// Delete removes a message sent before.
func (a *Adapter) Delete(ctx context.Context, to conversation.Address, ref string) error {
	var err error
	if ch, id, ok := parseDMRef(ref); ok {
		err = a.s.ChannelMessageDelete(ch, id, discordgo.WithContext(ctx))
		if err != nil {
			return classify(err)
		}
		return nil
	}
	mr, ok := a.ref(ref)
	if !ok || time.Since(mr.created) > tokenLife {
		return errStale
	}
	if mr.original {
		err = a.s.InteractionResponseDelete(mr.ix, discordgo.WithContext(ctx))
	} else {
		err = a.s.FollowupMessageDelete(mr.ix, mr.id, discordgo.WithContext(ctx))
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
