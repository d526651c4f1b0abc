package telegramtest

import (
	"strings"

	"refillbot/platforms/telegram/telegramtest/parsemode"
)

// Entity is a formatting entity of a sent message, as parsemode reads it.
type Entity = parsemode.Entity

// trimEntities strips leading and trailing white space from a parsed text,
// as Telegram does, and moves the entities with it.
func trimEntities(text string, ents []Entity) (string, []Entity) {
	lead := text[:len(text)-len(strings.TrimLeft(text, " \t\r\n"))]
	trimmed := strings.TrimSpace(text)
	shift := parsemode.UTF16Len(lead)
	n := parsemode.UTF16Len(trimmed)
	var out []Entity
	for _, e := range ents {
		start, end := max(e.Offset-shift, 0), min(e.Offset+e.Length-shift, n)
		if end > start {
			e.Offset, e.Length = start, end-start
			out = append(out, e)
		}
	}
	return trimmed, out
}
