package bot

import (
	"errors"
	"testing"
	"time"

	"refillbot/bitrefill"
)

func TestESIMUsage(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	pkg := func(mb, leftMB int64, ends time.Time, status string) bitrefill.ESIMPackage {
		return bitrefill.ESIMPackage{DataMB: mb, RemainingBytes: leftMB * 1_000_000, ExpirationDate: ends, Status: status}
	}
	for name, tc := range map[string]struct {
		pkgs   []bitrefill.ESIMPackage
		pct    int
		ends   time.Time
		active bool
	}{
		"fresh":           {[]bitrefill.ESIMPackage{pkg(1000, 1000, now.Add(72*time.Hour), "active")}, 100, now.Add(72 * time.Hour), true},
		"low":             {[]bitrefill.ESIMPackage{pkg(1000, 150, now.Add(72*time.Hour), "active")}, 15, now.Add(72 * time.Hour), true},
		"expired ignored": {[]bitrefill.ESIMPackage{pkg(1000, 0, now.Add(-time.Hour), "active"), pkg(2000, 1000, now.Add(48*time.Hour), "active")}, 50, now.Add(48 * time.Hour), true},
		"depleted only":   {[]bitrefill.ESIMPackage{pkg(1000, 0, now.Add(time.Hour), "depleted")}, 100, time.Time{}, false},
		"nothing":         {nil, 100, time.Time{}, false},
	} {
		t.Run(name, func(t *testing.T) {
			pct, ends, _, active := esimUsage(bitrefill.ESIM{Packages: tc.pkgs}, now)
			if pct != tc.pct || !ends.Equal(tc.ends) || active != tc.active {
				t.Errorf("got %d%% ends %v active %v; want %d%% %v %v", pct, ends, active, tc.pct, tc.ends, tc.active)
			}
		})
	}
}

type unreachableErr struct{}

func (unreachableErr) Error() string     { return "blocked" }
func (unreachableErr) Unreachable() bool { return true }

type retryErr struct{}

func (retryErr) Error() string             { return "429" }
func (retryErr) RetryAfter() time.Duration { return 7 * time.Second }

func TestRetryDelay(t *testing.T) {
	for name, tc := range map[string]struct {
		err      error
		attempts int
		wait     time.Duration
		drop     bool
	}{
		"retry-after":      {retryErr{}, 1, 7 * time.Second, false},
		"retry-after late": {retryErr{}, 50, 7 * time.Second, false},
		"blocked first":    {unreachableErr{}, 1, time.Minute, false},
		"blocked later":    {unreachableErr{}, 3, 4 * time.Minute, false},
		"blocked forever":  {unreachableErr{}, 100, 6 * time.Hour, false}, // kept, never dropped
		"network first":    {errors.New("reset"), 1, time.Second, false},
		"network capped":   {errors.New("reset"), 20, 10 * time.Minute, false},
		"refused for good": {errors.New("bad request"), 30, 0, true},
	} {
		t.Run(name, func(t *testing.T) {
			wait, drop := retryDelay(tc.err, tc.attempts)
			if wait != tc.wait || drop != tc.drop {
				t.Errorf("retryDelay = %v, %v; want %v, %v", wait, drop, tc.wait, tc.drop)
			}
		})
	}
}
