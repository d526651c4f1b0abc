package bot_test

import (
	"testing"
	"time"

	"refillbot/bot"
)

// With webhooks on, the poller leaves a young invoice to its webhook — but
// not one older than the process: its webhook may have come while the bot
// was down (a crash, a restart), and the buyer would wait half an hour for
// a code already paid for.
func TestPaidWhileDownDeliveredAfterRestart(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(_ *env, c *bot.Config) { c.WebhookURL = "http://127.0.0.1:1/webhooks/bitrefill/x" }})
	u := e.newUser(true)
	if _, err := u.toInvoice(); err != nil {
		t.Fatal(err)
	}
	id := u.invoiceID()
	// The same process, paid: the poller waits for the webhook.
	check(t, e.fake.MarkPaid(id))
	m := u.mark()
	e.bot.PollAt(e.ctx, time.Now().Add(time.Minute))
	if n := u.deliveries(); n != 0 {
		t.Fatalf("%d deliveries by polling while the webhook is still to come", n)
	}
	// A restart: the webhook went to no one.
	e.restart()
	e.bot.PollAt(e.ctx, time.Now().Add(time.Minute))
	if _, err := u.awaitSecret(m); err != nil {
		t.Fatalf("the code paid for while the bot was down did not come after the restart: %v", err)
	}
}
