package conversation

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
	Invoice   Invoice           `json:"invoice"`
	Summary   string            `json:"summary"`
	Stage     string            `json:"stage,omitempty"`
	Announced map[string]string `json:"announced,omitempty"`
}

// Migrate brings a stored state to the current schema. Unknown future versions
// are reset to a fresh session rather than misread, keeping purchases.
func Migrate(s State) State {
	if s.V == SchemaVersion {
		return s
	}
	return State{V: SchemaVersion, Lang: s.Lang, Nonce: s.Nonce, Menu: s.Menu, Purchases: s.Purchases}
}
