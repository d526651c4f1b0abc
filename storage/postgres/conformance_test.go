package postgres_test

import (
	"context"
	"testing"

	"refillbot/bot"
	"refillbot/storage/postgres"
	"refillbot/storage/postgres/pgtest"
	"refillbot/storage/storetest"
)

var _ bot.Store = (*postgres.Store)(nil)

// TestConformance runs the shell's store contract against PostgreSQL, each
// subtest on a database of its own.
func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) bot.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{Key: make([]byte, 32)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestInboxConformance runs the inbox's contract against PostgreSQL; a
// restart is a second store on the same database.
func TestInboxConformance(t *testing.T) {
	pgtest.ServerURL(t)
	urls := map[storetest.InboxStore]string{}
	open := func(t *testing.T, url string) storetest.InboxStore {
		s, err := postgres.Open(context.Background(), url, postgres.Options{Key: make([]byte, 32)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		urls[s] = url
		return s
	}
	storetest.RunInbox(t, func(t *testing.T) storetest.InboxStore {
		return open(t, pgtest.URL(t))
	}, func(t *testing.T, s storetest.InboxStore) storetest.InboxStore {
		s.(*postgres.Store).Close()
		return open(t, urls[s])
	})
}

// TestOperatorsConformance runs the operator's records' contract against
// PostgreSQL.
func TestOperatorsConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.RunOperators(t, func(t *testing.T) storetest.OperatorStore {
		return open(t, pgtest.URL(t), make([]byte, 32), "")
	})
}

// Two replicas adding to the same days at once lose no count.
func TestStatsAddedByTwoReplicasAtOnce(t *testing.T) {
	pgtest.ServerURL(t)
	url := pgtest.URL(t)
	key := make([]byte, 32)
	storetest.ConcurrentStats(t, open(t, url, key, "a"), open(t, url, key, "b"))
}

// The outbox gauge counts what waits in the shared outbox.
func TestOutboxCountIsShared(t *testing.T) {
	pgtest.ServerURL(t)
	url := pgtest.URL(t)
	key := make([]byte, 32)
	a, b := open(t, url, key, "a"), open(t, url, key, "b")
	if n, err := b.OutboxCount(); err != nil || n != 0 {
		t.Fatalf("empty outbox: %d %v", n, err)
	}
	ids, err := a.OutboxIDs(2)
	if err != nil {
		t.Fatal(err)
	}
	var recs []bot.OutboxRecord
	for _, id := range ids {
		recs = append(recs, bot.OutboxRecord{ID: id, Session: session(1)})
	}
	if err := a.Enqueue(recs); err != nil {
		t.Fatal(err)
	}
	if n, err := b.OutboxCount(); err != nil || n != 2 {
		t.Fatalf("OutboxCount = %d %v, want 2", n, err)
	}
}
