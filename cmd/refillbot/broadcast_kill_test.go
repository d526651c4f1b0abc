package main

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"refillbot/platforms/telegram/telegramtest"
)

// A broadcast survives kill -9: the real binary, on Telegram (the fake Bot
// API), is killed with SIGKILL half-way through an operator's broadcast and
// started again on the same database. It carries on where it was: every
// user gets the message, and at most the one in flight at the kill twice.
func TestBroadcastResumesAfterKill(t *testing.T) {
	const users = 60
	tg := telegramtest.NewServer(t, telegramtest.Options{})
	var all []*telegramtest.User
	for i := range users {
		u := tg.NewUser("u"+strconv.Itoa(i), "en")
		u.Send(u.Chat(), "/start")
		all = append(all, u)
	}
	op := tg.NewUser("Olga", "en")
	env := map[string]string{
		"REFILLBOT_DB":       filepath.Join(t.TempDir(), "bot.db"),
		"TELEGRAM_BOT_TOKEN": tg.Token(),
		"TELEGRAM_API_URL":   tg.URL(),
		"REFILLBOT_ADMINS":   "telegram:" + strconv.FormatInt(op.ID, 10),
	}
	p := startProc(t, env)
	d := op.In(op.Chat())
	d.Say("/start")
	if _, err := d.Await("Welcome"); err != nil {
		t.Fatalf("%v; stderr:\n%s", err, p.stderr.String())
	}
	const text = "Gift cards for the holidays are in"
	sent := func() map[int64]int {
		got := map[int64]int{}
		for _, c := range tg.CallsTo("sendMessage") {
			if c.Status == 200 && c.Params["text"] == text {
				got[c.Chat]++
			}
		}
		return got
	}
	// The users' /start are handled before the broadcast counts them.
	waitUntil(t, "every user welcomed", func() bool { return len(tg.CallsTo("sendMessage")) > users })
	d.Say("/broadcast " + text)
	if _, err := d.Await("Preview"); err != nil {
		t.Fatal(err)
	}
	d.Say("/broadcast confirm")
	if _, err := d.Await("Sending to " + strconv.Itoa(users) + " users"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a third of the broadcast", func() bool { return len(sent()) >= users/3 })
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
		t.Fatal(err)
	}
	<-p.done
	before := len(sent())
	if before >= users {
		t.Fatal("the broadcast finished before the kill: the test proves nothing")
	}

	startProc(t, env)
	if _, err := d.Await("Broadcast done"); err != nil {
		t.Fatal(err)
	}
	got, twice := sent(), 0
	for _, u := range all {
		switch n := got[u.Chat()]; {
		case n == 0:
			t.Errorf("user %d never got the broadcast", u.ID)
		case n > 1:
			twice += n - 1
		}
	}
	if twice > 1 {
		t.Errorf("%d messages sent twice; at most the one in flight at the kill may be", twice)
	}
	t.Logf("%d of %d sent before the kill; %d sent twice", before, users, twice)
}

// waitUntil polls cond until it holds, failing after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}
