package discord

import (
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"refillbot/conversation"
)

func opts(n int) []conversation.Option {
	out := make([]conversation.Option, n)
	for i := range out {
		out[i] = conversation.Option{Label: "Option " + string(rune('A'+i%26)), Token: "n0nce.1." + itoa(i)}
	}
	return out
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

type layout struct {
	rows    []int // components per row
	selects int   // options in a select, if any
	modal   bool  // a button opening a modal
}

func layoutOf(m message) layout {
	var l layout
	for _, c := range m.components {
		row := c.(discordgo.ActionsRow)
		l.rows = append(l.rows, len(row.Components))
		for _, x := range row.Components {
			switch x := x.(type) {
			case discordgo.SelectMenu:
				l.selects = len(x.Options)
			case discordgo.Button:
				if strings.HasPrefix(x.CustomID, modalPrefix) {
					l.modal = true
				}
			}
		}
	}
	return l
}

func TestComponentLayout(t *testing.T) {
	for name, tc := range map[string]struct {
		n      int
		expect conversation.Expect
		want   layout
	}{
		"none":                 {0, "", layout{}},
		"three buttons":        {3, "", layout{rows: []int{3}}},
		"a full row":           {5, "", layout{rows: []int{5}}},
		"two rows":             {7, "", layout{rows: []int{5, 2}}},
		"25 buttons":           {25, "", layout{rows: []int{5, 5, 5, 5, 5}}},
		"26 become a select":   {26, "", layout{rows: []int{1}, selects: 25}},
		"amount adds a button": {3, conversation.ExpectAmount, layout{rows: []int{4}, modal: true}},
		"amount, modal only":   {0, conversation.ExpectAmount, layout{rows: []int{1}, modal: true}},
		"phone":                {5, conversation.ExpectPhone, layout{rows: []int{5, 1}, modal: true}},
		"select and a modal":   {25, conversation.ExpectICCID, layout{rows: []int{1, 1}, selects: 25, modal: true}},
		"query":                {2, conversation.ExpectQuery, layout{rows: []int{3}, modal: true}},
		"nothing to type":      {2, conversation.ExpectNothing, layout{rows: []int{2}}},
	} {
		t.Run(name, func(t *testing.T) {
			m := render(conversation.Reply{Text: []conversation.Span{{Text: "x"}}, Options: opts(tc.n), Expect: tc.expect}, nil, "en")
			got := layoutOf(m)
			if !slices.Equal(got.rows, tc.want.rows) || got.selects != tc.want.selects || got.modal != tc.want.modal {
				t.Errorf("layout %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOversizedTokensAreDropped(t *testing.T) {
	r := conversation.Reply{Options: []conversation.Option{
		{Label: "ok", Token: "abc.1.0"},
		{Label: "too long", Token: strings.Repeat("x", 101)},
		{Label: "ours", Token: "rb:modal:amount"},
	}}
	l := layoutOf(render(r, nil, "en"))
	if len(l.rows) != 1 || l.rows[0] != 1 {
		t.Errorf("layout %+v, want only the valid option", l)
	}
}

func TestMarkdownIsEscaped(t *testing.T) {
	for name, tc := range map[string]struct {
		spans []conversation.Span
		want  string
	}{
		"plain":           {[]conversation.Span{{Text: "Amazon US 50.00"}}, "Amazon US 50.00"},
		"markers":         {[]conversation.Span{{Text: "*a* _b_ ~c~ `d` |e| [f](g) <@1> \\"}}, `\*a\* \_b\_ \~c\~ \` + "`" + `d\` + "`" + ` \|e\| \[f\](g) \<\@1> \\`},
		"line starts":     {[]conversation.Span{{Text: "# h\n- l\n> q\na-b"}}, "\\# h\n\\- l\n\\> q\na-b"},
		"bold":            {[]conversation.Span{{Text: "Invoice", Style: conversation.Bold}}, "**Invoice**"},
		"bold multi-line": {[]conversation.Span{{Text: "a\nb", Style: conversation.Bold}}, "**a**\n**b**"},
		"bold escapes":    {[]conversation.Span{{Text: "a*b", Style: conversation.Bold}}, `**a\*b**`},
		"italic":          {[]conversation.Span{{Text: "amazon", Style: conversation.Italic}}, "_amazon_"},
		"code":            {[]conversation.Span{{Text: "AB-12_*", Style: conversation.Code}}, "`AB-12_*`"},
		"code backtick":   {[]conversation.Span{{Text: "a`b", Style: conversation.Code}}, "`aˋb`"},
		"empty spans":     {[]conversation.Span{{Text: ""}, {Text: "", Style: conversation.Bold}}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := markdown(tc.spans); got != tc.want {
				t.Errorf("markdown = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLongTextIsSplit(t *testing.T) {
	line := strings.Repeat("é", 99) + "\n"
	text := strings.Repeat(line, 50) // 5000 runes
	parts := split(text, maxContent)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	if strings.Join(parts, "") != text {
		t.Error("split lost text")
	}
	for _, p := range parts {
		if n := len([]rune(p)); n > maxContent {
			t.Errorf("part of %d runes", n)
		}
		if !strings.HasSuffix(p, "\n") {
			t.Errorf("part does not end at a line end")
		}
	}
}

func TestCommandEvents(t *testing.T) {
	str := func(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
	}
	sub := func(name string, o ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: o}
	}
	for _, tc := range []struct {
		name string
		opts []*discordgo.ApplicationCommandInteractionDataOption
		want conversation.Event
	}{
		{"buy", []*discordgo.ApplicationCommandInteractionDataOption{str("query", "amazon-us")}, conversation.Command{Name: "buy", Args: "amazon-us"}},
		{"buy", []*discordgo.ApplicationCommandInteractionDataOption{str("query", "  steam gift ")}, conversation.Command{Name: "buy", Args: "steam gift"}},
		{"search", []*discordgo.ApplicationCommandInteractionDataOption{str("query", "netflix")}, conversation.Command{Name: "search", Args: "netflix"}},
		{"cart", nil, conversation.Command{Name: "cart"}},
		{"orders", nil, conversation.Command{Name: "orders"}},
		{"country", nil, conversation.Command{Name: "country"}},
		{"language", nil, conversation.Command{Name: "language"}},
		{"help", nil, conversation.Command{Name: "help"}},
		{"cancel", nil, conversation.Command{Name: "cancel"}},
		{"start", nil, conversation.Start{}},
		{"esim", []*discordgo.ApplicationCommandInteractionDataOption{sub("list")}, conversation.Command{Name: "esims"}},
		{"esim", []*discordgo.ApplicationCommandInteractionDataOption{sub("status", str("esim", "8901234567890123456"))}, conversation.Command{Name: "esim", Args: "8901234567890123456"}},
		{"esim", []*discordgo.ApplicationCommandInteractionDataOption{sub("topup", str("esim", "8901234567890123456"), str("plan", "pkg-5gb"))}, conversation.Command{Name: "topup", Args: "8901234567890123456 pkg-5gb"}},
	} {
		inv := invoked(discordgo.ApplicationCommandInteractionData{Name: tc.name, Options: tc.opts})
		got, ok := inv.event()
		if !ok || got != tc.want {
			t.Errorf("/%s: event %#v (%v), want %#v", inv.path, got, ok, tc.want)
		}
	}
	if _, ok := invoked(discordgo.ApplicationCommandInteractionData{Name: "gone"}).event(); ok {
		t.Error("an unknown command mapped to an event")
	}
}

// Every registered command and option is described in English and Spanish,
// within Discord's limits, and every command maps to an engine event.
func TestCommandSet(t *testing.T) {
	var walk func(path, desc string, es map[discordgo.Locale]string, o []*discordgo.ApplicationCommandOption)
	walk = func(path, desc string, es map[discordgo.Locale]string, o []*discordgo.ApplicationCommandOption) {
		if n := len([]rune(desc)); n == 0 || n > 100 || strings.HasPrefix(desc, "cmd.") {
			t.Errorf("%s: description %q", path, desc)
		}
		if d := es[discordgo.SpanishES]; d == "" || d == desc || len([]rune(d)) > 100 {
			t.Errorf("%s: Spanish description %q", path, d)
		}
		for _, x := range o {
			walk(path+" "+x.Name, x.Description, x.DescriptionLocalizations, x.Options)
		}
	}
	for _, c := range Commands() {
		walk("/"+c.Name, c.Description, *c.DescriptionLocalizations, c.Options)
		if c.Name == "esim" {
			continue
		}
		if _, ok := invoked(discordgo.ApplicationCommandInteractionData{Name: c.Name}).event(); !ok {
			t.Errorf("/%s maps to no event", c.Name)
		}
	}
}
