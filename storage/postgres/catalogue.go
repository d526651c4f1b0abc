package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"refillbot/bitrefill"
)

// SaveCatalogue keeps a listing fetched from Bitrefill under name, for the
// other replicas.
func (s *Store) SaveCatalogue(name string, ps []bitrefill.Product, fetched time.Time) error {
	b, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	ctx, cancel := opctx()
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO catalogue (name, products, fetched) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET products = excluded.products, fetched = excluded.fetched`, name, b, fetched.UTC())
	if err != nil {
		return fmt.Errorf("postgres: save catalogue %s: %w", name, err)
	}
	return nil
}

// Catalogue returns the listing kept under name and when it was fetched,
// or false if none was kept yet.
func (s *Store) Catalogue(name string) ([]bitrefill.Product, time.Time, bool, error) {
	ctx, cancel := opctx()
	defer cancel()
	var b []byte
	var fetched time.Time
	err := s.pool.QueryRow(ctx, `SELECT products, fetched FROM catalogue WHERE name = $1`, name).Scan(&b, &fetched)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("postgres: catalogue %s: %w", name, err)
	}
	var ps []bitrefill.Product
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, time.Time{}, false, fmt.Errorf("postgres: catalogue %s: %w", name, ErrCorrupt)
	}
	return ps, fetched, true, nil
}
