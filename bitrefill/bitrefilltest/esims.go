package bitrefilltest

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"time"
)

const rspURL = "smdp.example"

// ESIMShape is how a delivered order for a new eSIM tells the buyer which
// eSIM it is. Bitrefill documents no ICCID on the order: the order's
// redemption_info carries the LPA activation string, and the ICCID is the id
// of the eSIM in GET /esims whose barcode_value is that LPA. Other shapes
// were seen on the wire; clients must cope with all of them.
type ESIMShape int

const (
	// ESIMShapeDefault is ESIMDocumented: the fake behaves as documented
	// unless a test asks for a shape seen on the wire.
	ESIMShapeDefault ESIMShape = iota
	// ESIMDocumented: redemption_info has barcode_format QRCODE, the LPA in
	// barcode_value, the PIN and instructions; no ICCID anywhere.
	ESIMDocumented
	// ESIMWithID (seen): the order carries esim_id; redemption_info has the
	// QR code and instructions but no PIN.
	ESIMWithID
	// ESIMWithICCID (seen): like ESIMWithID, spelled iccid.
	ESIMWithICCID
	// ESIMWithExtraICCID (seen): the ICCID in redemption_info.extra_fields.iccid.
	ESIMWithExtraICCID
)

func (f *Fake) esimShape() ESIMShape {
	if f.opts.ESIMShape == ESIMShapeDefault {
		return ESIMDocumented
	}
	return f.opts.ESIMShape
}

type esim struct {
	id, matching, pin string
	created           time.Time
	installed         bool
	bundles           []bundle
}

type bundle struct {
	name    string
	dataMB  int64
	expires time.Time
}

func (e *esim) lpa() string { return "LPA:1$" + rspURL + "$" + e.matching }

// luhnDigit is the check digit making digits+check pass the Luhn test,
// as ICCIDs do.
func luhnDigit(digits string) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// fulfilESIMLocked creates an eSIM for a new purchase or appends a bundle
// for a top-up, when the order is delivered.
func (f *Fake) fulfilESIMLocked(o *order, at time.Time) {
	b := bundle{name: o.k.label, dataMB: o.k.dataMB, expires: at.AddDate(0, 0, o.k.days)}
	if e := f.esimIdx[o.esimTo]; e != nil {
		e.bundles = append(e.bundles, b)
		o.esimID = e.id
		return
	}
	n := f.nextSeq()
	d := f.digest("esim", n)
	body := fmt.Sprintf("89%016d", binary.BigEndian.Uint64(d[:8])%1e16)
	e := &esim{
		id:       body + string(luhnDigit(body)),
		matching: fmt.Sprintf("%s-%s-%s-%s", chars(d[8:], 5, codeChars), chars(d[12:], 5, codeChars), chars(d[16:], 5, codeChars), chars(d[20:], 5, codeChars)),
		pin:      chars(d[24:], 4, "0123456789"),
		created:  at,
		bundles:  []bundle{b},
	}
	f.esims = append(f.esims, e)
	f.esimIdx[e.id] = e
	o.esimID = e.id
}

func (f *Fake) renderESIM(e *esim) obj {
	now := f.now()
	hist := make([]obj, len(e.bundles))
	for i, b := range e.bundles {
		status, left := "active", b.dataMB*1_000_000
		if !now.Before(b.expires) {
			status, left = "expired", 0 // what is left of an expired bundle is lost
		}
		hist[i] = obj{{"package_name", b.name}, {"data_mb", b.dataMB}, {"status", status},
			{"remaining_quantity", left}, {"expiration_date", b.expires.UTC().Format(time.RFC3339)}}
	}
	return obj{{"id", e.id}, {"rsp_url", rspURL}, {"pin", e.pin}, {"barcode_value", e.lpa()},
		{"installed", e.installed}, {"created_time", fmtTime(e.created)}, {"package_history", hist}}
}

func (f *Fake) listESIMs(c *reqCtx) {
	start, limit, ok := parsePage(c)
	if !ok {
		return
	}
	var sel []*esim
	for i := len(f.esims) - 1; i >= 0; i-- {
		sel = append(sel, f.esims[i])
	}
	page := pageSlice(sel, start, limit)
	data := make([]obj, len(page))
	for i, e := range page {
		data[i] = f.renderESIM(e)
	}
	f.writeData(c, pageMeta(c, obj{{"_endpoint", c.endpoint}}, start, limit, len(sel), nil), data)
}

func (f *Fake) getESIM(c *reqCtx, id string) {
	e := f.esimIdx[id]
	if e == nil {
		c.fail(http.StatusNotFound, "not_found", "eSIM not found.")
		return
	}
	f.writeData(c, obj{{"_endpoint", c.endpoint}}, f.renderESIM(e))
}
