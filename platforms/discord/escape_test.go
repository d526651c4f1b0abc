package discord_test

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"refillbot/conversation"
	"refillbot/platforms/discord"
	"refillbot/platforms/discord/discordtest"
)

// Whatever a product name or an API answer contains, it is shown as typed:
// after Discord's markdown is applied, the user reads exactly the spans'
// text (no formatting, link or mention can be injected). Code spans are
// left out: their text is shown verbatim by Discord without markdown.
func TestRenderedTextIsLiteral(t *testing.T) {
	alphabet := []rune("ab \n*_~`|[]()<>@#-+:\\.1")
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(rt, "spans")
		var spans []conversation.Span
		for range n {
			runes := rapid.SliceOfN(rapid.SampledFrom(alphabet), 0, 20).Draw(rt, "text")
			style := rapid.SampledFrom([]conversation.Style{conversation.Plain, conversation.Bold, conversation.Italic}).Draw(rt, "style")
			spans = append(spans, conversation.Span{Text: string(runes), Style: style})
		}
		content := discord.RenderForTest(conversation.Reply{Text: spans})
		if got, want := discordtest.Plain(content), conversation.PlainText(spans); got != want {
			rt.Fatalf("rendered %q reads %q, want %q", content, got, want)
		}
		if strings.Contains(content, "<@") || strings.Contains(content, "](") && !strings.Contains(content, "\\]") {
			rt.Fatalf("rendered %q holds a mention or a link", content)
		}
	})
}
