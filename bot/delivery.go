package bot

import (
	"context"
	"strings"

	"refillbot/bitrefill"
)

// esimDetails completes a delivered eSIM's redemption with what only the
// eSIM endpoint has: its PIN and, if the order lacks it, the activation
// string. Without them the buyer could still install by QR, so a failure
// here is logged, not fatal.
func (b *Bot) esimDetails(ctx context.Context, inv *bitrefill.Invoice) {
	api, ok := b.cfg.API.(esimAPI)
	if !ok {
		return
	}
	for i, o := range inv.Orders {
		r := inv.Orders[i].Redemption
		if o.Status != bitrefill.OrderDelivered || o.ESIMID == "" || r == nil || r.PIN != "" {
			continue
		}
		if r.BarcodeValue != "" && !strings.HasPrefix(strings.ToUpper(r.BarcodeValue), "LPA:") {
			continue
		}
		if r.BarcodeValue == "" && r.Instructions != "" {
			continue // a top-up: nothing to install
		}
		e, err := api.ESIM(ctx, o.ESIMID)
		if err != nil {
			b.log.Warn("eSIM details", "err", err)
			continue
		}
		r.PIN = e.PIN
		if r.BarcodeValue == "" {
			r.BarcodeValue = e.BarcodeValue
		}
	}
}
