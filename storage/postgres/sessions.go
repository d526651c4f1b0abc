package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"refillbot/bot"
	"refillbot/conversation"
)

// Session returns the stored state for key and true, or the zero State and
// false when the session is new.
func (s *Store) Session(key conversation.SessionKey) (conversation.State, bool, error) {
	if err := checkSession(key); err != nil {
		return conversation.State{}, false, err
	}
	ctx, cancel := opctx()
	defer cancel()
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT state FROM sessions WHERE platform = $1 AND user_id = $2`, key.Platform, key.User).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return conversation.State{}, false, nil
	}
	if err != nil {
		return conversation.State{}, false, fmt.Errorf("postgres: session %s: %w", key, err)
	}
	if st, ok := s.states.Take(key, b); ok {
		return st, true, nil // the bytes this replica last wrote: no need to decode them
	}
	st, err := openSealed[conversation.State](s, b)
	if err != nil {
		return conversation.State{}, false, fmt.Errorf("postgres: session %s: %w", key, err)
	}
	return st, true, nil
}

// Commit stores one step's outcome in one transaction, durable when it
// returns (synchronous_commit is the server's; leave it on). The outbox rows
// it writes are claimed by this replica, which sends them right after: the
// other replicas' drains leave them alone until the claim's lease runs out.
func (s *Store) Commit(c bot.Commit) error {
	if err := s.commit(c); err != nil {
		return fmt.Errorf("postgres: commit %s: %w", c.Key, err)
	}
	return nil
}

func (s *Store) commit(c bot.Commit) (err error) {
	if err := checkSession(c.Key); err != nil {
		return err
	}
	state, err := s.encodeSealed(c.State)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	var addr []byte
	if c.Address.Private {
		if addr, err = json.Marshal(c.Address); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	b := &pgx.Batch{}
	// Only a private address is kept: a group chat is no place for a
	// reminder about someone's eSIM or card.
	b.Queue(`INSERT INTO sessions (platform, user_id, state, address, changed) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (platform, user_id) DO UPDATE SET state = excluded.state,
			address = COALESCE(excluded.address, sessions.address), changed = excluded.changed`,
		c.Key.Platform, c.Key.User, state, addr, now)
	if err := s.queueOutbox(b, c.Outbox, true); err != nil {
		return err
	}
	if len(c.Done) > 0 {
		queueDone(b, c.Done)
	}
	if c.Handled != nil {
		queueUpdateDone(b, *c.Handled, now)
	}
	for _, sc := range c.Schedule {
		if err := queueSchedule(b, sc, false); err != nil {
			return err
		}
	}
	for _, t := range c.Track {
		if t.Session == (conversation.SessionKey{}) {
			t.Session = c.Key
		}
		if err := checkID("invoice id", t.InvoiceID); err != nil {
			return err
		}
		if err := queueTracked(b, t); err != nil {
			return err
		}
		b.Queue(`DELETE FROM settled WHERE invoice_id = $1`, t.InvoiceID)
	}
	if len(c.Untrack) > 0 {
		for _, id := range c.Untrack {
			if err := checkID("invoice id", id); err != nil {
				return err
			}
		}
		b.Queue(`DELETE FROM tracked WHERE invoice_id = ANY($1)`, c.Untrack)
		// The first settlement time stays.
		b.Queue(`INSERT INTO settled (invoice_id, at) SELECT unnest($1::text[]), $2 ON CONFLICT (invoice_id) DO NOTHING`, c.Untrack, now)
	}
	ctx, cancel := opctx()
	defer cancel()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err == nil {
		s.states.Put(c.Key, state, c.State)
	}
	return err
}

func ids64(ids []uint64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// Sessions counts stored sessions.
func (s *Store) Sessions() (int, error) {
	ctx, cancel := opctx()
	defer cancel()
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count sessions: %w", err)
	}
	return n, nil
}

// AllSessions lists every session (for the scheduled jobs, which run
// rarely). Unreadable sessions are reported and skipped.
func (s *Store) AllSessions() ([]bot.SessionInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT platform, user_id, state, changed FROM sessions ORDER BY platform, user_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: sessions: %w", err)
	}
	defer rows.Close()
	var out []bot.SessionInfo
	var errs []error
	for rows.Next() {
		var info bot.SessionInfo
		var b []byte
		if err := rows.Scan(&info.Key.Platform, &info.Key.User, &b, &info.Changed); err != nil {
			return nil, fmt.Errorf("postgres: sessions: %w", err)
		}
		if info.State, err = openSealed[conversation.State](s, b); err != nil {
			errs = append(errs, fmt.Errorf("postgres: session %s: %w", info.Key, err))
			continue
		}
		info.Changed = info.Changed.UTC()
		out = append(out, info)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: sessions: %w", err)
	}
	return out, errors.Join(errs...)
}

// Address is the session's last private address, if it has one.
func (s *Store) Address(key conversation.SessionKey) (conversation.Address, bool, error) {
	if err := checkSession(key); err != nil {
		return conversation.Address{}, false, err
	}
	ctx, cancel := opctx()
	defer cancel()
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT address FROM sessions WHERE platform = $1 AND user_id = $2 AND address IS NOT NULL`,
		key.Platform, key.User).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return conversation.Address{}, false, nil
	}
	if err != nil {
		return conversation.Address{}, false, fmt.Errorf("postgres: address %s: %w", key, err)
	}
	var a conversation.Address
	if err := json.Unmarshal(b, &a); err != nil {
		return conversation.Address{}, false, fmt.Errorf("postgres: address %s: %w", key, ErrCorrupt)
	}
	return a, true, nil
}
