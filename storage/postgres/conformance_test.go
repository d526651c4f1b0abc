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
