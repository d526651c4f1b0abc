package conversation

import "time"

// SchemaVersion is stored with every State. Bump it when a field changes
// meaning, and teach Migrate the old shape.
const SchemaVersion = 1

// Step is where a session stands in the purchase dialogue.
type Step string

const (
	StepIdle      Step = ""          // nothing in progress: text is a search
	StepSearching Step = "searching" // waiting for ProductsFound
	StepResults   Step = "results"   // a page of search results is shown
	StepLoading   Step = "loading"   // waiting for ProductLoaded
	StepProduct   Step = "product"   // the product card: pick or type a value
	StepConfirm   Step = "confirm"   // total shown: choose a payment method
	StepCreating  Step = "creating"  // waiting for InvoiceCreated
	StepInvoice   Step = "invoice"   // the invoice view
)

// State is one session, as stored. It holds only data: what is on screen, what
// its options mean, and the purchases still being watched.
type State struct {
	V    int    `json:"v"`
	Step Step   `json:"step,omitempty"`
	Lang string `json:"lang,omitempty"`
	// Nonce is a per-session random string set by the shell when the session is
	// created. It prefixes every token, so a token from another user's menu can
	// never name an action in this one.
	Nonce string `json:"nonce"`
	// Menu numbers the current menu; Actions gives its options' meaning. A token
	// from any other menu number is stale.
	Menu    int      `json:"menu,omitempty"`
	Actions []Action `json:"actions,omitempty"`

	Query   string           `json:"query,omitempty"`
	Results []ProductSummary `json:"results,omitempty"`
	Page    int              `json:"page,omitempty"`
	Loading string           `json:"loading,omitempty"` // product id being loaded
	Product *Product         `json:"product,omitempty"`
	Choice  *Choice          `json:"choice,omitempty"`

	// Checkouts counts confirmed carts; the current one's id is sent with
	// CreateInvoice so that one checkout yields at most one invoice.
	Checkouts int    `json:"checkouts,omitempty"`
	Invoice   string `json:"invoice,omitempty"` // the invoice on screen

	// Purchases are invoices not yet settled, with what was already announced.
	Purchases []Purchase `json:"purchases,omitempty"`

	// ESIMs are the eSIMs this user bought, oldest first, for status and
	// top-ups. An ICCID appears once.
	ESIMs []OwnedESIM `json:"esims,omitempty"`

	// User is the session's key (SessionKey.String()), set by NewState; it
	// decides who may pay from the account balance.
	User string `json:"user,omitempty"`
	// Country is the user's country (ISO alpha-2) once confirmed; CountryGuess
	// is what the platform's locale suggested; CountryAsked is set once the
	// question was put, so it is asked only once.
	Country      string `json:"country,omitempty"`
	CountryGuess string `json:"country_guess,omitempty"`
	CountryAsked bool   `json:"country_asked,omitempty"`
	// Seen is when the user last did something; an idle session's flow expires.
	Seen time.Time `json:"seen,omitzero"`
	// Kind is the product kind being browsed (results without a query).
	Kind string `json:"kind,omitempty"`
	// Phone is the E.164 number a phone top-up is for; Operators the
	// candidate operators found for it.
	Phone     string           `json:"phone,omitempty"`
	Operators []ProductSummary `json:"operators,omitempty"`
	// ESIMTarget is the ICCID of the eSIM being looked at or topped up;
	// TopUp marks a product card whose value tops that eSIM up; Want is a
	// package to pick as soon as the product loads (the topup command).
	ESIMTarget string `json:"esim_target,omitempty"`
	TopUp      bool   `json:"topup,omitempty"`
	Want       string `json:"want,omitempty"`
	// Mode refines a step: what a typed ICCID is for ("status", "topup"),
	// whether a country picker sets the user's country or a destination.
	Mode string `json:"mode,omitempty"`
	// Cart is what the user collected for one invoice; Line is the cart line
	// being edited; CartCheckout the checkout id of a cart being paid.
	Cart         []CartItem `json:"cart,omitempty"`
	Line         int        `json:"line,omitempty"`
	CartCheckout string     `json:"cart_checkout,omitempty"`
	// LangMenu is the menu number of a language menu still on screen: a
	// language typed while it is the latest menu picks it.
	LangMenu int `json:"lang_menu,omitempty"`
	// Pending is the summary of the checkout being created, PendingItems its
	// lines (kept with the purchase, so an invoice left unpaid gives them back).
	Pending      string     `json:"pending,omitempty"`
	PendingItems []CartItem `json:"pending_items,omitempty"`
	// Repay is what a declined balance invoice was for, offered again with
	// the other payment methods; RepayCart when it came from the cart.
	Repay     []CartItem `json:"repay,omitempty"`
	RepayCart bool       `json:"repay_cart,omitempty"`
	// History is the user's invoices, newest last, capped.
	History []HistoryEntry `json:"history,omitempty"`
	// SpentDay and Spent track balance payments of the current UTC day.
	SpentDay string `json:"spent_day,omitempty"`
	Spent    Amount `json:"spent,omitempty"`
}

// OwnedESIM is an eSIM the user bought through the bot.
type OwnedESIM struct {
	ICCID   string `json:"iccid"`
	Product string `json:"product"` // the plan's product id, whose packages are its top-ups
	Name    string `json:"name"`
}

// Action is what an option does; Arg is its operand (a product id, a page...).
type Action struct {
	Do  string `json:"do"`
	Arg string `json:"arg,omitempty"`
}

// Choice is the value picked for the product on the card.
type Choice struct {
	PackageID string `json:"package_id,omitempty"`
	Label     string `json:"label"`
	Amount    Amount `json:"amount,omitempty"`
}

// Purchase is an invoice this session is waiting on. Announced records, per
// order, the last status the user was told about, and Stage the invoice-level
// news already given, so that no status or code is announced twice however
// often the same update arrives.
type Purchase struct {
	Invoice Invoice `json:"invoice"`
	Summary string  `json:"summary"`
	Stage   string  `json:"stage,omitempty"`
	// Items are the lines the invoice was made of; FromCart when they were
	// the cart, which gets them back if the invoice is never paid.
	Items     []CartItem        `json:"items,omitempty"`
	FromCart  bool              `json:"from_cart,omitempty"`
	Announced map[string]string `json:"announced,omitempty"`
}

// Migrate brings a stored state to the current schema. Unknown future versions
// are reset to a fresh session rather than misread, keeping purchases.
func Migrate(s State) State {
	if s.V == SchemaVersion {
		return s
	}
	return State{V: SchemaVersion, Lang: s.Lang, Nonce: s.Nonce, Menu: s.Menu, Purchases: s.Purchases,
		ESIMs: s.ESIMs, User: s.User, Country: s.Country, CountryAsked: s.CountryAsked, Cart: s.Cart,
		History: s.History, SpentDay: s.SpentDay, Spent: s.Spent}
}
