package discord_test

import (
	"encoding/json"
	"refillbot/bot"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
	"refillbot/platforms/discord/discordtest"
)

// /esim topup of an eSIM bought earlier, end to end: autocomplete offers
// the user's own eSIM, then the plans valid for it; the command shows the
// top-up to confirm; the invoice is created for that eSIM (esim_id in the
// request Bitrefill gets); the payment shows on the invoice; the top-up is
// delivered by DM and the eSIM has the new plan.
func TestESIMTopup(t *testing.T) {
	e := newEnv(t, envOptions{})
	nia := e.newUser("nia", "en-US")
	iccid, product := e.boughtESIM()
	st := conversation.State{V: conversation.SchemaVersion, Profile: conversation.Profile{Nonce: "n1aN0nce", Lang: "en",
		ESIMs: []conversation.OwnedESIM{{ICCID: iccid, Product: product, Name: "Bitrefill eSIM Europe"}}}}
	if err := e.store.Commit(bot.Commit{Key: nia.key(), State: st}); err != nil {
		t.Fatal(err)
	}
	before, err := e.api.ESIM(e.ctx, iccid)
	if err != nil {
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
	plan, _ := plans[len(plans)-1].Value.(string)
	if !strings.HasPrefix(plan, product+bitrefill.PackageSeparator) {
		t.Fatalf("plan %q is not a package of %s", plan, product)
	}

	mark := e.dc.Mark()
	p, err := nia.u.Slash(nia.at, "esim", discordtest.Opt{Name: "topup", Sub: []discordtest.Opt{{Name: "esim", Value: iccid}, {Name: "plan", Value: plan}}})
	if err != nil {
		t.Fatal(err)
	}
	nia.answered(p)
	confirm := nia.await(mark, txtTopupConf)
	if !confirm.Ephemeral() || !strings.Contains(confirm.Text(), iccid) {
		t.Errorf("top-up to confirm: ephemeral=%v %q, want the eSIM %s, privately", confirm.Ephemeral(), confirm.Text(), iccid)
	}

	reqs := len(e.fake.Requests())
	nia.payWith(lblBitcoin)
	var lines []struct {
		ProductID string `json:"product_id"`
		PackageID string `json:"package_id"`
		ESIMID    string `json:"esim_id"`
	}
	for _, r := range e.fake.Requests()[reqs:] {
		if r.Method != "POST" || !strings.HasSuffix(r.Path, "/invoices") {
			continue
		}
		var body struct {
			Products []struct {
				ProductID string `json:"product_id"`
				PackageID string `json:"package_id"`
				ESIMID    string `json:"esim_id"`
			} `json:"products"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("invoice request %s: %v", r.Body, err)
		}
		lines = append(lines, body.Products...)
	}
	if len(lines) != 1 || lines[0].ESIMID != iccid || lines[0].PackageID != plan || lines[0].ProductID != product {
		t.Fatalf("invoice requested for %+v, want one line of %s, package %q, esim_id %s", lines, product, plan, iccid)
	}
	invID := nia.state().Invoice

	nia.simulate()
	mark = e.dc.Mark()
	e.advance(2 * time.Hour)
	dm := nia.delivered(mark)
	if dm.GuildID != "" || dm.Ephemeral() || !strings.Contains(dm.Text(), iccid) {
		t.Errorf("top-up delivery %q (guild %q), want a DM naming the eSIM %s", dm.Text(), dm.GuildID, iccid)
	}
	if snap, ok := e.fake.Invoice(invID); !ok || len(snap.Orders) != 1 {
		t.Errorf("invoice %s in the fake: found=%v", invID, ok)
	}
	after, err := e.api.ESIM(e.ctx, iccid)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Packages) != len(before.Packages)+1 {
		t.Errorf("the eSIM has %d plans after the top-up, want %d", len(after.Packages), len(before.Packages)+1)
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

// An eSIM bought in the chat, from a Bitrefill that names no ICCID on the
// order (its documented shape: the ICCID is learned from GET /esims by the
// activation string), is offered by /esim topup's autocomplete.
func TestESIMBoughtInChatIsOfferedForTopUp(t *testing.T) {
	e := newEnv(t, envOptions{})
	nia := e.newUser("nia", "en-US")
	nia.slash(txtResults, "search", discordtest.Opt{Name: "query", Value: "bitrefill esim europe"})
	nia.press("Bitrefill eSIM Europe", "Works in:")
	nia.press("1GB, 7 Days", txtConfirm)
	nia.payWith(lblBitcoin)
	id := nia.state().Invoice
	nia.pay()

	snap, _ := e.fake.Invoice(id)
	list, err := e.api.ESIMs(e.ctx)
	if err != nil || len(list) != 1 || snap.Orders[0].ESIMID != list[0].ID {
		t.Fatalf("eSIMs in the account: %v %v", list, err)
	}
	iccid := list[0].ID
	for _, r := range e.fake.Requests() {
		if strings.Contains(string(r.Body), iccid) {
			t.Fatalf("the ICCID reached a request body before it was learned: %s %s", r.Method, r.Path)
		}
	}
	esims, err := nia.u.Autocomplete(nia.at, "esim", discordtest.Opt{Name: "topup", Sub: []discordtest.Opt{{Name: "esim", Value: "", Focused: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(esims) != 1 || esims[0].Value != iccid {
		t.Fatalf("eSIM choices %+v, want the eSIM just bought, %s", esims, iccid)
	}
	nia.slash(txtTopupConf, "esim", discordtest.Opt{Name: "topup", Sub: []discordtest.Opt{
		{Name: "esim", Value: iccid}, {Name: "plan", Value: "bitrefill-esim-europe<&>3GB, 30 Days"}}})
}
