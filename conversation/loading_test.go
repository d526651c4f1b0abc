package conversation

import (
	"testing"
	"time"
)

// A screen load runs while the user may move on (the shell does not hold
// their next event back for it): its answer, good or bad, is shown only if
// the user is still waiting for that very screen.
func TestLateLoadResults(t *testing.T) {
	now := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)
	e := Engine{Methods: []string{"bitcoin"}}
	loading := func() State {
		s := NewState(SessionKey{Platform: "telegram", User: "7"}, "nonce", "en")
		s, _ = e.Step(s, Command{Name: "buy", Args: "amazon-us"}, now)
		if s.Step != StepLoading || s.Loading != "amazon-us" {
			t.Fatalf("/buy amazon-us left step %q loading %q", s.Step, s.Loading)
		}
		return s
	}
	cases := []struct {
		name  string
		ev    Event
		shown bool // the answer is shown and the loading screen ends
	}{
		{"card for the product loading", ProductLoaded{Product: Product{ID: "amazon-us", Name: "Amazon US", InStock: true}}, true},
		{"card for a product left", ProductLoaded{Product: Product{ID: "steam-us", Name: "Steam US", InStock: true}}, false},
		{"failure for the product loading", Failed{Op: OpLoadProduct, Kind: ErrTemporary, For: "amazon-us"}, true},
		{"failure for a product left", Failed{Op: OpLoadProduct, Kind: ErrTemporary, For: "steam-us"}, false},
		{"failure naming nothing", Failed{Op: OpLoadProduct, Kind: ErrTemporary}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := loading()
			got, out := e.Step(s, tc.ev, now)
			if shown := len(out) > 0; shown != tc.shown {
				t.Errorf("answer shown = %v (%d effects), want %v", shown, len(out), tc.shown)
			}
			if still := got.Step == StepLoading; still == tc.shown {
				t.Errorf("after the answer the step is %q (shown %v)", got.Step, tc.shown)
			}
		})
	}
}
