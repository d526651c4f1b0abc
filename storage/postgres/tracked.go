package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"refillbot/bot"
)

// Tracked lists every tracked invoice, oldest Created first. A record that
// cannot be read does not hide the others.
func (s *Store) Tracked() ([]bot.Tracked, error) {
	ctx, cancel := opctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT invoice_id, record FROM tracked ORDER BY created, invoice_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: tracked invoices: %w", err)
	}
	defer rows.Close()
	var out []bot.Tracked
	var errs []error
	for rows.Next() {
		var id string
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("postgres: tracked invoices: %w", err)
		}
		t, err := decode[bot.Tracked](b)
		if err != nil {
			errs = append(errs, fmt.Errorf("postgres: tracked invoice %q: %w", id, err))
			continue
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: tracked invoices: %w", err)
	}
	return out, errors.Join(errs...)
}

// TrackedInvoice returns one tracked invoice, or false if it is not tracked.
func (s *Store) TrackedInvoice(id string) (bot.Tracked, bool, error) {
	if err := checkID("invoice id", id); err != nil {
		return bot.Tracked{}, false, err
	}
	ctx, cancel := opctx()
	defer cancel()
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM tracked WHERE invoice_id = $1`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.Tracked{}, false, nil
	}
	if err != nil {
		return bot.Tracked{}, false, fmt.Errorf("postgres: tracked invoice %q: %w", id, err)
	}
	t, err := decode[bot.Tracked](b)
	if err != nil {
		return bot.Tracked{}, false, fmt.Errorf("postgres: tracked invoice %q: %w", id, err)
	}
	return t, true, nil
}

// UpdateTracked records the poller's bookkeeping for t.InvoiceID: Status and
// NextCheck only. It does nothing if the invoice is no longer tracked, so a
// poll racing an Untrack cannot resurrect it.
func (s *Store) UpdateTracked(t bot.Tracked) error {
	if err := checkID("invoice id", t.InvoiceID); err != nil {
		return err
	}
	ctx, cancel := opctx()
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b []byte
		err := tx.QueryRow(ctx, `SELECT record FROM tracked WHERE invoice_id = $1 FOR UPDATE`, t.InvoiceID).Scan(&b)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		cur, err := decode[bot.Tracked](b)
		if err != nil {
			return err
		}
		cur.Status, cur.NextCheck = t.Status, t.NextCheck
		if b, err = encode(cur); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE tracked SET record = $2 WHERE invoice_id = $1`, t.InvoiceID, b)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: update tracked invoice %q: %w", t.InvoiceID, err)
	}
	return nil
}

// Settled reports whether the invoice was untracked as finished, so that a
// late webhook or poll result for it can be ignored.
func (s *Store) Settled(invoiceID string) (bool, error) {
	if err := checkID("invoice id", invoiceID); err != nil {
		return false, err
	}
	ctx, cancel := opctx()
	defer cancel()
	var found bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM settled WHERE invoice_id = $1)`, invoiceID).Scan(&found); err != nil {
		return false, fmt.Errorf("postgres: settled %q: %w", invoiceID, err)
	}
	return found, nil
}

// CheckoutInvoice returns the invoice already created for a checkout, if any.
func (s *Store) CheckoutInvoice(checkout string) (string, bool, error) {
	if err := checkID("checkout id", checkout); err != nil {
		return "", false, err
	}
	ctx, cancel := opctx()
	defer cancel()
	var id string
	err := s.pool.QueryRow(ctx, `SELECT invoice_id FROM checkouts WHERE checkout = $1`, checkout).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: checkout %q: %w", checkout, err)
	}
	return id, true, nil
}

// PutCheckoutInvoice records the invoice created for a checkout. The first
// invoice recorded stays: another one for the same checkout fails with
// bot.ErrCheckoutExists, since it means two invoices were created — whichever
// replicas created them.
func (s *Store) PutCheckoutInvoice(checkout, invoiceID string) error {
	if err := checkID("checkout id", checkout); err != nil {
		return err
	}
	if err := checkID("invoice id", invoiceID); err != nil {
		return err
	}
	ctx, cancel := opctx()
	defer cancel()
	var stored string
	err := s.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO checkouts (checkout, invoice_id) VALUES ($1, $2) ON CONFLICT (checkout) DO NOTHING RETURNING invoice_id)
		SELECT invoice_id FROM ins UNION ALL SELECT invoice_id FROM checkouts WHERE checkout = $1 LIMIT 1`,
		checkout, invoiceID).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another replica's insert committed after this statement's
		// snapshot was taken: read it now.
		err = s.pool.QueryRow(ctx, `SELECT invoice_id FROM checkouts WHERE checkout = $1`, checkout).Scan(&stored)
	}
	if err != nil {
		return fmt.Errorf("postgres: checkout %q: %w", checkout, err)
	}
	if stored != invoiceID {
		return fmt.Errorf("postgres: checkout %q: %w: %q, not %q", checkout, bot.ErrCheckoutExists, stored, invoiceID)
	}
	return nil
}

// queueTracked adds to b the upsert of a watched invoice, replacing an
// earlier record of the same invoice.
func queueTracked(b *pgx.Batch, t bot.Tracked) error {
	rec, err := encode(t)
	if err != nil {
		return err
	}
	b.Queue(`INSERT INTO tracked (invoice_id, platform, user_id, created, record) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (invoice_id) DO UPDATE SET platform = excluded.platform, user_id = excluded.user_id,
			created = excluded.created, record = excluded.record`,
		t.InvoiceID, t.Session.Platform, t.Session.User, t.Created, rec)
	return nil
}
