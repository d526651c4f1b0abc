package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

var (
	// ErrWrongKey: the value was sealed with another key, or is sealed and
	// no key was given.
	ErrWrongKey = errors.New("wrong or missing encryption key")
	// ErrMalformed: the value starts like a sealed one but is cut short.
	ErrMalformed = errors.New("short sealed record")
)

// magic starts every sealed value. JSON never starts with NUL, so records
// written before a key was configured stay readable.
var magic = []byte("\x00rbs1")

// CheckPlain is what a store seals with its key at creation, so that opening
// it later with another key fails at once, with a clear message, instead of
// at the first record read.
const CheckPlain = "refillbot key check"

// Sealer is AES-256-GCM with a random 96-bit nonce per value. Random nonces
// are safe for far more records than one bot writes under one key (2^32).
// A nil *Sealer stores values in clear.
type Sealer struct{ aead cipher.AEAD }

// New returns a Sealer for a 32-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("encryption key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain; a nil Sealer returns it unchanged.
func (s *Sealer) Seal(plain []byte) []byte {
	if s == nil {
		return plain
	}
	ns := s.aead.NonceSize()
	out := make([]byte, len(magic)+ns, len(magic)+ns+len(plain)+s.aead.Overhead())
	copy(out, magic)
	if _, err := rand.Read(out[len(magic):]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(out, out[len(magic):], plain, nil)
}

// IsSealed reports whether v is a sealed value (rather than clear text).
func IsSealed(v []byte) bool { return bytes.HasPrefix(v, magic) }

// Open returns the plain bytes of a stored value: v itself when it was
// stored in clear, a copy when sealed. Errors wrap ErrWrongKey or
// ErrMalformed and never include the value.
func (s *Sealer) Open(v []byte) ([]byte, error) {
	if !IsSealed(v) {
		return v, nil
	}
	if s == nil {
		return nil, fmt.Errorf("%w: the record is encrypted and no key was given", ErrWrongKey)
	}
	v = v[len(magic):]
	ns := s.aead.NonceSize()
	if len(v) < ns {
		return nil, ErrMalformed
	}
	plain, err := s.aead.Open(nil, v[:ns], v[ns:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: a record does not open with this key", ErrWrongKey)
	}
	return plain, nil
}

// Check verifies a store's sealed check value against s. stored is nil for a
// store that has none yet: Check then returns the value to record (nil when
// s is nil too: an unkeyed store records nothing).
func (s *Sealer) Check(stored []byte) (record []byte, err error) {
	switch {
	case stored == nil && s == nil:
		return nil, nil
	case stored == nil:
		return s.Seal([]byte(CheckPlain)), nil
	case s == nil:
		return nil, fmt.Errorf("%w: this database is encrypted; give the key it was created with", ErrWrongKey)
	}
	plain, err := s.Open(stored)
	if err != nil || string(plain) != CheckPlain {
		return nil, fmt.Errorf("%w: this database was encrypted with a different key", ErrWrongKey)
	}
	return nil, nil
}
