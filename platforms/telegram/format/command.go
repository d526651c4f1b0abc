package format

import (
	"regexp"
	"strings"

	"refillbot/conversation"
)

var commandRE = regexp.MustCompile(`^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$`)

// Command splits "/name@bot args"; ok is false for text that is not a
// command, and for a command addressed to another bot.
func Command(text, username string) (name, args, to string, ok bool) {
	m := commandRE.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return "", "", "", false
	}
	name, to, args = strings.ToLower(m[1]), m[2], strings.TrimSpace(m[3])
	if to != "" && !strings.EqualFold(to, username) {
		return "", "", "", false
	}
	return name, args, to, true
}

// Parse maps a private message to an event; nil means ignore it.
func Parse(text, username string) conversation.Event {
	if strings.HasPrefix(text, "/") {
		name, args, _, ok := Command(text, username)
		if !ok {
			if commandRE.MatchString(strings.TrimSpace(text)) {
				return nil // for another bot
			}
			return conversation.Text{Text: text}
		}
		if name == "start" {
			return conversation.Start{Payload: args}
		}
		return conversation.Command{Name: name, Args: args}
	}
	return conversation.Text{Text: text}
}
