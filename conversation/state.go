package conversation

import (
	"time"
)

// SchemaVersion is stored with every State. Bump it when a field changes
// meaning, and teach Migrate the old shape.
const SchemaVersion = 1

// State is one session, as stored. It holds only data, in named parts: who
// the user is (Profile), what the menus shown offer (Menus), the
// purchase being put together on screen (Flow), what is being paid (Checkout)
// and what was bought (Ledger). The parts are embedded, so the stored JSON is
// one flat object, as in schema 1.
type State struct {
	V int `json:"v"`
	Profile
	Menus
	Flow
	Checkout
	Ledger
}

// Profile is who the user is: kept for the life of the session.
type Profile struct {
	Lang string `json:"lang,omitempty"`
	// Nonce is a per-session random string set by the shell when the session is
	// created. It prefixes every token, so a token from another user's menu can
	// never name an action in this one; it also prefixes checkout ids.
	Nonce string `json:"nonce"`
	// User is the session's key (SessionKey.String()), set by NewState; it
	// decides who may pay from the account balance.
	User string `json:"user,omitempty"`
	// Country is the user's country (ISO alpha-2) once confirmed; CountryGuess
	// is what the platform's locale suggested; CountryAsked is set once the
	// question was put, so it is asked only once.
	Country      string `json:"country,omitempty"`
	CountryGuess string `json:"country_guess,omitempty"`
	CountryAsked bool   `json:"country_asked,omitempty"`
	// ESIMs are the eSIMs this user bought, oldest first, for status and
	// top-ups. An ICCID appears once.
	ESIMs []OwnedESIM `json:"esims,omitempty"`
	// Seen is when the user last did something; an idle session's flow expires.
	Seen time.Time `json:"seen,omitzero"`
}

// Menus numbers the menus shown and keeps the latest's options. It outlives
// a flow: a flow ended without a new menu leaves the last one's options
// working, and menu numbers never repeat, so a token from an older menu is
// always stale.
type Menus struct {
	// Menu numbers the current menu; Actions gives its options' meaning. A token
	// from any other menu number is stale.
	Menu    int      `json:"menu,omitempty"`
	Actions []Action `json:"actions,omitempty"`
	// LangMenu is the menu number of a language menu still on screen: a
	// language typed while it is the latest menu picks it.
	LangMenu int `json:"lang_menu,omitempty"`
}

// Flow is the purchase being put together on screen. Ending it is one
// assignment (s.Flow = Flow{}); nothing in it outlives a cancel.
type Flow struct {
	Step    Step             `json:"step,omitempty"`
	Query   string           `json:"query,omitempty"`
	Results []ProductSummary `json:"results,omitempty"`
	// Page is the page of Results on screen.
	Page    int      `json:"page,omitempty"`
	Loading string   `json:"loading,omitempty"` // product id being loaded
	Product *Product `json:"product,omitempty"`
	Choice  *Choice  `json:"choice,omitempty"`
	Invoice string   `json:"invoice,omitempty"` // the invoice on screen
	// Kind is the product kind being browsed (results without a query), and
	// BrowseCountry the country browsed for ("" for any).
	Kind          string `json:"kind,omitempty"`
	BrowseCountry string `json:"browse_country,omitempty"`
	// CountryPage is the page of the country picker, OrdersPage the page of
	// the order history.
	CountryPage int `json:"country_page,omitempty"`
	OrdersPage  int `json:"orders_page,omitempty"`
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
	// ICCIDFor is what a typed or loaded ICCID is for: its status or a top-up.
	ICCIDFor ICCIDPurpose `json:"iccid_for,omitempty"`
	// Mode is schema 1's name for both BrowseCountry and ICCIDFor; Migrate
	// reads it into the one its value belongs to. Never written.
	Mode string `json:"mode,omitempty"`
	// Line is the cart line being edited.
	Line int `json:"line,omitempty"`
	// Repay is what a declined balance invoice was for, offered again with
	// the other payment methods; RepayCart when it came from the cart.
	Repay     []CartItem `json:"repay,omitempty"`
	RepayCart bool       `json:"repay_cart,omitempty"`
}

// ICCIDPurpose is what an ICCID the user gives is for.
type ICCIDPurpose string

const (
	ForStatus ICCIDPurpose = "status" // show the eSIM's bundles
	ForTopUp  ICCIDPurpose = "topup"  // check it exists, then offer its top-ups
)

// Checkout is what is being paid. It outlives a cancel: an invoice being
// created is adopted even after one, and must still be named and emptied
// from the cart.
type Checkout struct {
	// Cart is what the user collected for one invoice.
	Cart []CartItem `json:"cart,omitempty"`
	// Checkouts counts confirmed carts; the current one's id (Nonce-Checkouts)
	// is sent with CreateInvoice so that one checkout yields at most one
	// invoice. It must never go back, or a new checkout would reuse an old id
	// and be handed that checkout's invoice.
	Checkouts int `json:"checkouts,omitempty"`
	// CartCheckout is the checkout id of a cart being paid.
	CartCheckout string `json:"cart_checkout,omitempty"`
	// Pending is the summary of the checkout being created, PendingItems its
	// lines (kept with the purchase, so an invoice left unpaid gives them back).
	Pending      string     `json:"pending,omitempty"`
	PendingItems []CartItem `json:"pending_items,omitempty"`
}

// Ledger is what the user bought and paid.
type Ledger struct {
	// Purchases are invoices not yet settled, with what was already announced.
	Purchases []Purchase `json:"purchases,omitempty"`
	// History is the user's invoices, newest last, capped.
	History []HistoryEntry `json:"history,omitempty"`
	// SpentDay and Spent track balance payments of the current UTC day.
	SpentDay string `json:"spent_day,omitempty"`
	Spent    Amount `json:"spent,omitempty"`
}

// NewState is a new session: the language and a guess of the country come
// from the platform's locale; the country is confirmed by the user.
func NewState(key SessionKey, nonce, locale string) State {
	return State{V: SchemaVersion, Profile: Profile{Nonce: nonce, Lang: LangFromLocale(locale), User: key.String(), CountryGuess: regionOf(locale)}}
}

// OwnedESIM is an eSIM the user bought through the bot.
type OwnedESIM struct {
	ICCID   string `json:"iccid"`
	Product string `json:"product"` // the plan's product id, whose packages are its top-ups
	Name    string `json:"name"`
}

// Action is what an option does; Arg is its operand (a product id, a page...).
type Action struct {
	Do  ActionKind `json:"do"`
	Arg string     `json:"arg,omitempty"`
}

// ActionKind names what an option does; the actions table (screens.go) maps
// each kind to its handler. The names are stored: never rename one.
type ActionKind string

// Choice is the value picked for the product on the card.
type Choice struct {
	PackageID string `json:"package_id,omitempty"`
	Label     string `json:"label"`
	Amount    Amount `json:"amount,omitempty"`
	Price     Amount `json:"price,omitempty"` // a plan's price, when known (Package.Price)
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

// Migrate brings a stored state to the current schema. A state of another
// version keeps everything but its flow and the meaning of its options, which
// may have changed: the menu counter stays, so every old token is stale.
func Migrate(s State) State {
	if s.Mode != "" {
		// Schema 1 kept two meanings in Mode; their values tell them apart.
		if p := ICCIDPurpose(s.Mode); p == ForStatus || p == ForTopUp {
			s.ICCIDFor = p
		} else {
			s.BrowseCountry = s.Mode
		}
		s.Mode = ""
	}
	// Schema 1 kept the country picker's and the history's page in Page;
	// these steps now leave Page at 0.
	if s.Page != 0 {
		switch s.Step {
		case StepCountry, StepDestination:
			s.CountryPage, s.Page = s.Page, 0
		case StepOrders, StepOrder, StepReveal:
			s.OrdersPage, s.Page = s.Page, 0
		}
	}
	if s.V == SchemaVersion {
		return s
	}
	s.V = SchemaVersion
	s.Flow = Flow{}
	s.Menus = Menus{Menu: s.Menu}
	return s
}

// Tidy forgets a browsing flow left idle (search results, a product card, a
// confirmation): they are stale by now and only take space. A session
// waiting for or showing an invoice is left alone, as are purchases and
// eSIMs.
func Tidy(s State) (State, bool) {
	switch s.Step {
	case StepSearching, StepResults, StepLoading, StepProduct, StepConfirm:
	default:
		return s, false
	}
	t := turn{s: s}
	t.clearFlow()
	t.s.Actions = nil
	return t.s, true
}
