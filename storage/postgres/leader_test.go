package postgres_test

import (
	"context"
	"testing"
	"time"

	"refillbot/storage/postgres"
	"refillbot/storage/postgres/pgtest"
)

func TestOneLeaderAndTakeoverWhenItDies(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	fast := func(name string) *postgres.Store {
		s, err := postgres.Open(context.Background(), url, postgres.Options{Key: key, Replica: name,
			LeaderRetry: 100 * time.Millisecond, LeaderCheck: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := fast("a"), fast("b")
	ctx := context.Background()

	la, err := a.TryLead(ctx, "telegram-polling")
	if err != nil || la == nil {
		t.Fatalf("first replica does not lead: %v", err)
	}
	if lb, err := b.TryLead(ctx, "telegram-polling"); err != nil || lb != nil {
		t.Fatalf("second replica leads too (%v)", err)
	}
	// Another role is led independently.
	lj, err := b.TryLead(ctx, "jobs")
	if err != nil || lj == nil {
		t.Fatalf("jobs leadership: %v", err)
	}
	defer lj.Release()

	la.Sever()
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	lb, err := b.Lead(wctx, "telegram-polling")
	if err != nil {
		t.Fatalf("no takeover within 30 s: %v", err)
	}
	defer lb.Release()
	t.Logf("takeover after %v", time.Since(start))
	select {
	case <-la.Done():
	case <-wctx.Done():
		t.Fatal("the dead leader's lease did not end")
	}
	// Released leadership passes at once.
	lb.Release()
	select {
	case <-lb.Done():
	default:
		t.Error("Release did not end the lease")
	}
	if lc, err := a.TryLead(ctx, "telegram-polling"); err != nil || lc == nil {
		t.Errorf("leadership not free after Release (%v)", err)
	} else {
		lc.Release()
	}
}

func TestOneSessionAtATimeAcrossReplicas(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	ctx := context.Background()
	unlockA, err := a.LockSession(ctx, session(1))
	if err != nil {
		t.Fatal(err)
	}
	// Another session is not held up.
	unlockOther, err := b.LockSession(ctx, session(2))
	if err != nil {
		t.Fatal(err)
	}
	unlockOther()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if unlock, err := b.LockSession(short, session(1)); err == nil {
		unlock()
		t.Fatal("replica b locked a session replica a holds")
	}
	got := make(chan func(), 1)
	go func() {
		unlock, err := b.LockSession(ctx, session(1))
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- unlock
	}()
	unlockA()
	select {
	case unlock, ok := <-got:
		if ok {
			unlock()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("replica b did not get the lock replica a released")
	}
}

func TestLiveReplicasCountsRunningProcesses(t *testing.T) {
	url := pgtest.URL(t)
	key := newKey(t)
	ctx := context.Background()
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	c, err := postgres.Open(ctx, url, postgres.Options{Key: key, Replica: "c"})
	if err != nil {
		t.Fatal(err)
	}
	// Leadership held by a replica is not another replica.
	jobs, err := a.TryLead(ctx, "jobs")
	if err != nil || jobs == nil {
		t.Fatalf("jobs leadership: %v", err)
	}
	defer jobs.Release()
	live := func(s *postgres.Store) int {
		t.Helper()
		n, err := s.LiveReplicas(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := live(b); n != 3 {
		t.Fatalf("three replicas running, LiveReplicas = %d", n)
	}
	// A replica that stops is no longer counted (its session ends a
	// moment after Close returns).
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for live(a) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("a stopped replica still counted: %d live", live(a))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
