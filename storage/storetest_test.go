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
