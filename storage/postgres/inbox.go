package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"refillbot/bot"
)

var _ bot.Inbox = (*Store)(nil)

// inboxSeenFor is how long a handled update's id is remembered: Telegram
// keeps an undelivered update for 24 hours, so it cannot come again later.
const inboxSeenFor = 25 * time.Hour

// PutUpdates stores the updates of batch not seen before and returns them.
// The insert decides between replicas: when two receive the same update
// (Telegram retrying a webhook through the load balancer), only the one
// whose row went in first gets it back.
func (s *Store) PutUpdates(platform string, batch []bot.InboxUpdate) ([]bot.InboxUpdate, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	now := time.Now().UTC()
	ctx, cancel := opctx()
	defer cancel()
	var fresh []bot.InboxUpdate
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		fresh = fresh[:0]
		if _, err := tx.Exec(ctx, `DELETE FROM inbox WHERE platform = $1 AND done < $2`, platform, now.Add(-inboxSeenFor)); err != nil {
			return err
		}
		for _, u := range batch {
			tag, err := tx.Exec(ctx, `INSERT INTO inbox (platform, id, raw) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				platform, u.ID, s.seal.Seal(u.Raw))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				fresh = append(fresh, u)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	return fresh, nil
}

// PendingUpdates lists the updates stored and not handled, by id.
func (s *Store) PendingUpdates(platform string) ([]bot.InboxUpdate, error) {
	ctx, cancel := opctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id, raw FROM inbox WHERE platform = $1 AND done IS NULL ORDER BY id`, platform)
	if err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	defer rows.Close()
	var out []bot.InboxUpdate
	for rows.Next() {
		var (
			id  int64
			raw []byte
		)
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("postgres: inbox: %w", err)
		}
		plain, err := s.seal.Open(raw)
		if err != nil {
			return out, fmt.Errorf("postgres: inbox update %d: %w", id, err)
		}
		out = append(out, bot.InboxUpdate{ID: id, Raw: plain})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	return out, nil
}

// DoneUpdate marks an update handled.
func (s *Store) DoneUpdate(platform string, id int64) error {
	b := &pgx.Batch{}
	queueUpdateDone(b, bot.InboxRef{Platform: platform, ID: id}, time.Now().UTC())
	ctx, cancel := opctx()
	defer cancel()
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: inbox: %w", err)
	}
	return nil
}

// queueUpdateDone marks an update handled, remembering its id even if it
// was never stored, and drops its body: only the id is needed from now on.
func queueUpdateDone(b *pgx.Batch, ref bot.InboxRef, now time.Time) {
	b.Queue(`INSERT INTO inbox (platform, id, done) VALUES ($1, $2, $3)
		ON CONFLICT (platform, id) DO UPDATE SET done = excluded.done, raw = NULL WHERE inbox.done IS NULL`,
		ref.Platform, ref.ID, now)
}
