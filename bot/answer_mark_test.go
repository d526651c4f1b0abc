package bot_test

import (
	"strings"
	"sync"
	"testing"

	"refillbot/conversation"
)

// An answer a restart would show twice — a menu, a line sent anew — is
// marked sent durably once the platform took it, before the event that
// caused it is done: when Handle returns, none of the chat's messages is
// left in the outbox, so a kill from then on cannot send one again (only a
// kill during a send can). Before, the mark waited for the session's next
// commit, a buyer's think time away.
func TestAnswersMarkedOnceSent(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.newUser(true)
	unmarked := func(after string) {
		t.Helper()
		for _, rec := range e.outbox() {
			if rec.Address.Chat == u.addr.Chat {
				t.Errorf("after %s: %q is still in the outbox, its mark not written", after, firstLine(conversation.PlainText(rec.Reply.Text)))
			}
		}
	}
	steps := []struct {
		name string
		act  func() error
		want string
	}{
		{"a search", func() error { u.say("amazon us"); return nil }, "Results for"},
		{"a tap on a result", func() error { return u.press("Amazon US") }, "Values:"},
		{"a typed value", func() error { u.say("50"); return nil }, "Confirm your order"},
		{"a tap on a payment method", func() error { return u.press("Bitcoin") }, "Invoice for"},
	}
	for _, st := range steps {
		m := u.mark()
		if err := st.act(); err != nil {
			t.Fatal(err)
		}
		if _, err := u.await(m, st.want); err != nil {
			t.Fatal(err)
		}
		unmarked(st.name)
	}
}

// An interim line the answer replaced in time ("Searching…", held and never
// shown) is marked sent in the answer's own commit: when the answer is
// handed to the platform, the line is no longer in the outbox, so a restart
// cannot show it after the answer.
func TestReplacedInterimMarkedWithTheAnswer(t *testing.T) {
	e := newEnv(t, envOptions{}) // the grace never ends: every interim is replaced
	u := e.newUser(true)
	var mu sync.Mutex
	answers := 0
	e.plat.onSend(func(to conversation.Address, r conversation.Reply) {
		if to.Chat != u.addr.Chat || !strings.Contains(conversation.PlainText(r.Text), "Results for") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		answers++
		for _, rec := range e.outbox() {
			if rec.Address.Chat == to.Chat && strings.Contains(conversation.PlainText(rec.Reply.Text), "Searching for") {
				t.Errorf("the results are sent while the replaced %q is still in the outbox", conversation.PlainText(rec.Reply.Text))
			}
		}
	})
	m := u.mark()
	u.say("amazon")
	if _, err := u.await(m, "Results for"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if answers != 1 {
		t.Fatalf("%d results sent, want 1", answers)
	}
	for _, s := range u.replies() {
		if strings.Contains(s.Text, "Searching for") {
			t.Errorf("the replaced interim was shown: %q", s.Text)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
