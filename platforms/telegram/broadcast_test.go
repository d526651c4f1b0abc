package telegram_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/telegram"
	"refillbot/platforms/telegram/telegramtest"
	"refillbot/storage"
)

// An operator's /broadcast to 2,000 users who talked to the bot, through the
// fake Bot API: preview and confirmation, sent at the broadcast's pace, the
// process stopped half-way and started again on the same database (it
// carries on where it was: nobody gets it twice, nobody is forgotten),
// users who blocked the bot skipped, and a buyer's reply not held up by it.
func TestBroadcastToTwoThousandUsers(t *testing.T) {
	t.Parallel() // its own servers and files; mostly waiting on fsyncs, so it overlaps the rest
	const users, pace = 2000, time.Millisecond
	e := newEnv(t, envOptions{noStart: true})
	op := e.tg.NewUser("Olga", "en")
	e.o.shell = func(c *bot.Config) {
		c.Admins = []conversation.SessionKey{{Platform: telegram.Platform, User: strconv.FormatInt(op.ID, 10)}}
		c.BroadcastPace = pace
	}

	// 2,000 users who have talked to the bot: each wrote to it (so Telegram
	// lets the bot write back) and has a session with their private chat.
	// Their updates are consumed here, not by a bot, to keep the test fast.
	st, err := storage.Open(e.path, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var all []*telegramtest.User
	for i := range users {
		u := e.tg.NewUser("u"+strconv.Itoa(i), "en")
		u.Send(u.Chat(), "/start")
		all = append(all, u)
		key := conversation.SessionKey{Platform: telegram.Platform, User: strconv.FormatInt(u.ID, 10)}
		addr := conversation.Address{Platform: telegram.Platform, Chat: strconv.FormatInt(u.Chat(), 10), Private: true}
		if err := st.Commit(bot.Commit{Key: key, State: conversation.NewState(key, "n"+strconv.Itoa(i), "en"), Address: addr}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	consumeUpdates(t, e.tg)
	run := func() (stop func()) {
		e.start()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.bot.Run(ctx) }()
		return func() {
			cancel()
			<-done
			e.stop()
		}
	}
	stop := run()
	// Every 20th has blocked the bot since.
	blocked := map[int64]bool{}
	for i, u := range all {
		if i%20 == 0 {
			u.Block()
			blocked[u.ID] = true
		}
	}
	d := op.In(op.Chat())
	d.Say("/start")
	if _, err := d.Await(txtWelcome); err != nil {
		t.Fatal(err)
	}
	const text = "New: Steam cards in 12 countries"
	d.Say("/broadcast " + text)
	preview, err := d.Await("Preview")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(preview.Content(), "2000 users") || !strings.Contains(preview.Content(), text) {
		t.Fatalf("preview = %q", preview.Content())
	}
	if got := broadcastSends(e.tg, text); got != 0 {
		t.Fatalf("%d messages sent before the confirmation", got)
	}
	d.Say("/broadcast confirm")
	if _, err := d.Await("Sending to 2000 users"); err != nil {
		t.Fatal(err)
	}

	// A buyer writes while the broadcast is going out: the answer comes at once.
	waitFor(t, "600 broadcast messages", func() bool { return broadcastSends(e.tg, text) >= 600 })
	buyer := e.tg.NewUser("Bea", "en")
	bd := buyer.In(buyer.Chat())
	// Measured in broadcast messages, not seconds, so a slow machine does
	// not make it fail: the reply must not queue behind the broadcast.
	asked := broadcastSends(e.tg, text)
	bd.Say("/start")
	if _, err := bd.Await(txtWelcome); err != nil {
		t.Fatal(err)
	}
	if behind := broadcastSends(e.tg, text) - asked; behind > 100 {
		t.Errorf("the buyer's reply waited behind %d broadcast messages", behind)
	}

	// The process stops half-way; a new one on the same database carries on.
	waitFor(t, "1000 broadcast messages", func() bool { return broadcastSends(e.tg, text) >= 1000 })
	stop()
	before := broadcastSends(e.tg, text)
	if before >= users-len(blocked) {
		t.Fatalf("the broadcast finished before the stop (%d sent): the test proves nothing", before)
	}
	stop = run()
	defer stop()
	waitFor(t, "the rest of the broadcast", func() bool { return broadcastSends(e.tg, text) >= users-len(blocked) })
	final, err := d.Await("Broadcast done")
	if err != nil {
		t.Fatal(err)
	}
	// Each user who did not block the bot got it once; blocked users none.
	// The buyer who first wrote during the broadcast may get it too, once.
	got := map[int64]int{}
	var at []time.Time
	for _, c := range e.tg.CallsTo("sendMessage") {
		if c.Status == 200 && c.Params["text"] == text {
			got[c.Chat]++
			at = append(at, c.At)
		}
	}
	for _, u := range all {
		switch n := got[u.Chat()]; {
		case blocked[u.ID] && n != 0:
			t.Errorf("blocked user %d got the broadcast", u.ID)
		case !blocked[u.ID] && n != 1:
			t.Errorf("user %d got the broadcast %d times", u.ID, n)
		}
	}
	if got[buyer.Chat()] > 1 || got[op.Chat()] != 0 {
		t.Errorf("the buyer got it %d times, its sender %d", got[buyer.Chat()], got[op.Chat()])
	}
	sent := users - len(blocked) + got[buyer.Chat()]
	want := strconv.Itoa(sent) + " of " + strconv.Itoa(sent+len(blocked)) + " sent, " + strconv.Itoa(len(blocked)) + " skipped (blocked the bot), 0 failed"
	if !strings.Contains(final.Content(), want) {
		t.Errorf("final report %q, want %q", final.Content(), want)
	}
	// Paced: no burst faster than the pace allows (a little slack for timers).
	for i := 20; i < len(at); i++ {
		if span := at[i].Sub(at[i-20]); span < 10*pace {
			t.Fatalf("21 broadcast messages within %v: not paced at %v", span, pace)
		}
	}
}

func broadcastSends(tg *telegramtest.Server, text string) int {
	n := 0
	for _, c := range tg.CallsTo("sendMessage") {
		if c.Status == 200 && c.Params["text"] == text {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // 2,000 users under -race on a busy machine
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

// consumeUpdates confirms every update waiting at the fake, as a bot that
// handled them would.
func consumeUpdates(t *testing.T, tg *telegramtest.Server) {
	t.Helper()
	offset := 0
	for {
		res, err := http.Get(tg.URL() + "/bot" + tg.Token() + "/getUpdates?timeout=0&limit=100&offset=" + strconv.Itoa(offset))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Result []struct {
				UpdateID int `json:"update_id"`
			} `json:"result"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(body.Result) == 0 {
			return
		}
		offset = body.Result[len(body.Result)-1].UpdateID + 1
	}
}
