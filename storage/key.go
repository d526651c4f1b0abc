package storage

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// KeyFileSuffix names the generated key file: the database path plus this.
const KeyFileSuffix = ".key"

// ParseKey reads a 32-byte key written as 64 hex characters or as standard
// or URL-safe base64 (padded or not). The error never repeats the input.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New("must be 64 hex characters or base64 of 32 bytes (make one with: openssl rand -hex 32)")
}

// LoadKey returns the encryption key: fromEnv when not empty (see ParseKey),
// else the key file beside the database (dbPath + KeyFileSuffix), created
// with mode 0600 on first use. A key file others can read or write is
// refused rather than used: it would protect nothing. source says which was
// used, for the start-up log.
func LoadKey(dbPath, fromEnv string) (key []byte, source string, err error) {
	if fromEnv != "" {
		k, err := ParseKey(fromEnv)
		if err != nil {
			return nil, "", fmt.Errorf("REFILLBOT_SECRET_KEY %w", err)
		}
		return k, "REFILLBOT_SECRET_KEY", nil
	}
	path := dbPath + KeyFileSuffix
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createKeyFile(path)
	case err != nil:
		return nil, "", fmt.Errorf("key file: %w", err)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, "", fmt.Errorf("key file %s has mode %04o: others may read it; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("key file: %w", err)
	}
	k, err := ParseKey(string(raw))
	if err != nil {
		return nil, "", fmt.Errorf("key file %s %w", path, err)
	}
	return k, path, nil
}

func createKeyFile(path string) ([]byte, string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("create key file: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
	serr := f.Sync()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = serr
	}
	if werr != nil {
		os.Remove(path)
		return nil, "", fmt.Errorf("create key file: %w", werr)
	}
	return k, path + " (new)", nil
}
