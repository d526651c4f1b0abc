package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"refillbot/bot"
	"refillbot/conversation"
)

// The outbox across replicas. Every replica drains it; a row is sent by the
// replica that claimed it (claimed_by, claimed_until). Commit writes a
// step's rows already claimed by the committing replica, which sends them
// at once; the drain listings claim what they return, skipping rows another
// live replica holds (FOR UPDATE SKIP LOCKED, then the claim columns), and
// within one session they stop at the first such row, so a session's
// messages still leave in id order. A replica's own claims stay visible to
// it (its in-memory bookkeeping keeps it from sending one twice); a replica
// killed mid-send leaves its claims to the others at once (its liveness
// lock went with its connection), or, if it is alive but cut off, once the
// lease runs out.

// queueOutbox adds inserts of recs to b; claimed ones belong to this replica.
func (s *Store) queueOutbox(b *pgx.Batch, recs []bot.OutboxRecord, claimed bool) error {
	var by *string
	var until *time.Time
	if claimed {
		u := time.Now().Add(s.lease).UTC()
		by, until = &s.replica, &u
	}
	for _, r := range recs {
		if r.ID == 0 || r.ID > 1<<63-1 {
			return errors.New("postgres: outbox record without a valid id")
		}
		if err := checkSession(r.Session); err != nil {
			return err
		}
		body, err := s.encodeSealed(r)
		if err != nil {
			return fmt.Errorf("encode outbox record: %w", err)
		}
		b.Queue(`INSERT INTO outbox (id, platform, user_id, next_try, record, claimed_by, claimed_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET next_try = excluded.next_try, record = excluded.record`,
			int64(r.ID), r.Session.Platform, r.Session.User, r.NextTry, body, by, until)
	}
	return nil
}

// OutboxIDs hands out n outbox ids, increasing across every replica (a
// sequence), for the shell (bot.IDSource).
func (s *Store) OutboxIDs(n int) ([]uint64, error) {
	ctx, cancel := opctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT nextval('outbox_ids') FROM generate_series(1, $1) ORDER BY 1`, n)
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox ids: %w", err)
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	return out, nil
}

// advanceIDs moves the id sequence past the clock and every id stored, once
// at Open. It only ever moves forward: when it does, the target is above
// every id handed out, so a replica drawing ids meanwhile is not repeated.
func (s *Store) advanceIDs(ctx context.Context) error {
	last, err := s.OutboxLast()
	if err != nil {
		return err
	}
	target := max(int64(last), time.Now().UnixNano())
	_, err = s.pool.Exec(ctx, `SELECT setval('outbox_ids', $1) FROM outbox_ids WHERE last_value < $1`, target)
	return err
}

// Enqueue stores messages not caused by a session's step (reminders),
// unclaimed: the next drain of any replica sends them.
func (s *Store) Enqueue(recs []bot.OutboxRecord) error {
	b := &pgx.Batch{}
	if err := s.queueOutbox(b, recs, false); err != nil {
		return fmt.Errorf("postgres: enqueue: %w", err)
	}
	ctx, cancel := opctx()
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("postgres: enqueue: %w", err)
	}
	return nil
}

// outboxRow is a listed row with its claim.
type outboxRow struct {
	rec     bot.OutboxRecord
	by      *string
	until   *time.Time
	readErr error
}

// claimable: free, expired, this replica's own, or its replica's process
// is gone (dead holds the names of those).
func (s *Store) claimable(r outboxRow, now time.Time, dead map[string]bool) bool {
	return r.by == nil || *r.by == s.replica || r.until == nil || r.until.Before(now) || dead[*r.by]
}

// deadClaimers names the replicas holding live-leased claims among rows
// whose process is gone: a replica holds an advisory lock on its name for
// its lifetime (Open), which PostgreSQL drops with its connection, so its
// claims are taken over at once instead of after the lease.
func (s *Store) deadClaimers(rows []outboxRow, now time.Time) (map[string]bool, error) {
	owners := map[string]bool{}
	for _, r := range rows {
		if r.by != nil && *r.by != s.replica && r.until != nil && !r.until.Before(now) {
			owners[*r.by] = true
		}
	}
	if len(owners) == 0 {
		return nil, nil
	}
	return s.deadReplicas(owners)
}

// deadReplicas names those of names whose process is gone: a replica holds
// an advisory lock on its name for its lifetime (Open), which PostgreSQL
// drops with its connection.
func (s *Store) deadReplicas(names map[string]bool) (map[string]bool, error) {
	ctx, cancel := opctx()
	defer cancel()
	rows2, err := s.pool.Query(ctx, `SELECT classid::bigint, objid::bigint FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return nil, err
	}
	live := map[int64]bool{}
	for rows2.Next() {
		var hi, lo int64
		if err := rows2.Scan(&hi, &lo); err != nil {
			rows2.Close()
			return nil, err
		}
		live[int64(uint64(hi)<<32|uint64(lo))] = true
	}
	rows2.Close()
	if err := rows2.Err(); err != nil {
		return nil, err
	}
	dead := map[string]bool{}
	for name := range names {
		if !live[leaderKey(livenessRole+name)] {
			dead[name] = true
		}
	}
	return dead, nil
}

const outboxColumns = `o.id, o.platform, o.user_id, o.record, o.claimed_by, o.claimed_until`

func (s *Store) scanOutbox(rows pgx.Rows) ([]outboxRow, error) {
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var id int64
		var body []byte
		var r outboxRow
		var key conversation.SessionKey
		if err := rows.Scan(&id, &key.Platform, &key.User, &body, &r.by, &r.until); err != nil {
			return nil, err
		}
		rec, err := openSealed[bot.OutboxRecord](s, body)
		if err != nil {
			r.readErr = fmt.Errorf("postgres: outbox record %d: %w", id, err)
		}
		rec.ID, rec.Session = uint64(id), key
		r.rec = rec
		out = append(out, r)
	}
	return out, rows.Err()
}

// claim marks ids as this replica's until now+lease, skipping rows locked
// or held by another live replica meanwhile, and returns the ids it got.
func (s *Store) claim(ids []int64, now time.Time, dead map[string]bool) (map[int64]bool, error) {
	got := map[int64]bool{}
	if len(ids) == 0 {
		return got, nil
	}
	ctx, cancel := opctx()
	defer cancel()
	gone := make([]string, 0, len(dead))
	for name := range dead {
		gone = append(gone, name)
	}
	rows, err := s.pool.Query(ctx, `UPDATE outbox SET claimed_by = $2, claimed_until = $3
		WHERE id IN (SELECT id FROM outbox WHERE id = ANY($1)
			AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until IS NULL OR claimed_until < $4 OR claimed_by = ANY($5))
			FOR UPDATE SKIP LOCKED)
		RETURNING id`, ids, s.replica, now.Add(s.lease).UTC(), now.UTC(), gone)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		got[id] = true
	}
	return got, rows.Err()
}

// takeSessions walks rows grouped by session (each session's rows in id
// order), keeps what this replica may send — per session, the rows up to
// the first one held by another replica, or (when due is set) up to the
// first later row not yet due — claims them, and returns the records, up
// to limit. Unreadable rows are reported, never hidden behind the others.
func (s *Store) takeSessions(rows []outboxRow, now time.Time, due bool, limit int) ([]bot.OutboxRecord, error) {
	dead, err := s.deadClaimers(rows, now)
	if err != nil {
		return nil, err
	}
	var pick []outboxRow
	var errs []error
	var cur conversation.SessionKey
	started, stopped := false, false
	for _, r := range rows {
		if !started || r.rec.Session != cur {
			cur, started, stopped = r.rec.Session, true, false
		}
		if limit > 0 && len(pick) >= limit {
			break
		}
		if stopped {
			continue
		}
		if r.readErr != nil {
			errs = append(errs, r.readErr)
			continue
		}
		if !s.claimable(r, now, dead) || (due && r.rec.NextTry.After(now)) {
			stopped = true // the session's later messages wait behind this one
			continue
		}
		pick = append(pick, r)
	}
	ids := make([]int64, len(pick))
	for i, r := range pick {
		ids[i] = int64(r.rec.ID)
	}
	got, err := s.claim(ids, now, dead)
	if err != nil {
		return nil, err
	}
	var out []bot.OutboxRecord
	var lost conversation.SessionKey
	for _, r := range pick {
		if r.rec.Session == lost {
			continue
		}
		if !got[int64(r.rec.ID)] {
			lost = r.rec.Session // taken by another replica meanwhile: its later rows wait
			continue
		}
		out = append(out, r.rec)
	}
	return out, errors.Join(errs...)
}

// OutboxDue returns, and claims for this replica, the records of every
// session whose next message is due at now, each session's oldest first,
// sessions in the order their next message fell due, at most limit (all
// when limit <= 0).
func (s *Store) OutboxDue(now time.Time, limit int) ([]bot.OutboxRecord, error) {
	ctx, cancel := opctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+`
		FROM outbox o JOIN (
			SELECT DISTINCT ON (platform, user_id) platform, user_id, id AS head, next_try AS head_due
			FROM outbox ORDER BY platform, user_id, id) h USING (platform, user_id)
		WHERE h.head_due <= $1
		ORDER BY h.head_due, h.head, o.id`, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox due: %w", err)
	}
	list, err := s.scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox due: %w", err)
	}
	out, err := s.takeSessions(list, now, true, limit)
	if err != nil && out == nil {
		return nil, fmt.Errorf("postgres: outbox due: %w", err)
	}
	return out, err
}

// OutboxSession returns, and claims, up to limit of one session's records
// (all when limit <= 0), oldest first, whatever their next-try time.
func (s *Store) OutboxSession(key conversation.SessionKey, limit int) ([]bot.OutboxRecord, error) {
	if err := checkSession(key); err != nil {
		return nil, err
	}
	ctx, cancel := opctx()
	defer cancel()
	q := `SELECT ` + outboxColumns + ` FROM outbox o WHERE platform = $1 AND user_id = $2 ORDER BY id`
	args := []any{key.Platform, key.User}
	if limit > 0 {
		q += ` LIMIT $3`
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox of %s: %w", key, err)
	}
	list, err := s.scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox of %s: %w", key, err)
	}
	return s.takeSessions(list, time.Now(), false, limit)
}

// OutboxLast is the highest record id ever stored (0 when none).
func (s *Store) OutboxLast() (uint64, error) {
	ctx, cancel := opctx()
	defer cancel()
	var last int64
	var high []byte
	err := s.pool.QueryRow(ctx, `SELECT COALESCE((SELECT max(id) FROM outbox), 0),
		COALESCE((SELECT value FROM meta WHERE name = 'outbox_high'), ''::bytea)`).Scan(&last, &high)
	if err != nil {
		return 0, fmt.Errorf("postgres: outbox last: %w", err)
	}
	if len(high) == 8 {
		return max(uint64(last), binary.BigEndian.Uint64(high)), nil
	}
	return uint64(last), nil
}

// OutboxDone deletes records the platform accepted (their "sent" mark) and
// remembers invoice views and code messages to hide, in one transaction.
func (s *Store) OutboxDone(ids []uint64, views []bot.View, hides []bot.Scheduled) error {
	b := &pgx.Batch{}
	if len(ids) > 0 {
		queueDone(b, ids)
	}
	now := time.Now().UTC()
	for _, v := range views {
		if err := checkID("invoice id", v.InvoiceID); err != nil {
			return err
		}
		addr, err := json.Marshal(v.Address)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO views (invoice_id, address, ref, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (invoice_id) DO UPDATE SET address = excluded.address, ref = excluded.ref, at = excluded.at`,
			v.InvoiceID, addr, v.Ref, now)
	}
	for _, h := range hides {
		if err := queueSchedule(b, h, true); err != nil {
			return err
		}
	}
	if b.Len() == 0 {
		return nil
	}
	ctx, cancel := opctx()
	defer cancel()
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() }); err != nil {
		return fmt.Errorf("postgres: outbox done: %w", err)
	}
	return nil
}

// queueDone deletes sent records, remembering the highest id so that
// OutboxLast keeps growing when the outbox is empty.
func queueDone(b *pgx.Batch, ids []uint64) {
	var high uint64
	for _, id := range ids {
		high = max(high, id)
	}
	b.Queue(`DELETE FROM outbox WHERE id = ANY($1)`, ids64(ids))
	// 8 bytes big-endian compare as the numbers do.
	b.Queue(`INSERT INTO meta (name, value) VALUES ('outbox_high', $1)
		ON CONFLICT (name) DO UPDATE SET value = GREATEST(meta.value, excluded.value)`,
		binary.BigEndian.AppendUint64(nil, high))
}

// OutboxRetry records a failed attempt: the record waits until next, and
// its claim is released for whichever replica drains it then.
func (s *Store) OutboxRetry(id uint64, attempts int, next time.Time) error {
	ctx, cancel := opctx()
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var body []byte
		err := tx.QueryRow(ctx, `SELECT record FROM outbox WHERE id = $1 FOR UPDATE`, int64(id)).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // sent meanwhile
		}
		if err != nil {
			return err
		}
		r, err := openSealed[bot.OutboxRecord](s, body)
		if err != nil {
			return err
		}
		r.ID, r.Attempts, r.NextTry = id, attempts, next
		if body, err = s.encodeSealed(r); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE outbox SET record = $2, next_try = $3, claimed_by = NULL, claimed_until = NULL WHERE id = $1`,
			int64(id), body, next.UTC())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: outbox retry: %w", err)
	}
	return nil
}

// InvoiceView returns the message showing an invoice, if one was recorded.
func (s *Store) InvoiceView(invoiceID string) (bot.View, bool, error) {
	if err := checkID("invoice id", invoiceID); err != nil {
		return bot.View{}, false, err
	}
	ctx, cancel := opctx()
	defer cancel()
	v := bot.View{InvoiceID: invoiceID}
	var addr []byte
	err := s.pool.QueryRow(ctx, `SELECT address, ref FROM views WHERE invoice_id = $1`, invoiceID).Scan(&addr, &v.Ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.View{}, false, nil
	}
	if err != nil {
		return bot.View{}, false, fmt.Errorf("postgres: invoice view %q: %w", invoiceID, err)
	}
	if err := json.Unmarshal(addr, &v.Address); err != nil {
		return bot.View{}, false, fmt.Errorf("postgres: invoice view %q: %w", invoiceID, ErrCorrupt)
	}
	return v, true, nil
}
