package bot

import (
	"context"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// The shell's side of the complete conversation: phone lookups, eSIM status
// and balance payments, and the locale a new session starts from.

type localeKey struct{}

// withLocale carries the platform's locale to the step that may create the
// session, without widening the signatures on the way.
func withLocale(ctx context.Context, locale string) context.Context {
	if locale == "" {
		return ctx
	}
	return context.WithValue(ctx, localeKey{}, locale)
}

func localeOf(ctx context.Context) string {
	l, _ := ctx.Value(localeKey{}).(string)
	return l
}

// runMore carries out the effects added with the complete conversation; ok
// is false for an effect it does not know.
func (b *Bot) runMore(ctx context.Context, e conversation.Effect) (conversation.Event, bool) {
	switch e := e.(type) {
	case conversation.CheckPhone:
		pc, err := b.cfg.API.CheckPhoneNumber(ctx, e.Number, "")
		if err != nil {
			return b.failedFor(conversation.OpCheckPhone, e.Number, err), true
		}
		return phoneChecked(e.Number, pc), true
	case conversation.LoadESIM:
		es, err := b.cfg.API.ESIM(ctx, e.ICCID)
		if err != nil {
			return b.failedFor(conversation.OpLoadESIM, e.ICCID, err), true
		}
		return conversation.ESIMLoaded{ESIM: esim(es)}, true
	case conversation.PayInvoice:
		// Never retried here: a second pay could spend the balance twice.
		// An ambiguous failure is reported as temporary, and the engine
		// refreshes the invoice instead of offering to pay again.
		if _, err := b.cfg.API.PayInvoice(ctx, e.InvoiceID); err != nil {
			return b.failed(conversation.OpPay, err), true
		}
		inv, err := b.fetchInvoice(ctx, e.InvoiceID)
		if err != nil {
			return b.failed(conversation.OpRefreshInvoice, err), true
		}
		return conversation.InvoiceUpdated{Invoice: inv}, true
	}
	return nil, false
}

// phoneChecked turns Bitrefill's answer into one operator or candidates.
func phoneChecked(number string, pc bitrefill.PhoneCheck) conversation.PhoneChecked {
	out := conversation.PhoneChecked{Number: number}
	if pc.OperatorFound && len(pc.Products) == 1 {
		out.Found, out.Product = true, product(pc.Products[0])
		return out
	}
	seen := map[string]bool{}
	for _, p := range pc.Products {
		if p.ID == "" || seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		out.Operators = append(out.Operators, conversation.ProductSummary{ID: p.ID, Name: p.Name, Country: p.Country, Kind: string(p.Type), InStock: p.InStock})
	}
	for _, o := range pc.Operators {
		if o.ID == "" || seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		name := o.Name
		if name == "" {
			name = o.ID
		}
		// The short form names no stock: the product card will tell.
		out.Operators = append(out.Operators, conversation.ProductSummary{ID: o.ID, Name: name, Kind: conversation.KindPhoneRefill, InStock: true})
	}
	return out
}

func esim(e bitrefill.ESIM) conversation.ESIM {
	out := conversation.ESIM{ICCID: e.ID, Installed: e.Installed}
	for _, p := range e.Packages {
		out.Bundles = append(out.Bundles, conversation.Bundle{
			Name: p.Name, DataMB: p.DataMB, RemainingBytes: p.RemainingBytes, Status: p.Status, Expires: p.ExpirationDate,
		})
	}
	return out
}
