package bitrefilltest

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
)

// Fixed fake exchange rates keep prices reproducible: 1 BTC = 97,000 USD,
// 1 ETH = 3,000 USD, stablecoins at par.
const (
	bech32Chars = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	base58Chars = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	hexChars    = "0123456789abcdef"
)

type payment struct {
	method, currency, price, address, lightning, uri string
}

// chars derives n characters of alphabet from a seed; deterministic filler
// for addresses and invoices that only need to look right.
func chars(seed []byte, n int, alphabet string) string {
	var b strings.Builder
	var ctr [8]byte
	for i := uint64(0); b.Len() < n; i++ {
		binary.BigEndian.PutUint64(ctr[:], i)
		d := sha256.Sum256(append(append([]byte{}, seed...), ctr[:]...))
		for _, x := range d {
			if b.Len() == n {
				break
			}
			b.WriteByte(alphabet[int(x)%len(alphabet)])
		}
	}
	return b.String()
}

func (f *Fake) newPayment(inv *invoice) payment {
	seed := f.digest("payment", inv.seq)
	cents := inv.totalCents
	p := payment{method: inv.method}
	sats := ceilDiv(cents*1000, 97)
	lightning := "lnbc" + strconv.FormatInt(sats*10, 10) + "n1p" + chars(seed[:], 200, bech32Chars)
	switch m := inv.method; {
	case m == "balance":
		p.currency, p.price = "USD", fmtCents2(cents)
	case m == "bitcoin":
		p.currency, p.price = "BTC", fmtFixed(sats, 8)
		p.address = "bc1q" + chars(seed[:], 38, bech32Chars)
		p.lightning = lightning
		p.uri = "bitcoin:" + p.address + "?amount=" + trimDecimal(p.price)
	case m == "lightning":
		p.currency, p.price = "BTC", fmtFixed(sats, 8)
		p.lightning = lightning
		p.uri = "lightning:" + lightning
	case m == "ethereum" || m == "eth_base":
		p.currency, p.price = "ETH", fmtFixed(ceilDiv(cents*1000, 3), 8)
		p.address = "0x" + chars(seed[:], 40, hexChars)
	case m == "usdc_solana":
		p.currency, p.price = "USDC", fmtFixed(cents*10_000, 6)
		p.address = chars(seed[:], 44, base58Chars)
	case strings.HasPrefix(m, "usdc_"):
		p.currency, p.price = "USDC", fmtFixed(cents*10_000, 6)
		p.address = "0x" + chars(seed[:], 40, hexChars)
	case strings.HasPrefix(m, "usdt_"):
		p.currency, p.price = "USDT", fmtFixed(cents*10_000, 6)
		p.address = "0x" + chars(seed[:], 40, hexChars)
	}
	return p
}

// paymentStatus derives the payment's own status from the invoice's.
func paymentStatus(invStatus string) string {
	switch invStatus {
	case statusPending, statusComplete:
		return statusConfirm
	}
	return invStatus
}

func (p payment) render(invStatus string) obj {
	o := obj{{"method", p.method}}
	if p.address != "" {
		o = append(o, kv{"address", p.address})
	}
	o = append(o, kv{"currency", p.currency}, kv{"price", num(p.price)}, kv{"status", paymentStatus(invStatus)})
	if p.lightning != "" {
		o = append(o, kv{"lightning_invoice", p.lightning})
	}
	if p.uri != "" {
		o = append(o, kv{"payment_uri", p.uri})
	}
	return o
}
