package discord_test

import (
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
	"refillbot/platforms/discord/discordtest"
	"refillbot/storage"
)

// /esim topup of an eSIM bought earlier: autocomplete offers the user's own
// eSIM, then the plans valid for it, and the command reaches the engine as
// Command{topup, "<iccid> <package id>"}. The engine's top-up flow (invoice
// with esim_id, payment, DM) is another issue's work: until it exists the
// test stops after checking what this adapter owns.
func TestESIMTopup(t *testing.T) {
	e := newEnv(t, envOptions{})
	nia := e.newUser("nia", "en-US")
	iccid, product := e.boughtESIM()
	st := conversation.State{V: conversation.SchemaVersion, Nonce: "n1aN0nce", Lang: "en",
		ESIMs: []conversation.OwnedESIM{{ICCID: iccid, Product: product, Name: "Bitrefill eSIM Europe"}}}
	if err := e.store.Commit(storage.Commit{Key: nia.key(), State: st}); err != nil {
		t.Fatal(err)
	}

	esims, err := nia.u.Autocomplete(nia.at, "esim", discordtest.Opt{Name: "topup", Sub: []discordtest.Opt{{Name: "esim", Value: "", Focused: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(esims) != 1 || esims[0].Value != iccid {
		t.Fatalf("eSIM choices %+v, want the one eSIM %s", esims, iccid)
	}
	plans, err := nia.u.Autocomplete(nia.at, "esim", discordtest.Opt{Name: "topup", Sub: []discordtest.Opt{
		{Name: "esim", Value: iccid}, {Name: "plan", Value: "", Focused: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) == 0 || len(plans) > 25 {
		t.Fatalf("%d plan choices", len(plans))
	}
	plan, _ := plans[0].Value.(string)
	if !strings.HasPrefix(plan, product) {
		t.Fatalf("plan %q is not a package of %s", plan, product)
	}

	mark := e.dc.Mark()
	p, err := nia.u.Slash(nia.at, "esim", discordtest.Opt{Name: "topup", Sub: []discordtest.Opt{{Name: "esim", Value: iccid}, {Name: "plan", Value: plan}}})
	if err != nil {
		t.Fatal(err)
	}
	nia.answered(p)
	m, err := nia.u.Await(mark, "an answer to /esim topup", func(discordtest.Message) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text(), txtUnknown) {
		if !strings.Contains(m.Text(), txtUnknown+"topup") {
			t.Fatalf("the engine got another command: %q", m.Text())
		}
		t.Skip("the engine has no topup command yet; autocomplete and the mapping are done")
	}
	if !m.Ephemeral() {
		t.Errorf("the top-up answer is public: %q", m.Text())
	}
}

// boughtESIM buys an eSIM straight from the fake Bitrefill (as if through the
// bot earlier) and returns its ICCID and plan product.
func (e *env) boughtESIM() (iccid, product string) {
	e.tb.Helper()
	const id = "bitrefill-esim-europe"
	p, err := e.api.ESIMProduct(e.ctx, id)
	if err != nil || len(p.Packages) == 0 {
		e.tb.Fatalf("eSIM product %s: %v (%d packages)", id, err, len(p.Packages))
	}
	inv, err := e.api.BuyESIM(e.ctx, bitrefill.InvoiceRequest{PaymentMethod: bitrefill.PayBitcoin,
		Products: []bitrefill.InvoiceLine{{ProductID: id, PackageID: p.Packages[0].ID, Quantity: 1}}})
	if err != nil {
		e.tb.Fatal(err)
	}
	if err := e.fake.MarkPaid(inv.ID); err != nil {
		e.tb.Fatal(err)
	}
	e.advance(2 * time.Hour)
	list, err := e.api.ESIMs(e.ctx)
	if err != nil || len(list) == 0 {
		e.tb.Fatalf("eSIMs after delivery: %v (%d)", err, len(list))
	}
	return list[0].ID, id
}
