package conversation

// Adapter chrome: the few words a platform adapter shows on its own (toasts,
// modal titles, the way to a private chat). They live in the catalogue so a
// missing translation fails the same test as the engine's texts.
const (
	UINotYours     Msg = "ui.not_yours"     // a button from someone else's menu was pressed
	UIExpired      Msg = "ui.expired"       // a button from an old menu was pressed
	UIGoPrivate    Msg = "ui.go_private"    // in a group: the purchase continues in private
	UIOpenPrivate  Msg = "ui.open_private"  // label of the button that opens the private chat
	UIStartPrivate Msg = "ui.start_private" // the user never opened a private chat with the bot
	UIDMClosed     Msg = "ui.dm_closed"     // a notification is waiting because DMs are closed
	UIAmountTitle  Msg = "ui.amount_title"  // title of a form asking for an amount
	UIPhoneTitle   Msg = "ui.phone_title"   // title of a form asking for a phone number
	UIICCIDTitle   Msg = "ui.iccid_title"   // title of a form asking for an ICCID
	UITypeHere     Msg = "ui.type_here"     // label of the button that opens such a form
	UIWorking      Msg = "ui.working"       // shown while a slow answer is on its way
)

// Phrase returns adapter chrome in lang (plain text, no markup).
func Phrase(lang string, m Msg) string { return lookup(lang, m) }
