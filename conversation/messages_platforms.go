package conversation

// Words only a platform adapter shows (Discord's option descriptions, its
// select placeholder...). They live here, not in the adapter, so that the
// catalogue test catches a missing translation for them too. Keys start
// with the platform's name.

func init() {
	addMessages("en", map[Msg]string{
		"discord.cmd.buy":          "Buy a product: start typing its name",
		"discord.cmd.esim":         "Your eSIMs: list, status and top-ups",
		"discord.cmd.esim.status":  "Show one eSIM's status and data left",
		"discord.cmd.esim.topup":   "Top up one of your eSIMs",
		"discord.opt.buy.query":    "Product name, e.g. amazon",
		"discord.opt.search.query": "What to search for",
		"discord.opt.esim.esim":    "The eSIM (ICCID)",
		"discord.opt.esim.plan":    "The plan to add",
		"discord.ui.select":        "Choose…",
		"discord.cmd.fallback":     "refillbot",
	})
	addMessages("es", map[Msg]string{
		"discord.cmd.buy":          "Compra un producto: empieza a escribir su nombre",
		"discord.cmd.esim":         "Tus eSIM: lista, estado y recargas",
		"discord.cmd.esim.status":  "Muestra el estado y los datos de una eSIM",
		"discord.cmd.esim.topup":   "Recarga una de tus eSIM",
		"discord.opt.buy.query":    "Nombre del producto, p. ej. amazon",
		"discord.opt.search.query": "Qué buscar",
		"discord.opt.esim.esim":    "La eSIM (ICCID)",
		"discord.opt.esim.plan":    "El plan que añadir",
		"discord.ui.select":        "Elige…",
		"discord.cmd.fallback":     "refillbot",
	})
}
