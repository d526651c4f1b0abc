package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"refillbot/conversation"
)

// sessionLockSpace is the first key of the two-key advisory locks that
// order one session's work across replicas; the second is a hash of the
// session key. Two sessions sharing a hash only wait for each other.
const sessionLockSpace int32 = 0x5e55

// LockSession holds the session's advisory lock until unlock is called:
// while a replica loads, steps and commits one user's event, another
// replica with the same user's next event waits, so events are handled one
// at a time, in order, whichever replica receives them. The lock lives on a
// connection of the lock pool, apart from the pool the commits use, so
// sessions waiting for their lock never starve the commits of those that
// hold one. If that connection breaks, the server frees the lock.
func (s *Store) LockSession(ctx context.Context, key conversation.SessionKey) (unlock func(), err error) {
	if err := checkSession(key); err != nil {
		return nil, err
	}
	h := fnv.New32a()
	h.Write([]byte(key.Platform + "\x00" + key.User))
	id := int32(h.Sum32())
	conn, err := s.locks.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: lock session: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, sessionLockSpace, id); err != nil {
		// A cancelled wait leaves the connection in doubt: drop it, and the
		// lock with it should it have been granted after all.
		conn.Conn().Close(context.Background())
		conn.Release()
		return nil, fmt.Errorf("postgres: lock session: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, sessionLockSpace, id); err != nil {
			conn.Conn().Close(context.Background()) // the server frees it with the session
		}
		conn.Release()
	}, nil
}
