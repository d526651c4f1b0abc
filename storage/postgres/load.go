package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"refillbot/storage"
)

// ErrNotEmpty: Load was asked to fill a database that already holds a shop.
var ErrNotEmpty = errors.New("the target database is not empty")

// LoadResult says what Load did.
type LoadResult struct {
	// Already: the target held exactly this dump from an earlier Load;
	// nothing was written.
	Already bool
}

// Load copies a dump of a bbolt store (refillbot migrate) into this store,
// in one transaction, sealing what needs sealing with this store's key.
// A database that already holds data is refused (ErrNotEmpty) unless
// force is set — then every record of the dump overwrites its namesake and
// the rest stays — except when it holds this very dump already: loading
// the same dump twice is a no-op, so a migration can be retried safely.
func (s *Store) Load(ctx context.Context, d storage.Dump, force bool) (LoadResult, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return LoadResult{}, err
	}
	sum := sha256.Sum256(raw)
	fingerprint := []byte(hex.EncodeToString(sum[:]))
	var res LoadResult
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One migration at a time, even from two terminals.
		if _, err := tx.Exec(ctx, `LOCK TABLE sessions, outbox, tracked, checkouts IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var prev []byte
		err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE name = 'migrated_from'`).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if string(prev) == string(fingerprint) {
			res.Already = true
			return nil
		}
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions) OR EXISTS (SELECT 1 FROM outbox)
			OR EXISTS (SELECT 1 FROM tracked) OR EXISTS (SELECT 1 FROM checkouts)`).Scan(&used); err != nil {
			return err
		}
		if used && !force {
			return ErrNotEmpty
		}
		return s.load(ctx, tx, d, fingerprint)
	})
	if err != nil {
		return LoadResult{}, fmt.Errorf("postgres: load: %w", err)
	}
	return res, nil
}

func (s *Store) load(ctx context.Context, tx pgx.Tx, d storage.Dump, fingerprint []byte) error {
	b := &pgx.Batch{}
	for _, ds := range d.Sessions {
		state, err := s.encodeSealed(ds.State)
		if err != nil {
			return err
		}
		var addr []byte
		if ds.Address != nil {
			if addr, err = json.Marshal(*ds.Address); err != nil {
				return err
			}
		}
		b.Queue(`INSERT INTO sessions (platform, user_id, state, address, changed) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (platform, user_id) DO UPDATE SET state = excluded.state, address = excluded.address, changed = excluded.changed`,
			ds.Key.Platform, ds.Key.User, state, addr, ds.Changed.UTC())
	}
	for _, t := range d.Tracked {
		if err := queueTracked(b, t); err != nil {
			return err
		}
	}
	for id, at := range d.Settled {
		b.Queue(`INSERT INTO settled (invoice_id, at) VALUES ($1, $2) ON CONFLICT (invoice_id) DO UPDATE SET at = excluded.at`, id, at.UTC())
	}
	for c, inv := range d.Checkouts {
		b.Queue(`INSERT INTO checkouts (checkout, invoice_id) VALUES ($1, $2) ON CONFLICT (checkout) DO UPDATE SET invoice_id = excluded.invoice_id`, c, inv)
	}
	if err := s.queueOutbox(b, d.Outbox, false); err != nil {
		return err
	}
	for _, v := range d.Views {
		addr, err := json.Marshal(v.Address)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO views (invoice_id, address, ref, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (invoice_id) DO UPDATE SET address = excluded.address, ref = excluded.ref, at = excluded.at`,
			v.InvoiceID, addr, v.Ref, v.At.UTC())
	}
	for _, sc := range d.Timers {
		if err := queueSchedule(b, sc, true); err != nil {
			return err
		}
	}
	for name, at := range d.Marks {
		b.Queue(`INSERT INTO marks (name, at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET at = excluded.at`, name, at.UTC())
	}
	if d.WebhookSecret != "" {
		// Invoices created before the move carry this secret in their
		// webhook URL: it must stay the same.
		b.Queue(`INSERT INTO meta (name, value) VALUES ('webhook_secret', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, []byte(d.WebhookSecret))
	}
	if d.OutboxLast > 0 {
		b.Queue(`INSERT INTO meta (name, value) VALUES ('outbox_high', $1)
			ON CONFLICT (name) DO UPDATE SET value = GREATEST(meta.value, excluded.value)`, binary.BigEndian.AppendUint64(nil, d.OutboxLast))
	}
	b.Queue(`INSERT INTO meta (name, value) VALUES ('migrated_from', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, fingerprint)
	return tx.SendBatch(ctx, b).Close()
}
