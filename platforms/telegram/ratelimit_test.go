package telegram_test

import (
	"testing"

	"refillbot/platforms/telegram"
)

// TELEGRAM_RATE_LIMIT: a number of messages a second, "off", or the
// default; anything else is refused with the variable's name.
func TestParseRateLimit(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    telegram.Limit
		off, ok bool
	}{
		{"", telegram.DefaultGlobal, false, true},
		{"30", telegram.Limit{Rate: 30, Burst: 10}, false, true},
		{" 2.5 ", telegram.Limit{Rate: 2.5, Burst: 1}, false, true},
		{"1000", telegram.Limit{Rate: 1000, Burst: 333}, false, true},
		{"off", telegram.Limit{}, true, true},
		{"OFF", telegram.Limit{}, true, true},
		{"0", telegram.Limit{}, false, false},
		{"-3", telegram.Limit{}, false, false},
		{"fast", telegram.Limit{}, false, false},
		{"NaN", telegram.Limit{}, false, false},
		{"+Inf", telegram.Limit{}, false, false},
	} {
		l, off, err := telegram.ParseRateLimit(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if err != nil {
			if !contains([]string{err.Error()}, "TELEGRAM_RATE_LIMIT") {
				t.Errorf("%q: error %q does not name the variable", c.in, err)
			}
			continue
		}
		if l != c.want || off != c.off {
			t.Errorf("%q: %+v off=%v, want %+v off=%v", c.in, l, off, c.want, c.off)
		}
	}
}
