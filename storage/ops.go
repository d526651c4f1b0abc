package storage

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"refillbot/bot"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/conversation"
)

var metaWebhookSecret = []byte("webhook_secret")

// WebhookSecret returns this installation's webhook path secret, creating it
// (32 random bytes, URL-safe base64) on first use. It lives in the database
// so that invoices created before a restart still reach the new process.
func (s *Store) WebhookSecret() (string, error) {
	var secret string
	err := s.db.View(func(tx *bolt.Tx) error {
		secret = string(tx.Bucket(bucketMeta).Get(metaWebhookSecret))
		return nil
	})
	if err != nil || secret != "" {
		return secret, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	fresh := base64.RawURLEncoding.EncodeToString(raw)
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaWebhookSecret); v != nil {
			secret = string(v) // another caller won
			return nil
		}
		secret = fresh
		return meta.Put(metaWebhookSecret, []byte(fresh))
	})
	if err != nil {
		return "", fmt.Errorf("storage: webhook secret: %w", err)
	}
	return secret, nil
}

// MarkOnce records name and reports whether it is new: reminders use it so
// that each is sent once however often the job runs.
func (s *Store) MarkOnce(name string, at time.Time) (bool, error) {
	if name == "" || len(name) > bolt.MaxKeySize {
		return false, fmt.Errorf("storage: invalid mark %q", name)
	}
	v, err := json.Marshal(settledRecord{V: recordVersion, At: at.UTC()})
	if err != nil {
		return false, err
	}
	fresh := false
	err = s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMarks)
		fresh = b.Get([]byte(name)) == nil
		if !fresh {
			return nil
		}
		return b.Put([]byte(name), v)
	})
	if err != nil {
		return false, fmt.Errorf("storage: mark %q: %w", name, err)
	}
	return fresh, nil
}

// Address is the session's last private address, if it has one.
func (s *Store) Address(key conversation.SessionKey) (conversation.Address, bool, error) {
	k, err := sessionKey(key)
	if err != nil {
		return conversation.Address{}, false, err
	}
	var a conversation.Address
	found := false
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAddrs).Get(k)
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &a)
	})
	return a, found, err
}

// AllSessions lists every session (for the scheduled jobs, which run rarely).
// Unreadable sessions are reported and skipped.
func (s *Store) AllSessions() ([]bot.SessionInfo, error) {
	var out []bot.SessionInfo
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			platform, user, ok := bytes.Cut(k, []byte{0})
			if !ok {
				errs = append(errs, fmt.Errorf("storage: session key %q: %w", k, ErrCorrupt))
				return nil
			}
			var rec sessionRecord
			if err := s.open(v, &rec); err != nil {
				errs = append(errs, fmt.Errorf("storage: session %q: %w", k, err))
				return nil
			}
			out = append(out, bot.SessionInfo{Key: conversation.SessionKey{Platform: string(platform), User: string(user)}, State: rec.State, Changed: rec.At})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: sessions: %w", err)
	}
	return out, errors.Join(errs...)
}

// Prune forgets bookkeeping older than before: settled-invoice marks, invoice
// view references and reminder marks. Sessions and pending work are kept.
func (s *Store) Prune(before time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		for _, name := range [][]byte{bucketSettled, bucketViews, bucketMarks} {
			b := tx.Bucket(name)
			var old [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var rec struct {
					At time.Time `json:"at"`
				}
				if json.Unmarshal(v, &rec) == nil && !rec.At.IsZero() && rec.At.Before(before) {
					old = append(old, append([]byte(nil), k...))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n += len(old)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: prune: %w", err)
	}
	return n, nil
}

// BackupFile writes a hot backup to name (mode 0600) and returns its size.
// The copy is written beside it under a temporary name, synced and renamed,
// so a crash never leaves a half backup under name.
func (s *Store) BackupFile(name string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".backup-*")
	if err != nil {
		return 0, fmt.Errorf("storage: backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	n, err := s.Backup(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: backup: %w", err)
	}
	return n, nil
}

// backupPrefix names backup files: backupPrefix + UTC time + ".db".
const backupPrefix = "refillbot-"

// BackupTo writes a hot backup into dir (created 0700 if missing) as
// refillbot-<UTC time>.db, then keeps only the newest keep backups there.
// The copy is written to a temporary name and renamed, so a crash never
// leaves a half backup under a backup's name. Sealed records stay sealed:
// keep the key (file) somewhere else too, or the backup cannot be read.
func (s *Store) BackupTo(dir string, now time.Time, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("storage: backup: %w", err)
	}
	name := filepath.Join(dir, backupPrefix+now.UTC().Format("20060102T150405Z")+".db")
	if _, err := s.BackupFile(name); err != nil {
		return "", err
	}
	if keep > 0 {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return name, fmt.Errorf("storage: backup retention: %w", err)
		}
		var old []string
		for _, e := range entries {
			if n := e.Name(); strings.HasPrefix(n, backupPrefix) && strings.HasSuffix(n, ".db") && !e.IsDir() {
				old = append(old, n)
			}
		}
		sort.Strings(old) // the time format sorts chronologically
		for len(old) > keep {
			if err := os.Remove(filepath.Join(dir, old[0])); err != nil {
				return name, fmt.Errorf("storage: backup retention: %w", err)
			}
			old = old[1:]
		}
	}
	return name, nil
}
