package conversation

// Spanish for the purchase engine's texts. Entries another file already
// gave are left alone, so the catalogue can be translated from several places.

func init() {
	addMissing("es", map[Msg]string{
		"welcome":            "*¡Bienvenido a refillbot!* Compra tarjetas regalo, recargas móviles, eSIM y pagos de facturas con Bitcoin o Lightning.\nEscribe lo que buscas, por ejemplo _amazon_, _steam_ o _netflix_.",
		"welcome.sandbox":    "\nEsto es el *SANDBOX*: aquí nada cuesta dinero real.",
		"help":               "*Cómo funciona*\n1. Escribe el nombre de un producto para buscarlo, o explora tarjetas regalo, recargas, eSIM y facturas desde /start.\n2. Elige un producto y un valor, o escribe un importe. Cómpralo ya o añádelo al carrito.\n3. Elige cómo pagar y paga la factura.\n4. Tu código llega aquí en cuanto se confirma el pago.\n\nComandos: /start, /search _nombre_, /buy _id del producto_, /cart, /orders, /esims, /esim _ICCID_, /topup _ICCID_, /country, /language, /back, /cancel, /help.",
		"ask.query":          "¿Qué buscas? Escribe el nombre de un producto, p. ej. _amazon_.",
		"query.too_long":     "Esa búsqueda es demasiado larga. Usa como mucho {1} caracteres.",
		"searching":          "Buscando «{1}»…",
		"results":            "Resultados para «{1}» (página {2} de {3}). Elige uno:",
		"results.none":       "No encontré nada para «{1}». Prueba con otro nombre, p. ej. _amazon_ o _steam_.",
		"result.out":         "{1} — agotado",
		"loading":            "Cargando {1}…",
		"product.title":      "*{1}*",
		"product.facts":      "\nPaís: {1} · Moneda: {2} · {3}",
		"product.packages":   "\nValores: {1}{2}.",
		"product.range":      "\nCualquier importe de {1} a {2} {3}{4}.",
		"product.range.step": " en pasos de {1}",
		"product.pick":       "\nElige un valor abajo.",
		"product.pick.type":  "\nElige un valor abajo o escribe un importe, p. ej. {1}.",
		"product.type":       "\nEscribe un importe, p. ej. {1}.",
		"product.out":        "\n{1} está agotado ahora mismo. Elige otro producto.",
		"product.phone":      "\n{1} se recarga por número de teléfono: escribe el número que quieres recargar.",
		"product.unpriced":   "\n{1} no tiene valores a la venta ahora mismo. Elige otro producto.",
		"kind.gift_card":     "Tarjeta regalo",
		"kind.phone_refill":  "Recarga móvil",
		"kind.esim":          "eSIM",
		"kind.bill_payment":  "Pago de factura",
		"amount.empty":       "Escribe un importe, p. ej. {1}.",
		"amount.nan":         "«{1}» no es un importe. Escribe un número, p. ej. {2}.",
		"amount.negative":    "El importe debe ser mayor que cero, p. ej. {1}.",
		"amount.zero":        "El importe debe ser mayor que cero, p. ej. {1}.",
		"amount.precise":     "Usa como mucho dos decimales, p. ej. {1}.",
		"amount.large":       "Eso supera lo que admite {1}: el máximo es {2} {3}.",
		"amount.currency":    "{1} se vende en {2}: escribe el importe en {2}, p. ej. {3}.",
		"amount.below":       "{1} {2} está por debajo del mínimo de {3} {2}.",
		"amount.above":       "{1} {2} está por encima del máximo de {3} {2}.",
		"amount.step":        "{1} {2} no es posible: los importes van desde {3} en pasos de {4}. Los más cercanos son {5}.",
		"amount.packages":    "{1} solo se vende en estos valores: {2}{3}. Elige uno.",
		"amount.valid":       " Válido: de {1} a {2} {3}{4}.",
		"or":                 " o ",
		"offer.search":       "Buscar «{1}»",
		"confirm":            "*Confirma tu pedido*\n{1} — {2}\nTotal: *{3}*\n\nElige cómo pagar:",
		"confirm.hint":       "Elige abajo cómo pagar, o vuelve atrás para cambiar el valor.",
		"creating":           "Creando tu factura…",
		"creating.wait":      "Se está creando tu factura; un momento.",
		"invoice.sandbox":    "*Factura del SANDBOX: dinero de prueba, no se cobra nada.*\n",
		"invoice.title":      "*Factura* de {1}\n",
		"invoice.pay":        "Paga: *{1} {2}*\n",
		"invoice.address":    "A: `{1}`\n",
		"invoice.request":    "Solicitud de pago: `{1}`\n",
		"invoice.expires":    "Caduca: {1} (en {2})\n",
		"invoice.expired_at": "Caducó: {1}\n",
		"invoice.status":     "Estado: {1}\n",
		"invoice.scan":       "Escanea el código QR con tu monedero o copia los datos de arriba.",
		"invoice.notify":     "Te avisaré aquí en cuanto se vea el pago.",
		"status.unpaid":      "esperando el pago",
		"status.detected":    "pago visto, esperando confirmación",
		"status.confirmed":   "pago confirmado, preparando tu pedido",
		"status.complete":    "completado",
		"status.blocked":     "bloqueado",
		"status.denied":      "pago rechazado",
		"status.error":       "error en el pago",
		"status.expired":     "caducado",
		"expired.menu":       "Ese menú ha caducado. Este es el actual:",
		"expired.none":       "Ese menú ha caducado. Escribe el nombre de un producto para empezar de nuevo.",
		"cancelled":          "Cancelado. Escribe el nombre de un producto cuando quieras empezar de nuevo.",
		"cancelled.invoice":  "Saliste de la factura. Sigue siendo válida hasta que caduque, y te avisaré aquí si se paga.",
		"unknown.command":    "No conozco /{1}. Prueba /help.",
		"busy.search":        "Sigo buscando; un momento.",
		"err.search":         "No pude buscar ahora mismo: {1}",
		"err.product":        "No pude cargar ese producto: {1}",
		"err.invoice":        "No pude crear la factura: {1} Tu elección se conserva: inténtalo de nuevo o elige otra forma de pago.",
		"err.refresh":        "No pude consultar la factura ahora mismo: {1}",
		"err.simulate":       "El sandbox no pudo simular el pago: {1}",
		"err.invalid":        "la solicitud fue rechazada.",
		"err.not_found":      "ya no existe.",
		"err.out_of_stock":   "está agotado ahora mismo.",
		"err.rate_limited":   "demasiadas solicitudes; vuelve a intentarlo en {1} segundos.",
		"err.temporary":      "el servicio no respondió a tiempo. Inténtalo de nuevo.",
		"err.balance":        "el saldo de la cuenta de la tienda es insuficiente.",
		"err.payment":        "esa forma de pago no está disponible.",
		"err.internal":       "algo falló por nuestra parte.",
		"opt.next":           "Siguiente ›",
		"opt.prev":           "‹ Anterior",
		"opt.back":           "‹ Atrás",
		"opt.cancel":         "✖ Cancelar",
		"opt.search":         "🔍 Nueva búsqueda",
		"opt.help":           "❓ Ayuda",
		"opt.retry":          "↻ Reintentar",
		"opt.refresh":        "↻ Actualizar estado",
		"opt.simulate":       "🧪 Simular pago (sandbox)",
		"simulating":         "🧪 Simulando un pago en el sandbox…",
		"method.bitcoin":     "Bitcoin",
		"method.lightning":   "Lightning",
		"method.balance":     "Saldo de la cuenta",
		"unit.h":             "{1} h {2} min",
		"unit.m":             "{1} min",
		"nothing.to.go.back": "No hay nada a lo que volver. Escribe el nombre de un producto para buscar.",
	})
}

// addMissing adds the texts a language does not have yet.
func addMissing(lang string, m map[Msg]string) {
	c := catalog[lang]
	if c == nil {
		c = map[Msg]string{}
		catalog[lang] = c
	}
	for k, v := range m {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
}
