package conversation

import "time"

// Vocabulary of the complete conversation: phone top-ups, eSIM status and
// top-ups, paying from the account balance.

// Op names for Failed, for the effects below.
const (
	OpCheckPhone = "check_phone"
	OpLoadESIM   = "load_esim"
	OpPay        = "pay"
)

// CheckPhone asks the shell which operators serve a phone number (Bitrefill's
// /check_phone_number). Number is E.164; Country is the user's country, for
// logs and ranking only.
type CheckPhone struct {
	Number  string
	Country string
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

// LoadESIM asks for an eSIM's current state by ICCID.
type LoadESIM struct{ ICCID string }

// ESIMLoaded answers LoadESIM.
type ESIMLoaded struct{ ESIM ESIM }

// PayInvoice asks the shell to pay an unpaid balance invoice from the
// operator's account. It is never retried by the shell; the answer is
// InvoiceUpdated, or Failed{Op: OpPay}.
type PayInvoice struct{ InvoiceID string }

func (CheckPhone) isEffect() {}
func (LoadESIM) isEffect()   {}
func (PayInvoice) isEffect() {}

func (PhoneChecked) isEvent() {}
func (ESIMLoaded) isEvent()   {}

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
