package discord

import (
	"strings"

	"refillbot/conversation"
)

// RenderForTest is the content a reply is rendered to, joined.
func RenderForTest(r conversation.Reply) string {
	return strings.Join(render(r, nil, "en").contents, "")
}

// PhraseForTest is one of the adapter's own texts.
func PhraseForTest(lang, key string) string { return phrase(lang, key) }
