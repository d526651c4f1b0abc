package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leadership: one replica at a time long-polls Telegram, holds the Discord
// gateway, runs the scheduled jobs. A leader holds a session-level advisory
// lock on a connection of its own. When its process dies, the kernel closes
// that connection, PostgreSQL ends the session and the lock is free at once;
// the other replicas, retrying every DefaultLeaderRetry, take over within it. A
// leader cut off from the database without dying stops leading as soon as
// its health check fails (every DefaultLeaderCheck), and the server drops its session
// within about 20 s (TCP keepalives set on that connection), so the two
// never lead at once for long, and takeover stays within 30 s.

// Leadership timings: a follower tries every DefaultLeaderRetry; a leader
// checks its session every DefaultLeaderCheck.
const (
	DefaultLeaderRetry = 3 * time.Second
	DefaultLeaderCheck = 3 * time.Second
)

// Lease is leadership held. Done is closed when it is lost or released.
type Lease struct {
	mu    sync.Mutex // guards conn: the watcher and Release share it
	conn  *pgx.Conn
	key   int64
	check time.Duration
	done  chan struct{}
	once  sync.Once
}

// Done is closed when this replica is no longer the leader.
func (l *Lease) Done() <-chan struct{} { return l.done }

// Release gives leadership up (a no-op if already lost).
func (l *Lease) Release() {
	l.end(func(ctx context.Context) {
		_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
	})
}

// end closes the session (the server frees the lock with it) once.
func (l *Lease) end(before func(context.Context)) {
	l.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if before != nil {
			before(ctx)
		}
		_ = l.conn.Close(ctx)
		close(l.done)
	})
}

// livenessRole prefixes the lock each replica holds on its own name for
// its lifetime (see deadClaimers).
const livenessRole = "replica:"

// stayAlive holds this replica's liveness lock until Close, taking it again
// whenever its connection is lost.
func (s *Store) stayAlive(ctx context.Context, l *Lease) {
	for {
		select {
		case <-l.Done():
		case <-ctx.Done():
			return
		}
		var err error
		if l, err = s.Lead(ctx, livenessRole+s.replica); err != nil {
			return // closed
		}
		if err := l.countIn(ctx); err != nil {
			l.Release() // taken again at once, counted this time
		}
	}
}

// replicasKey is a lock every liveness session also holds, shared: the
// lock names of the others cannot be told from a hash, but the holders of
// this one are the live replicas.
var replicasKey = leaderKey("live replicas")

// countIn has the liveness session l hold the shared replicas lock; shared
// holders never wait for each other.
func (l *Lease) countIn(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.conn.Exec(ctx, `SELECT pg_advisory_lock_shared($1)`, replicasKey)
	return err
}

// LiveReplicas counts the replicas running on this database now (this one
// included): a replica's session holds its lock until the process ends.
func (s *Store) LiveReplicas(ctx context.Context) (int, error) {
	k := uint64(replicasKey)
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND mode = 'ShareLock'
			AND classid::bigint = $1 AND objid::bigint = $2
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		int64(k>>32), int64(k&0xffffffff)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: live replicas: %w", err)
	}
	return n, nil
}

func leaderKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("refillbot leader\x00" + name))
	return int64(h.Sum64())
}

// Lead blocks until this replica leads name (e.g. "telegram-polling",
// "discord-gateway", "jobs"), or ctx ends. While the database cannot be
// reached it keeps trying, as a follower would.
func (s *Store) Lead(ctx context.Context, name string) (*Lease, error) {
	for {
		if l, _ := s.TryLead(ctx, name); l != nil {
			return l, nil
		}
		t := time.NewTimer(s.leaderRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// TryLead takes leadership of name if no replica holds it, and returns nil
// (and no error) if one does.
func (s *Store) TryLead(ctx context.Context, name string) (*Lease, error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: lead %s: %w", name, err)
	}
	// The lock lives as long as this session: take the connection out of
	// the pool so that nothing else uses, recycles or closes it.
	conn := pc.Hijack()
	key := leaderKey(name)
	var got bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got)
	if err == nil && got {
		// Let the server notice a vanished leader (a partition, a frozen
		// host) and free the lock; ignored on a unix socket.
		_, err = conn.Exec(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3`)
	}
	if err != nil || !got {
		_ = conn.Close(context.Background())
		if err != nil {
			return nil, fmt.Errorf("postgres: lead %s: %w", name, err)
		}
		return nil, nil
	}
	l := &Lease{conn: conn, key: key, check: s.leaderCheck, done: make(chan struct{})}
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		l.Release()
		return nil, errors.New("postgres: lead: the store is closed")
	}
	if s.leases == nil {
		s.leases = map[*Lease]bool{}
	}
	s.leases[l] = true
	s.mu.Unlock()
	go func() {
		<-l.done
		s.mu.Lock()
		delete(s.leases, l)
		s.mu.Unlock()
	}()
	go l.watch()
	return l, nil
}

// watch checks the leader's session: while it answers, the lock is held
// (only this session can release it); a failed check ends the lease.
func (l *Lease) watch() {
	t := time.NewTicker(l.check)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		l.mu.Lock()
		select {
		case <-l.done:
			l.mu.Unlock()
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.check)
		_, err := l.conn.Exec(ctx, `SELECT 1`)
		cancel()
		l.mu.Unlock()
		if err != nil {
			l.end(nil)
			return
		}
	}
}
