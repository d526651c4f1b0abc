package storage

import (
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/bot"
)

func inboxIDs(us []bot.InboxUpdate) []int64 {
	var out []int64
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func updates(ids ...int64) []bot.InboxUpdate {
	var out []bot.InboxUpdate
	for _, id := range ids {
		out = append(out, bot.InboxUpdate{ID: id, Raw: []byte(`{"update_id":1}`)})
	}
	return out
}

// A handled update is remembered 25 hours — Telegram keeps an undelivered
// update 24 — and forgotten after that.
func TestInboxForgetsOldDoneMarks(t *testing.T) {
	st, _ := openTemp(t, Options{})
	defer st.Close()
	now := time.Now()
	err := st.db.Update(func(tx *bolt.Tx) error {
		if err := markUpdateDone(tx, "telegram", 1, now.Add(-26*time.Hour)); err != nil {
			return err
		}
		return markUpdateDone(tx, "telegram", 2, now.Add(-23*time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := st.PutUpdates("telegram", updates(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if got := inboxIDs(fresh); !slices.Equal(got, []int64{1}) {
		t.Errorf("fresh %v, want only the update handled 26 hours ago", got)
	}
}
