package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/bot"
)

// The inbox: updates a chat platform delivered and the bot has not handled
// yet (bot.Inbox). Two buckets, keyed by platform, a zero byte and the
// update id (8 bytes, big-endian with the sign bit flipped, so that keys sort
// as the ids do):
//
//	inbox       → the update as received
//	inbox-done  → when it was handled (Unix nanoseconds): kept 25 hours, so
//	              that Telegram sending it again is recognised
//
// The buckets are made on first use, so a file from before the inbox opens
// as it is.
var (
	bucketInbox     = []byte("inbox")
	bucketInboxDone = []byte("inbox-done")
)

var _ bot.Inbox = (*Store)(nil)

// inboxSeenFor is how long a handled update's id is remembered: Telegram
// keeps an undelivered update for 24 hours.
const inboxSeenFor = 25 * time.Hour

func inboxKey(platform string, id int64) []byte {
	k := make([]byte, len(platform)+1+8)
	copy(k, platform)
	binary.BigEndian.PutUint64(k[len(platform)+1:], uint64(id)^(1<<63))
	return k
}

func inboxID(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[len(k)-8:]) ^ (1 << 63)) }

func inboxPrefix(platform string) []byte { return append([]byte(platform), 0) }

// PutUpdates stores the updates of batch not seen before, durably, and
// returns them in batch order (see bot.Inbox). Handled ids older than 25
// hours are forgotten on the way.
func (s *Store) PutUpdates(platform string, batch []bot.InboxUpdate) ([]bot.InboxUpdate, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	var fresh []bot.InboxUpdate
	now := time.Now()
	err := s.write(func(tx *bolt.Tx) error {
		fresh = fresh[:0] // db.Batch may run this twice
		in, done, err := inboxBuckets(tx)
		if err != nil {
			return err
		}
		if err := forgetDone(done, platform, now.Add(-inboxSeenFor)); err != nil {
			return err
		}
		for _, u := range batch {
			k := inboxKey(platform, u.ID)
			if in.Get(k) != nil || done.Get(k) != nil {
				continue
			}
			if err := in.Put(k, u.Raw); err != nil {
				return err
			}
			fresh = append(fresh, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: inbox: %w", err)
	}
	return fresh, nil
}

// forgetDone deletes the done marks handled before cutoff. Ids grow with
// time, so the oldest marks come first and the scan stops at the first one
// to keep: one seek per call when there is nothing to forget. (Telegram
// picks ids afresh after a week without updates; marks older than that
// then linger behind the new ones, a bounded leftover.)
func forgetDone(done *bolt.Bucket, platform string, cutoff time.Time) error {
	prefix := inboxPrefix(platform)
	c := done.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		if len(v) != 8 || time.Unix(0, int64(binary.BigEndian.Uint64(v))).After(cutoff) {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// PendingUpdates returns the updates stored and not done, by id.
func (s *Store) PendingUpdates(platform string) ([]bot.InboxUpdate, error) {
	var out []bot.InboxUpdate
	err := s.db.View(func(tx *bolt.Tx) error {
		in := tx.Bucket(bucketInbox)
		if in == nil {
			return nil
		}
		prefix := inboxPrefix(platform)
		c := in.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+8 {
				continue
			}
			out = append(out, bot.InboxUpdate{ID: inboxID(k), Raw: bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: inbox: %w", err)
	}
	return out, nil
}

// DoneUpdate records that an update was handled, durably.
func (s *Store) DoneUpdate(platform string, id int64) error {
	err := s.write(func(tx *bolt.Tx) error { return markUpdateDone(tx, platform, id, time.Now()) })
	if err != nil {
		return fmt.Errorf("storage: inbox: %w", err)
	}
	return nil
}

// inboxBuckets returns the pending and done buckets, created on first use
// (a database from before the inbox has neither).
func inboxBuckets(tx *bolt.Tx) (in, done *bolt.Bucket, err error) {
	if in, err = tx.CreateBucketIfNotExists(bucketInbox); err != nil {
		return nil, nil, err
	}
	if done, err = tx.CreateBucketIfNotExists(bucketInboxDone); err != nil {
		return nil, nil, err
	}
	return in, done, nil
}

// markUpdateDone moves an update from pending to done in tx; idempotent.
func markUpdateDone(tx *bolt.Tx, platform string, id int64, now time.Time) error {
	in, done, err := inboxBuckets(tx)
	if err != nil {
		return err
	}
	k := inboxKey(platform, id)
	if err := in.Delete(k); err != nil {
		return err
	}
	var at [8]byte
	binary.BigEndian.PutUint64(at[:], uint64(now.UnixNano()))
	return done.Put(k, at[:])
}
