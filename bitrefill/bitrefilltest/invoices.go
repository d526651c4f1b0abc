package bitrefilltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	maxLines       = 20
	maxQuantity    = 20 // per line; keeps a typo from minting thousands of orders
	timeLayout     = "2006-01-02T15:04:05.000Z"
	statusUnpaid   = "unpaid"
	statusDetected = "payment_detected"
	statusConfirm  = "payment_confirmed"
	statusPending  = "pending"
	statusComplete = "complete"
	statusExpired  = "expired" // ours: the REST name for a lapsed invoice is unpublished
)

var paymentMethods = []string{
	"balance", "bitcoin", "lightning", "ethereum", "eth_base", "usdc_base", "usdc_arbitrum",
	"usdc_polygon", "usdc_erc20", "usdc_solana", "usdt_polygon", "usdt_erc20",
}

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type invoice struct {
	id, method, webhookURL string
	seq                    uint64
	created, expires       time.Time
	status                 string
	totalCents             int64
	pay                    payment
	orders                 []*order
	paid, fromBalance      bool
	paidAt                 time.Time
	confirmAt, deliverAt   time.Time
	hooked                 map[string]bool
}

type order struct {
	id        string
	seq       uint64
	inv       *invoice
	p         *product
	k         pkg // for range values, a synthetic pkg with the chosen cents
	cost      int64
	status    string
	created   time.Time
	delivered time.Time
	phone     string
	esimTo    string // top-up target ICCID
	esimID    string // the eSIM this order created or topped up, once delivered
	forceFail bool
}

func isFinal(status string) bool {
	switch status {
	case statusComplete, "denied", "blocked", "payment_error", statusExpired:
		return true
	}
	return false
}

// ---- creation ----

type invoiceReq struct {
	Products      []json.RawMessage `json:"products"`
	PaymentMethod *string           `json:"payment_method"`
	WebhookURL    string            `json:"webhook_url"`
	RefundAddress string            `json:"refund_address"`
	AutoPay       bool              `json:"auto_pay"`
}

type lineReq struct {
	ProductID   string          `json:"product_id"`
	PackageID   *string         `json:"package_id"`
	Value       json.RawMessage `json:"value"`
	Quantity    json.RawMessage `json:"quantity"`
	PhoneNumber *string         `json:"phone_number"`
	ESIMID      *string         `json:"esim_id"`
	Email       string          `json:"email"`
	SendEmail   bool            `json:"send_email"`
	SendSMS     bool            `json:"send_sms"`
}

type line struct {
	p     *product
	k     pkg
	qty   int
	phone string
	esim  string
}

type apiError struct {
	status    int
	code, msg string
}

func badParam(code, format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf(format, a...)}
}

func isNull(r json.RawMessage) bool {
	r = bytes.TrimSpace(r)
	return len(r) == 0 || string(r) == "null"
}

// createInvoice serves POST /invoices and POST /esims (esimOnly).
func (f *Fake) createInvoice(c *reqCtx, esimOnly bool) {
	var req invoiceReq
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.fail(http.StatusBadRequest, "parse_error", "Request body is empty.")
		return
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.fail(http.StatusBadRequest, "parse_error", "Request body is not valid JSON for this endpoint.")
		return
	}
	if len(req.Products) == 0 {
		c.fail(http.StatusBadRequest, "missing_param", "Missing required parameter: products.")
		return
	}
	if len(req.Products) > maxLines {
		c.fail(http.StatusBadRequest, "too_many_items", "An invoice can have at most 20 products.")
		return
	}
	lines := make([]line, 0, len(req.Products))
	for i, raw := range req.Products {
		l, e := f.parseLine(i, raw, esimOnly)
		if e != nil {
			c.fail(e.status, e.code, e.msg)
			return
		}
		lines = append(lines, l)
	}
	if req.PaymentMethod == nil || *req.PaymentMethod == "" {
		c.fail(http.StatusBadRequest, "missing_param", "Missing required parameter: payment_method.")
		return
	}
	method := *req.PaymentMethod
	if !slices.Contains(paymentMethods, method) {
		c.fail(http.StatusBadRequest, "unsupported_payment_method", "Unsupported payment_method. Supported: "+strings.Join(paymentMethods, ", ")+".")
		return
	}
	if req.WebhookURL != "" {
		u, err := url.Parse(req.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.fail(http.StatusBadRequest, "invalid_param", "webhook_url must be an absolute http(s) URL.")
			return
		}
	}
	var total int64
	for _, l := range lines {
		total += l.p.usdCents(l.k) * int64(l.qty)
	}
	autoPay := req.AutoPay && method == "balance"
	if autoPay && f.balance < total {
		c.fail(http.StatusForbidden, "balance_too_low", "Account balance is too low to pay this invoice.")
		return
	}

	now := f.now()
	inv := &invoice{
		seq: f.nextSeq(), method: method, webhookURL: req.WebhookURL, created: now,
		expires: now.Add(f.opts.InvoiceTTL), status: statusUnpaid, totalCents: total, hooked: map[string]bool{},
	}
	inv.id = f.newUUID(inv.seq)
	inv.pay = f.newPayment(inv)
	for _, l := range lines {
		for range l.qty {
			o := &order{seq: f.nextSeq(), inv: inv, p: l.p, k: l.k, cost: l.p.usdCents(l.k),
				status: "created", created: now, phone: l.phone, esimTo: l.esim}
			o.id = f.newOrderID(o.seq)
			inv.orders = append(inv.orders, o)
			f.orders = append(f.orders, o)
			f.orderIdx[o.id] = o
		}
	}
	f.invoices = append(f.invoices, inv)
	f.invIdx[inv.id] = inv
	if autoPay {
		f.balance -= total
		inv.fromBalance = true
		f.markPaidLocked(inv)
	}
	f.writeData(c, obj{{"_endpoint", c.endpoint}}, f.renderInvoice(inv))
}

func (f *Fake) parseLine(i int, raw json.RawMessage, esimOnly bool) (line, *apiError) {
	var lr lineReq
	var l line
	at := fmt.Sprintf("products[%d]", i)
	if err := json.Unmarshal(raw, &lr); err != nil {
		return l, badParam("parse_error", "%s is not a valid product line.", at)
	}
	if lr.ProductID == "" {
		return l, badParam("missing_param", "%s: missing required parameter product_id.", at)
	}
	// An unknown product is a 404 not_found, matching GET /products/{id},
	// rather than a 400: it names a missing resource, not a malformed field.
	p := f.productIdx[lr.ProductID]
	if p == nil {
		return l, &apiError{http.StatusNotFound, "not_found", fmt.Sprintf("%s: product %q not found.", at, lr.ProductID)}
	}
	l.p = p
	if esimOnly && !p.isESIM() {
		return l, badParam("invalid_param", "%s: %s is not an eSIM product.", at, p.id)
	}
	if !p.inStock {
		return l, badParam("out_of_stock", "%s: %s is out of stock.", at, p.id)
	}
	hasPkg, hasVal := lr.PackageID != nil && *lr.PackageID != "", !isNull(lr.Value)
	switch {
	case hasPkg && hasVal:
		return l, badParam("invalid_param", "%s: give either package_id or value, not both.", at)
	case !hasPkg && !hasVal:
		return l, badParam("missing_param", "%s: missing package_id or value.", at)
	case hasPkg:
		k, ok := pkg{}, false
		for _, cand := range p.packages {
			if p.packageID(cand.label) == *lr.PackageID {
				k, ok = cand, true
			}
		}
		if !ok {
			return l, badParam("invalid_param", "%s: package_id %q is not a package of %s.", at, *lr.PackageID, p.id)
		}
		l.k = k
	default:
		k, e := valueFor(p, lr.Value, at)
		if e != nil {
			return l, e
		}
		l.k = k
	}
	l.qty = 1
	if !isNull(lr.Quantity) {
		n, err := strconv.Atoi(string(bytes.TrimSpace(lr.Quantity)))
		if err != nil || n < 1 || n > maxQuantity {
			return l, badParam("invalid_param", "%s: quantity must be an integer from 1 to %d.", at, maxQuantity)
		}
		l.qty = n
	}
	if p.recipientType == "phone_number" {
		if lr.PhoneNumber == nil || *lr.PhoneNumber == "" {
			return l, badParam("missing_param", "%s: %s requires phone_number.", at, p.id)
		}
		if !e164.MatchString(*lr.PhoneNumber) {
			return l, badParam("invalid_phone_number", "%s: phone_number must be in E.164 format.", at)
		}
		if !p.test && !slices.Contains(phoneCountries(*lr.PhoneNumber), p.country) {
			return l, badParam("unsupported_operator", "%s: %s does not serve this phone number.", at, p.id)
		}
		l.phone = *lr.PhoneNumber
	}
	if lr.ESIMID != nil && *lr.ESIMID != "" {
		if !p.isESIM() {
			return l, badParam("invalid_param", "%s: esim_id is only valid for eSIM products.", at)
		}
		if f.esimIdx[*lr.ESIMID] == nil {
			return l, &apiError{http.StatusNotFound, "not_found", fmt.Sprintf("%s: eSIM %q not found.", at, *lr.ESIMID)}
		}
		l.esim = *lr.ESIMID
	}
	return l, nil
}

// valueFor validates a line's value against packages and range, exactly.
func valueFor(p *product, raw json.RawMessage, at string) (pkg, *apiError) {
	raw = bytes.TrimSpace(raw)
	var text string
	isString := raw[0] == '"'
	if isString {
		if err := json.Unmarshal(raw, &text); err != nil {
			return pkg{}, badParam("invalid_param", "%s: value is not valid.", at)
		}
	} else {
		text = string(raw)
	}
	labels := make([]string, len(p.packages))
	for i, k := range p.packages {
		labels[i] = k.label
	}
	if p.isESIM() {
		if k, ok := p.findPackageByLabel(text); ok && isString {
			return k, nil
		}
		return pkg{}, badParam("invalid_param", "%s: value must be one of: %s.", at, strings.Join(labels, "; "))
	}
	cents, err := parseCents(text)
	if err != nil || cents == 0 {
		return pkg{}, badParam("invalid_param", "%s: value %q is not a valid amount.", at, text)
	}
	if k, ok := p.findPackageByCents(cents); ok {
		return k, nil
	}
	if p.inRange(cents) {
		return pkg{label: fmtCents(cents), cents: cents}, nil
	}
	if p.rng != nil {
		msg := fmt.Sprintf("%s: value must be between %s and %s %s in steps of %s", at,
			fmtCents(p.rng.min), fmtCents(p.rng.max), p.currency, fmtCents(p.rng.step))
		if len(labels) > 0 {
			msg += ", or one of: " + strings.Join(labels, ", ")
		}
		return pkg{}, badParam("invalid_param", "%s.", msg)
	}
	return pkg{}, badParam("invalid_param", "%s: value must be one of: %s.", at, strings.Join(labels, ", "))
}

// ---- reads ----

func (f *Fake) getInvoice(c *reqCtx, id string) {
	inv := f.invIdx[id]
	if inv == nil {
		c.fail(http.StatusNotFound, "not_found", "Invoice not found.")
		return
	}
	f.writeData(c, obj{{"_endpoint", c.endpoint}}, f.renderInvoice(inv))
}

// parseTimeParam accepts RFC 3339 or unix seconds.
func parseTimeParam(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// timeWindow reads after/before. after is inclusive and before exclusive,
// so a client that notes the time before an ambiguous POST and asks for
// after=that time is sure to see the invoice even at equal timestamps.
func timeWindow(c *reqCtx, meta *obj) (after, before time.Time, ok bool) {
	q := c.r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"after", &after}, {"before", &before}} {
		if s := q.Get(p.name); s != "" {
			t, good := parseTimeParam(s)
			if !good {
				c.fail(http.StatusBadRequest, "invalid_param", p.name+" must be an RFC 3339 time or unix seconds.")
				return after, before, false
			}
			*p.dst = t
			*meta = append(*meta, kv{p.name, s})
		}
	}
	return after, before, true
}

func inWindow(t, after, before time.Time) bool {
	return (after.IsZero() || !t.Before(after)) && (before.IsZero() || t.Before(before))
}

func (f *Fake) listInvoices(c *reqCtx) {
	listNewestFirst(f, c, f.invoices, func(inv *invoice) time.Time { return inv.created }, f.renderInvoice)
}

func (f *Fake) listOrders(c *reqCtx) {
	listNewestFirst(f, c, f.orders, func(o *order) time.Time { return o.created }, f.renderOrder)
}

// listNewestFirst serves a paginated, time-windowed list the way /invoices and
// /orders both do: newest first, filtered by after/before.
func listNewestFirst[T any](f *Fake, c *reqCtx, all []T, created func(T) time.Time, render func(T) obj) {
	meta := obj{{"_endpoint", c.endpoint}}
	after, before, ok := timeWindow(c, &meta)
	if !ok {
		return
	}
	start, limit, ok := parsePage(c)
	if !ok {
		return
	}
	var sel []T
	for i := len(all) - 1; i >= 0; i-- {
		if inWindow(created(all[i]), after, before) {
			sel = append(sel, all[i])
		}
	}
	page := pageSlice(sel, start, limit)
	data := make([]obj, len(page))
	for i, v := range page {
		data[i] = render(v)
	}
	f.writeData(c, pageMeta(c, meta, start, limit, len(sel), nil), data)
}

func (f *Fake) getOrder(c *reqCtx, id string) {
	o := f.orderIdx[id]
	if o == nil {
		c.fail(http.StatusNotFound, "not_found", "Order not found.")
		return
	}
	f.writeData(c, obj{{"_endpoint", c.endpoint}}, f.renderOrder(o))
}

func (f *Fake) payInvoice(c *reqCtx, id string) {
	inv := f.invIdx[id]
	if inv == nil || inv.status != statusUnpaid {
		c.fail(http.StatusNotFound, "not_found", "Invoice not found or already paid.")
		return
	}
	if inv.method != "balance" {
		c.fail(http.StatusBadRequest, "invalid_param", "Only invoices with payment_method balance can be paid from the balance.")
		return
	}
	if f.balance < inv.totalCents {
		c.fail(http.StatusForbidden, "balance_too_low", "Account balance is too low to pay this invoice.")
		return
	}
	f.balance -= inv.totalCents
	inv.fromBalance = true
	f.markPaidLocked(inv)
	f.writeData(c, obj{{"_endpoint", c.endpoint}}, f.renderInvoice(inv))
}

// ---- rendering ----

func orderProduct(o *order) obj {
	return obj{{"id", o.p.id}, {"name", o.p.name}, {"value", o.k.label}, {"currency", o.p.currency}}
}

func (f *Fake) renderInvoice(inv *invoice) obj {
	o := obj{
		{"id", inv.id}, {"created_time", fmtTime(inv.created)}, {"expiration_time", fmtTime(inv.expires)},
		{"status", inv.status},
	}
	if inv.webhookURL != "" {
		o = append(o, kv{"webhook_url", inv.webhookURL})
	}
	o = append(o, kv{"subtotal", num(fmtCents2(inv.totalCents))}, kv{"total", num(fmtCents2(inv.totalCents))},
		kv{"currency", "USD"}, kv{"payment", inv.pay.render(inv.status)})
	orders := make([]obj, len(inv.orders))
	for i, ord := range inv.orders {
		orders[i] = obj{{"id", ord.id}, {"status", ord.status}, {"product", orderProduct(ord)}}
	}
	return append(o, kv{"orders", orders})
}

func (f *Fake) renderOrder(ord *order) obj {
	o := obj{
		{"id", ord.id}, {"status", ord.status}, {"invoice", obj{{"id", ord.inv.id}}},
		{"product", orderProduct(ord)}, {"created_time", fmtTime(ord.created)},
	}
	if ord.status == "delivered" || (ord.status == "refunded" && !ord.delivered.IsZero()) {
		o = append(o, kv{"delivered_time", fmtTime(ord.delivered)})
		if ri := f.redemption(ord); ri != nil {
			o = append(o, kv{"redemption_info", ri})
		}
	}
	if ord.esimID != "" {
		switch f.esimShape() {
		case ESIMWithID:
			o = append(o, kv{"esim_id", ord.esimID})
		case ESIMWithICCID:
			o = append(o, kv{"iccid", ord.esimID})
		}
	}
	if ord.status == "failed" {
		o = append(o, kv{"error_code", "delivery_failed"}, kv{"message", "Delivery failed; the amount will be refunded."})
	}
	return o
}

// ---- snapshots for tests ----

// InvoiceSnapshot is a test's view of an invoice.
type InvoiceSnapshot struct {
	ID, Status, PaymentMethod, WebhookURL string
	Total                                 string // USD, e.g. "50.00"
	Created                               time.Time
	Orders                                []OrderSnapshot
}

// OrderSnapshot is a test's view of an order.
type OrderSnapshot struct {
	ID, ProductID, Value, Status string
	ESIMID                       string // set once an eSIM order is delivered
	// Code is redemption_info.code once delivered, so tests can check what
	// the buyer was shown without another API call.
	Code string
}

// Codes returns the redemption code of each of an invoice's orders, failing
// tb when the invoice is unknown or an order has no code yet: tests compare
// them with what the buyer was shown.
func (f *Fake) Codes(tb testing.TB, invoiceID string) []string {
	tb.Helper()
	snap, ok := f.Invoice(invoiceID)
	if !ok {
		tb.Fatalf("invoice %s not in the fake", invoiceID)
	}
	out := make([]string, 0, len(snap.Orders))
	for _, o := range snap.Orders {
		if o.Code == "" {
			tb.Fatalf("order %s (%s) has no code", o.ID, o.Status)
		}
		out = append(out, o.Code)
	}
	return out
}

// Invoice returns the current state of an invoice (after applying due
// transitions).
func (f *Fake) Invoice(id string) (InvoiceSnapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked()
	inv := f.invIdx[id]
	if inv == nil {
		return InvoiceSnapshot{}, false
	}
	s := InvoiceSnapshot{ID: inv.id, Status: inv.status, PaymentMethod: inv.method, WebhookURL: inv.webhookURL, Total: fmtCents2(inv.totalCents), Created: inv.created}
	for _, o := range inv.orders {
		os := OrderSnapshot{ID: o.id, ProductID: o.p.id, Value: o.k.label, Status: o.status, ESIMID: o.esimID}
		if o.status == "delivered" {
			if ri, ok := f.redemption(o).(obj); ok {
				for _, kv := range ri {
					if kv.k == "code" {
						os.Code, _ = kv.v.(string)
					}
				}
			}
		}
		s.Orders = append(s.Orders, os)
	}
	return s, true
}
