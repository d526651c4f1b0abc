package bitrefill

import (
	"encoding/json"
	"log/slog"
	"strings"
	"time"
)

// The types below carry json tags in the documented wire shape, so values
// marshalled by callers (for storage, say) decode again through the same
// lenient UnmarshalJSON methods that read API responses.

// ProductType is a product's kind. Unknown types are kept as sent, so a new
// kind of product appears in the catalogue instead of failing its page.
type ProductType string

// Documented product types.
const (
	GiftCard    ProductType = "gift_card"
	PhoneRefill ProductType = "phone_refill"
	ESIMType    ProductType = "esim"
	BillPayment ProductType = "bill_payment"
)

// RecipientPhoneNumber is the recipient_type of products whose invoice lines
// need InvoiceLine.PhoneNumber.
const RecipientPhoneNumber = "phone_number"

// PackageSeparator joins a product id and a value into a package id.
const PackageSeparator = "<&>"

// Product is one catalogue entry.
type Product struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Type          ProductType `json:"type"`
	Country       string      `json:"country,omitempty"` // ISO 3166 alpha-2, upper case
	CountryName   string      `json:"country_name,omitempty"`
	Currency      string      `json:"currency,omitempty"`
	InStock       bool        `json:"in_stock"`
	Image         string      `json:"image,omitempty"`
	Categories    []string    `json:"categories,omitempty"`
	RecipientType string      `json:"recipient_type,omitempty"`
	Packages      []Package   `json:"packages,omitempty"`
	Range         *Range      `json:"range,omitempty"`
	Coverage      []string    `json:"coverage,omitempty"` // eSIM: countries where the plan works
}

// NeedsPhoneNumber reports whether invoice lines for p must carry a phone number.
func (p Product) NeedsPhoneNumber() bool {
	return p.RecipientType == RecipientPhoneNumber || (p.RecipientType == "" && p.Type == PhoneRefill)
}

// Package returns the package whose value or id matches v.
func (p Product) Package(v string) (Package, bool) {
	for _, pk := range p.Packages {
		if pk.Value == v || pk.ID == v {
			return pk, true
		}
	}
	if d, err := ParseDecimal(v); err == nil {
		for _, pk := range p.Packages {
			if a, ok := pk.Amount(); ok && a == d {
				return pk, true
			}
		}
	}
	return Package{}, false
}

// UnmarshalJSON accepts the documented and the seen shapes (see the package doc).
func (p *Product) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	*p = Product{
		ID:            f.str("id", "product_id", "slug"),
		Name:          f.str("name", "product_name"),
		Type:          ProductType(strings.TrimSpace(f.str("type", "product_type"))),
		Country:       strings.ToUpper(f.str("country", "country_code")),
		CountryName:   f.str("country_name"),
		Currency:      strings.ToUpper(f.str("currency")),
		Image:         f.str("image", "image_url", "logo"),
		Categories:    rawStrings(f.get("categories", "category")),
		RecipientType: f.str("recipient_type"),
		Coverage:      rawStrings(f.get("coverage", "countries")),
	}
	// Availability defaults to true: the field is documented as always
	// present, and when it is not the server still rejects out-of-stock
	// purchases with out_of_stock.
	p.InStock = true
	if v, ok := f.bool("in_stock"); ok {
		p.InStock = v
	} else if v, ok := f.bool("out_of_stock"); ok {
		p.InStock = !v
	}
	for _, raw := range rawArray(f.get("packages")) {
		pk := decodePackage(p.ID, raw)
		if pk.ID != "" || pk.Value != "" {
			p.Packages = append(p.Packages, pk)
		}
	}
	if raw := f.get("range"); rawKind(raw) == '{' {
		var r Range
		if r.UnmarshalJSON(raw) == nil && (!r.Min.IsZero() || !r.Max.IsZero()) {
			p.Range = &r
		}
	}
	return nil
}

// Package is a fixed denomination.
type Package struct {
	ID    string  `json:"package_id"` // "<product id><&><value>"
	Value string  `json:"value"`      // textual value as sent: "25", "25.50", "5GB, 30 Days"
	Price Decimal `json:"price,omitzero"`
}

// Amount returns the value as a number when it is one (not for eSIM plans).
func (p Package) Amount() (Decimal, bool) {
	d, err := ParseDecimal(p.Value)
	return d, err == nil
}

// UnmarshalJSON accepts package_id or id, and a value given as number or string.
func (p *Package) UnmarshalJSON(b []byte) error {
	*p = decodePackage("", b)
	return nil
}

func decodePackage(productID string, raw json.RawMessage) Package {
	var pk Package
	switch rawKind(raw) {
	case '{':
		f, err := decodeFields(raw)
		if err != nil {
			return pk
		}
		pk.ID = f.str("package_id", "id")
		pk.Value = numberText(f.get("value", "name", "package_value"))
		if pk.Value == "" {
			if _, v, ok := strings.Cut(pk.ID, PackageSeparator); ok {
				pk.Value = v
			}
		}
		pk.Price, _ = f.decimal("price", "amount", "cost")
	case '"', '0':
		// A bare list of values.
		pk.Value = numberText(raw)
	}
	if pk.ID == "" && pk.Value != "" && productID != "" {
		pk.ID = productID + PackageSeparator + pk.Value
	}
	return pk
}

// Range is an open denomination: any value with Min <= v <= Max and (v-Min) a
// whole multiple of Step.
type Range struct {
	Min       Decimal `json:"min"`
	Max       Decimal `json:"max"`
	Step      Decimal `json:"step,omitzero"`
	PriceRate Decimal `json:"price_rate,omitzero"`
}

// UnmarshalJSON reads numbers or numeric strings; price_rate may be absent.
func (r *Range) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	*r = Range{}
	r.Min, _ = f.decimal("min", "minimum", "min_value")
	r.Max, _ = f.decimal("max", "maximum", "max_value")
	r.Step, _ = f.decimal("step", "increment")
	r.PriceRate, _ = f.decimal("price_rate", "rate")
	return nil
}

// Accepts reports whether v is a valid value for the range, in exact decimal
// arithmetic. A zero Step means any value between Min and Max.
func (r Range) Accepts(v Decimal) bool {
	if v.Cmp(r.Min) < 0 || v.Cmp(r.Max) > 0 {
		return false
	}
	if r.Step.Sign() <= 0 {
		return true
	}
	a, s, _ := align(v.Sub(r.Min), r.Step)
	return a.Rem(a, s).Sign() == 0
}

// Operator is a phone operator candidate from CheckPhoneNumber.
type Operator struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PhoneCheck is the result of CheckPhoneNumber.
type PhoneCheck struct {
	// OperatorFound is true when the number maps to one operator, which is
	// then Products[0].
	OperatorFound bool
	// Products holds the operator product, or the candidates when ambiguous.
	Products []Product
	// Operators lists candidates in the newer {id, name} shape.
	Operators []Operator
}

// InvoiceRequest is the body of POST /invoices and POST /esims.
type InvoiceRequest struct {
	Products      []InvoiceLine `json:"products"`
	PaymentMethod string        `json:"payment_method"`
	WebhookURL    string        `json:"webhook_url,omitempty"`
	RefundAddress string        `json:"refund_address,omitempty"`
	AutoPay       bool          `json:"auto_pay,omitempty"`
}

// Payment methods documented for invoices (case-sensitive).
const (
	PayBalance      = "balance"
	PayBitcoin      = "bitcoin"
	PayLightning    = "lightning"
	PayEthereum     = "ethereum"
	PayETHBase      = "eth_base"
	PayUSDCBase     = "usdc_base"
	PayUSDCArbitrum = "usdc_arbitrum"
	PayUSDCPolygon  = "usdc_polygon"
	PayUSDCERC20    = "usdc_erc20"
	PayUSDCSolana   = "usdc_solana"
	PayUSDTPolygon  = "usdt_polygon"
	PayUSDTERC20    = "usdt_erc20"
)

// InvoiceLine is one product line; each unit of Quantity becomes its own order.
// Set exactly one of PackageID or Value.
type InvoiceLine struct {
	ProductID   string
	PackageID   string
	Value       string // sent as a JSON number when numeric, else as a string ("5GB, 30 Days")
	Quantity    int    // 0 means 1 (omitted)
	PhoneNumber string // E.164, for recipient_type phone_number
	ESIMID      string // ICCID: tops up this eSIM instead of buying a new one
	Email       string
}

// MarshalJSON writes the documented line shape.
func (l InvoiceLine) MarshalJSON() ([]byte, error) {
	type wire struct {
		ProductID   string          `json:"product_id"`
		PackageID   string          `json:"package_id,omitempty"`
		Value       json.RawMessage `json:"value,omitempty"`
		Quantity    int             `json:"quantity,omitempty"`
		PhoneNumber string          `json:"phone_number,omitempty"`
		ESIMID      string          `json:"esim_id,omitempty"`
		Email       string          `json:"email,omitempty"`
	}
	w := wire{ProductID: l.ProductID, PackageID: l.PackageID, Quantity: l.Quantity,
		PhoneNumber: l.PhoneNumber, ESIMID: l.ESIMID, Email: l.Email}
	if l.Value != "" {
		if d, err := ParseDecimal(l.Value); err == nil {
			w.Value = json.RawMessage(d.String())
		} else {
			b, err := json.Marshal(l.Value)
			if err != nil {
				return nil, err
			}
			w.Value = b
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the documented line shape (value as number or string).
func (l *InvoiceLine) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	q, _ := f.int64("quantity")
	*l = InvoiceLine{
		ProductID:   f.str("product_id", "id"),
		PackageID:   f.str("package_id"),
		Value:       numberText(f.get("value")),
		Quantity:    int(q),
		PhoneNumber: f.str("phone_number"),
		ESIMID:      f.str("esim_id"),
		Email:       f.str("email"),
	}
	return nil
}

// Invoice is a payment request for one or more orders.
type Invoice struct {
	ID             string        `json:"id"`
	CreatedTime    time.Time     `json:"created_time,omitzero"`
	ExpirationTime time.Time     `json:"expiration_time,omitzero"`
	Status         InvoiceStatus `json:"status"`
	Payment        Payment       `json:"payment"`
	Orders         []Order       `json:"orders,omitempty"`
	WebhookURL     string        `json:"webhook_url,omitempty"`
	Total          Decimal       `json:"total,omitzero"` // what the invoice costs, in Currency, when sent
	Currency       string        `json:"currency,omitempty"`
}

// UnmarshalJSON reads the documented invoice and flatter older shapes.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	*inv = Invoice{
		ID:             f.str("id", "invoice_id"),
		CreatedTime:    f.time("created_time", "created_at", "created"),
		ExpirationTime: f.time("expiration_time", "expires_at", "expiration", "expiry_time"),
		Status:         ParseInvoiceStatus(f.str("status")),
		WebhookURL:     f.str("webhook_url"),
		Currency:       strings.ToUpper(f.str("currency")),
	}
	inv.Total, _ = f.decimal("total", "total_price", "total_amount")
	if raw := f.get("payment"); rawKind(raw) == '{' {
		if err := inv.Payment.UnmarshalJSON(raw); err != nil {
			return err
		}
	} else {
		// Older flat shape: payment_method, payment_address, payment_price...
		inv.Payment = Payment{
			Method:           f.str("payment_method"),
			Address:          f.str("payment_address", "address"),
			Currency:         f.str("payment_currency"),
			Status:           f.str("payment_status"),
			LightningInvoice: f.str("lightning_invoice", "payment_lightning_invoice"),
			PaymentURI:       f.str("payment_uri", "payment_url", "bip21"),
		}
		inv.Payment.Price, _ = f.decimal("payment_price", "payment_amount")
	}
	for _, raw := range rawArray(f.get("orders")) {
		var o Order
		if err := o.UnmarshalJSON(raw); err != nil {
			continue
		}
		if o.InvoiceID == "" {
			o.InvoiceID = inv.ID
		}
		inv.Orders = append(inv.Orders, o)
	}
	return nil
}

// Payment says how to pay an invoice.
type Payment struct {
	Method           string  `json:"method,omitempty"`
	Address          string  `json:"address,omitempty"`
	Currency         string  `json:"currency,omitempty"`
	Price            Decimal `json:"price,omitzero"` // unit depends on Method; never a float
	Status           string  `json:"status,omitempty"`
	LightningInvoice string  `json:"lightning_invoice,omitempty"`
	PaymentURI       string  `json:"payment_uri,omitempty"`
}

// UnmarshalJSON accepts price/amount as number or string.
func (p *Payment) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	*p = Payment{
		Method:           f.str("method", "payment_method"),
		Address:          f.str("address", "payment_address"),
		Currency:         f.str("currency"),
		Status:           f.str("status"),
		LightningInvoice: f.str("lightning_invoice", "lightningInvoice", "bolt11"),
		PaymentURI:       f.str("payment_uri", "payment_url", "uri", "bip21"),
	}
	p.Price, _ = f.decimal("price", "amount", "altcoin_price")
	return nil
}

// URI is what to put in a QR code: the server's payment_uri when sent, else
// "lightning:<invoice>" for lightning, else a BIP21 "bitcoin:<address>?amount=<price>"
// for bitcoin. For other methods without a server URI it is the bare address,
// since no URI scheme is agreed across those chains' wallets.
func (p Payment) URI() string {
	switch {
	case p.PaymentURI != "":
		return p.PaymentURI
	case p.LightningInvoice != "" && (p.Method == PayLightning || p.Address == ""):
		return "lightning:" + p.LightningInvoice
	case p.Address == "":
		return ""
	case p.Method == PayBitcoin || p.Method == "":
		if p.Price.Sign() > 0 {
			return "bitcoin:" + p.Address + "?amount=" + p.Price.String()
		}
		return "bitcoin:" + p.Address
	default:
		return p.Address
	}
}

// OrderProduct is what an order bought.
type OrderProduct struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Value    string `json:"value,omitempty"` // textual, like Package.Value
	Currency string `json:"currency,omitempty"`
}

// Order is one delivered (or failing) unit of an invoice.
type Order struct {
	ID            string       `json:"id"`
	Status        OrderStatus  `json:"status"`
	InvoiceID     string       `json:"invoice_id,omitempty"`
	Product       OrderProduct `json:"product"`
	CreatedTime   time.Time    `json:"created_time,omitzero"`
	DeliveredTime time.Time    `json:"delivered_time,omitzero"`
	Redemption    *Redemption  `json:"redemption_info,omitempty"`
	// ESIMID is the ICCID of the eSIM an eSIM order created or topped up,
	// when the order names it (esim_id, iccid or
	// redemption_info.extra_fields.iccid, all seen, none documented).
	// Otherwise find it with Client.FindESIMs and the order's LPA.
	ESIMID string `json:"esim_id,omitempty"`
	// Message explains a failure, when the server gives one.
	Message string `json:"message,omitempty"`
}

// UnmarshalJSON accepts invoice as {"id"} or a string or invoice_id; product as
// an object or an id; redemption_info as an object or a string.
func (o *Order) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	*o = Order{
		ID:            f.str("id", "order_id"),
		Status:        ParseOrderStatus(f.str("status")),
		CreatedTime:   f.time("created_time", "created_at", "created"),
		DeliveredTime: f.time("delivered_time", "delivered_at", "delivered"),
		ESIMID:        f.str("esim_id", "iccid"),
		Message:       f.str("message", "error_message", "error", "failure_reason"),
	}
	switch raw := f.get("invoice"); rawKind(raw) {
	case '{':
		if g, err := decodeFields(raw); err == nil {
			o.InvoiceID = g.str("id", "invoice_id")
		}
	case '"':
		o.InvoiceID = rawString(raw)
	}
	if o.InvoiceID == "" {
		o.InvoiceID = f.str("invoice_id")
	}
	switch raw := f.get("product"); rawKind(raw) {
	case '{':
		if g, err := decodeFields(raw); err == nil {
			o.Product = OrderProduct{
				ID:       g.str("id", "product_id", "slug"),
				Name:     g.str("name", "product_name"),
				Value:    numberText(g.get("value", "package_value", "denomination")),
				Currency: strings.ToUpper(g.str("currency")),
			}
		}
	case '"':
		o.Product.ID = rawString(raw)
	}
	if o.Product.ID == "" {
		o.Product.ID = f.str("product_id")
	}
	if o.Product.Value == "" {
		o.Product.Value = numberText(f.get("value", "package_value"))
	}
	if o.Product.Name == "" {
		o.Product.Name = f.str("product_name")
	}
	if o.Product.Currency == "" {
		o.Product.Currency = strings.ToUpper(f.str("currency"))
	}
	o.Redemption = decodeRedemption(f.get("redemption_info", "redemption", "redemptionInfo"))
	if o.ESIMID == "" && o.Redemption != nil {
		// Seen: the ICCID among the provider's extra fields.
		for _, k := range []string{"iccid", "esim_id", "ICCID"} {
			if v := strings.TrimSpace(o.Redemption.Extra[k]); v != "" {
				o.ESIMID = v
				break
			}
		}
	}
	return nil
}

// LPA is the eSIM activation string a delivered eSIM order carries in its
// redemption_info (barcode_value, "LPA:1$…"), or "". It is what links the
// order to its eSIM in ESIMs when the order names no ICCID, which is the
// documented shape; see Client.FindESIMs.
func (o Order) LPA() string {
	if o.Redemption == nil {
		return ""
	}
	v := strings.TrimSpace(o.Redemption.BarcodeValue)
	if len(v) < 4 || !strings.EqualFold(v[:4], "LPA:") {
		return ""
	}
	return v
}

// Redemption is what the end user needs to use a delivered order. All fields
// are optional; it is nil when the server sent none (phone top-ups usually).
// It holds secrets: never log it.
type Redemption struct {
	Code           string            `json:"code,omitempty"`
	PIN            string            `json:"pin,omitempty"`
	Link           string            `json:"link,omitempty"`
	Instructions   string            `json:"instructions,omitempty"`
	BarcodeFormat  string            `json:"barcode_format,omitempty"`
	BarcodeValue   string            `json:"barcode_value,omitempty"` // eSIM: the LPA activation string
	ExpirationDate string            `json:"expiration_date,omitempty"`
	Extra          map[string]string `json:"extra_fields,omitempty"`
}

// IsEmpty reports whether r carries nothing.
func (r *Redemption) IsEmpty() bool {
	return r == nil || (r.Code == "" && r.PIN == "" && r.Link == "" && r.Instructions == "" &&
		r.BarcodeFormat == "" && r.BarcodeValue == "" && r.ExpirationDate == "" && len(r.Extra) == 0)
}

// LogValue keeps redemption secrets out of slog output even when a caller logs one.
func (r Redemption) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// UnmarshalJSON accepts an object or a plain string (read as Instructions).
func (r *Redemption) UnmarshalJSON(b []byte) error {
	if v := decodeRedemption(b); v != nil {
		*r = *v
	} else {
		*r = Redemption{}
	}
	return nil
}

func decodeRedemption(raw json.RawMessage) *Redemption {
	switch rawKind(raw) {
	case '"':
		s := rawString(raw)
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return &Redemption{Instructions: s}
	case '{':
		f, err := decodeFields(raw)
		if err != nil {
			return nil
		}
		return &Redemption{
			Code:           f.str("code", "voucher_code", "card_code"),
			PIN:            f.str("pin", "pin_code"),
			Link:           f.str("link", "url", "redeem_url"),
			Instructions:   f.str("instructions", "other", "text"),
			BarcodeFormat:  f.str("barcode_format", "barcodeFormat"),
			BarcodeValue:   f.str("barcode_value", "barcodeValue", "barcode"),
			ExpirationDate: f.str("expiration_date", "expires", "expiry_date"),
			Extra:          rawStringMap(f.get("extra_fields", "extra", "extraFields")),
		}
	}
	return nil
}

// ESIM is an eSIM owned by the account.
type ESIM struct {
	ID           string        `json:"id"` // ICCID
	RSPURL       string        `json:"rsp_url,omitempty"`
	PIN          string        `json:"pin,omitempty"`
	BarcodeValue string        `json:"barcode_value,omitempty"` // LPA activation string
	Installed    bool          `json:"installed"`
	Packages     []ESIMPackage `json:"package_history,omitempty"`
}

// UnmarshalJSON reads the core-concepts shape with a few aliases.
func (e *ESIM) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	*e = ESIM{
		ID:           f.str("id", "iccid", "esim_id"),
		RSPURL:       f.str("rsp_url", "smdp_address", "smdp"),
		PIN:          f.str("pin"),
		BarcodeValue: f.str("barcode_value", "lpa", "activation_code"),
	}
	e.Installed, _ = f.bool("installed")
	for _, raw := range rawArray(f.get("package_history", "packages", "bundles")) {
		var p ESIMPackage
		if p.UnmarshalJSON(raw) == nil {
			e.Packages = append(e.Packages, p)
		}
	}
	return nil
}

// ESIMPackage is one data bundle on an eSIM.
type ESIMPackage struct {
	Name           string    `json:"package_name"`
	DataMB         int64     `json:"data_mb"`
	Status         string    `json:"status"` // purchased, active, expired, depleted, ...
	RemainingBytes int64     `json:"remaining_quantity"`
	ExpirationDate time.Time `json:"expiration_date,omitzero"`
}

// UnmarshalJSON reads numbers given as numbers or strings.
func (p *ESIMPackage) UnmarshalJSON(b []byte) error {
	f, err := decodeFields(b)
	if err != nil {
		return err
	}
	*p = ESIMPackage{
		Name:           f.str("package_name", "name", "value"),
		Status:         f.str("status"),
		ExpirationDate: f.time("expiration_date", "expires_at", "expiration_time"),
	}
	p.DataMB, _ = f.int64("data_mb")
	p.RemainingBytes, _ = f.int64("remaining_quantity", "remaining_bytes")
	return nil
}

// Balance is the account balance.
type Balance struct {
	Amount   Decimal `json:"balance"`
	Currency string  `json:"currency"`
}

// UnmarshalJSON accepts balance or amount.
func (b *Balance) UnmarshalJSON(data []byte) error {
	f, err := decodeFields(data)
	if err != nil {
		return err
	}
	*b = Balance{Currency: strings.ToUpper(f.str("currency"))}
	b.Amount, _ = f.decimal("balance", "amount")
	return nil
}

// Page is one page of a paginated list.
type Page[T any] struct {
	Items []T
	Start int  // offset of the page
	Next  bool // the server has more after this page
	n     int  // elements the server sent, including any that failed to decode
}

// NextStart is the offset of the following page.
func (p Page[T]) NextStart() int { return p.Start + max(p.n, len(p.Items)) }
