package discord

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"refillbot/conversation"
)

// The fuzz targets of this file cover what Discord hands the bot — an
// interaction, as the gateway delivers it — and the custom ids of the
// components it renders, which come back in those interactions.

// Whatever the gateway delivers, decoding it and reading the slash command,
// modal or component out of it never panics; a known command becomes the
// engine's command with its values trimmed, nothing else.
func FuzzGatewayInteraction(f *testing.F) {
	for _, s := range []string{
		`{"op":0,"s":3,"t":"INTERACTION_CREATE","d":{"id":"1","type":2,"token":"t","user":{"id":"7"},"locale":"es-ES","data":{"id":"c","name":"search","type":1,"options":[{"name":"query","type":3,"value":"  amazon us "}]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":{"id":"2","type":2,"member":{"user":{"id":"7"}},"data":{"name":"esim","type":1,"options":[{"name":"topup","type":1,"options":[{"name":"esim","type":3,"value":"8900000000000000011"},{"name":"plan","type":3,"value":"p<&>1GB"}]}]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":{"id":"3","type":4,"user":{"id":"7"},"data":{"name":"buy","type":1,"options":[{"name":"query","type":3,"value":"ama","focused":true}]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":{"id":"4","type":3,"user":{"id":"7"},"data":{"custom_id":"rb:select","component_type":3,"values":["n.1.0"]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":{"id":"5","type":3,"user":{"id":"7"},"data":{"custom_id":"n.1.2","component_type":2}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":{"id":"6","type":5,"user":{"id":"7"},"data":{"custom_id":"rb:modal:amount","components":[{"type":1,"components":[{"type":4,"custom_id":"value","value":" 25 "}]}]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":{"id":"7","type":2,"user":{"id":"7"},"data":{"name":"cart","type":1,"options":[{"name":"x","type":4,"value":12}]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":{"id":"8","type":1}}`,
		`{"op":0,"t":"INTERACTION_CREATE","d":null}`, `{"op":11}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var frame discordgo.Event
		if json.Unmarshal(raw, &frame) != nil || frame.Type != "INTERACTION_CREATE" {
			return
		}
		var ic discordgo.InteractionCreate
		if json.Unmarshal(frame.RawData, &ic) != nil || ic.Interaction == nil {
			return
		}
		i := ic.Interaction
		switch i.Type {
		case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
			d, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
			if !ok {
				t.Fatalf("a command interaction decoded with data %T", i.Data)
			}
			inv := invoked(d)
			if !strings.HasPrefix(inv.path, d.Name) {
				t.Fatalf("command %q read as %q", d.Name, inv.path)
			}
			for k, v := range inv.values {
				if v != strings.TrimSpace(v) {
					t.Fatalf("value %s=%q not trimmed", k, v)
				}
			}
			if inv.focused != "" {
				if _, ok := inv.values[inv.focused]; !ok {
					t.Fatalf("focused option %q has no value", inv.focused)
				}
			}
			ev, ok := inv.event()
			if !ok {
				return
			}
			switch ev := ev.(type) {
			case conversation.Command:
				if ev.Name == "" || ev.Args != strings.TrimSpace(ev.Args) {
					t.Fatalf("%q became %+v", inv.path, ev)
				}
			case conversation.Start:
			default:
				t.Fatalf("%q became %T", inv.path, ev)
			}
		case discordgo.InteractionModalSubmit:
			d, ok := i.Data.(discordgo.ModalSubmitInteractionData)
			if !ok {
				t.Fatalf("a modal interaction decoded with data %T", i.Data)
			}
			if v := modalValue(d); v != strings.TrimSpace(v) {
				t.Fatalf("modal value %q not trimmed", v)
			}
		case discordgo.InteractionMessageComponent:
			if _, ok := i.Data.(discordgo.MessageComponentInteractionData); !ok {
				t.Fatalf("a component interaction decoded with data %T", i.Data)
			}
		}
	})
}

// Every option the engine offers is pressable under its own token — as a
// button's custom id or a select's value, within Discord's 100 characters —
// or left out; none can be taken for one of the adapter's own ids, and the
// adapter's ids never reach the engine as a token.
func FuzzCustomID(f *testing.F) {
	f.Add("n.1.0", "n.1.1", uint8(2), uint8(0))
	f.Add("rb:select", "rb:modal:amount", uint8(1), uint8(1))
	f.Add(strings.Repeat("x", 100), strings.Repeat("y", 101), uint8(30), uint8(2))
	f.Add("", "/topup 89", uint8(26), uint8(3))
	f.Fuzz(func(t *testing.T, tokA, tokB string, count, expect uint8) {
		expects := []conversation.Expect{"", conversation.ExpectAmount, conversation.ExpectPhone, conversation.ExpectQuery}
		r := conversation.Reply{Text: []conversation.Span{{Text: "pick"}}, Expect: expects[int(expect)%len(expects)]}
		for k := range int(count % 40) {
			tok := tokA
			if k%2 == 1 {
				tok = tokB
			}
			r.Options = append(r.Options, conversation.Option{Label: "o", Token: tok})
		}
		pressable := func(tok string) bool { return tok != "" && len(tok) <= maxCustomID && !strings.Contains(tok, ":") }
		m := render(r, nil, "en")
		seen := 0
		for _, row := range m.components {
			for _, c := range row.(discordgo.ActionsRow).Components {
				switch c := c.(type) {
				case discordgo.Button:
					if len(c.CustomID) > maxCustomID {
						t.Fatalf("custom id of %d characters", len(c.CustomID))
					}
					if strings.HasPrefix(c.CustomID, modalPrefix) {
						if !modalExpect(r.Expect) {
							t.Fatalf("a modal button for %q", r.Expect)
						}
						continue
					}
					if !pressable(c.CustomID) || (c.CustomID != tokA && c.CustomID != tokB) {
						t.Fatalf("button custom id %q from tokens %q, %q", c.CustomID, tokA, tokB)
					}
					seen++
				case discordgo.SelectMenu:
					if c.CustomID != selectID {
						t.Fatalf("select custom id %q", c.CustomID)
					}
					for _, o := range c.Options {
						if !pressable(o.Value) || (o.Value != tokA && o.Value != tokB) {
							t.Fatalf("select value %q from tokens %q, %q", o.Value, tokA, tokB)
						}
						seen++
					}
				}
			}
		}
		want := 0
		for _, o := range r.Options {
			if pressable(o.Token) {
				want++
			}
		}
		if want+b2i(modalExpect(r.Expect)) > maxButtons {
			want = min(want, maxSelect) // a long menu shows its first options in a select
		}
		if seen != want {
			t.Fatalf("%d of %d pressable options rendered", seen, want)
		}
	})
}

// A direct-message reference stored before a restart reads back as the
// channel and message it was made from, and nothing else reads as one.
func FuzzDMRef(f *testing.F) {
	f.Add("123", "456", "dm:1:2")
	f.Add("", "x", "dm::")
	f.Add("a:b", "c", "ix:boot:1")
	f.Fuzz(func(t *testing.T, channel, id, stored string) {
		if ch, m, ok := parseDMRef(dmRef(channel, id)); channel != "" && id != "" && !strings.Contains(channel, ":") && (!ok || ch != channel || m != id) {
			t.Fatalf("dm ref of %q, %q reads back as %q, %q, %v", channel, id, ch, m, ok)
		}
		ch, m, ok := parseDMRef(stored)
		if ok && (ch == "" || m == "" || strings.Contains(ch, ":") || dmRef(ch, m) != stored) {
			t.Fatalf("%q read as dm ref %q, %q", stored, ch, m)
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
