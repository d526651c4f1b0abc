package discord

import (
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"refillbot/conversation"
)

// spanish are the Discord locales that get the Spanish texts.
var spanish = []discordgo.Locale{discordgo.SpanishES, discordgo.SpanishLATAM}

// describe returns a command's description in lang: the engine's catalogue
// first, this package's table otherwise.
func describe(lang, name string) string {
	for _, c := range conversation.Commands(lang) {
		if c.Name == name && c.Description != "" && !strings.HasPrefix(c.Description, "cmd.") {
			return c.Description
		}
	}
	if d := phrase(lang, "cmd."+name); d != "discord.cmd."+name {
		return d
	}
	return phrase(lang, "cmd.fallback")
}

func localized(f func(lang string) string) (string, map[discordgo.Locale]string) {
	es := f("es")
	m := map[discordgo.Locale]string{}
	for _, l := range spanish {
		m[l] = es
	}
	return f("en"), m
}

func stringOpt(name, key string, required, autocomplete bool) *discordgo.ApplicationCommandOption {
	en, es := localized(func(l string) string { return phrase(l, key) })
	return &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionString, Name: name, Description: en, DescriptionLocalizations: es,
		Required: required, Autocomplete: autocomplete, MaxLength: 100,
	}
}

func command(name, descName string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommand {
	en, es := localized(func(l string) string { return describe(l, descName) })
	return &discordgo.ApplicationCommand{
		Type: discordgo.ChatApplicationCommand, Name: name, Description: en,
		DescriptionLocalizations: &es, Options: opts,
	}
}

func subcommand(name, key string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	en, es := localized(func(l string) string {
		if key == "esims" {
			return describe(l, "esims")
		}
		return phrase(l, key)
	})
	return &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: en,
		DescriptionLocalizations: es, Options: opts,
	}
}

// Commands is the slash command set registered at start-up.
func Commands() []*discordgo.ApplicationCommand {
	return []*discordgo.ApplicationCommand{
		command("buy", "buy", stringOpt("query", "opt.buy.query", true, true)),
		command("search", "search", stringOpt("query", "opt.search.query", true, false)),
		command("cart", "cart"),
		command("orders", "orders"),
		command("esim", "esim",
			subcommand("list", "esims"),
			subcommand("status", "cmd.esim.status", stringOpt("esim", "opt.esim.esim", true, true)),
			subcommand("topup", "cmd.esim.topup", stringOpt("esim", "opt.esim.esim", true, true), stringOpt("plan", "opt.esim.plan", true, true)),
		),
		command("country", "country"),
		command("language", "language"),
		command("help", "help"),
		command("start", "start"),
		command("cancel", "cancel"),
	}
}

// invocation is a slash command as used: its path ("esim topup") and the
// string values of its options.
type invocation struct {
	path    string
	values  map[string]string
	focused string // the option being typed, for autocomplete
}

func invoked(d discordgo.ApplicationCommandInteractionData) invocation {
	inv := invocation{path: d.Name, values: map[string]string{}}
	opts := d.Options
	for len(opts) == 1 && (opts[0].Type == discordgo.ApplicationCommandOptionSubCommand || opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup) {
		inv.path += " " + opts[0].Name
		opts = opts[0].Options
	}
	for _, o := range opts {
		v := ""
		switch x := o.Value.(type) {
		case string:
			v = x
		case nil:
		default:
			v = fmt.Sprint(x)
		}
		inv.values[o.Name] = strings.TrimSpace(v)
		if o.Focused {
			inv.focused = o.Name
		}
	}
	return inv
}

// event maps a slash command to the engine's event; ok is false for a
// command this adapter does not know (an old registration).
func (inv invocation) event() (conversation.Event, bool) {
	v := inv.values
	switch inv.path {
	case "buy":
		return conversation.Command{Name: "buy", Args: v["query"]}, true
	case "search":
		return conversation.Command{Name: "search", Args: v["query"]}, true
	case "cart", "orders", "country", "language", "help", "cancel":
		return conversation.Command{Name: inv.path}, true
	case "start":
		return conversation.Start{}, true
	case "esim list":
		return conversation.Command{Name: "esims"}, true
	case "esim status":
		return conversation.Command{Name: "esim", Args: v["esim"]}, true
	case "esim topup":
		return conversation.Command{Name: "topup", Args: strings.TrimSpace(v["esim"] + " " + v["plan"])}, true
	}
	return nil, false
}
