package bot_test

import (
	"strings"
	"sync"
	"testing"

	"refillbot/conversation"
)

// A code's "sent" mark is durable before anything else goes to its chat:
// when the receipt (or any later message) is handed to the platform, the
// store no longer holds the code, so a crash from then on cannot send it
// again. Only a crash during the code's own send can.
func TestCodeMarkedBeforeTheNextMessage(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.newUser(true)
	var mu sync.Mutex
	codesSent, checked := 0, 0
	e.plat.onSend(func(to conversation.Address, r conversation.Reply) {
		if to.Chat != u.addr.Chat {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if codesSent > 0 {
			checked++
			for _, rec := range e.outbox() {
				if rec.Reply.Secret && rec.Address.Chat == to.Chat {
					t.Errorf("%q is sent while the code before it is still in the outbox (not marked)", conversation.PlainText(r.Text))
				}
			}
		}
		if r.Secret {
			codesSent++
		}
	})
	if _, err := u.purchase(); err != nil {
		t.Fatal(err)
	}
	if _, err := u.await(0, "All done"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if codesSent != 1 || checked == 0 {
		t.Fatalf("%d codes sent, %d messages after them checked; want 1 code and its receipt after it", codesSent, checked)
	}
	for _, rec := range e.outbox() {
		if rec.Reply.Secret || strings.Contains(conversation.PlainText(rec.Reply.Text), "Code") {
			t.Errorf("the code is still in the outbox after the receipt")
		}
	}
}
