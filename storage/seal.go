package storage

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ErrWrongKey: the file was sealed with another key, or holds sealed records
// and no key was given.
var ErrWrongKey = errors.New("wrong or missing encryption key")

// sealedMagic starts every sealed value. JSON never starts with NUL, so
// records written before a key was configured stay readable.
var sealedMagic = []byte("\x00rbs1")

var metaKeyCheck = []byte("keycheck")

// keyCheckPlain is sealed into the meta bucket with the file's key, so that
// opening with another key fails at once, with a clear message, instead of
// at the first session read.
const keyCheckPlain = "refillbot key check"

// sealer is AES-256-GCM with a random 96-bit nonce per value. Random nonces
// are safe for far more records than one bot writes under one key (2^32).
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
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
	return &sealer{aead: aead}, nil
}

// close seals plain; a nil sealer returns it unchanged.
func (s *sealer) close(plain []byte) []byte {
	if s == nil {
		return plain
	}
	ns := s.aead.NonceSize()
	out := make([]byte, len(sealedMagic)+ns, len(sealedMagic)+ns+len(plain)+s.aead.Overhead())
	copy(out, sealedMagic)
	if _, err := rand.Read(out[len(sealedMagic):]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(out, out[len(sealedMagic):], plain, nil)
}

// openValue returns the plain bytes of a stored value (a copy when sealed).
func (s *sealer) openValue(v []byte) ([]byte, error) {
	if !bytes.HasPrefix(v, sealedMagic) {
		return v, nil
	}
	if s == nil {
		return nil, fmt.Errorf("%w: the record is encrypted and no key was given", ErrWrongKey)
	}
	v = v[len(sealedMagic):]
	ns := s.aead.NonceSize()
	if len(v) < ns {
		return nil, fmt.Errorf("%w: short sealed record", ErrCorrupt)
	}
	plain, err := s.aead.Open(nil, v[:ns], v[ns:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: a record does not open with this key", ErrWrongKey)
	}
	return plain, nil
}

// open decodes a possibly sealed versioned record into dst.
func (s *Store) open(v []byte, dst any) error {
	plain, err := s.seal.openValue(v)
	if err != nil {
		return err
	}
	return decode(plain, dst)
}

// checkKey runs at Open: the first keyed open records a sealed check value;
// later opens must open it.
func checkKey(meta *bolt.Bucket, s *sealer) error {
	v := meta.Get(metaKeyCheck)
	switch {
	case v == nil && s == nil:
		return nil
	case v == nil:
		return meta.Put(metaKeyCheck, s.close([]byte(keyCheckPlain)))
	case s == nil:
		return fmt.Errorf("%w: this database is encrypted; give the key it was created with", ErrWrongKey)
	}
	plain, err := s.openValue(v)
	if err != nil || string(plain) != keyCheckPlain {
		return fmt.Errorf("%w: this database was encrypted with a different key", ErrWrongKey)
	}
	return nil
}
