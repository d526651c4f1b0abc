package postgres

import (
	"cmp"
	"fmt"
	"slices"
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
// whose row went in first gets it back. Each row records the replica that
// stored it (owner): that replica is handling it, so PendingUpdates leaves
// it to that replica while it lives.
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
			tag, err := tx.Exec(ctx, `INSERT INTO inbox (platform, id, raw, owner) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
				platform, u.ID, s.seal.Seal(u.Raw), s.replica)
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

// PendingUpdates lists, by id, the updates stored and not handled that
// this replica may hand over: its own (stored by an earlier run under the
// same name) and those of replicas no longer live (their liveness lock went
// with their connection, as for outbox claims), never those of a live
// replica, which is handling them now. It takes them over in one UPDATE:
// a row another replica took meanwhile is owned by a live replica when the
// UPDATE rechecks it, so two replicas never both get one.
func (s *Store) PendingUpdates(platform string) ([]bot.InboxUpdate, error) {
	gone, err := s.goneInboxOwners(platform)
	if err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	ctx, cancel := opctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `UPDATE inbox SET owner = $2
		WHERE platform = $1 AND done IS NULL AND (owner IS NULL OR owner = $2 OR owner = ANY($3))
		RETURNING id, raw`, platform, s.replica, gone)
	if err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	defer rows.Close()
	var out []bot.InboxUpdate
	var readErr error
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
			// Read the rest: the UPDATE took them all over.
			readErr = cmp.Or(readErr, fmt.Errorf("postgres: inbox update %d: %w", id, err))
			continue
		}
		out = append(out, bot.InboxUpdate{ID: id, Raw: plain})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	slices.SortFunc(out, func(a, b bot.InboxUpdate) int { return cmp.Compare(a.ID, b.ID) })
	return out, readErr
}

// goneInboxOwners names the replicas, other than this one, that stored
// pending updates and are no longer live.
func (s *Store) goneInboxOwners(platform string) ([]string, error) {
	ctx, cancel := opctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT owner FROM inbox
		WHERE platform = $1 AND done IS NULL AND owner IS NOT NULL AND owner <> $2`, platform, s.replica)
	if err != nil {
		return nil, err
	}
	owners := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		owners[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	gone := []string{}
	if len(owners) == 0 {
		return gone, nil
	}
	dead, err := s.deadReplicas(owners)
	if err != nil {
		return nil, err
	}
	for name := range dead {
		gone = append(gone, name)
	}
	return gone, nil
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
