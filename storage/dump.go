package storage

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/bot"
	"refillbot/conversation"
)

// Dump is everything a store holds, in the shell's records, for moving a
// shop to another store (refillbot migrate): sessions with their purchases,
// the watch list, queued messages, timers, the once-only marks, and the
// secrets that must survive the move (the Bitrefill webhook path secret:
// invoices already created carry it).
type Dump struct {
	Sessions      []DumpSession
	Tracked       []bot.Tracked
	Settled       map[string]time.Time // settled invoice → when
	Checkouts     map[string]string    // checkout → invoice
	Outbox        []bot.OutboxRecord
	Views         []DumpView
	Timers        []bot.Scheduled
	Marks         map[string]time.Time
	WebhookSecret string
	OutboxLast    uint64
}

// DumpSession is one session with its last private address.
type DumpSession struct {
	bot.SessionInfo
	Address *conversation.Address
}

// DumpView is an invoice view with when it was recorded (for Prune).
type DumpView struct {
	bot.View
	At time.Time
}

// Dump reads the whole store. Unlike the listings the bot uses, it fails
// on any record it cannot read: a move must not leave one behind silently.
func (s *Store) Dump() (Dump, error) {
	d := Dump{Settled: map[string]time.Time{}, Checkouts: map[string]string{}, Marks: map[string]time.Time{}}
	sessions, err := s.AllSessions()
	if err != nil {
		return d, err
	}
	for _, si := range sessions {
		ds := DumpSession{SessionInfo: si}
		if a, ok, err := s.Address(si.Key); err != nil {
			return d, fmt.Errorf("storage: address of %s: %w", si.Key, err)
		} else if ok {
			ds.Address = &a
		}
		d.Sessions = append(d.Sessions, ds)
	}
	if d.Tracked, err = s.Tracked(); err != nil {
		return d, err
	}
	forever := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) // later than any record; UnixNano still fits
	if d.Outbox, err = s.OutboxDue(forever, 0); err != nil {
		return d, err
	}
	if d.Timers, err = s.Due(forever, 0); err != nil {
		return d, err
	}
	if d.OutboxLast, err = s.OutboxLast(); err != nil {
		return d, err
	}
	if d.WebhookSecret, err = s.WebhookSecret(); err != nil {
		return d, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		each := func(bucket []byte, fn func(k string, v []byte) error) {
			_ = tx.Bucket(bucket).ForEach(func(k, v []byte) error {
				if err := fn(string(k), v); err != nil {
					errs = append(errs, fmt.Errorf("%s %q: %w", bucket, k, err))
				}
				return nil
			})
		}
		each(bucketSettled, func(k string, v []byte) error {
			var r settledRecord
			err := decode(v, &r)
			d.Settled[k] = r.At
			return err
		})
		each(bucketMarks, func(k string, v []byte) error {
			var r settledRecord
			err := decode(v, &r)
			d.Marks[k] = r.At
			return err
		})
		each(bucketCheckouts, func(k string, v []byte) error {
			var r checkoutRecord
			err := decode(v, &r)
			d.Checkouts[k] = r.Invoice
			return err
		})
		each(bucketViews, func(k string, v []byte) error {
			var r viewValue
			err := decode(v, &r)
			d.Views = append(d.Views, DumpView{View: bot.View{InvoiceID: k, Address: r.Address, Ref: r.Ref}, At: r.At})
			return err
		})
		return errors.Join(errs...)
	})
	if err != nil {
		return d, fmt.Errorf("storage: dump: %w", err)
	}
	return d, nil
}
