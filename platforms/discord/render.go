package discord

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"refillbot/conversation"
)

// Discord's limits.
const (
	maxContent     = 2000
	maxButtons     = 25 // 5 rows of 5
	perRow         = 5
	maxSelect      = 25
	maxCustomID    = 100
	maxButtonLabel = 80
	maxSelectLabel = 100
	maxChoices     = 25
	maxChoiceText  = 100
)

// Custom ids the adapter issues itself. Engine tokens never contain ':'.
const (
	modalPrefix  = "rb:modal:" // + the Expect: a button that opens a modal
	selectID     = "rb:select" // the string select holding a long menu
	modalInputID = "value"
)

// message is a reply rendered for Discord: one or more contents (long
// texts are split), components and files for the last one.
type message struct {
	contents   []string
	components []discordgo.MessageComponent
	files      []fileData
}

type fileData struct {
	name, contentType string
	data              []byte
}

func (m message) discordFiles() []*discordgo.File {
	var out []*discordgo.File
	for _, f := range m.files {
		out = append(out, &discordgo.File{Name: f.name, ContentType: f.contentType, Reader: bytes.NewReader(f.data)})
	}
	return out
}

// noMentions stops any @everyone, role or user mention in a reply from pinging.
var noMentions = &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}

// modalExpect reports whether a reply expecting e gets a button opening a
// modal. A bot without the message content intent cannot read what users
// type in chat, so every typed answer goes through a form; a product name
// too (the engine asks for one after "New search"), besides /search.
func modalExpect(e conversation.Expect) bool {
	switch e {
	case conversation.ExpectAmount, conversation.ExpectPhone, conversation.ExpectICCID, conversation.ExpectQuery:
		return true
	}
	return false
}

// render turns a neutral reply into a Discord message in lang (for the
// adapter's own words). Options that cannot be pressed on Discord (a token
// longer than a custom id) are dropped.
func render(r conversation.Reply, png []byte, lang string) message {
	var m message
	m.contents = split(markdown(r.Text), maxContent)
	var opts []conversation.Option
	for _, o := range r.Options {
		if o.Token != "" && len(o.Token) <= maxCustomID && !strings.Contains(o.Token, ":") {
			opts = append(opts, o)
		}
	}
	modal := modalExpect(r.Expect)
	var opener discordgo.MessageComponent
	if modal {
		opener = discordgo.Button{Label: clip(conversation.Phrase(lang, conversation.UITypeHere), maxButtonLabel),
			Style: discordgo.PrimaryButton, CustomID: modalPrefix + string(r.Expect)}
	}
	n := len(opts)
	if modal {
		n++
	}
	switch {
	case n == 0:
	case n <= maxButtons:
		var row []discordgo.MessageComponent
		add := func(c discordgo.MessageComponent) {
			row = append(row, c)
			if len(row) == perRow {
				m.components = append(m.components, discordgo.ActionsRow{Components: row})
				row = nil
			}
		}
		for _, o := range opts {
			add(discordgo.Button{Label: clip(label(o.Label), maxButtonLabel), Style: discordgo.SecondaryButton, CustomID: o.Token})
		}
		if modal {
			add(opener)
		}
		if len(row) > 0 {
			m.components = append(m.components, discordgo.ActionsRow{Components: row})
		}
	default:
		if len(opts) > maxSelect {
			opts = opts[:maxSelect]
		}
		sel := discordgo.SelectMenu{MenuType: discordgo.StringSelectMenu, CustomID: selectID,
			Placeholder: clip(phrase(lang, "ui.select"), 150)}
		for _, o := range opts {
			sel.Options = append(sel.Options, discordgo.SelectMenuOption{Label: clip(label(o.Label), maxSelectLabel), Value: o.Token})
		}
		m.components = append(m.components, discordgo.ActionsRow{Components: []discordgo.MessageComponent{sel}})
		if modal {
			m.components = append(m.components, discordgo.ActionsRow{Components: []discordgo.MessageComponent{opener}})
		}
	}
	if png != nil {
		m.files = []fileData{{name: "qr.png", contentType: "image/png", data: png}}
	}
	if len(m.contents) == 0 && (m.components != nil || m.files != nil) {
		m.contents = []string{"\u200b"} // components need some content to hang on
	}
	return m
}

func label(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "…"
	}
	return s
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// phrase is this adapter's own words, kept in the engine's catalogue under
// "discord." keys (ui.* keys are the shared adapter chrome).
func phrase(lang, key string) string {
	if strings.HasPrefix(key, "ui.dm_closed") {
		return conversation.Phrase(lang, conversation.UIDMClosed)
	}
	return conversation.Phrase(lang, conversation.Msg("discord."+key))
}

// markdown renders spans in Discord's markdown. Every span's text is
// literal: characters that would start formatting, a link or a mention are
// escaped, and code spans cannot be closed early.
func markdown(spans []conversation.Span) string {
	var b strings.Builder
	for _, s := range spans {
		if s.Text == "" {
			continue
		}
		switch s.Style {
		case conversation.Code:
			b.WriteString("`" + codeSafe(s.Text) + "`")
		case conversation.Bold:
			wrapLines(&b, s.Text, "**")
		case conversation.Italic:
			wrapLines(&b, s.Text, "_")
		default:
			b.WriteString(escape(s.Text, atLineStart(b.String())))
		}
	}
	return b.String()
}

// wrapLines applies an emphasis marker line by line, so a newline inside a
// bold span never leaves a marker dangling.
func wrapLines(b *strings.Builder, text, mark string) {
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		if strings.TrimSpace(line) == "" {
			b.WriteString(line)
			continue
		}
		b.WriteString(mark + escape(line, false) + mark)
	}
}

func atLineStart(s string) bool { return s == "" || strings.HasSuffix(s, "\n") }

// escape backslash-escapes Discord markdown. Characters that matter only at
// the start of a line (headings, quotes, lists) are escaped only there.
func escape(s string, lineStart bool) string {
	var b strings.Builder
	for i, r := range s {
		start := (i == 0 && lineStart) || (i > 0 && s[i-1] == '\n')
		switch r {
		case '\\', '*', '_', '~', '`', '|', '[', ']', '<', '@':
			b.WriteByte('\\')
		case '#', '-', '>', '+':
			if start {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// codeSafe keeps a code span closed: a backtick inside becomes a look-alike.
func codeSafe(s string) string { return strings.ReplaceAll(s, "`", "ˋ") }

// split cuts text into pieces of at most n runes, at line ends where it can.
func split(s string, n int) []string {
	if s == "" {
		return nil
	}
	var out []string
	for utf8.RuneCountInString(s) > n {
		r := []rune(s)
		cut := n
		if i := strings.LastIndex(string(r[:n]), "\n"); i > 0 {
			cut = utf8.RuneCountInString(string(r[:n])[:i]) + 1
		}
		out = append(out, string(r[:cut]))
		s = string(r[cut:])
	}
	return append(out, s)
}
