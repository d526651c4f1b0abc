package conversation

// Msg names one user-visible text. Every word the bot says comes from the
// catalogue so that a second language is a new column, not a code change.
type Msg string

// The catalogue's mini-markup: *bold*, `code`, _italic_ and {1}..{9} for
// arguments. Arguments are inserted as literal text in the surrounding style
// and are never parsed for markup, so nothing a user or the API supplies can
// change the formatting or inject platform markup.
var catalog = map[string]map[Msg]string{
	"en": {
		"cmd.start":                  "Start over",
		"cmd.search":                 "Search for a product",
		"cmd.cart":                   "Show your cart",
		"cmd.orders":                 "Your orders and codes",
		"cmd.esims":                  "Your eSIMs and top-ups",
		"cmd.country":                "Change your country",
		"cmd.language":               "Change the language",
		"cmd.help":                   "How this bot works",
		"cmd.cancel":                 "Cancel what you are doing",
		"ui.not_yours":               "This button belongs to someone else's menu.",
		"ui.expired":                 "This menu has expired. Here is a fresh one.",
		"ui.go_private":              "Let's continue in a private chat, so your invoice and codes stay yours.",
		"ui.open_private":            "Open private chat",
		"ui.start_private":           "Please open a private chat with me and press Start first, then try again.",
		"ui.dm_closed":               "I could not send you a direct message (your DMs are closed), so what was waiting for you is shown here. To get news as it happens, allow direct messages from this server's members.",
		"ui.amount_title":            "Amount",
		"ui.phone_title":             "Phone number",
		"ui.iccid_title":             "eSIM ICCID",
		"ui.type_here":               "Type it",
		"ui.working":                 "One moment…",
		"welcome":                    "*Welcome to refillbot!* Buy gift cards, phone top-ups, eSIMs and bill payments with Bitcoin or Lightning.\nType what you are looking for — for example _amazon_, _steam_ or _netflix_.",
		"welcome.sandbox":            "\nThis is the *SANDBOX*: nothing here costs real money.",
		"help":                       "*How it works*\n1. Type a product name to search, or browse gift cards, phone top-ups, eSIMs and bills from /start.\n2. Pick a product and a value, or type an amount. Buy it now or add it to your cart.\n3. Choose how to pay and pay the invoice.\n4. Your code arrives here as soon as the payment is confirmed.\n\nCommands: /start, /search _name_, /buy _product id_, /cart, /orders, /esims, /esim _ICCID_, /topup _ICCID_, /country, /language, /back, /cancel, /help.",
		"ask.query":                  "What are you looking for? Type a product name, e.g. _amazon_.",
		"query.too_long":             "That search is too long. Please use at most {1} characters.",
		"searching":                  "Searching for “{1}”…",
		"results":                    "Results for “{1}” (page {2} of {3}). Pick one:",
		"results.none.phone":         "\nIs it a phone number to top up? Choose 📱 Phone top-up below.",
		"results.none":               "I found nothing for “{1}”. Try another name, e.g. _amazon_ or _steam_.",
		"result.out":                 "{1} — out of stock",
		"loading":                    "Loading {1}…",
		"product.title":              "*{1}*",
		"product.facts":              "\nCountry: {1} · Currency: {2} · {3}",
		"product.in_stock":           " · in stock",
		"product.packages":           "\nValues: {1}{2}.",
		"product.range":              "\nAny amount from {1} to {2} {3}{4}.",
		"product.range.step":         " in steps of {1}",
		"product.pick":               "\nPick a value below.",
		"product.pick.type":          "\nPick a value below or type an amount, e.g. {1}.",
		"product.type":               "\nType an amount, e.g. {1}.",
		"product.out":                "\n{1} is out of stock right now. Please pick another product.",
		"product.phone":              "\n{1} is topped up by phone number: type the number to top up.",
		"product.unpriced":           "\n{1} has no values on offer right now. Please pick another product.",
		"kind.gift_card":             "Gift card",
		"kind.phone_refill":          "Phone top-up",
		"kind.esim":                  "eSIM",
		"kind.bill_payment":          "Bill payment",
		"amount.empty":               "Please type an amount, e.g. {1}.",
		"amount.nan":                 "“{1}” is not an amount. Type a number, e.g. {2}.",
		"amount.negative":            "The amount must be more than zero, e.g. {1}.",
		"amount.zero":                "The amount must be more than zero, e.g. {1}.",
		"amount.precise":             "Please use at most two decimals, e.g. {1}.",
		"amount.ambiguous.thousands": "“{1}”: did you mean {2}? Please type it without a separator: {2}.",
		"amount.ambiguous":           "“{1}” could mean {2} or {3}, so I did not take it. Please type {2} or {3} (no thousands separator; a dot or comma only before cents).",
		"amount.large":               "That is more than {1} allows: the most is {2} {3}.",
		"amount.currency":            "{1} is sold in {2}: please type the amount in {2}, e.g. {3}.",
		"amount.below":               "{1} {2} is below the minimum of {3} {2}.",
		"amount.above":               "{1} {2} is above the maximum of {3} {2}.",
		"amount.step":                "{1} {2} is not possible: amounts go from {3} to {6} {2} in steps of {4}. The nearest are {5}.",
		"amount.packages":            "{1} is sold only in these values: {2}{3}. Please pick one.",
		"amount.valid":               " Valid: {1} to {2} {3}{4}.",
		"or":                         " or ",
		"offer.search":               "Search for “{1}”",
		"confirm":                    "*Confirm your order*\n{1} — {2}\nTotal: *{3}*\n\nChoose how to pay:",
		"confirm.hint":               "Please choose how to pay below, or go back to change the value.",
		"creating":                   "Creating your invoice…",
		"creating.wait":              "Your invoice is being created — one moment.",
		"invoice.sandbox":            "*SANDBOX invoice — test money only, nothing is charged.*\n",
		"invoice.title":              "*Invoice* for {1}\n",
		"invoice.pay":                "Pay: *{1} {2}*\n",
		"invoice.address":            "To: `{1}`\n",
		"invoice.request":            "Payment request: `{1}`\n",
		"invoice.expires":            "Expires: {1} (in {2})\n",
		"invoice.expired_at":         "Expired: {1}\n",
		"invoice.status":             "Status: {1}\n",
		"invoice.scan":               "Scan the QR code with your wallet, or copy the details above.",
		"invoice.notify":             "I will tell you here as soon as the payment is seen.",
		"status.unpaid":              "waiting for payment",
		"status.detected":            "payment seen, waiting for confirmation",
		"status.confirmed":           "payment confirmed, preparing your order",
		"status.complete":            "complete",
		"status.blocked":             "blocked",
		"status.denied":              "payment rejected",
		"status.error":               "payment error",
		"status.expired":             "expired",
		"expired.menu":               "That menu has expired. Here is the current one:",
		"expired.none":               "That menu has expired. Type a product name to start again.",
		"cancelled":                  "Cancelled. Type a product name whenever you want to start again.",
		"cancelled.invoice":          "Left the invoice view. The invoice stays valid until it expires, and I will still tell you here if it is paid.",
		"unknown.command":            "I don't know /{1}. Try /help.",
		"busy.search":                "Still searching — one moment.",
		"err.search":                 "I could not search right now: {1}",
		"err.product":                "I could not load that product: {1}",
		"err.invoice":                "I could not create the invoice: {1} Your choice is kept: try again or pick another way to pay.",
		"err.refresh":                "I could not check the invoice right now: {1}",
		"err.simulate":               "The sandbox could not simulate the payment: {1}",
		"err.invalid":                "the request was refused.",
		"err.not_found":              "it no longer exists.",
		"err.out_of_stock":           "it is out of stock right now.",
		"err.rate_limited":           "too many requests — please try again in {1} seconds.",
		"err.temporary":              "the service did not answer in time. Please try again.",
		"err.balance":                "the shop's account balance is too low.",
		"err.payment":                "that payment method is not available.",
		"err.internal":               "something went wrong on our side.",
		"opt.next":                   "Next ›",
		"opt.prev":                   "‹ Previous",
		"opt.back":                   "‹ Back",
		"opt.cancel":                 "✖ Cancel",
		"opt.search":                 "🔍 New search",
		"opt.help":                   "❓ Help",
		"opt.retry":                  "↻ Try again",
		"opt.refresh":                "↻ Refresh status",
		"opt.simulate":               "🧪 Simulate payment (sandbox)",
		"simulating":                 "🧪 Simulating a payment in the sandbox…",
		"method.bitcoin":             "Bitcoin",
		"method.lightning":           "Lightning",
		"method.balance":             "Account balance",
		"unit.h":                     "{1}h {2}m",
		"unit.m":                     "{1}m",
		"nothing.to.go.back":         "There is nothing to go back to. Type a product name to search.",
	},
	"es": {
		"cmd.start":        "Empezar de nuevo",
		"cmd.search":       "Buscar un producto",
		"cmd.cart":         "Ver tu carrito",
		"cmd.orders":       "Tus pedidos y códigos",
		"cmd.esims":        "Tus eSIM y recargas",
		"cmd.country":      "Cambiar tu país",
		"cmd.language":     "Cambiar el idioma",
		"cmd.help":         "Cómo funciona este bot",
		"cmd.cancel":       "Cancelar lo que estás haciendo",
		"ui.not_yours":     "Este botón pertenece al menú de otra persona.",
		"ui.expired":       "Este menú ha caducado. Aquí tienes uno nuevo.",
		"ui.go_private":    "Sigamos en un chat privado, para que tu factura y tus códigos sean solo tuyos.",
		"ui.open_private":  "Abrir chat privado",
		"ui.start_private": "Abre primero un chat privado conmigo y pulsa Iniciar; luego vuelve a intentarlo.",
		"ui.dm_closed":     "No pude enviarte un mensaje directo (tienes los MD cerrados), así que lo que te esperaba se muestra aquí. Para recibir los avisos al momento, permite los mensajes directos de los miembros de este servidor.",
		"ui.amount_title":  "Importe",
		"ui.phone_title":   "Número de teléfono",
		"ui.iccid_title":   "ICCID de la eSIM",
		"ui.type_here":     "Escribirlo",
		"ui.working":       "Un momento…",
	},
}

// DefaultLang is used when the user's language has no catalogue.
const DefaultLang = "en"

// text renders one catalogue entry into spans.
func text(lang string, key Msg, args ...string) []Span {
	return appendText(nil, lang, key, args...)
}

func lookup(lang string, key Msg) string {
	if m, ok := catalog[lang]; ok {
		if s, ok := m[key]; ok {
			return s
		}
	}
	if s, ok := catalog[DefaultLang][key]; ok {
		return s
	}
	// A missing key is a bug; showing its name beats showing nothing.
	return string(key)
}

// appendText renders key with args after spans, merging runs of equal style.
func appendText(spans []Span, lang string, key Msg, args ...string) []Span {
	tpl := lookup(lang, key)
	style := Plain
	if spans == nil {
		spans = make([]Span, 0, 4)
	}
	// Runs are built in a stack buffer: one allocation per span, not per byte.
	var buf [512]byte
	cur := buf[:0]
	flush := func() {
		if len(cur) == 0 {
			return
		}
		spans = appendSpan(spans, Span{Text: string(cur), Style: style})
		cur = cur[:0]
	}
	toggle := func(s Style) {
		flush()
		if style == s {
			style = Plain
		} else {
			style = s
		}
	}
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		switch {
		case c == '*':
			toggle(Bold)
		case c == '`':
			toggle(Code)
		case c == '_':
			toggle(Italic)
		case c == '{' && i+2 < len(tpl) && tpl[i+2] == '}' && tpl[i+1] >= '1' && tpl[i+1] <= '9':
			if n := int(tpl[i+1] - '1'); n < len(args) {
				cur = append(cur, args[n]...)
			}
			i += 2
		default:
			cur = append(cur, c)
		}
	}
	flush()
	return spans
}

func appendSpan(spans []Span, s Span) []Span {
	if s.Text == "" {
		return spans
	}
	if n := len(spans); n > 0 && spans[n-1].Style == s.Style {
		spans[n-1].Text += s.Text
		return spans
	}
	return append(spans, s)
}
