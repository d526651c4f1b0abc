package storage

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"refillbot/bot"
)

// The operator's records: daily statistics, the current broadcast, and
// the outbox's size for the metrics.

var (
	_ bot.StatsStore     = (*Store)(nil)
	_ bot.BroadcastStore = (*Store)(nil)
)

// bucketStats holds the operator's daily statistics, one JSON record per
// UTC day keyed "2006-01-02" (so keys sort by date). Counts and sums only:
// nothing in it is secret, so it is not sealed. It is created on first
// write, so databases from before it need no migration.
var bucketStats = []byte("stats")

// AddStats adds each day's counts to the stored ones, in one transaction.
func (s *Store) AddStats(days []bot.DayStats) error {
	if len(days) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketStats)
		if err != nil {
			return err
		}
		for _, d := range days {
			var cur bot.DayStats
			if v := b.Get([]byte(d.Day)); v != nil {
				if err := json.Unmarshal(v, &cur); err != nil {
					return fmt.Errorf("%w: stats %s: %v", ErrCorrupt, d.Day, err)
				}
			}
			cur.Day = d.Day
			cur.Add(d)
			v, err := json.Marshal(cur)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(d.Day), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: stats: %w", err)
	}
	return nil
}

// Stats returns the stored days from..to, inclusive, in date order.
func (s *Store) Stats(from, to string) ([]bot.DayStats, error) {
	var out []bot.DayStats
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStats)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(from)); k != nil && string(k) <= to; k, v = c.Next() {
			var d bot.DayStats
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("%w: stats %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: stats: %w", err)
	}
	return out, nil
}

// OutboxCount is how many messages wait in the outbox (the
// refillbot_outbox_pending gauge).
func (s *Store) OutboxCount() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n, err
}

// bucketBroadcast holds the current (or last) broadcast under one key; it
// is created on first write, like bucketStats.
var (
	bucketBroadcast = []byte("broadcast")
	keyBroadcast    = []byte("current")
)

// PutBroadcast replaces the current broadcast.
func (s *Store) PutBroadcast(b bot.Broadcast) error {
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucketBroadcast)
		if err != nil {
			return err
		}
		return bk.Put(keyBroadcast, v)
	})
	if err != nil {
		return fmt.Errorf("storage: broadcast: %w", err)
	}
	return nil
}

// CurrentBroadcast returns the broadcast last put, if any.
func (s *Store) CurrentBroadcast() (bot.Broadcast, bool, error) {
	var b bot.Broadcast
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBroadcast)
		if bk == nil {
			return nil
		}
		v := bk.Get(keyBroadcast)
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &b)
	})
	if err != nil {
		return bot.Broadcast{}, false, fmt.Errorf("storage: broadcast: %w", err)
	}
	return b, found, nil
}
