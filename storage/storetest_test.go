package storage_test

import (
	"path/filepath"
	"testing"

	"refillbot/bot"
	"refillbot/storage"
	"refillbot/storage/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store {
		st, err := storage.Open(filepath.Join(t.TempDir(), "bot.db"), storage.Options{NoSync: true, Key: make([]byte, 32)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestInboxConformance(t *testing.T) {
	open := func(t *testing.T, path string) *storage.Store {
		st, err := storage.Open(path, storage.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	paths := map[storetest.InboxStore]string{}
	storetest.RunInbox(t, func(t *testing.T) storetest.InboxStore {
		path := filepath.Join(t.TempDir(), "bot.db")
		st := open(t, path)
		paths[st] = path
		return st
	}, func(t *testing.T, s storetest.InboxStore) storetest.InboxStore {
		s.(*storage.Store).Close()
		st := open(t, paths[s])
		paths[st] = paths[s]
		return st
	})
}

func TestOperatorsConformance(t *testing.T) {
	storetest.RunOperators(t, func(t *testing.T) storetest.OperatorStore {
		st, err := storage.Open(filepath.Join(t.TempDir(), "bot.db"), storage.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
