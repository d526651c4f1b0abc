package discord_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/platforms/discord"
)

// The invoice was shown more than fifteen minutes ago: its interaction's
// token can no longer edit it. The payment news then comes as a new message
// answering the press, that message is the invoice's from then on (the
// receipt replaces it), and the purchase goes on as usual.
func TestInvoiceOutlivesItsToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	amy := e.newUser("amy", "en-US")
	inv := amy.toInvoice()
	e.dc.ExpireTokens()

	mark := e.dc.Mark()
	seen := amy.press(lblSimulate, txtSeen)
	if seen.ID == inv.ID || !seen.Ephemeral() {
		t.Errorf("%q came as message %s (ephemeral %v), want a new ephemeral message, not the old invoice %s", txtSeen, seen.ID, seen.Ephemeral(), inv.ID)
	}
	for _, m := range amy.u.Visible(mark) {
		if m.ID == inv.ID {
			t.Errorf("the old invoice changed after its token expired: %q", m.Text())
		}
	}
	amy.invoice = seen
	mark = e.dc.Mark()
	e.advance(2 * time.Hour)
	amy.delivered(mark)
}

// References to DMs still work after a restart (the shell stores them: a
// code is hidden hours later). A reference to an interaction's answer from
// before a restart finds nothing, so the shell says its news anew rather
// than editing some other message.
func TestReferencesAfterRestart(t *testing.T) {
	e := newEnv(t, envOptions{})
	ian := e.newUser("ian", "en-US")
	ian.toInvoice()
	id := ian.state().Invoice
	var view bot.View
	waitFor(t, "the invoice's stored view", func() bool {
		e.bot.FlushMarks()
		v, ok, err := e.store.InvoiceView(id)
		view = v
		return err == nil && ok
	})
	to := conversation.Address{Platform: discord.Platform, Chat: ian.u.ID, Private: true}
	say := func(s string) conversation.Reply { return conversation.Reply{Text: []conversation.Span{{Text: s}}} }
	dmRef, err := e.ad.Send(context.Background(), to, say("before"), nil)
	if err != nil {
		t.Fatal(err)
	}

	restarted, err := discord.New(discord.Options{Token: e.dc.Token(), AppID: e.dc.AppID(), GuildID: "g1", APIURL: e.dc.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Edit(context.Background(), to, view.Ref, say("stale"), nil); err == nil {
		t.Error("an interaction reference from before the restart edited a message")
	}
	for _, m := range ian.u.Visible(0) {
		if strings.Contains(m.Text(), "stale") {
			t.Errorf("a message was edited through a stale reference: %q", m.Text())
		}
	}
	if err := restarted.Edit(context.Background(), to, dmRef, say("after"), nil); err != nil {
		t.Fatalf("editing a DM after a restart: %v", err)
	}
	if dms := ian.u.DMs(); len(dms) != 1 || dms[0].Text() != "after" {
		t.Errorf("DMs after the edit: %+v", dms)
	}
	if err := restarted.Delete(context.Background(), to, dmRef); err != nil {
		t.Fatalf("deleting a DM after a restart: %v", err)
	}
	if dms := ian.u.DMs(); len(dms) != 0 {
		t.Errorf("%d DMs after the delete, want none", len(dms))
	}
}

// A code held in a DM placeholder (bot.Holder) is edited into that DM, its
// image attached; repeating the edit (a restart does) leaves one message
// with the code. With the user's interaction at hand, nothing is held: the
// reply answers the interaction as before.
func TestHeldCodeEditedIntoOneDM(t *testing.T) {
	e := newEnv(t, envOptions{})
	lea := e.newUser("lea", "en-US")
	to := conversation.Address{Platform: discord.Platform, Chat: lea.u.ID, Private: true}
	code := conversation.Reply{Text: []conversation.Span{{Text: "Code: "}, {Text: "HELD-1", Style: conversation.Code}}, Secret: true}
	png := []byte("\x89PNG\r\n\x1a\nnot really an image")
	ref, err := e.ad.Hold(context.Background(), to, conversation.CodeComingNotice("en"), code, png)
	if err != nil {
		t.Fatal(err)
	}
	if dms := lea.u.DMs(); len(dms) != 1 || strings.Contains(dms[0].Text(), "HELD-1") || len(dms[0].Files) != 0 {
		t.Fatalf("after Hold, DMs %+v; want one placeholder without the code", dms)
	}
	for range 2 {
		if err := e.ad.Edit(context.Background(), to, ref, code, png); err != nil {
			t.Fatal(err)
		}
	}
	if dms := lea.u.DMs(); len(dms) != 1 || !strings.Contains(dms[0].Text(), "HELD-1") || len(dms[0].Files) != 1 {
		t.Errorf("after the edits, DMs %+v; want the placeholder showing the code and its image", dms)
	}
}
