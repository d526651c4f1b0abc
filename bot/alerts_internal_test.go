package bot

import (
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill"
	"refillbot/conversation"
)

// The sale alert names what was sold and how it was paid, and nothing a
// thief could use: no code, PIN or redemption link, whatever the order holds.
func TestSaleAlertHoldsNoCode(t *testing.T) {
	red := &conversation.Redemption{Code: "SECRET-CODE-123", PIN: "9876", Link: "https://redeem.example/abc"}
	inv := conversation.Invoice{
		ID: "6f1c9e2a-1111-2222-3333-444455556666", Status: conversation.StatusComplete,
		Method: "lightning", Price: "150000", PriceCurrency: "sats",
		Address: "lnbc1secretinvoice", PaymentURI: "lightning:lnbc1secretinvoice",
		Orders: []conversation.Order{
			{ID: "o1", Product: "Amazon US", Value: "50", Currency: "USD", Redemption: red},
			{ID: "o2", Product: "Amazon US", Value: "50", Currency: "USD", Redemption: red},
			{ID: "o3", ProductID: "steam-eu", Redemption: red},
		},
	}
	got := saleAlert(inv, "")
	for _, want := range []string{"Amazon US 50 USD ×2", "steam-eu", "150000 sats via lightning", "invoice 6f1c9e2a"} {
		if !strings.Contains(got, want) {
			t.Errorf("alert lacks %q: %s", want, got)
		}
	}
	for _, secret := range []string{"SECRET-CODE-123", "9876", "redeem.example", "1111-2222", "o1", "lnbc1"} {
		if strings.Contains(got, secret) {
			t.Errorf("alert holds %q: %s", secret, got)
		}
	}
	if got := saleAlert(conversation.Invoice{ID: "abc", Method: "bitcoin"}, "Steam 20 EUR"); !strings.Contains(got, "Steam 20 EUR") {
		t.Errorf("alert without orders = %s", got)
	}
	o := inv.Orders[0]
	o.Status = conversation.OrderRefunded
	if got := orderTroubleAlert(inv.ID, o); !strings.Contains(got, "refunded: Amazon US 50 USD") || strings.Contains(got, "SECRET") {
		t.Errorf("trouble alert = %s", got)
	}
}

func TestAPIWatch(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	type step struct {
		at     time.Duration
		status int
		alert  string // substring; "" means no alert
	}
	for name, steps := range map[string][]step{
		"a blip is not news": {{0, 0, ""}, {time.Minute, 0, ""}, {2 * time.Minute, 200, ""}, {4 * time.Minute, 0, ""}},
		"unreachable, then back": {
			{0, 502, ""}, {2 * time.Minute, 0, ""}, {3 * time.Minute, 0, "unreachable for 3m"},
			{4 * time.Minute, 0, ""}, {10 * time.Minute, 200, "answers again (after 10m"}, {11 * time.Minute, 200, ""},
		},
		"429s for minutes":   {{0, 429, ""}, {3*time.Minute + time.Second, 429, "429"}, {5 * time.Minute, 429, ""}},
		"a 404 is an answer": {{0, 0, ""}, {time.Minute, 404, ""}, {4 * time.Minute, 0, ""}},
	} {
		t.Run(name, func(t *testing.T) {
			var w apiWatch
			for _, s := range steps {
				got := w.observe(bitrefill.Request{Status: s.status}, t0.Add(s.at))
				if (s.alert == "") != (got == "") || !strings.Contains(got, s.alert) {
					t.Errorf("at %v status %d: alert %q, want %q", s.at, s.status, got, s.alert)
				}
			}
		})
	}
}

func TestBalanceWatch(t *testing.T) {
	w := balanceWatch{threshold: bitrefill.MustDecimal("50")}
	bal := func(s string) bitrefill.Balance {
		return bitrefill.Balance{Amount: bitrefill.MustDecimal(s), Currency: "USD"}
	}
	for _, tc := range []struct {
		balance string
		alert   bool
	}{{"100", false}, {"49.99", true}, {"20", false}, {"60", false}, {"10", true}} {
		if got := w.check(bal(tc.balance)); (got != "") != tc.alert {
			t.Errorf("balance %s: alert %q, want alert %v", tc.balance, got, tc.alert)
		}
	}
	var off balanceWatch
	if off.check(bal("0")) != "" {
		t.Error("no threshold, yet an alert")
	}
}
