package bot

import (
	"context"
	"time"

	"refillbot/conversation"
)

// Replicas: several processes on one shared store (PostgreSQL) serving one
// bot. The shell's in-process guarantees need two things more, both
// optional, both provided by such a store or by cmd:

// SessionLocker is the ability of a store shared by several processes to
// order one session's work across all of them: the shell holds the lock
// from loading a session to sending what its step caused, as it holds its
// in-process lock, so one user's events are handled one at a time, in
// order, whichever replica received them.
type SessionLocker interface {
	LockSession(ctx context.Context, key conversation.SessionKey) (unlock func(), err error)
}

// IDSource is the ability of a store shared by several processes to hand
// out outbox ids that increase across all of them (a sequence). Without
// it ids are readings of this process's clock, and with replicas a session
// stepped on a machine whose clock lags would have its new messages listed
// before its older ones.
type IDSource interface {
	OutboxIDs(n int) ([]uint64, error)
}

// lockSession takes the session's in-process lock, then the store's when
// it has one (SessionLocker). If the store cannot lock (the database is
// unreachable), the work goes on under the in-process lock alone: its
// commit then fails the same way, and nothing is sent before a commit.
func (b *Bot) lockSession(ctx context.Context, key conversation.SessionKey) func() {
	unlock := b.locks.lock(key.String())
	sl, ok := b.cfg.Store.(SessionLocker)
	if !ok {
		return unlock
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sessionLockWait)
	defer cancel()
	release, err := sl.LockSession(ctx, key)
	if err != nil {
		b.log.Error("session lock", "session", key.String(), "err", err)
		return unlock
	}
	return func() {
		release()
		unlock()
	}
}

// sessionLockWait bounds the wait for another replica's step of the same
// session, which may be waiting on Bitrefill (APITimeout) itself.
const sessionLockWait = time.Minute

// leading reports whether this process runs the scheduled jobs now
// (Config.Leading).
func (b *Bot) leading() bool { return b.cfg.Leading == nil || b.cfg.Leading() }
