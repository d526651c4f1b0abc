package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"refillbot/platforms/telegram/telegramtest"
)

// The crash points of a code's delivery on Telegram, where a code goes into
// a placeholder (bot.Holder): whatever the point, the restarted process
// shows the code in exactly one message of the buyer's chat. A death after
// the placeholder was sent and before its reference was recorded leaves
// that placeholder behind (its text says where the code is); a death after
// the code's edit was accepted and before its mark repeats the edit, which
// changes nothing — where a plain send would show the code twice.
func TestTelegramCodeOnceAtCrashPoints(t *testing.T) {
	for _, tc := range []struct {
		point   string
		orphans int
	}{
		{crashCommitted, 0}, // stored, nothing sent
		{crashHeld, 1},      // placeholder shown, its reference not recorded: a new one after the restart
		{crashSent, 0},      // code edited into the placeholder, not marked: the edit is repeated
		{crashMarked, 0},    // code shown and marked
	} {
		t.Run(tc.point, func(t *testing.T) {
			e := newRestartEnv(t)
			tg := telegramtest.NewServer(t, telegramtest.Options{})
			e.env["TELEGRAM_BOT_TOKEN"], e.env["TELEGRAM_API_URL"] = tg.Token(), tg.URL()
			p := startProc(t, e.with("REFILLBOT_TEST_CRASH", tc.point))
			u := tg.NewUser("Cora", "en")
			d := u.In(u.Chat())
			d.Say("amazon us")
			for _, step := range []struct{ tap, then string }{{"", "Amazon US"}, {"Amazon US", "50 USD"}, {"50 USD", "Bitcoin"}, {"Bitcoin", ""}} {
				if step.tap != "" {
					if _, err := d.Tap(step.tap); err != nil {
						t.Fatal(err)
					}
				}
				if step.then != "" {
					if _, err := d.AwaitMatch("a button "+step.then, func(ev telegramtest.Event) bool { return hasButton(ev.Message, step.then) }); err != nil {
						t.Fatal(err)
					}
				}
			}
			inv, err := d.Await("To: bc1")
			if err != nil {
				t.Fatal(err)
			}
			id, ok := e.fake.InvoiceByAddress(addressRE.FindStringSubmatch(inv.Content())[1])
			if !ok {
				t.Fatal("the invoice shown is not at the fake")
			}
			if err := e.fake.MarkPaid(id); err != nil {
				t.Fatal(err)
			}
			if code := p.exit(); code != 86 {
				t.Fatalf("exit code %d, want 86 (crash point %s); stderr:\n%s", code, tc.point, p.stderr.String())
			}

			q := startProc(t, e.with())
			snap, _ := e.fake.Invoice(id)
			if len(snap.Orders) != 1 || snap.Orders[0].Code == "" {
				t.Fatalf("the paid invoice has orders %+v", snap.Orders)
			}
			code := snap.Orders[0].Code
			count := func(substr string) int {
				n := 0
				for _, m := range tg.Messages(u.Chat()) {
					if strings.Contains(m.Content(), substr) {
						n++
					}
				}
				return n
			}
			deadline := time.Now().Add(20 * time.Second)
			for (count(code) == 0 || count("All done") == 0) && time.Now().Before(deadline) {
				<-time.After(50 * time.Millisecond) // polling a condition, with a deadline
			}
			d.Say("/help") // a round trip: anything still queued has gone out by now
			if _, err := d.Await("How it works"); err != nil {
				t.Fatal(err)
			}
			q.stop()
			if n := count(code); n != 1 {
				var log []string
				for _, ev := range tg.Events(u.Chat()) {
					log = append(log, string(ev.Kind)+" #"+strconv.Itoa(ev.Message.ID)+" "+ev.Message.Content())
				}
				t.Errorf("the code is in %d messages, want 1; the chat:\n%s\nstderr:\n%s", n, strings.Join(log, "\n"), p.stderr.String()+q.stderr.String())
			}
			if n := count(placeholderText); n != tc.orphans {
				t.Errorf("%d placeholders left without their code, want %d", n, tc.orphans)
			}
			if n := count("All done"); n != 1 {
				t.Errorf("receipt shown %d times, want 1", n)
			}
		})
	}
}
