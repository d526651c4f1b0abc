package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"refillbot/bot"
)

// The operator's records: daily statistics, the current broadcast, and
// the outbox's size for the metrics — the same semantics as the bbolt store.

var (
	_ bot.StatsStore     = (*Store)(nil)
	_ bot.BroadcastStore = (*Store)(nil)
)

// AddStats adds each day's counts to the stored ones, in one transaction.
// Each day's row is locked (FOR UPDATE) while its maps are merged, so
// replicas adding to the same day at once never lose a count; days are
// taken in date order so two such transactions cannot deadlock.
func (s *Store) AddStats(days []bot.DayStats) error {
	if len(days) == 0 {
		return nil
	}
	days = slices.Clone(days)
	slices.SortStableFunc(days, func(a, b bot.DayStats) int { return strings.Compare(a.Day, b.Day) })
	ctx, cancel := opctx()
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, d := range days {
			if _, err := tx.Exec(ctx, `INSERT INTO stats (day, record) VALUES ($1, '{}') ON CONFLICT (day) DO NOTHING`, d.Day); err != nil {
				return err
			}
			var raw []byte
			if err := tx.QueryRow(ctx, `SELECT record FROM stats WHERE day = $1 FOR UPDATE`, d.Day).Scan(&raw); err != nil {
				return err
			}
			var cur bot.DayStats
			if err := json.Unmarshal(raw, &cur); err != nil {
				return fmt.Errorf("%w: stats %s: %v", ErrCorrupt, d.Day, err)
			}
			cur.Day = d.Day
			cur.Add(d)
			v, err := json.Marshal(cur)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE stats SET record = $2 WHERE day = $1`, d.Day, string(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: stats: %w", err)
	}
	return nil
}

// Stats returns the stored days from..to, inclusive, in date order.
func (s *Store) Stats(from, to string) ([]bot.DayStats, error) {
	ctx, cancel := opctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT day, record FROM stats WHERE day >= $1 AND day <= $2 ORDER BY day`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: stats: %w", err)
	}
	var out []bot.DayStats
	var day string
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&day, &raw}, func() error {
		var d bot.DayStats
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("%w: stats %s: %v", ErrCorrupt, day, err)
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: stats: %w", err)
	}
	return out, nil
}

// OutboxCount is how many messages wait in the outbox, across every
// replica (the refillbot_outbox_pending gauge).
func (s *Store) OutboxCount() (int, error) {
	ctx, cancel := opctx()
	defer cancel()
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: outbox count: %w", err)
	}
	return n, nil
}

// PutBroadcast replaces the current broadcast.
func (s *Store) PutBroadcast(b bot.Broadcast) error {
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	ctx, cancel := opctx()
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO broadcast (id, record) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET record = excluded.record`, string(v)); err != nil {
		return fmt.Errorf("postgres: broadcast: %w", err)
	}
	return nil
}

// CurrentBroadcast returns the broadcast last put, if any.
func (s *Store) CurrentBroadcast() (bot.Broadcast, bool, error) {
	ctx, cancel := opctx()
	defer cancel()
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM broadcast WHERE id = 1`).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.Broadcast{}, false, nil
	}
	if err != nil {
		return bot.Broadcast{}, false, fmt.Errorf("postgres: broadcast: %w", err)
	}
	var b bot.Broadcast
	if err := json.Unmarshal(raw, &b); err != nil {
		return bot.Broadcast{}, false, fmt.Errorf("%w: broadcast: %v", ErrCorrupt, err)
	}
	return b, true, nil
}
