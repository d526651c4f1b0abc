package bot

// /broadcast: an operator's message to every user who has talked to the bot
// privately. The operator writes it, sees a preview with the number of
// recipients, and confirms. It is then sent in the background at a steady
// pace below the platforms' overall limits (bulk traffic: buyers' replies
// keep their room), with progress reports to the operator. Where it got to
// is saved after every message, so a restart carries on from there: at
// most the one message in flight when the process died is sent twice.
// Users who blocked the bot are skipped, not retried.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"refillbot/conversation"
)

// Broadcast is one operator's message to all users, and how far it got.
type Broadcast struct {
	ID       string
	Operator conversation.SessionKey
	Text     string
	Started  time.Time
	// Total is the number of recipients when it was confirmed.
	Total, Sent, Blocked, Failed int
	// Cursor is the last recipient done (SessionKey.String(), in sorted
	// order): a resumed broadcast starts after it.
	Cursor string
	State  string // broadcastSending, broadcastDone, broadcastCancelled
}

const (
	broadcastSending   = "sending"
	broadcastDone      = "done"
	broadcastCancelled = "cancelled"
)

// BroadcastStore keeps the current (or last) broadcast. A store without it
// offers no /broadcast.
type BroadcastStore interface {
	PutBroadcast(b Broadcast) error
	CurrentBroadcast() (Broadcast, bool, error)
}

// defaultBroadcastPace is the time between two broadcast messages: 20 a
// second, leaving a third of Telegram's 30 for replies.
const defaultBroadcastPace = 50 * time.Millisecond

// broadcasts is the bot's broadcasting state: drafts awaiting confirmation
// (in memory: a restart asks for the text again) and the sender's wake-up.
type broadcasts struct {
	mu     sync.Mutex
	drafts map[conversation.SessionKey]string
	kick   chan struct{}
}

func (bs *broadcasts) wake() {
	select {
	case bs.kick <- struct{}{}:
	default:
	}
}

// broadcastCommand answers /broadcast [text|confirm|cancel].
func (b *Bot) broadcastCommand(key conversation.SessionKey, arg string, now time.Time) string {
	st, ok := b.cfg.Store.(BroadcastStore)
	if !ok {
		return "This store cannot keep a broadcast."
	}
	cur, found, err := st.CurrentBroadcast()
	if err != nil {
		b.log.Error("broadcast: read", "err", err)
		return "The broadcast cannot be read right now; see the log."
	}
	running := found && cur.State == broadcastSending
	bs := &b.ops.broadcast
	switch strings.ToLower(strings.TrimSpace(arg)) {
	case "":
		if running {
			return progressText(cur) + "\n/broadcast cancel stops it."
		}
		return "Write /broadcast followed by the message. You will see a preview first."
	case "cancel":
		bs.mu.Lock()
		delete(bs.drafts, key)
		bs.mu.Unlock()
		if !running {
			return "Nothing to cancel."
		}
		cur.State = broadcastCancelled
		if err := st.PutBroadcast(cur); err != nil {
			return "The broadcast could not be cancelled; see the log."
		}
		return "Broadcast cancelled: " + progressText(cur)
	case "confirm":
		if running {
			return "A broadcast is under way: " + progressText(cur)
		}
		bs.mu.Lock()
		text, ok := bs.drafts[key]
		delete(bs.drafts, key)
		bs.mu.Unlock()
		if !ok {
			return "There is no broadcast to confirm: write /broadcast followed by the message."
		}
		n := len(b.recipients(key))
		bc := Broadcast{ID: fmt.Sprintf("b%d", now.UnixNano()), Operator: key, Text: text, Started: now, Total: n, State: broadcastSending}
		if err := st.PutBroadcast(bc); err != nil {
			b.log.Error("broadcast: save", "err", err)
			return "The broadcast could not be saved; nothing was sent."
		}
		bs.wake()
		return fmt.Sprintf("📣 Sending to %d users. Progress reports follow; /broadcast cancel stops it.", n)
	}
	if running {
		return "A broadcast is under way: " + progressText(cur) + "\nWait for it to finish, or /broadcast cancel."
	}
	text := strings.TrimSpace(arg)
	bs.mu.Lock()
	bs.drafts[key] = text
	bs.mu.Unlock()
	return fmt.Sprintf("📣 Preview — this goes to %d users who have talked to the bot:\n\n%s\n\nSend /broadcast confirm to send it, or /broadcast cancel.", len(b.recipients(key)), text)
}

func progressText(bc Broadcast) string {
	return fmt.Sprintf("%d of %d sent, %d skipped (blocked the bot), %d failed.", bc.Sent, bc.Total, bc.Blocked, bc.Failed)
}

type recipient struct {
	key  conversation.SessionKey
	addr conversation.Address
}

// recipients are the users who have talked to the bot privately, in a
// stable order (so a resumed broadcast knows where it was), without the
// operator who sends it.
func (b *Bot) recipients(sender conversation.SessionKey) []recipient {
	infos, err := b.cfg.Store.AllSessions()
	if err != nil {
		b.log.Error("broadcast: sessions", "err", err) // the readable ones are still listed
	}
	var out []recipient
	for _, in := range infos {
		if in.Key == sender {
			continue
		}
		addr, ok, err := b.cfg.Store.Address(in.Key)
		if err != nil || !ok || !addr.Private {
			continue
		}
		if _, ok := b.cfg.Platforms[addr.Platform]; !ok {
			continue
		}
		out = append(out, recipient{in.Key, addr})
	}
	slices.SortFunc(out, func(x, y recipient) int { return strings.Compare(x.key.String(), y.key.String()) })
	return out
}

// runBroadcasts sends the current broadcast, if one is under way (also
// after a restart), and waits for the next; it returns when ctx ends.
func (b *Bot) runBroadcasts(ctx context.Context) {
	st, ok := b.cfg.Store.(BroadcastStore)
	if !ok {
		return
	}
	for {
		if bc, found, err := st.CurrentBroadcast(); err != nil {
			b.log.Error("broadcast: read", "err", err)
		} else if found && bc.State == broadcastSending {
			b.sendBroadcast(ctx, st, bc)
		}
		select {
		case <-ctx.Done():
			return
		case <-b.ops.broadcast.kick:
		}
	}
}

// progressEvery is how often (in recipients) the operator hears how far
// the broadcast got.
const progressEvery = 500

func (b *Bot) sendBroadcast(ctx context.Context, st BroadcastStore, bc Broadcast) {
	pace := b.cfg.BroadcastPace
	if pace <= 0 {
		pace = defaultBroadcastPace
	}
	tick := time.NewTicker(pace)
	defer tick.Stop()
	reply := conversation.Reply{Text: []conversation.Span{{Text: bc.Text}}}
	var todo []recipient
	for _, r := range b.recipients(bc.Operator) {
		if r.key.String() > bc.Cursor { // the others were done before a restart
			todo = append(todo, r)
		}
	}
	// Users who first wrote since the confirmation are included: the
	// message is for everyone who has talked to the bot by the time it is sent.
	bc.Total = bc.Sent + bc.Blocked + bc.Failed + len(todo)
	for _, r := range todo {
		select {
		case <-ctx.Done():
			return // carried on from the cursor at the next start
		case <-tick.C:
		}
		if cur, _, err := st.CurrentBroadcast(); err == nil && (cur.ID != bc.ID || cur.State != broadcastSending) {
			return // cancelled meanwhile
		}
		switch err := b.sendOne(ctx, r, reply); {
		case err == nil:
			bc.Sent++
		case unreachable(err):
			bc.Blocked++
		case ctx.Err() != nil:
			return
		default:
			bc.Failed++
			b.log.Warn("broadcast: send failed", "platform", r.addr.Platform, "err", err)
		}
		bc.Cursor = r.key.String()
		if err := st.PutBroadcast(bc); err != nil {
			b.log.Error("broadcast: save progress", "err", err)
		}
		if done := bc.Sent + bc.Blocked + bc.Failed; done%progressEvery == 0 && done < bc.Total {
			b.tellOperator(bc.Operator, "📣 Broadcast: "+progressText(bc))
		}
	}
	bc.State = broadcastDone
	if err := st.PutBroadcast(bc); err != nil {
		b.log.Error("broadcast: save", "err", err)
	}
	b.tellOperator(bc.Operator, "✅ Broadcast done: "+progressText(bc))
}

// sendOne sends a broadcast message, waiting out a platform's "slow down"
// a few times. The context is not a reply's: adapters pace it as bulk. A
// send under way when ctx ends (shutdown) is finished, so that its cursor is
// saved and a restart does not send it again.
func (b *Bot) sendOne(ctx context.Context, r recipient, reply conversation.Reply) error {
	p := b.cfg.Platforms[r.addr.Platform]
	var err error
	for range 3 {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.APITimeout)
		_, err = p.Send(sctx, r.addr, reply, nil)
		cancel()
		if err == nil || unreachable(err) {
			return err
		}
		wait := retryAfterOf(err)
		if wait <= 0 {
			return err
		}
		b.ops.obs.Throttled(r.addr.Platform)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

// tellOperator queues a message for one operator (the drain job sends it).
func (b *Bot) tellOperator(op conversation.SessionKey, text string) {
	addr, ok, err := b.cfg.Store.Address(op)
	if err != nil || !ok {
		return
	}
	now := b.cfg.Now()
	recs := []OutboxRecord{{Session: op, Address: addr, Reply: conversation.Reply{Text: []conversation.Span{{Text: text}}}, Created: now}}
	recs[0].ID = b.out.ids(1, now)[0]
	if err := b.cfg.Store.Enqueue(recs); err != nil {
		b.log.Error("broadcast: progress", "err", err)
	}
}
