package conversation

// The texts of what a buyer receives after paying (delivery.go), in every
// catalogue language. They live apart from messages.go so that the delivery
// work and the dialogue work can change their own texts independently.
var deliveryTexts = map[string]map[Msg]string{
	"en": {
		"dlv.detected":        "💸 *{1}*\nPayment seen for invoice {2}. Waiting for the network to confirm it — usually a few minutes; nothing to do.",
		"dlv.confirmed":       "✅ *{1}*\nPayment confirmed (invoice {2}). Preparing your order — it arrives here in a moment.",
		"dlv.receipt":         "🧾 *Receipt* — {1}\nInvoice: `{2}`",
		"dlv.receipt.paid":    "\nPaid: {1} {2}",
		"dlv.receipt.orders":  "\nDelivered: {1} of {2} (details in their own messages).",
		"dlv.receipt.next":    "\nAll done — thank you! Type a product name to buy something else.",
		"dlv.denied":          "❌ *{1}*\nThe payment for invoice `{2}` was rejected, so nothing was bought. If money left your wallet it is returned; otherwise just start a new purchase.",
		"dlv.blocked":         "❌ *{1}*\nInvoice `{2}` was blocked by the payment provider's checks. If you paid, contact Bitrefill support and quote the invoice id.",
		"dlv.payment_error":   "❌ *{1}*\nThere was a problem with the payment for invoice `{2}` (for example a wrong amount). If you paid, Bitrefill support can sort it out: quote the invoice id.",
		"dlv.expired":         "⌛ *{1}*\nInvoice `{2}` expired before a payment arrived. Nothing was charged. Please don't pay it any more; type the product name to get a fresh invoice.",
		"dlv.failed":          "⚠️ *{1} {2}* could not be delivered. Bitrefill refunds failed orders automatically; nothing else is needed from you. If no refund reaches you, quote invoice `{3}` to Bitrefill support.",
		"dlv.refunded":        "↩️ *{1} {2}* was refunded (invoice `{3}`).",
		"dlv.delivered":       "🎁 *{1} {2}* is ready:",
		"dlv.code":            "\nCode: `{1}`",
		"dlv.pin":             "\nPIN: `{1}`",
		"dlv.extra":           "\n{1}: `{2}`",
		"dlv.link":            "\nLink: {1}",
		"dlv.expires":         "\nValid until: {1}",
		"dlv.instructions":    "\n\n{1}",
		"dlv.barcode":         "\nThe barcode is in the picture: show it at the till.",
		"dlv.barcode.number":  "\nThe barcode is in the picture: show it at the till, or give its number: `{1}`",
		"dlv.code.tip":        "\n\n_Tap the code to copy it. Keep it private: anyone with it can spend it._",
		"dlv.nothing":         "\nThe value was credited directly; there is no code to redeem.",
		"dlv.esim":            "📶 *{1} {2}*: your eSIM is ready.",
		"dlv.esim.scan":       "\n\n*Scan the QR code* in the picture with the phone that gets the eSIM (show it on another screen).",
		"dlv.esim.apple":      "\n*On that iPhone itself*, tap to install: {1}",
		"dlv.esim.manual":     "\n*Or enter it by hand:*\nSM-DP+ address: `{1}`\nActivation code: `{2}`",
		"dlv.esim.lpa":        "\n*Or enter it by hand:* `{1}`",
		"dlv.esim.iccid":      "\nICCID: `{1}`",
		"dlv.esim.steps":      "\n\n*iPhone:* Settings → Mobile Data → Add eSIM → Use QR Code.\n*Android:* Settings → Network & internet → SIMs → Add eSIM (or Download a SIM) → scan the code.\nThen turn on data roaming for this line when you arrive. Install it once: the QR code works only one time.",
		"dlv.remind.data":     "📶 Your eSIM *{1}* (`{2}`) has only {3}% of its data left. Top it up before it runs out:",
		"dlv.remind.ends":     "⏳ Your eSIM *{1}* (`{2}`) plan ends {3}. Top it up to keep it working:",
		"dlv.remind.giftcard": "⏰ Your *{1}* card expires on {2}. Use it before then — /orders shows the code again.",
		"dlv.opt.topup":       "➕ Top up this eSIM",
		"dlv.hidden":          "🔒 A code message was removed to keep it private. Use /orders to show it again.",
		"dlv.undeliverable":   "🎁 Your order is ready, but this chat would not take the message with its details. Open /orders to see your code.",
	},
	"es": {
		"dlv.detected":        "💸 *{1}*\nPago detectado para la factura {2}. Esperando la confirmación de la red (suele tardar unos minutos); no tienes que hacer nada.",
		"dlv.confirmed":       "✅ *{1}*\nPago confirmado (factura {2}). Preparando tu pedido: llegará aquí en un momento.",
		"dlv.receipt":         "🧾 *Recibo* — {1}\nFactura: `{2}`",
		"dlv.receipt.paid":    "\nPagado: {1} {2}",
		"dlv.receipt.orders":  "\nEntregado: {1} de {2} (detalles en sus propios mensajes).",
		"dlv.receipt.next":    "\n¡Listo, gracias! Escribe el nombre de un producto para comprar otra cosa.",
		"dlv.denied":          "❌ *{1}*\nEl pago de la factura `{2}` fue rechazado, así que no se compró nada. Si salió dinero de tu monedero, se devuelve; si no, empieza una compra nueva.",
		"dlv.blocked":         "❌ *{1}*\nLa factura `{2}` fue bloqueada por los controles del proveedor de pagos. Si pagaste, contacta con el soporte de Bitrefill indicando el id de la factura.",
		"dlv.payment_error":   "❌ *{1}*\nHubo un problema con el pago de la factura `{2}` (por ejemplo, un importe incorrecto). Si pagaste, el soporte de Bitrefill lo resuelve: indica el id de la factura.",
		"dlv.expired":         "⌛ *{1}*\nLa factura `{2}` caducó antes de recibir el pago. No se cobró nada. No la pagues ya; escribe el nombre del producto para obtener una factura nueva.",
		"dlv.failed":          "⚠️ *{1} {2}* no se pudo entregar. Bitrefill reembolsa automáticamente los pedidos fallidos; no tienes que hacer nada más. Si no te llega el reembolso, indica la factura `{3}` al soporte de Bitrefill.",
		"dlv.refunded":        "↩️ *{1} {2}* fue reembolsado (factura `{3}`).",
		"dlv.delivered":       "🎁 *{1} {2}* está listo:",
		"dlv.code":            "\nCódigo: `{1}`",
		"dlv.pin":             "\nPIN: `{1}`",
		"dlv.extra":           "\n{1}: `{2}`",
		"dlv.link":            "\nEnlace: {1}",
		"dlv.expires":         "\nVálido hasta: {1}",
		"dlv.instructions":    "\n\n{1}",
		"dlv.barcode":         "\nEl código de barras está en la imagen: muéstralo en caja.",
		"dlv.barcode.number":  "\nEl código de barras está en la imagen: muéstralo en caja o da su número: `{1}`",
		"dlv.code.tip":        "\n\n_Toca el código para copiarlo. Guárdalo en privado: quien lo tenga puede gastarlo._",
		"dlv.nothing":         "\nEl saldo se acreditó directamente; no hay código que canjear.",
		"dlv.esim":            "📶 *{1} {2}*: tu eSIM está lista.",
		"dlv.esim.scan":       "\n\n*Escanea el código QR* de la imagen con el teléfono que recibirá la eSIM (muéstralo en otra pantalla).",
		"dlv.esim.apple":      "\n*En ese mismo iPhone*, toca para instalar: {1}",
		"dlv.esim.manual":     "\n*O introdúcelo a mano:*\nDirección SM-DP+: `{1}`\nCódigo de activación: `{2}`",
		"dlv.esim.lpa":        "\n*O introdúcelo a mano:* `{1}`",
		"dlv.esim.iccid":      "\nICCID: `{1}`",
		"dlv.esim.steps":      "\n\n*iPhone:* Ajustes → Datos móviles → Añadir eSIM → Usar código QR.\n*Android:* Ajustes → Redes e Internet → SIM → Añadir eSIM (o Descargar una SIM) → escanea el código.\nAl llegar, activa la itinerancia de datos para esta línea. Instálala una sola vez: el código QR solo funciona una vez.",
		"dlv.remind.data":     "📶 A tu eSIM *{1}* (`{2}`) solo le queda el {3}% de los datos. Recárgala antes de que se acaben:",
		"dlv.remind.ends":     "⏳ El plan de tu eSIM *{1}* (`{2}`) termina el {3}. Recárgala para que siga funcionando:",
		"dlv.remind.giftcard": "⏰ Tu tarjeta *{1}* caduca el {2}. Úsala antes: /orders vuelve a mostrar el código.",
		"dlv.opt.topup":       "➕ Recargar esta eSIM",
		"dlv.hidden":          "🔒 Se eliminó un mensaje con un código para mantenerlo privado. Usa /orders para volver a verlo.",
		"dlv.undeliverable":   "🎁 Tu pedido está listo, pero este chat no aceptó el mensaje con los detalles. Abre /orders para ver tu código.",
	},
}

func init() {
	for lang, texts := range deliveryTexts {
		if catalog[lang] == nil {
			catalog[lang] = map[Msg]string{}
		}
		for k, v := range texts {
			catalog[lang][k] = v
		}
	}
}
