package main

import (
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// startEnv is start with environment variables.
func startEnv(t *testing.T, db string, env map[string]string, extra ...string) *session {
	t.Helper()
	r, w := io.Pipe()
	s := &session{t: t, in: w, out: newScreen(), done: make(chan error, 1)}
	args := append([]string{"-db", db, "-sandbox-delay", "0s", "-poll", "@every 1s"}, extra...)
	go func() {
		s.done <- run(context.Background(), args, func(k string) string { return env[k] }, r, s.out, io.Discard)
	}()
	t.Cleanup(func() { w.Close() })
	return s
}

// The four kinds of product in one cart and one invoice, bad input answered
// on the way, then the eSIM found again in the history and topped up.
func TestTerminalCartOfEveryKindAndESIMTopUp(t *testing.T) {
	s := start(t, filepath.Join(t.TempDir(), "bot.db"))
	s.expect(`SANDBOX`)

	s.say("netflix us")
	s.pick("Netflix US")
	s.pick("25 USD")
	s.pick("🛒 Add to cart")
	s.expect(`Your cart`)

	s.say("/phone")
	s.expect(`Type the phone number`)
	s.say("555 123")
	s.expect(`country code`)
	s.say("+12")
	s.expect(`too short`)
	s.say("+1 555 123 4567")
	s.pick("T-Mobile USA")
	s.expect(`For phone number: \+15551234567`)
	s.say("abc")
	s.expect(`not an amount`)
	s.say("25")
	s.expect(`Confirm your top-up`)
	s.pick("🛒 Add to cart")

	s.say("bitrefill esim europe")
	s.pick("Bitrefill eSIM Europe")
	s.expect(`Works in:`)
	s.pick("1GB, 7 Days — 4.50 USD") // the plan shows its price
	s.pick("🛒 Add to cart")

	s.say("comed")
	s.pick("ComEd Electricity (US)")
	s.expect(`does not tell me which account details`)
	s.say("1")
	s.expect(`below the minimum`)
	s.say("42.10")
	s.pick("🛒 Add to cart")
	s.expect(`Total: 96.60 USD\n`) // the eSIM plan's price (4.50 USD) is in the total now

	s.pick("💳 Check out")
	s.pick("Lightning")
	s.expect(`Payment request: lnbc`)
	s.pick("🧪 Simulate payment (sandbox)")
	for _, ready := range []string{`Netflix US 25 USD is ready`, `T-Mobile USA 25 USD is ready`, `Bitrefill eSIM Europe 1GB, 7 Days: your eSIM is ready`, `ComEd Electricity 42\.10? USD is ready`} {
		if !regexp.MustCompile(ready).MatchString(s.out.String()) {
			s.expect(ready)
		}
	}
	s.expect(`All done`)

	s.say("/orders")
	s.say(s.expect(`(?m)^  ([0-9]+)\) 1\. Netflix US — 25 USD, T-Mobile`)[1])
	s.pick("🔑 Show codes again")
	s.pick("🔑 Yes, show them")
	iccid := s.expect(`eSIM ICCID: ([0-9]+)`)[1]

	s.say("/esim 8900")
	s.expect(`18 to 22 digits`)
	s.say("/topup " + iccid + " bitrefill-esim-europe<&>3GB, 30 Days")
	s.expect(`Confirm your eSIM top-up`)
	s.pick("Bitcoin")
	s.pick("🧪 Simulate payment (sandbox)")
	s.expect(`Data added to eSIM ` + iccid)
	s.say("/esim " + iccid)
	s.expect(`3GB, 30 Days — active`)
	s.quit()
}

// The terminal's LANG picks Spanish and guesses the country.
func TestTerminalInSpanish(t *testing.T) {
	s := startEnv(t, filepath.Join(t.TempDir(), "bot.db"), map[string]string{"LANG": "es_MX.UTF-8"})
	s.expect(`¡Bienvenido a refillbot!`)
	s.expect(`¿Estás en México\?`)
	s.pick("✓ México")
	s.expect(`Tu país ahora es México`)
	s.pick("📱 Recarga móvil")
	s.say("55 1234")
	s.expect(`tienen 10 cifras`)
	s.say("55 1234 5678")
	value := s.expect(`Valores: ([0-9.]+)`)[1]
	s.pick(value + " MXN")
	s.expect(`Confirma tu recarga`)
	s.pick("Bitcoin")
	s.expect(`Factura del SANDBOX`)
	s.pick("🧪 Simular pago (sandbox)")
	s.expect(`Listo, gracias`)
	s.say("/language en")
	s.expect(`I will speak English`)
	s.quit()
}

func TestConversationConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"users without a cap": {env: map[string]string{"REFILLBOT_BALANCE_USERS": "telegram:1"}, want: "REFILLBOT_BALANCE_DAILY_CAP"},
		"bad user":            {env: map[string]string{"REFILLBOT_BALANCE_USERS": "telegram", "REFILLBOT_BALANCE_DAILY_CAP": "50"}, want: "platform:user"},
		"bad cap":             {env: map[string]string{"REFILLBOT_BALANCE_USERS": "telegram:1", "REFILLBOT_BALANCE_DAILY_CAP": "lots"}, want: "REFILLBOT_BALANCE_DAILY_CAP"},
		"bad idle timeout":    {env: map[string]string{"REFILLBOT_IDLE_TIMEOUT": "soon"}, want: "REFILLBOT_IDLE_TIMEOUT"},
		"bad rate limits":     {env: map[string]string{"BITREFILL_RATE_LIMITS": "orders=60/10m"}, want: "BITREFILL_RATE_LIMITS"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig([]string{"-db", "x.db"}, func(k string) string { return tc.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	c, err := parseConfig([]string{"-db", "x.db"}, func(k string) string {
		return map[string]string{"REFILLBOT_BALANCE_USERS": "telegram:1, discord:2", "REFILLBOT_BALANCE_DAILY_CAP": "25.50", "REFILLBOT_IDLE_TIMEOUT": "0"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := c.engine(false)
	if !e.Balance.Users["telegram:1"] || !e.Balance.Users["discord:2"] || e.Balance.DailyCap != 2550 || e.IdleAfter != 0 {
		t.Errorf("engine from config: %+v", e)
	}
}
