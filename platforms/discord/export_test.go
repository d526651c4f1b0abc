package discord

import (
	"strings"

	"refillbot/conversation"
)

// RenderForTest is the content a reply is rendered to, joined.
func RenderForTest(r conversation.Reply) string {
	return strings.Join(render(r, nil, "en").contents, "")
}
