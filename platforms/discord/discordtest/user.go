package discordtest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Interaction types (Discord's numbers).
const (
	typeCommand      = 2
	typeComponent    = 3
	typeAutocomplete = 4
	typeModal        = 5
)

// Interaction is one interaction the fake dispatched.
type Interaction struct {
	ID, Token string
	Type      int
	User      *User
	GuildID   string
	ChannelID string

	created  time.Time
	message  string // the message whose component was used
	original string // the message @original names
	response *Response
	late     bool // an acknowledgement came after the window
	wire     any  // the INTERACTION_CREATE payload
}

// Response is the first answer to an interaction.
type Response struct {
	Type    int
	At      time.Duration // after the interaction's creation
	Message string        // the response's message id, for message responses
	Choices []Choice      // autocomplete
	Modal   *Modal
}

// Modal is a form shown to a user.
type Modal struct {
	CustomID, Title string
	Components      []Component
	from            *Interaction
}

// User is a scripted Discord user.
type User struct {
	s         *Server
	ID, Name  string
	Locale    string
	dm        string
	dmsClosed bool
}

// NewUser adds a user with a client locale such as "en-US" or "es-ES".
func (s *Server) NewUser(name, locale string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &User{s: s, ID: s.id(), Name: name, Locale: locale}
	s.users[u.ID] = u
	return u
}

// CloseDMs makes DMs to the user fail with 50007 (or work again).
func (u *User) CloseDMs(closed bool) {
	u.s.mu.Lock()
	u.dmsClosed = closed
	u.s.mu.Unlock()
}

// Place is where a user acts: a guild channel, or a DM with the bot.
type Place struct{ Guild, Channel string }

// GuildChannel returns a text channel of a guild, creating both as needed.
func (s *Server) GuildChannel(guild, name string) Place {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := guild + "-" + name
	if s.channels[id] == nil {
		s.channels[id] = &channel{id: id, guild: guild}
	}
	return Place{Guild: guild, Channel: id}
}

// DM is the user's private channel with the bot.
func (u *User) DM() Place {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	return Place{Channel: u.s.dmLocked(u).id}
}

// Opt is a slash command option. A subcommand is an Opt with Sub set (and
// no Value); Focused marks the option being typed, for autocomplete.
type Opt struct {
	Name    string
	Value   any
	Sub     []Opt
	Focused bool
}

// Pending is an interaction a user started.
type Pending struct {
	s  *Server
	ix *Interaction
}

// ID is the interaction's id.
func (p *Pending) ID() string { return p.ix.ID }

// Patience bounds every wait in the scripted user's helpers.
const Patience = 10 * time.Second

func (s *Server) newInteraction(u *User, typ int, pl Place) *Interaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := &Interaction{ID: s.id(), Type: typ, User: u, GuildID: pl.Guild, ChannelID: pl.Channel, created: time.Now()}
	ix.Token = "itok-" + ix.ID + "-" + s.id()
	s.ixByID[ix.ID] = ix
	s.ixByTok[ix.Token] = ix
	return ix
}

func (s *Server) send(ix *Interaction, data discordgo.InteractionData, msg *Message) *Pending {
	u := ix.User
	user := &discordgo.User{ID: u.ID, Username: u.Name}
	wire := discordgo.Interaction{
		ID: ix.ID, AppID: s.opts.AppID, Type: discordgo.InteractionType(ix.Type), Data: data,
		GuildID: ix.GuildID, ChannelID: ix.ChannelID, Locale: discordgo.Locale(u.Locale),
		Token: ix.Token, Version: 1,
	}
	if ix.GuildID != "" {
		wire.Member = &discordgo.Member{User: user, GuildID: ix.GuildID}
		gl := discordgo.Locale("en-US")
		wire.GuildLocale = &gl
	} else {
		wire.User = user
	}
	if msg != nil {
		wire.Message = &discordgo.Message{ID: msg.ID, ChannelID: msg.ChannelID, GuildID: msg.GuildID, Content: msg.Content, Flags: discordgo.MessageFlags(msg.Flags)}
	}
	s.mu.Lock()
	ix.wire = wire
	s.mu.Unlock()
	s.gw.dispatch("INTERACTION_CREATE", wire)
	return &Pending{s: s, ix: ix}
}

func commandData(name string, opts []Opt) discordgo.ApplicationCommandInteractionData {
	return discordgo.ApplicationCommandInteractionData{ID: "cmd-" + name, Name: name, CommandType: discordgo.ChatApplicationCommand, Options: wireOpts(opts)}
}

func wireOpts(opts []Opt) []*discordgo.ApplicationCommandInteractionDataOption {
	var out []*discordgo.ApplicationCommandInteractionDataOption
	for _, o := range opts {
		w := &discordgo.ApplicationCommandInteractionDataOption{Name: o.Name, Focused: o.Focused}
		switch {
		case o.Value == nil:
			w.Type = discordgo.ApplicationCommandOptionSubCommand
			w.Options = wireOpts(o.Sub)
		default:
			w.Type = discordgo.ApplicationCommandOptionString
			w.Value = o.Value
		}
		out = append(out, w)
	}
	return out
}

// Slash runs a slash command.
func (u *User) Slash(pl Place, name string, opts ...Opt) (*Pending, error) {
	if err := u.s.checkCommand(pl.Guild, name); err != nil {
		return nil, err
	}
	ix := u.s.newInteraction(u, typeCommand, pl)
	return u.s.send(ix, commandData(name, opts), nil), nil
}

func (s *Server) checkCommand(guild, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, scope := range []string{"", guild} {
		for _, c := range s.commands[scope] {
			if c.Name == name {
				return nil
			}
		}
	}
	return fmt.Errorf("discordtest: no command /%s is registered", name)
}

// Autocomplete asks for the choices of the Focused option as a user types,
// and waits for them.
func (u *User) Autocomplete(pl Place, name string, opts ...Opt) ([]Choice, error) {
	if err := u.s.checkCommand(pl.Guild, name); err != nil {
		return nil, err
	}
	ix := u.s.newInteraction(u, typeAutocomplete, pl)
	p := u.s.send(ix, commandData(name, opts), nil)
	r, err := p.Wait(Patience)
	if err != nil {
		return nil, err
	}
	if r.Type != CallbackAutocomplete {
		return nil, fmt.Errorf("discordtest: autocomplete answered with callback type %d", r.Type)
	}
	return r.Choices, nil
}

// visibleLocked reports whether u can see m.
func (s *Server) visibleLocked(u *User, m *Message) bool {
	if m.Deleted {
		return false
	}
	if m.Ephemeral() {
		return m.Audience == u.ID
	}
	if ch := s.channels[m.ChannelID]; ch != nil && ch.dmUser != "" {
		return ch.dmUser == u.ID
	}
	return true
}

// findComponent finds a button or select in a message the user can see.
func (u *User) findComponent(m Message, match func(Component) bool) (Component, *Message, error) {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.msgByID[m.ID]
	if cur == nil || !s.visibleLocked(u, cur) {
		return Component{}, nil, fmt.Errorf("discordtest: %s cannot see message %s", u.Name, m.ID)
	}
	for _, row := range cur.Components {
		for _, c := range row.Components {
			if match(c) {
				cp := *cur
				return c, &cp, nil
			}
		}
	}
	return Component{}, nil, fmt.Errorf("discordtest: not in message %s (shows %q)", m.ID, cur.Labels())
}

func (m *Message) place() Place { return Place{Guild: m.GuildID, Channel: m.ChannelID} }

// Press presses the button labelled label (exactly, else the first whose
// label contains it) in the current version of message m.
func (u *User) Press(m Message, label string) (*Pending, error) {
	c, cur, err := u.findComponent(m, func(c Component) bool { return c.Type == 2 && c.Label == label })
	if err != nil {
		c, cur, err = u.findComponent(m, func(c Component) bool { return c.Type == 2 && strings.Contains(c.Label, label) })
	}
	if err != nil {
		return nil, fmt.Errorf("press %q: %w", label, err)
	}
	return u.PressID(*cur, c.CustomID), nil
}

// PressID sends a button press with any custom_id on message m, whether the
// user can see it or not: a replayed or forged press.
func (u *User) PressID(m Message, customID string) *Pending {
	ix := u.s.newInteraction(u, typeComponent, m.place())
	ix.message = m.ID
	data := discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.ButtonComponent}
	return u.s.send(ix, data, &m)
}

// Choose picks the select item labelled label (exactly, else containing it).
func (u *User) Choose(m Message, label string) (*Pending, error) {
	var value string
	pick := func(exact bool) func(Component) bool {
		return func(c Component) bool {
			if c.Type != 3 {
				return false
			}
			for _, o := range c.Options {
				if o.Label == label || !exact && strings.Contains(o.Label, label) {
					value = o.Value
					return true
				}
			}
			return false
		}
	}
	c, cur, err := u.findComponent(m, pick(true))
	if err != nil {
		c, cur, err = u.findComponent(m, pick(false))
	}
	if err != nil {
		return nil, fmt.Errorf("choose %q: %w", label, err)
	}
	ix := u.s.newInteraction(u, typeComponent, cur.place())
	ix.message = cur.ID
	data := discordgo.MessageComponentInteractionData{CustomID: c.CustomID, ComponentType: discordgo.SelectMenuComponent, Values: []string{value}}
	return u.s.send(ix, data, cur), nil
}

// Submit fills a modal's text inputs with values, in order, and submits it.
func (u *User) Submit(md *Modal, values ...string) (*Pending, error) {
	if md == nil || md.from == nil {
		return nil, errors.New("discordtest: no modal")
	}
	if len(values) != len(md.Components) {
		return nil, fmt.Errorf("discordtest: modal has %d inputs, got %d values", len(md.Components), len(values))
	}
	var rows []Component
	for i, row := range md.Components {
		in := row.Components[0]
		if in.Required && values[i] == "" {
			return nil, fmt.Errorf("discordtest: input %q is required", in.Label)
		}
		if in.MaxLength > 0 && len([]rune(values[i])) > in.MaxLength {
			return nil, fmt.Errorf("discordtest: input %q takes at most %d characters", in.Label, in.MaxLength)
		}
		rows = append(rows, Component{Type: 1, Components: []Component{{Type: 4, CustomID: in.CustomID, Value: values[i]}}})
	}
	from := md.from
	ix := u.s.newInteraction(u, typeModal, Place{Guild: from.GuildID, Channel: from.ChannelID})
	ix.message = from.message
	var msg *Message
	u.s.mu.Lock()
	if m := u.s.msgByID[from.message]; m != nil {
		cp := *m
		msg = &cp
	}
	u.s.mu.Unlock()
	return u.s.send(ix, modalData{CustomID: md.CustomID, Components: rows}, msg), nil
}

// Redeliver dispatches the same interaction again, as Discord may after a
// reconnect: a bot must answer it once.
func (p *Pending) Redeliver() {
	p.s.mu.Lock()
	wire := p.ix.wire
	p.s.mu.Unlock()
	p.s.gw.dispatch("INTERACTION_CREATE", wire)
}

// Wait waits for the interaction's first answer (a message, a deferral, a
// modal or choices).
func (p *Pending) Wait(timeout time.Duration) (Response, error) {
	var r Response
	err := p.s.wait(timeout, "answer to interaction "+p.ix.ID, func() bool {
		if p.ix.response != nil {
			r = *p.ix.response
			return true
		}
		return false
	})
	if err != nil {
		p.s.mu.Lock()
		late := p.ix.late
		p.s.mu.Unlock()
		if late {
			return r, fmt.Errorf("interaction %s was acknowledged too late: the user saw \"This interaction failed\"", p.ix.ID)
		}
	}
	return r, err
}

// Modal waits for the interaction to be answered with a modal.
func (p *Pending) Modal(timeout time.Duration) (*Modal, error) {
	r, err := p.Wait(timeout)
	if err != nil {
		return nil, err
	}
	if r.Modal == nil {
		return nil, fmt.Errorf("discordtest: interaction %s answered with type %d, not a modal", p.ix.ID, r.Type)
	}
	return r.Modal, nil
}

// Failed reports whether the user saw "This interaction failed": no
// acknowledgement within the window.
func (p *Pending) Failed() bool {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.ix.late || p.ix.response == nil && time.Since(p.ix.created) > p.s.opts.CallbackWindow
}

// Messages returns the interaction's response and followups as they are now.
func (p *Pending) Messages() []Message {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	var out []Message
	for _, m := range p.s.messages {
		if m.Interaction == p.ix.ID && !m.Deleted {
			out = append(out, *m)
		}
	}
	return out
}

// Mark is a point in the message history: Await and Visible look at what
// was created or edited after it.
func (s *Server) Mark() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// Visible lists the messages the user can see created or edited after
// mark, in their current versions, in creation order.
func (u *User) Visible(mark int64) []Message {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.visibleAfterLocked(u, mark)
}

func (s *Server) visibleAfterLocked(u *User, mark int64) []Message {
	var out []Message
	for _, m := range s.messages {
		if m.Changed > mark && s.visibleLocked(u, m) {
			out = append(out, *m)
		}
	}
	return out
}

// DMs lists the messages in the user's DM channel with the bot that were not
// interaction answers: notifications.
func (u *User) DMs() []Message {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.ChannelID == u.dm && m.Interaction == "" && !m.Deleted {
			out = append(out, *m)
		}
	}
	return out
}

// Await waits for a message the user can see, created or edited after mark and not
// still "thinking", for which ok is true.
func (u *User) Await(mark int64, what string, ok func(Message) bool) (Message, error) {
	var found Message
	err := u.s.wait(Patience, what+" for "+u.Name, func() bool {
		for _, m := range u.s.visibleAfterLocked(u, mark) {
			if !m.Thinking && ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	if err != nil {
		var seen []string
		for _, m := range u.Visible(mark) {
			seen = append(seen, fmt.Sprintf("%q", m.Text()))
		}
		return found, fmt.Errorf("%w; %s saw %d messages: %s", err, u.Name, len(seen), strings.Join(seen, ", "))
	}
	return found, nil
}

// AwaitText waits for a visible message after mark containing substr.
func (u *User) AwaitText(mark int64, substr string) (Message, error) {
	return u.Await(mark, fmt.Sprintf("message containing %q", substr), func(m Message) bool { return strings.Contains(m.Text(), substr) })
}

// modalData is a modal submission as Discord sends it (discordgo's own type
// does not marshal its components).
type modalData struct {
	CustomID   string      `json:"custom_id"`
	Components []Component `json:"components"`
}

func (modalData) Type() discordgo.InteractionType { return discordgo.InteractionModalSubmit }
