package storage

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"refillbot/storage/sealed"
)

// ErrWrongKey: the file was sealed with another key, or holds sealed records
// and no key was given. It is sealed.ErrWrongKey, shared with the
// PostgreSQL store.
var ErrWrongKey = sealed.ErrWrongKey

var metaKeyCheck = []byte("keycheck")

// sealer is the shared sealing (package sealed); a nil sealer stores records
// in clear.
type sealer = sealed.Sealer

func newSealer(key []byte) (*sealer, error) { return sealed.New(key) }

// open decodes a possibly sealed versioned record into dst.
func (s *Store) open(v []byte, dst any) error {
	plain, err := s.seal.Open(v)
	if errors.Is(err, sealed.ErrMalformed) {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err != nil {
		return err
	}
	return decode(plain, dst)
}

// checkKey runs at Open: the first keyed open records a sealed check value;
// later opens must open it.
func checkKey(meta *bolt.Bucket, s *sealer) error {
	rec, err := s.Check(meta.Get(metaKeyCheck))
	if err != nil || rec == nil {
		return err
	}
	return meta.Put(metaKeyCheck, rec)
}
