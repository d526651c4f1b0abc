package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// User is a scripted Telegram user.
type User struct {
	s         *Server
	ID        int64
	FirstName string
	Username  string
	Lang      string // language_code sent with every update
}

func (u *User) json() map[string]any {
	out := map[string]any{"id": u.ID, "is_bot": false, "first_name": u.FirstName}
	if u.Username != "" {
		out["username"] = u.Username
	}
	if u.Lang != "" {
		out["language_code"] = u.Lang
	}
	return out
}

// NewUser adds a user with a private chat with the bot (chat id = user id),
// which counts as started only once the user writes in it.
func (s *Server) NewUser(firstName, lang string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUser++
	u := &User{s: s, ID: s.nextUser, FirstName: firstName, Username: fmt.Sprintf("user%d", s.nextUser), Lang: lang}
	s.chats[u.ID] = &chat{id: u.ID, typ: "private", user: u, msgs: map[int]*Message{}, changed: make(chan struct{})}
	return u
}

func (s *Server) userByID(id int64) *User {
	if c := s.chats[id]; c != nil && c.typ == "private" {
		return c.user
	}
	return nil
}

// NewGroup adds a supergroup chat and returns its id.
func (s *Server) NewGroup(title string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextGroup--
	s.chats[s.nextGroup] = &chat{id: s.nextGroup, typ: "supergroup", title: title, msgs: map[int]*Message{}, changed: make(chan struct{})}
	return s.nextGroup
}

// Chat is the id of the user's private chat with the bot.
func (u *User) Chat() int64 { return u.ID }

// Block makes the bot's messages to this user fail with 403, as when the
// user blocks the bot; Unblock undoes it.
func (u *User) Block()   { u.setBlocked(true) }
func (u *User) Unblock() { u.setBlocked(false) }

func (u *User) setBlocked(b bool) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	u.s.chats[u.ID].blocked = b
}

// Send writes text in a chat, as a message update, and returns its id.
// A leading "/word" is marked as a bot_command entity, as Telegram does.
func (u *User) Send(chatID int64, text string) int {
	id, _ := u.SendUpdate(chatID, text)
	return id
}

// SendUpdate is Send that also returns the update's update_id, which tells
// what the bot does with one update apart from what it does with another.
func (u *User) SendUpdate(chatID int64, text string) (msgID int, updateID int64) {
	s := u.s
	s.mu.Lock()
	c := s.chats[chatID]
	if c == nil {
		s.mu.Unlock()
		panic(fmt.Sprintf("telegramtest: no chat %d", chatID))
	}
	if c.typ == "private" {
		c.started = true
	}
	c.nextMsg++
	m := &Message{ID: c.nextMsg, ChatID: chatID, From: u.ID, Text: text, Date: time.Now()}
	c.msgs[m.ID] = m
	msg := s.messageJSON(c, m)
	s.mu.Unlock()
	if strings.HasPrefix(text, "/") {
		end := strings.IndexAny(text, " \n\t")
		if end < 0 {
			end = len(text)
		}
		msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(utf16.Encode([]rune(text[:end])))}}
	}
	return m.ID, s.pushUpdate(func(int64) map[string]any { return map[string]any{"message": msg} })
}

// Press sends a callback query for data on message msgID of a chat, as
// tapping a button does, and returns the query id. It does not check that
// the message has such a button: replayed and forged callbacks are tests too.
func (u *User) Press(chatID int64, msgID int, data string) string {
	id, _ := u.PressUpdate(chatID, msgID, data)
	return id
}

// PressUpdate is Press that also returns the update's update_id.
func (u *User) PressUpdate(chatID int64, msgID int, data string) (queryID string, updateID int64) {
	s := u.s
	s.mu.Lock()
	c := s.chats[chatID]
	m := c.msgs[msgID]
	s.nextQuery++
	id := strconv.FormatInt(int64(s.nextQuery)*7919+int64(u.ID), 10)
	s.queries[id] = &query{id: id, done: make(chan struct{})}
	cq := map[string]any{"id": id, "from": u.json(), "chat_instance": strconv.FormatInt(chatID*31, 10), "data": data}
	if m != nil && !m.Deleted {
		cq["message"] = s.messageJSON(c, m)
	} else {
		cq["message"] = map[string]any{"message_id": msgID, "date": 0, "chat": s.chatJSON(c)}
	}
	s.mu.Unlock()
	return id, s.pushUpdate(func(int64) map[string]any { return map[string]any{"callback_query": cq} })
}

// AwaitAnswer waits for the bot to answer a callback query.
func (s *Server) AwaitAnswer(queryID string) (Answer, error) {
	deadline := time.NewTimer(s.opts.WaitTimeout)
	defer deadline.Stop()
	s.mu.Lock()
	q := s.queries[queryID]
	s.mu.Unlock()
	if q == nil {
		return Answer{}, fmt.Errorf("no callback query %s", queryID)
	}
	select {
	case <-q.done:
		s.mu.Lock()
		defer s.mu.Unlock()
		return q.answer, nil
	case <-deadline.C:
		return Answer{}, fmt.Errorf("callback query %s not answered after %v", queryID, s.opts.WaitTimeout)
	}
}

// Messages returns the bot's live (not deleted) messages in a chat, oldest first.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []Message
	for i := 1; i <= c.nextMsg; i++ {
		if m := c.msgs[i]; m != nil && m.FromBot && !m.Deleted {
			out = append(out, m.clone())
		}
	}
	return out
}

// Message returns one message of a chat as it is now.
func (s *Server) Message(chatID int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		if m := c.msgs[id]; m != nil {
			return m.clone(), true
		}
	}
	return Message{}, false
}

// Events returns what the bot did in a chat, in order.
func (s *Server) Events(chatID int64) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		return append([]Event(nil), c.log...)
	}
	return nil
}

// Mark is the number of events so far in a chat, for Await.
func (s *Server) Mark(chatID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		return len(c.log)
	}
	return 0
}

// Await waits for the first event in a chat at index from or later that
// match accepts, and returns it with the index after it.
func (s *Server) Await(chatID int64, from int, what string, match func(Event) bool) (Event, int, error) {
	deadline := time.NewTimer(s.opts.WaitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		c := s.chats[chatID]
		if c == nil {
			s.mu.Unlock()
			return Event{}, from, fmt.Errorf("no chat %d", chatID)
		}
		log, ch := c.log, c.changed
		for i := from; i < len(log); i++ {
			if match(log[i]) {
				ev := log[i]
				s.mu.Unlock()
				return ev, i + 1, nil
			}
		}
		from = max(from, len(log))
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			var seen []string
			for _, e := range s.Events(chatID) {
				seen = append(seen, fmt.Sprintf("  %s #%d %q %q", e.Kind, e.Message.ID, e.Message.Content(), e.Message.Labels()))
			}
			return Event{}, from, fmt.Errorf("chat %d: no event %s after %v; events so far:\n%s", chatID, what, s.opts.WaitTimeout, strings.Join(seen, "\n"))
		}
	}
}

// ---- Dialog: one user in one chat, with a cursor ----

// Dialog scripts one user in one chat. Its cursor moves past every event it
// has returned, so each Await sees only what the bot did since.
type Dialog struct {
	U      *User
	Chat   int64
	cursor int
}

// In starts a dialog of the user in a chat (its private chat: u.Chat()).
func (u *User) In(chatID int64) *Dialog {
	return &Dialog{U: u, Chat: chatID, cursor: u.s.Mark(chatID)}
}

// Say writes text (or a /command); later Awaits see only what follows it.
func (d *Dialog) Say(text string) {
	d.cursor = d.U.s.Mark(d.Chat)
	d.U.Send(d.Chat, text)
}

// Next waits for the bot's next message or edit in the chat.
func (d *Dialog) Next() (Message, error) {
	return d.await("of any kind", func(e Event) bool { return e.Kind != Deleted })
}

// Await waits for a message or edit whose text (or caption) contains substr.
func (d *Dialog) Await(substr string) (Message, error) {
	return d.await(fmt.Sprintf("containing %q", substr), func(e Event) bool {
		return e.Kind != Deleted && strings.Contains(e.Message.Content(), substr)
	})
}

// AwaitPhoto waits for a photo message or edit.
func (d *Dialog) AwaitPhoto() (Message, error) {
	return d.await("with a photo", func(e Event) bool { return e.Kind != Deleted && e.Message.Photo != nil })
}

// AwaitMatch waits for an event match accepts.
func (d *Dialog) AwaitMatch(what string, match func(Event) bool) (Message, error) {
	return d.await(what, match)
}

func (d *Dialog) await(what string, match func(Event) bool) (Message, error) {
	ev, next, err := d.U.s.Await(d.Chat, d.cursor, what, match)
	if err != nil {
		return Message{}, err
	}
	d.cursor = next
	return ev.Message, nil
}

// Skip moves the cursor past everything the bot has done so far.
func (d *Dialog) Skip() { d.cursor = d.U.s.Mark(d.Chat) }

// Menu is the newest live bot message in the chat that has buttons.
func (d *Dialog) Menu() (Message, bool) {
	msgs := d.U.s.Messages(d.Chat)
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].Buttons) > 0 {
			return msgs[i], true
		}
	}
	return Message{}, false
}

// Tap taps the button labelled label (exactly, else the first containing
// it) on the newest message that has one, waits for the bot to answer the
// callback query and returns the answer. Later Awaits see only what follows.
func (d *Dialog) Tap(label string) (Answer, error) {
	msgs := d.U.s.Messages(d.Chat)
	for i := len(msgs) - 1; i >= 0; i-- {
		if b, ok := msgs[i].Button(label); ok {
			if b.Data == "" {
				return Answer{}, fmt.Errorf("tap %q: it is a link button (%s)", label, b.URL)
			}
			return d.TapData(msgs[i].ID, b.Data)
		}
	}
	var all []string
	for _, m := range msgs {
		if len(m.Buttons) > 0 {
			all = append(all, fmt.Sprintf("#%d %q", m.ID, m.Labels()))
		}
	}
	return Answer{}, fmt.Errorf("tap %q: no such button in chat %d; buttons: %s", label, d.Chat, strings.Join(all, "; "))
}

// TapData sends a callback query with data for message msgID and waits for
// its answer.
func (d *Dialog) TapData(msgID int, data string) (Answer, error) {
	d.cursor = d.U.s.Mark(d.Chat)
	id := d.U.Press(d.Chat, msgID, data)
	return d.U.s.AwaitAnswer(id)
}
