package bot

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// product turns a catalogue entry into what the engine checks values against.
// Values that cannot be money in hundredths (an eSIM plan name) stay labels;
// a range the engine could not check exactly is left out rather than guessed.
func product(p bitrefill.Product) conversation.Product {
	out := conversation.Product{
		ID: p.ID, Name: p.Name, Kind: string(p.Type), Country: p.Country, Currency: p.Currency,
		InStock:    p.InStock,
		NeedsPhone: p.RecipientType == "phone_number" || p.Type == bitrefill.PhoneRefill,
		Coverage:   p.Coverage,
	}
	for _, pk := range p.Packages {
		cp := conversation.Package{ID: pk.ID, Label: pk.Value}
		if a, prob := conversation.ParseAmount(pk.Value, ""); prob == conversation.AmountOK {
			cp.Amount = a
		} else if c, err := pk.Price.Cents(); err == nil && c > 0 {
			cp.Price = conversation.Amount(c) // a plan: its price, when Bitrefill gives one
		}
		if cp.ID == "" {
			cp.ID = p.ID + "<&>" + pk.Value
		}
		out.Packages = append(out.Packages, cp)
	}
	if r := p.Range; r != nil {
		lo, err1 := r.Min.Cents()
		hi, err2 := r.Max.Cents()
		step, err3 := r.Step.Cents()
		if err1 == nil && err2 == nil && err3 == nil && lo > 0 && hi >= lo && step >= 0 {
			out.Range = &conversation.Range{Min: conversation.Amount(lo), Max: conversation.Amount(hi), Step: conversation.Amount(step)}
		}
	}
	return out
}

// invoice turns an API invoice into the engine's view of it.
func invoice(in bitrefill.Invoice) conversation.Invoice {
	out := conversation.Invoice{
		ID: in.ID, Status: string(in.Status), Method: in.Payment.Method, Expires: in.ExpirationTime,
		Price: in.Payment.Price.String(), PriceCurrency: in.Payment.Currency,
		Address: in.Payment.Address, PaymentURI: in.Payment.URI(),
	}
	if out.Method == bitrefill.PayLightning && in.Payment.LightningInvoice != "" {
		out.Address = ""
	}
	if out.PriceCurrency == "" && out.Method == bitrefill.PayBitcoin {
		out.PriceCurrency = "BTC"
	}
	for _, o := range in.Orders {
		out.Orders = append(out.Orders, order(o))
	}
	return out
}

func order(o bitrefill.Order) conversation.Order {
	out := conversation.Order{ID: o.ID, Status: string(o.Status), Product: o.Product.Name, Value: o.Product.Value, Currency: o.Product.Currency,
		ProductID: o.Product.ID, ESIM: o.ESIMID}
	if out.Product == "" {
		out.Product = o.Product.ID
	}
	if r := o.Redemption; !r.IsEmpty() {
		red := &conversation.Redemption{Code: r.Code, PIN: r.PIN, Link: r.Link, Instructions: r.Instructions, Expires: r.ExpirationDate, BarcodeValue: r.BarcodeValue, BarcodeFormat: r.BarcodeFormat}
		names := make([]string, 0, len(r.Extra))
		for k := range r.Extra {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			red.Extra = append(red.Extra, conversation.Field{Name: k, Value: r.Extra[k]})
		}
		out.Redemption = red
	}
	return out
}

// kind maps a client error to what the user is told; the detail goes to logs.
func kind(err error) conversation.ErrorKind {
	if errors.Is(err, context.DeadlineExceeded) {
		return conversation.ErrTemporary
	}
	switch bitrefill.ErrorKind(err) {
	case bitrefill.KindNetwork, bitrefill.KindServer, bitrefill.KindCanceled:
		return conversation.ErrTemporary
	case bitrefill.KindNotFound:
		return conversation.ErrNotFound
	case bitrefill.KindRateLimited:
		return conversation.ErrRateLimited
	case bitrefill.KindOutOfStock:
		return conversation.ErrOutOfStock
	case bitrefill.KindInsufficient:
		return conversation.ErrBalance
	case bitrefill.KindInvalid:
		if bitrefill.ErrorCode(err) == bitrefill.CodeUnsupportedPaymentMethod {
			return conversation.ErrPayment
		}
		return conversation.ErrInvalid
	}
	return conversation.ErrInternal
}

func retryAfter(err error) time.Duration {
	var e *bitrefill.Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// sameLines reports whether an invoice found after an ambiguous failure is the
// one we tried to create: same products and values, in order.
func sameLines(inv bitrefill.Invoice, lines []conversation.Line) bool {
	want := 0
	for _, l := range lines {
		want += max(l.Quantity, 1)
	}
	if len(inv.Orders) != want {
		return false
	}
	i := 0
	for _, l := range lines {
		for q := 0; q < max(l.Quantity, 1); q++ {
			o := inv.Orders[i]
			i++
			if o.Product.ID != l.ProductID {
				return false
			}
			v := l.Value.String()
			if l.PackageID != "" {
				_, v, _ = strings.Cut(l.PackageID, "<&>")
			}
			if a, pa := conversation.ParseAmount(o.Product.Value, ""); pa == conversation.AmountOK {
				if b, pb := conversation.ParseAmount(v, ""); pb != conversation.AmountOK || a != b {
					return false
				}
			} else if o.Product.Value != v {
				return false
			}
		}
	}
	return true
}
