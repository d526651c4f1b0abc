package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"refillbot/bot"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/conversation"
)

type outboxValue struct {
	V        int                     `json:"v"`
	Session  conversation.SessionKey `json:"session"`
	Address  conversation.Address    `json:"address"`
	Reply    conversation.Reply      `json:"reply"`
	Invoice  string                  `json:"invoice,omitempty"`
	Edit     bool                    `json:"edit,omitempty"`
	View     bool                    `json:"view,omitempty"`
	Hide     bool                    `json:"hide,omitempty"`
	Attempts int                     `json:"attempts,omitempty"`
	NextTry  time.Time               `json:"next_try,omitzero"`
	Created  time.Time               `json:"created,omitzero"`
}

type viewValue struct {
	V       int                  `json:"v"`
	Address conversation.Address `json:"address"`
	Ref     string               `json:"ref"`
	At      time.Time            `json:"at"`
}

func outboxKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), id)
}

func (s *Store) encodeOutbox(r bot.OutboxRecord) (keyValue, error) {
	if r.ID == 0 {
		return keyValue{}, errors.New("storage: outbox record without an id")
	}
	v, err := json.Marshal(outboxValue{V: recordVersion, Session: r.Session, Address: r.Address, Reply: r.Reply,
		Invoice: r.Invoice, Edit: r.Edit, View: r.View, Hide: r.Hide, Attempts: r.Attempts, NextTry: r.NextTry, Created: r.Created})
	if err != nil {
		return keyValue{}, fmt.Errorf("encode outbox record: %w", err)
	}
	return keyValue{outboxKey(r.ID), s.seal.Seal(v)}, nil
}

func (s *Store) decodeOutbox(k, v []byte) (bot.OutboxRecord, error) {
	if len(k) != 8 {
		return bot.OutboxRecord{}, fmt.Errorf("%w: outbox key %x", ErrCorrupt, k)
	}
	var o outboxValue
	if err := s.open(v, &o); err != nil {
		return bot.OutboxRecord{}, err
	}
	return bot.OutboxRecord{ID: binary.BigEndian.Uint64(k), Session: o.Session, Address: o.Address, Reply: o.Reply,
		Invoice: o.Invoice, Edit: o.Edit, View: o.View, Hide: o.Hide, Attempts: o.Attempts, NextTry: o.NextTry, Created: o.Created}, nil
}

// Enqueue stores messages not caused by a session's step (reminders).
func (s *Store) Enqueue(recs []bot.OutboxRecord) error {
	kvs := make([]keyValue, 0, len(recs))
	idx := make([]indexEntry, 0, len(recs))
	for _, r := range recs {
		kv, err := s.encodeOutbox(r)
		if err != nil {
			return err
		}
		kvs = append(kvs, kv)
		idx = append(idx, indexEntry{r.ID, rawSession(r.Session), r.NextTry})
	}
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for i, kv := range kvs {
			if err := b.Put(kv.k, kv.v); err != nil {
				return err
			}
			if err := idx[i].put(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: enqueue: %w", err)
	}
	return nil
}

// Outbox returns up to limit pending records (all when limit <= 0), oldest
// first. Unreadable records are reported, not hidden behind the others.
func (s *Store) Outbox(limit int) ([]bot.OutboxRecord, error) {
	var out []bot.OutboxRecord
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			r, err := s.decodeOutbox(k, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("storage: outbox record %x: %w", k, err))
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: outbox: %w", err)
	}
	return out, errors.Join(errs...)
}

// OutboxLast is the highest record id ever stored and still pending (0 when
// none), so that ids handed out after a restart keep increasing.
func (s *Store) OutboxLast() (uint64, error) {
	var last uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketOutbox).Cursor().Last(); len(k) == 8 {
			last = binary.BigEndian.Uint64(k)
		}
		if v := tx.Bucket(bucketMeta).Get(metaOutboxHigh); len(v) == 8 {
			last = max(last, binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return last, err
}

var metaOutboxHigh = []byte("outbox_high")

// OutboxDone deletes records the platform accepted (the "sent" mark), and
// remembers the message references of invoice views and the code messages
// to hide later, all in one transaction.
func (s *Store) OutboxDone(ids []uint64, views []bot.View, hides []bot.Scheduled) error {
	var high uint64
	for _, id := range ids {
		high = max(high, id)
	}
	vkvs := make([]keyValue, 0, len(views))
	for _, v := range views {
		k, err := invoiceKey(v.InvoiceID)
		if err != nil {
			return err
		}
		b, err := json.Marshal(viewValue{V: recordVersion, Address: v.Address, Ref: v.Ref, At: time.Now().UTC()})
		if err != nil {
			return err
		}
		vkvs = append(vkvs, keyValue{k, b})
	}
	skvs := make([]keyValue, 0, len(hides))
	for _, h := range hides {
		kv, err := encodeScheduled(h)
		if err != nil {
			return err
		}
		skvs = append(skvs, kv)
	}
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for _, id := range ids {
			if err := b.Delete(outboxKey(id)); err != nil {
				return err
			}
			if err := indexDelete(tx, id); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaOutboxHigh); len(v) != 8 || binary.BigEndian.Uint64(v) < high {
			if err := meta.Put(metaOutboxHigh, outboxKey(high)); err != nil {
				return err
			}
		}
		for _, kv := range vkvs {
			if err := tx.Bucket(bucketViews).Put(kv.k, kv.v); err != nil {
				return err
			}
		}
		for _, kv := range skvs {
			if err := tx.Bucket(bucketSchedule).Put(kv.k, kv.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: outbox done: %w", err)
	}
	return nil
}

// OutboxRetry records a failed attempt: the record waits until next.
func (s *Store) OutboxRetry(id uint64, attempts int, next time.Time) error {
	k := outboxKey(id)
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		v := b.Get(k)
		if v == nil {
			return nil // sent meanwhile
		}
		r, err := s.decodeOutbox(k, v)
		if err != nil {
			return err
		}
		r.Attempts, r.NextTry = attempts, next
		kv, err := s.encodeOutbox(r)
		if err != nil {
			return err
		}
		if err := b.Put(kv.k, kv.v); err != nil {
			return err
		}
		return indexPut(tx, id, rawSession(r.Session), next)
	})
	if err != nil {
		return fmt.Errorf("storage: outbox retry: %w", err)
	}
	return nil
}

// InvoiceView returns the message showing an invoice, if one was recorded.
func (s *Store) InvoiceView(invoiceID string) (bot.View, bool, error) {
	k, err := invoiceKey(invoiceID)
	if err != nil {
		return bot.View{}, false, err
	}
	var v viewValue
	found := false
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketViews).Get(k)
		if b == nil {
			return nil
		}
		found = true
		return decode(b, &v)
	})
	if err != nil {
		return bot.View{}, false, fmt.Errorf("storage: invoice view %q: %w", invoiceID, err)
	}
	return bot.View{InvoiceID: invoiceID, Address: v.Address, Ref: v.Ref}, found, nil
}

// ---- Scheduled work ----

type scheduledValue struct {
	V       int                     `json:"v"`
	Kind    string                  `json:"kind"`
	Session conversation.SessionKey `json:"session"`
	Address conversation.Address    `json:"address"`
	Ref     string                  `json:"ref,omitempty"`
	Subject string                  `json:"subject,omitempty"`
	Date    string                  `json:"date,omitempty"`
	Tries   int                     `json:"tries,omitempty"`
}

func scheduledKey(due time.Time, name string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(name)), uint64(max(due.UnixNano(), 0)))
	return append(k, name...)
}

func encodeScheduled(sc bot.Scheduled) (keyValue, error) {
	if sc.Name == "" || 8+len(sc.Name) > bolt.MaxKeySize {
		return keyValue{}, fmt.Errorf("storage: invalid schedule name %q", sc.Name)
	}
	v, err := json.Marshal(scheduledValue{V: recordVersion, Kind: sc.Kind, Session: sc.Session, Address: sc.Address,
		Ref: sc.Ref, Subject: sc.Subject, Date: sc.Date, Tries: sc.Attempts})
	if err != nil {
		return keyValue{}, err
	}
	return keyValue{scheduledKey(sc.Due, sc.Name), v}, nil
}

// Due returns up to limit scheduled entries due at or before now, earliest first.
func (s *Store) Due(now time.Time, limit int) ([]bot.Scheduled, error) {
	var out []bot.Scheduled
	var errs []error
	end := scheduledKey(now, "\xff")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSchedule).Cursor()
		for k, v := c.First(); k != nil && bytes.Compare(k, end) <= 0 && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var sv scheduledValue
			if len(k) < 9 {
				errs = append(errs, fmt.Errorf("storage: schedule key %x: %w", k, ErrCorrupt))
				continue
			}
			if err := decode(v, &sv); err != nil {
				errs = append(errs, fmt.Errorf("storage: schedule %q: %w", k[8:], err))
				continue
			}
			out = append(out, bot.Scheduled{Due: time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), Name: string(k[8:]),
				Kind: sv.Kind, Session: sv.Session, Address: sv.Address, Ref: sv.Ref, Subject: sv.Subject, Date: sv.Date, Attempts: sv.Tries})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: due: %w", err)
	}
	return out, errors.Join(errs...)
}

// ScheduleDone removes entries that were carried out.
func (s *Store) ScheduleDone(done []bot.Scheduled) error {
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedule)
		for _, sc := range done {
			if err := b.Delete(scheduledKey(sc.Due, sc.Name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: schedule done: %w", err)
	}
	return nil
}

// ScheduleRetry moves an entry that could not be carried out to next, with
// its attempt count, so that it waits behind the work due before then
// instead of being read first on every run.
func (s *Store) ScheduleRetry(sc bot.Scheduled, next time.Time) error {
	moved := sc
	moved.Due = next
	kv, err := encodeScheduled(moved)
	if err != nil {
		return err
	}
	err = s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedule)
		if b.Get(scheduledKey(sc.Due, sc.Name)) == nil {
			return nil // done or moved meanwhile
		}
		if err := b.Delete(scheduledKey(sc.Due, sc.Name)); err != nil {
			return err
		}
		return b.Put(kv.k, kv.v)
	})
	if err != nil {
		return fmt.Errorf("storage: schedule retry: %w", err)
	}
	return nil
}
