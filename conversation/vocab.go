package conversation

import (
	"time"
)

// SessionKey names one user's conversation on one platform. A user has the same
// session whether they write from a private chat or press a button in a group,
// so a token pressed by someone else never lands in the presser's menu.
type SessionKey struct {
	Platform string `json:"platform"`
	User     string `json:"user"`
}

func (k SessionKey) String() string { return k.Platform + ":" + k.User }

// Address is where replies go. Private tells the engine whether others can read
// the chat: invoices and codes are only ever shown in private chats.
type Address struct {
	Platform string `json:"platform"`
	Chat     string `json:"chat"`
	Private  bool   `json:"private"`
}

// Event is the input to Step. The set is closed: only this package's types implement it.
type Event interface{ isEvent() }

// Start is the first contact or an explicit restart (/start). Payload carries a
// deep-link argument, such as a product id, where the platform has one.
type Start struct{ Payload string }

// Command is a slash command other than start; Args is the rest of the line.
type Command struct{ Name, Args string }

// Text is free text typed by the user.
type Text struct{ Text string }

// Chose is a pressed option, identified by the opaque token the engine issued.
type Chose struct{ Token string }

// ProductsFound answers SearchProducts.
type ProductsFound struct {
	Query    string
	Products []ProductSummary
}

// ProductLoaded answers LoadProduct.
type ProductLoaded struct{ Product Product }

// InvoiceCreated answers CreateInvoice.
type InvoiceCreated struct {
	Checkout string
	Invoice  Invoice
}

// InvoiceUpdated carries the latest known state of an invoice the session owns,
// from polling, a webhook or a refresh the user asked for (Requested), which
// deserves an answer even when nothing changed.
type InvoiceUpdated struct {
	Invoice   Invoice
	Requested bool
	// Reveal answers RefreshInvoice{Reveal: true}: the user confirmed they
	// want a delivered code shown again.
	Reveal bool
}

// PhoneChecked answers CheckPhone. Found means one operator was identified,
// given in full as Product; otherwise Operators lists the candidates (possibly
// none).
type PhoneChecked struct {
	Number    string
	Found     bool
	Product   Product
	Operators []ProductSummary
}

// ESIMLoaded answers LoadESIM.
type ESIMLoaded struct{ ESIM ESIM }

// Failed reports that an effect could not be carried out. Op names the effect
// (the OpXxx constants) so the engine knows which step to recover.
type Failed struct {
	Op         string
	Kind       ErrorKind
	RetryAfter time.Duration
	// For names what a screen load was for (the product ID, ICCID or
	// phone number); a failure for a screen the user has left is dropped.
	// Empty: the failure is for whatever is loading.
	For string
}

// Op names for Failed.
const (
	OpSearch          = "search"
	OpLoadProduct     = "load_product"
	OpCreateInvoice   = "create_invoice"
	OpRefreshInvoice  = "refresh_invoice"
	OpSimulatePayment = "simulate_payment"
)

// Op names for Failed, for the effects below.
const (
	OpCheckPhone = "check_phone"
	OpLoadESIM   = "load_esim"
	OpPay        = "pay"
)

// ErrorKind is the small set of failure classes the user is told about. Detail
// stays in the shell's logs.
type ErrorKind string

const (
	ErrInvalid     ErrorKind = "invalid"      // the API refused the request as malformed
	ErrNotFound    ErrorKind = "not_found"    // the product or invoice no longer exists
	ErrOutOfStock  ErrorKind = "out_of_stock" // the product cannot be bought right now
	ErrRateLimited ErrorKind = "rate_limited" // too many requests; try again after RetryAfter
	ErrTemporary   ErrorKind = "temporary"    // network, timeout or 5xx: trying again may work
	ErrBalance     ErrorKind = "balance"      // the operator's account cannot pay
	ErrPayment     ErrorKind = "payment"      // the payment method was refused
	ErrInternal    ErrorKind = "internal"     // our bug or an unexpected answer
)

func (ProductsFound) isEvent() {}

func (ProductLoaded) isEvent() {}

func (InvoiceCreated) isEvent() {}

func (InvoiceUpdated) isEvent() {}

func (Failed) isEvent() {}

func (Start) isEvent() {}

func (Command) isEvent() {}

func (Text) isEvent() {}

func (Chose) isEvent() {}

func (PhoneChecked) isEvent() {}

func (ESIMLoaded) isEvent() {}

// Effect is an output of Step.
type Effect interface{ isEffect() }

// Reply is a message to show in the session's chat.
type Reply struct {
	// Text is a list of spans so that adapters can escape every dynamic string
	// and render emphasis in their own markup.
	Text    []Span   `json:"text"`
	Options []Option `json:"options,omitempty"`
	// Expect tells the adapter what typed input would answer this message, so it
	// can offer the right control (a number pad, a modal) and parse choices.
	Expect Expect `json:"expect,omitempty"`
	// QR, when set, is content the shell renders as an image sent with the text:
	// a QR code, or the barcode named by Barcode.
	QR string `json:"qr,omitempty"`
	// Barcode is the symbology to draw QR in when a till's scanner expects a
	// 1-D barcode (Bitrefill's barcode_format, e.g. "CODE_128"); empty means
	// a QR code.
	Barcode string `json:"barcode,omitempty"`
	// Menu marks a message that replaces the previous menu where the platform can
	// edit in place; notifications leave it false so they stay in the history.
	Menu bool `json:"menu,omitempty"`
	// Secret marks text that holds redemption codes: never to be logged, never
	// to be shown in a chat others can read.
	Secret bool `json:"secret,omitempty"`
	// Invoice names the invoice this message shows (with Menu: the invoice
	// view) or reports on; where the platform can edit, the shell turns the
	// view into each later report instead of sending a pile of messages.
	Invoice string `json:"invoice,omitempty"`
}

// Option is one choice in a menu. Token is opaque and short (it must fit
// Telegram's 64 bytes of callback data and Discord's 100-character custom id);
// its meaning is kept in the session state.
type Option struct {
	Label string `json:"label"`
	Token string `json:"token"`
}

// Expect is the kind of typed input a reply asks for.
type Expect string

const (
	ExpectNothing Expect = ""
	ExpectQuery   Expect = "query"
	ExpectAmount  Expect = "amount"
	ExpectPhone   Expect = "phone" // a phone number, E.164 or national
	ExpectICCID   Expect = "iccid" // an eSIM's ICCID (digits, Luhn-checked)
)

// Style is the emphasis of a span; adapters map it to their markup.
type Style uint8

const (
	Plain Style = iota
	Bold
	Code // monospace, copyable: codes, addresses, payment requests
	Italic
)

// Span is a run of text in one style. Text is always literal: adapters escape it.
type Span struct {
	Text  string `json:"t"`
	Style Style  `json:"s,omitempty"`
}

// PlainText flattens spans, for logs of non-secret replies, terminals and tests.
func PlainText(spans []Span) string {
	n := 0
	for _, s := range spans {
		n += len(s.Text)
	}
	b := make([]byte, 0, n)
	for _, s := range spans {
		b = append(b, s.Text...)
	}
	return string(b)
}

// SearchProducts asks the shell to search the catalogue.
type SearchProducts struct {
	Query   string
	Country string // ISO alpha-2; for eSIMs, a destination the plan must cover
	Kind    string // KindGiftCard...; empty for every kind
	// Category narrows browsing ("games", "streaming"); Query may then be empty.
	Category string
}

// LoadProduct asks for one product's full details.
type LoadProduct struct{ ID string }

// CreateInvoice asks the shell to create exactly one invoice for a checkout.
// Checkout is unique per confirmed cart: the shell must not create a second
// invoice for the same Checkout.
type CreateInvoice struct {
	Checkout string
	Lines    []Line
	Method   string
}

// Line is one invoice line: a package or a value, never both.
type Line struct {
	ProductID string `json:"product_id"`
	PackageID string `json:"package_id,omitempty"`
	Value     Amount `json:"value,omitempty"`
	Quantity  int    `json:"quantity"`
	// PhoneNumber (E.164) is set for phone top-ups, ESIMID (an ICCID) for an
	// eSIM top-up.
	PhoneNumber string `json:"phone_number,omitempty"`
	ESIMID      string `json:"esim_id,omitempty"`
}

// TrackInvoice tells the shell to watch an invoice and feed its changes back as
// InvoiceUpdated events to this session. Untrack stops that once it is final.
type TrackInvoice struct {
	InvoiceID string
	Untrack   bool
}

// RefreshInvoice asks for the invoice's current state now. Reveal asks for
// the redemption details too, to show a delivered code again; the answer
// carries the same flag.
type RefreshInvoice struct {
	InvoiceID string
	Reveal    bool
}

// SimulatePayment asks the sandbox to pretend the invoice was paid.
type SimulatePayment struct{ InvoiceID string }

// CheckPhone asks the shell which operators serve a phone number (Bitrefill's
// /check_phone_number). Number is E.164; Country is the user's country, for
// logs and ranking only.
type CheckPhone struct {
	Number  string
	Country string
}

// LoadESIM asks for an eSIM's current state by ICCID.
type LoadESIM struct{ ICCID string }

// PayInvoice asks the shell to pay an unpaid balance invoice from the
// operator's account. It is never retried by the shell; the answer is
// InvoiceUpdated, or Failed{Op: OpPay}.
type PayInvoice struct{ InvoiceID string }

func (Reply) isEffect() {}

func (SearchProducts) isEffect() {}

func (LoadProduct) isEffect() {}

func (CreateInvoice) isEffect() {}

func (TrackInvoice) isEffect() {}

func (RefreshInvoice) isEffect() {}

func (SimulatePayment) isEffect() {}

func (CheckPhone) isEffect() {}

func (LoadESIM) isEffect() {}

func (PayInvoice) isEffect() {}

// Product kinds, as Bitrefill names them.
const (
	KindGiftCard    = "gift_card"
	KindPhoneRefill = "phone_refill"
	KindESIM        = "esim"
	KindBillPayment = "bill_payment"
)

// ProductSummary is a search result: enough to list it.
type ProductSummary struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Country string `json:"country,omitempty"`
	Kind    string `json:"kind,omitempty"`
	InStock bool   `json:"in_stock"`
}

// Product is what the product card shows and what values are checked against.
type Product struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Country  string    `json:"country,omitempty"`
	Currency string    `json:"currency"`
	InStock  bool      `json:"in_stock"`
	Packages []Package `json:"packages,omitempty"`
	Range    *Range    `json:"range,omitempty"`
	// NeedsPhone is set for products delivered to a phone number; the engine
	// cannot sell those until it asks for the number.
	NeedsPhone bool `json:"needs_phone,omitempty"`
	// Coverage lists the countries where an eSIM plan works.
	Coverage []string `json:"coverage,omitempty"`
}

// Package is a fixed denomination. Amount is zero when the value is not a sum
// of money (eSIM plans are named like "5GB, 30 Days").
type Package struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Amount Amount `json:"amount,omitempty"`
	// Price is what a package whose value is not money (an eSIM plan)
	// costs, in the product's currency, when Bitrefill says; 0 when not.
	Price Amount `json:"price,omitempty"`
}

// Range is a free amount: Min <= v <= Max and (v-Min) a multiple of Step.
type Range struct {
	Min  Amount `json:"min"`
	Max  Amount `json:"max"`
	Step Amount `json:"step"`
}

// Invoice statuses, normalised by the shell.
const (
	StatusUnpaid           = "unpaid"
	StatusPaymentDetected  = "payment_detected"
	StatusPaymentConfirmed = "payment_confirmed"
	StatusPending          = "pending"
	StatusComplete         = "complete"
	StatusBlocked          = "blocked"
	StatusDenied           = "denied"
	StatusPaymentError     = "payment_error"
	StatusExpired          = "expired"
)

// Order statuses.
const (
	OrderCreated    = "created"
	OrderDetected   = "payment_detected"
	OrderProcessing = "processing"
	OrderDelivered  = "delivered"
	OrderFailed     = "failed"
	OrderRefunded   = "refunded"
)

// Invoice is what the invoice view and the delivery messages need.
type Invoice struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Method  string    `json:"method"`
	Expires time.Time `json:"expires,omitzero"`
	// Price is what to pay in the payment currency, as exact decimal text
	// (BTC, sats...): it is shown, never computed with.
	Price         string  `json:"price,omitempty"`
	PriceCurrency string  `json:"price_currency,omitempty"`
	Address       string  `json:"address,omitempty"`
	PaymentURI    string  `json:"payment_uri,omitempty"`
	Orders        []Order `json:"orders,omitempty"`
}

// Order is one unit bought. Redemption is set once delivered.
type Order struct {
	ID         string      `json:"id"`
	Status     string      `json:"status"`
	Product    string      `json:"product"`
	ProductID  string      `json:"product_id,omitempty"`
	Value      string      `json:"value,omitempty"`
	Currency   string      `json:"currency,omitempty"`
	Redemption *Redemption `json:"redemption,omitempty"`
	// ESIM is the ICCID of the eSIM this order created or topped up.
	ESIM string `json:"esim,omitempty"`
}

// Redemption is what the buyer needs to use what they bought.
type Redemption struct {
	Code         string `json:"code,omitempty"`
	PIN          string `json:"pin,omitempty"`
	Link         string `json:"link,omitempty"`
	Instructions string `json:"instructions,omitempty"`
	Expires      string `json:"expires,omitempty"`
	BarcodeValue string `json:"barcode_value,omitempty"`
	// BarcodeFormat is how BarcodeValue is drawn (Bitrefill's name, e.g.
	// "QRCODE", "CODE_128"); empty means a QR code.
	BarcodeFormat string  `json:"barcode_format,omitempty"`
	Extra         []Field `json:"extra,omitempty"`
}

// Field is a named extra value, kept in a stable order.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ESIM is an eSIM's state as the status view shows it.
type ESIM struct {
	ICCID     string   `json:"iccid"`
	Installed bool     `json:"installed"`
	Bundles   []Bundle `json:"bundles,omitempty"`
}

// Bundle is one plan bought for an eSIM. RemainingBytes is what is left of
// DataMB; Status is Bitrefill's word (active, expired, depleted, purchased).
type Bundle struct {
	Name           string    `json:"name"`
	DataMB         int64     `json:"data_mb,omitempty"`
	RemainingBytes int64     `json:"remaining_bytes,omitempty"`
	Status         string    `json:"status,omitempty"`
	Expires        time.Time `json:"expires,omitzero"`
}

// BalancePolicy says who may pay from the operator's account balance and how
// much per day. Paying from the balance spends the operator's own money at
// once, so it is off for everyone not listed.
type BalancePolicy struct {
	// Users are SessionKey.String() values ("telegram:123").
	Users map[string]bool
	// DailyCap bounds what one user may spend per UTC day, in Currency.
	// Zero means no balance payments at all.
	DailyCap Amount
	// Currency is the account's currency (default USD).
	Currency string
}

// CartItem is one line of the cart: a product, a value, and how many.
type CartItem struct {
	ProductID   string `json:"product_id"`
	Name        string `json:"name"`
	Kind        string `json:"kind,omitempty"`
	PackageID   string `json:"package_id,omitempty"`
	Label       string `json:"label"`
	Amount      Amount `json:"amount,omitempty"`
	Price       Amount `json:"price,omitempty"` // a plan's price, when Bitrefill gave one
	Currency    string `json:"currency,omitempty"`
	Quantity    int    `json:"quantity"`
	PhoneNumber string `json:"phone_number,omitempty"`
	ESIMID      string `json:"esim_id,omitempty"`
}

// HistoryEntry is one invoice in the user's order history. It never holds
// codes: those are fetched again when the user asks to see them.
type HistoryEntry struct {
	Invoice string    `json:"invoice"`
	Summary string    `json:"summary"`
	Status  string    `json:"status"`
	Date    time.Time `json:"date"`
}
