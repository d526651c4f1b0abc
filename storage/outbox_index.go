package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"refillbot/bot"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/conversation"
)

// The outbox's indexes. A user who blocked the bot keeps their messages
// (never dropped), so the oldest records can be thousands of messages that
// are not due for hours; reading the outbox in id order would then never
// reach a code that is due now. Two indexes avoid that:
//
//   - by session (outbox_sess): a session's records in id order, which is
//     the order they must leave in; the value is the record's next-try time.
//   - by due time (outbox_due): one entry per session with records, for its
//     oldest record (the head), keyed by the head's next-try time. Only the
//     head can be sent — later records wait behind it — so a session with
//     999 messages queued behind one held back costs one entry, not 999.
//
// outbox_ids maps a record id to its session (to find its entries when it
// is sent or retried), and outbox_head a session to its due entry. Session
// keys in index keys are length-prefixed: a user id may hold any byte.
var (
	bucketOutboxSess = []byte("outbox_sess")
	bucketOutboxDue  = []byte("outbox_due")
	bucketOutboxIDs  = []byte("outbox_ids")
	bucketOutboxHead = []byte("outbox_head")
	outboxIndexes    = [][]byte{bucketOutboxSess, bucketOutboxDue, bucketOutboxIDs, bucketOutboxHead}

	// metaOutboxIndexed marks a file whose outbox indexes are complete;
	// files from before the indexes get them built once, at Open.
	metaOutboxIndexed = []byte("outbox_indexed")
)

func rawSession(k conversation.SessionKey) []byte {
	return []byte(k.Platform + "\x00" + k.User)
}

func sessionPrefix(sk []byte) []byte {
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(sk)+8), uint16(len(sk)))
	return append(p, sk...)
}

func timeKey(t time.Time) []byte {
	var n uint64
	if !t.IsZero() {
		n = uint64(max(t.UnixNano(), 0))
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 16), n)
}

// indexEntry is what the indexes know of a record.
type indexEntry struct {
	id   uint64
	sk   []byte
	next time.Time
}

func (e indexEntry) put(tx *bolt.Tx) error { return indexPut(tx, e.id, e.sk, e.next) }

// indexPut (re)indexes record id of session sk with next-try time next.
// Idempotent, as db.Batch requires.
func indexPut(tx *bolt.Tx, id uint64, sk []byte, next time.Time) error {
	if err := indexDelete(tx, id); err != nil {
		return err
	}
	idk := outboxKey(id)
	if err := tx.Bucket(bucketOutboxIDs).Put(idk, sk); err != nil {
		return err
	}
	if err := tx.Bucket(bucketOutboxSess).Put(append(sessionPrefix(sk), idk...), timeKey(next)); err != nil {
		return err
	}
	return indexHead(tx, sk)
}

// indexDelete removes record id from the indexes (no-op if absent).
func indexDelete(tx *bolt.Tx, id uint64) error {
	idk := outboxKey(id)
	ids := tx.Bucket(bucketOutboxIDs)
	sk := ids.Get(idk)
	if sk == nil {
		return nil
	}
	sk = bytes.Clone(sk)
	if err := ids.Delete(idk); err != nil {
		return err
	}
	if err := tx.Bucket(bucketOutboxSess).Delete(append(sessionPrefix(sk), idk...)); err != nil {
		return err
	}
	return indexHead(tx, sk)
}

// indexHead points the due index at session sk's oldest record.
func indexHead(tx *bolt.Tx, sk []byte) error {
	heads, due := tx.Bucket(bucketOutboxHead), tx.Bucket(bucketOutboxDue)
	if old := heads.Get(sk); old != nil {
		if err := due.Delete(bytes.Clone(old)); err != nil {
			return err
		}
	}
	prefix := sessionPrefix(sk)
	k, v := tx.Bucket(bucketOutboxSess).Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 || len(v) != 8 {
		return heads.Delete(sk)
	}
	dk := append(bytes.Clone(v), k[len(prefix):]...)
	if err := due.Put(dk, sk); err != nil {
		return err
	}
	return heads.Put(sk, dk)
}

// buildOutboxIndexes indexes every record of a file written before the
// indexes existed. A record that cannot be read is left out (Outbox still
// reports it).
func (s *Store) buildOutboxIndexes(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get(metaOutboxIndexed) != nil {
		return nil
	}
	c := tx.Bucket(bucketOutbox).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := s.decodeOutbox(k, v)
		if err != nil {
			continue
		}
		if err := indexPut(tx, r.ID, rawSession(r.Session), r.NextTry); err != nil {
			return err
		}
	}
	return meta.Put(metaOutboxIndexed, []byte("1"))
}

// OutboxDue returns the records of every session whose next message is due
// at now (its next-try time is not after now), each session's records
// oldest first, sessions in the order their next message fell due. It reads
// at most limit records (all when limit <= 0); a session cut short is
// continued by the next call, its head being still due. Records held back
// (a blocked user's) cost nothing here however many there are.
func (s *Store) OutboxDue(now time.Time, limit int) ([]bot.OutboxRecord, error) {
	var out []bot.OutboxRecord
	var errs []error
	end := timeKey(now)
	err := s.db.View(func(tx *bolt.Tx) error {
		sess, outbox := tx.Bucket(bucketOutboxSess), tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketOutboxDue).Cursor()
		for k, sk := c.First(); k != nil && bytes.Compare(k[:min(8, len(k))], end) <= 0; k, sk = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			prefix := sessionPrefix(sk)
			sc := sess.Cursor()
			first := true
			for ik, iv := sc.Seek(prefix); ik != nil && bytes.HasPrefix(ik, prefix) && (limit <= 0 || len(out) < limit); ik, iv = sc.Next() {
				if !first && bytes.Compare(iv, end) > 0 {
					break // not due: the rest of this session waits behind it
				}
				first = false
				out, errs = s.appendOutbox(out, errs, outbox, ik[len(prefix):])
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: outbox due: %w", err)
	}
	return out, errors.Join(errs...)
}

// appendOutbox adds the record with id to out if it still exists (an index
// entry may outlive its record within a listing). A record that cannot be
// read is reported in errs and skipped, so one bad record never hides the
// others.
func (s *Store) appendOutbox(out []bot.OutboxRecord, errs []error, outbox *bolt.Bucket, id []byte) ([]bot.OutboxRecord, []error) {
	v := outbox.Get(id)
	if v == nil {
		return out, errs
	}
	r, err := s.decodeOutbox(id, v)
	if err != nil {
		return out, append(errs, fmt.Errorf("storage: outbox record %x: %w", id, err))
	}
	return append(out, r), errs
}

// OutboxSession returns up to limit of one session's records (all when
// limit <= 0), oldest first, whatever their next-try time.
func (s *Store) OutboxSession(key conversation.SessionKey, limit int) ([]bot.OutboxRecord, error) {
	var out []bot.OutboxRecord
	var errs []error
	prefix := sessionPrefix(rawSession(key))
	err := s.db.View(func(tx *bolt.Tx) error {
		outbox := tx.Bucket(bucketOutbox)
		c := tx.Bucket(bucketOutboxSess).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
			out, errs = s.appendOutbox(out, errs, outbox, k[len(prefix):])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: outbox of %s: %w", key, err)
	}
	return out, errors.Join(errs...)
}
