package bitrefilltest

// InvoiceByAddress returns the id of the invoice whose payment goes to
// address (a Bitcoin address or a Lightning payment request), as a buyer's
// wallet would find it from what the bot showed them.
func (f *Fake) InvoiceByAddress(address string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, inv := range f.invoices {
		if address != "" && (inv.pay.address == address || inv.pay.lightning == address) {
			return inv.id, true
		}
	}
	return "", false
}
