package postgres

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"refillbot/bot"
)

// queueSchedule adds sc to b: keyed by name and due time, so scheduling it
// again is a no-op (or, with replace, an update of its details).
func queueSchedule(b *pgx.Batch, sc bot.Scheduled, replace bool) error {
	if sc.Name == "" {
		return fmt.Errorf("postgres: invalid schedule name %q", sc.Name)
	}
	rec, err := encode(sc)
	if err != nil {
		return err
	}
	q := `INSERT INTO schedule (name, due, record) VALUES ($1, $2, $3) ON CONFLICT (name, due) DO NOTHING`
	if replace {
		q = `INSERT INTO schedule (name, due, record) VALUES ($1, $2, $3) ON CONFLICT (name, due) DO UPDATE SET record = excluded.record`
	}
	b.Queue(q, sc.Name, sc.Due.UTC(), rec)
	return nil
}

// Due returns up to limit scheduled entries due at or before now (all when
// limit <= 0), earliest first.
func (s *Store) Due(now time.Time, limit int) ([]bot.Scheduled, error) {
	ctx, cancel := opctx()
	defer cancel()
	q := `SELECT name, record FROM schedule WHERE due <= $1 ORDER BY due, name`
	args := []any{now.UTC()}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: due: %w", err)
	}
	defer rows.Close()
	var out []bot.Scheduled
	var errs []error
	for rows.Next() {
		var name string
		var b []byte
		if err := rows.Scan(&name, &b); err != nil {
			return nil, fmt.Errorf("postgres: due: %w", err)
		}
		sc, err := decode[bot.Scheduled](b)
		if err != nil {
			errs = append(errs, fmt.Errorf("postgres: schedule %q: %w", name, err))
			continue
		}
		if sc.Due.After(now) {
			continue // within the microsecond the column keeps, but not yet
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: due: %w", err)
	}
	return out, errors.Join(errs...)
}

// ScheduleDone removes entries that were carried out.
func (s *Store) ScheduleDone(done []bot.Scheduled) error {
	if len(done) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, sc := range done {
		b.Queue(`DELETE FROM schedule WHERE name = $1 AND due = $2`, sc.Name, sc.Due.UTC())
	}
	ctx, cancel := opctx()
	defer cancel()
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() }); err != nil {
		return fmt.Errorf("postgres: schedule done: %w", err)
	}
	return nil
}

// ScheduleRetry moves an entry that could not be carried out to next, with
// its attempt count; an entry done or moved meanwhile stays as it is.
func (s *Store) ScheduleRetry(sc bot.Scheduled, next time.Time) error {
	moved := sc
	moved.Due = next
	rec, err := encode(moved)
	if err != nil {
		return err
	}
	ctx, cancel := opctx()
	defer cancel()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM schedule WHERE name = $1 AND due = $2`, sc.Name, sc.Due.UTC())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO schedule (name, due, record) VALUES ($1, $2, $3)
			ON CONFLICT (name, due) DO UPDATE SET record = excluded.record`, moved.Name, next.UTC(), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: schedule retry: %w", err)
	}
	return nil
}

// MarkOnce records name and reports whether it is new: reminders use it so
// that each is sent once however often, and on however many replicas, the
// job runs.
func (s *Store) MarkOnce(name string, at time.Time) (bool, error) {
	if name == "" {
		return false, fmt.Errorf("postgres: invalid mark %q", name)
	}
	ctx, cancel := opctx()
	defer cancel()
	tag, err := s.pool.Exec(ctx, `INSERT INTO marks (name, at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, at.UTC())
	if err != nil {
		return false, fmt.Errorf("postgres: mark %q: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Prune forgets bookkeeping older than before: settled-invoice marks, invoice
// view references and reminder marks. Sessions and pending work are kept.
func (s *Store) Prune(before time.Time) (int, error) {
	ctx, cancel := opctx()
	defer cancel()
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n = 0
		for _, table := range []string{"settled", "views", "marks"} {
			tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE at < $1`, before.UTC())
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune: %w", err)
	}
	return n, nil
}

// ErrNoFileBackup: a PostgreSQL store is backed up with the server's own
// tools (pg_dump, base backups), not by the bot.
var ErrNoFileBackup = fmt.Errorf("postgres: back up the database with pg_dump or the server's base backups; the bot writes no backup files: %w", errors.ErrUnsupported)

// BackupTo refuses: see ErrNoFileBackup.
func (s *Store) BackupTo(dir string, now time.Time, keep int) (string, error) {
	return "", ErrNoFileBackup
}

// WebhookSecret returns the Bitrefill webhook path secret, creating it on
// first use; every replica reads the same one.
func (s *Store) WebhookSecret() (string, error) {
	return s.secret("webhook_secret")
}

// TelegramWebhookSecret returns the secret token Telegram must send with
// every update in webhook mode: fromEnv (TELEGRAM_WEBHOOK_SECRET) when set,
// else one generated once and kept here, so that every replica registers
// and accepts the same token instead of locking the others out.
func (s *Store) TelegramWebhookSecret(fromEnv string) (string, error) {
	if fromEnv != "" {
		return fromEnv, nil
	}
	return s.secret("telegram_webhook_secret")
}

// secret reads or creates (32 random bytes, URL-safe base64, which
// Telegram's secret_token alphabet allows) the named secret.
func (s *Store) secret(name string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	fresh := base64.RawURLEncoding.EncodeToString(raw)
	ctx, cancel := opctx()
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, []byte(fresh)); err != nil {
		return "", fmt.Errorf("postgres: %s: %w", name, err)
	}
	var v []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("postgres: %s: %w", name, err)
	}
	return string(v), nil
}
