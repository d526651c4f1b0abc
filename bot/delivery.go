package bot

import (
	"context"

	"refillbot/bitrefill"
)

// esimDetails completes delivered eSIM orders with what only the eSIM
// endpoints have. Bitrefill documents no ICCID on an order: a new eSIM's
// order carries its activation string (LPA) and the ICCID is the id of the
// eSIM in GET /esims with that same LPA. So every new eSIM of the invoice
// missing its ICCID or PIN is looked up there, all in one request; an order
// that names its ICCID but lacks the activation string is completed from
// GET /esims/{id}. Without these the buyer could still install by QR (the
// ICCID only matters for top-ups), so a failure is logged, not fatal.
func (b *Bot) esimDetails(ctx context.Context, inv *bitrefill.Invoice) {
	api, ok := b.cfg.API.(esimAPI)
	if !ok {
		return
	}
	var lpas []string
	for i, o := range inv.Orders {
		r := inv.Orders[i].Redemption
		if o.Status != bitrefill.OrderDelivered || r == nil {
			continue
		}
		if lpa := o.LPA(); lpa != "" && (o.ESIMID == "" || r.PIN == "") {
			lpas = append(lpas, lpa)
		}
	}
	if len(lpas) > 0 {
		found, err := api.FindESIMs(ctx, lpas...)
		if err != nil {
			b.log.Warn("eSIM details: list eSIMs", "err", err)
		}
		for i, o := range inv.Orders {
			e, ok := found[o.LPA()]
			if !ok || o.Redemption == nil {
				continue
			}
			if o.ESIMID == "" {
				inv.Orders[i].ESIMID = e.ID
			}
			if o.Redemption.PIN == "" {
				o.Redemption.PIN = e.PIN
			}
		}
	}
	for i, o := range inv.Orders {
		r := inv.Orders[i].Redemption
		if o.Status != bitrefill.OrderDelivered || o.ESIMID == "" || r == nil || r.PIN != "" || r.BarcodeValue != "" {
			continue
		}
		if r.Instructions != "" {
			continue // a top-up: nothing to install
		}
		e, err := api.ESIM(ctx, o.ESIMID)
		if err != nil {
			b.log.Warn("eSIM details", "err", err)
			continue
		}
		r.PIN, r.BarcodeValue = e.PIN, e.BarcodeValue
	}
}
