package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
)

// holding is able (Editor, Deleter) with the Holder ability: a placeholder
// is a message of its own (Send of the notice), and a code edit can be made
// to lose its answer after the platform applied it — a crash in the send,
// as far as the shell can tell.
type holding struct {
	*able
	hmu        sync.Mutex
	holds      int
	loseAnswer int             // code edits to apply and then report as failed
	goneHeld   bool            // the user deletes each placeholder at once
	heldRefs   map[string]bool // the placeholders' refs
}

var _ bot.Holder = (*holding)(nil)

func (h *holding) Hold(ctx context.Context, to conversation.Address, notice, r conversation.Reply, png []byte) (string, error) {
	ref, err := h.able.Send(ctx, to, notice, nil)
	if err != nil {
		return "", err
	}
	h.hmu.Lock()
	h.holds++
	h.heldRefs[ref] = true
	gone := h.goneHeld
	h.hmu.Unlock()
	if gone {
		h.able.mu.Lock()
		h.able.gone[ref] = true
		h.able.mu.Unlock()
	}
	return ref, nil
}

func (h *holding) Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error {
	if err := h.able.Edit(ctx, to, ref, r, png); err != nil {
		return err
	}
	h.hmu.Lock()
	defer h.hmu.Unlock()
	if r.Secret && h.loseAnswer > 0 {
		h.loseAnswer--
		return errors.New("connection reset")
	}
	return nil
}

func (h *holding) heldCount() int {
	h.hmu.Lock()
	defer h.hmu.Unlock()
	return h.holds
}

// newHolding connects h to e's recorder; what it counted survives a
// restart of e, as the chat does.
func newHolding(e *env, h *holding) {
	h.able.recorder = e.plat
	if h.heldRefs == nil {
		h.able.gone = map[string]bool{}
		h.heldRefs = map[string]bool{}
	}
}

func withHolding(h *holding) func(*env, *bot.Config) {
	return func(e *env, c *bot.Config) {
		newHolding(e, h)
		c.Platforms = map[string]bot.Platform{platformName: h}
	}
}

// codeMessages lists where the user's code shows: the refs of the edits
// that put it into a message, and the new messages that carry it.
func codeMessages(u *user) (edited map[string]bool, sentNew int) {
	edited = map[string]bool{}
	for _, s := range u.replies() {
		if !s.Reply.Secret {
			continue
		}
		if ref, ok := strings.CutPrefix(s.Text, "[edit "); ok {
			ref, _, _ = strings.Cut(ref, "]")
			edited[ref] = true
		} else {
			sentNew++
		}
	}
	return edited, sentNew
}

// Where the platform can hold a place, a code goes into its placeholder:
// when the platform applied the edit but the answer was lost (as in a
// crash right after the send), the restarted process finds the
// placeholder's reference in the store and edits that same message again.
// The code is in one message, however often its delivery is repeated.
func TestCodeDeliveredIntoItsPlaceholderOnce(t *testing.T) {
	h := &holding{able: &able{}, loseAnswer: 1}
	e := newEnv(t, envOptions{tune: withHolding(h)})
	u := e.newUser(true)
	if _, err := u.toInvoice(); err != nil {
		t.Fatal(err)
	}
	check(t, u.press("Simulate payment"))
	e.bot.Wait()
	if edited, _ := codeMessages(u); len(edited) != 1 {
		t.Fatalf("the code was edited into %d messages before the restart, want its placeholder", len(edited))
	}
	e.restart()
	e.bot.Drain(e.ctx, time.Now().Add(time.Hour))
	e.bot.Wait()

	edited, sentNew := codeMessages(u)
	if len(edited) != 1 || sentNew != 0 || h.heldCount() != 1 {
		t.Fatalf("the code is in %d edited messages and %d new ones, after %d placeholders; want 1 placeholder edited into it", len(edited), sentNew, h.heldCount())
	}
	for ref := range edited {
		if !h.heldRefs[ref] {
			t.Errorf("the code went into message %s, which is not its placeholder", ref)
		}
	}
	if n := u.count("All done"); n != 1 {
		t.Errorf("receipt shown %d times, want 1", n)
	}
	if n := u.count("on its way"); n != 1 {
		t.Errorf("%d placeholders shown, want 1", n)
	}
}

// A placeholder that can no longer be edited (the user deleted it) does
// not keep the code back for long: after a few tries the code comes as a
// new message.
func TestCodeSentAnewWhenItsPlaceholderIsGone(t *testing.T) {
	h := &holding{able: &able{}, goneHeld: true}
	e := newEnv(t, envOptions{tune: withHolding(h)})
	u := e.newUser(true)
	if _, err := u.toInvoice(); err != nil {
		t.Fatal(err)
	}
	check(t, u.press("Simulate payment"))
	e.bot.Wait()
	for i := 1; i <= 3; i++ {
		e.bot.Drain(e.ctx, time.Now().Add(time.Duration(i)*time.Hour))
	}
	edited, sentNew := codeMessages(u)
	if len(edited) != 0 || sentNew != 1 || h.heldCount() != 1 {
		t.Fatalf("the code is in %d edited messages and %d new ones, after %d placeholders; want one new message", len(edited), sentNew, h.heldCount())
	}
	if n := u.count("All done"); n != 1 {
		t.Errorf("receipt shown %d times, want 1", n)
	}
}
