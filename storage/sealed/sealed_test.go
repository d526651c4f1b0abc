package sealed

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealedValuesOpenOnlyWithTheirKey(t *testing.T) {
	a, err := New(key(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(key(t))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"code":"ABCD-1234"}`)
	v := a.Seal(plain)
	if bytes.Contains(v, []byte("ABCD-1234")) {
		t.Fatal("sealed value shows the code")
	}
	if got, err := a.Open(v); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for name, s := range map[string]*Sealer{"other key": b, "no key": nil} {
		if _, err := s.Open(v); !errors.Is(err, ErrWrongKey) {
			t.Errorf("%s: Open = %v, want ErrWrongKey", name, err)
		}
	}
	if _, err := a.Open(v[:len(magic)+3]); !errors.Is(err, ErrMalformed) {
		t.Errorf("cut short: %v, want ErrMalformed", err)
	}
	if got, err := a.Open(plain); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("clear value: %q, %v", got, err)
	}
}

func TestCheckValueRefusesAnotherKey(t *testing.T) {
	a, _ := New(key(t))
	b, _ := New(key(t))
	rec, err := a.Check(nil)
	if err != nil || rec == nil {
		t.Fatalf("first keyed open: %v, %v", rec, err)
	}
	if again, err := a.Check(rec); err != nil || again != nil {
		t.Errorf("same key: %v, %v", again, err)
	}
	if _, err := b.Check(rec); !errors.Is(err, ErrWrongKey) {
		t.Errorf("other key: %v", err)
	}
	if _, err := (*Sealer)(nil).Check(rec); !errors.Is(err, ErrWrongKey) {
		t.Errorf("no key: %v", err)
	}
	if rec, err := (*Sealer)(nil).Check(nil); rec != nil || err != nil {
		t.Errorf("unkeyed store: %v, %v", rec, err)
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Error("16-byte key accepted")
	}
}
