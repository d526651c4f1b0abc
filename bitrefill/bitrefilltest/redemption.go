package bitrefilltest

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// Redemption details depend on the product (which fields exist) and the
// order id (their values), so a test can rely on "amazon-us has a code and a
// link" while every order still gets its own code.

const codeChars = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func (f *Fake) redemption(o *order) any {
	seed := sha256.Sum256([]byte("redeem:" + o.id + ":" + o.p.id))
	code := func() string {
		c := chars(seed[:], 12, codeChars)
		return c[:4] + "-" + c[4:8] + "-" + c[8:]
	}
	pin := func(n int) string { return chars(seed[4:], n, "0123456789") }
	link := func() string {
		return "https://redeem.bitrefill.example/" + o.p.id + "/" + strings.ToLower(chars(seed[8:], 16, codeChars))
	}
	expires := o.delivered.AddDate(1, 0, 0).UTC().Format("2006-01-02")
	instr := fmt.Sprintf("Redeem your %s card on the merchant's website or app.", o.p.name)
	switch o.p.redeem {
	case "code":
		return obj{{"code", code()}}
	case "code_link":
		return obj{{"code", code()}, {"link", link()}}
	case "code_pin":
		return obj{{"code", code()}, {"pin", pin(4)}}
	case "code_exp":
		return obj{{"code", code()}, {"expiration_date", expires}}
	case "code_instr_exp":
		return obj{{"code", code()}, {"instructions", instr}, {"expiration_date", expires}}
	case "code_extra":
		return obj{{"code", code()}, {"extra_fields", obj{{"serial", pin(12)}}}}
	case "code_barcode":
		// A card the till scans: the code again as a CODE_128 barcode.
		c := code()
		return obj{{"code", c}, {"barcode_format", "CODE_128"}, {"barcode_value", c}}
	case "code_pin_extra":
		return obj{{"code", code()}, {"pin", pin(8)}, {"extra_fields", obj{{"serial", pin(16)}, {"card_number", pin(16)}}}}
	case "link":
		return obj{{"link", link()}}
	case "link_instr":
		return obj{{"link", link()}, {"instructions", "Open the link to claim your card, then add it to your wallet."}}
	case "string":
		// Seen on the live API: redemption_info as a bare string.
		return fmt.Sprintf("Code: %s. %s", code(), instr)
	case "pin":
		return obj{{"pin", pin(12)}, {"instructions", "Dial *100*PIN# from the phone to top up."}}
	case "bill":
		return obj{{"instructions", "Payment sent to the biller; keep the reference."}, {"extra_fields", obj{{"reference", chars(seed[:], 10, codeChars)}}}}
	case "esim":
		e := f.esimIdx[o.esimID]
		if e == nil {
			return nil
		}
		if o.esimTo != "" {
			return obj{{"instructions", "Data added to eSIM " + e.id + "; no new installation needed."}}
		}
		shape := f.esimShape()
		ri := obj{{"barcode_format", "QRCODE"}, {"barcode_value", e.lpa()}}
		if shape == ESIMDocumented {
			ri = append(ri, kv{"pin", e.pin})
		}
		ri = append(ri, kv{"instructions", "Scan the QR code in your phone's mobile data settings to install the eSIM."})
		if shape == ESIMWithExtraICCID {
			ri = append(ri, kv{"extra_fields", obj{{"iccid", e.id}}})
		}
		return ri
	}
	return nil // phone refills: the credit lands on the phone
}
