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

// The inbox keeps bot.Inbox's contract across a restart: fresh updates
// come back in batch order, none is seen twice — pending or done — and
// pending ones are listed by id, per platform, after the file is reopened.
func TestInbox(t *testing.T) {
	st, path := openTemp(t, Options{})
	steps := []struct {
		name        string
		platform    string
		put         []int64
		done        []int64
		reopen      bool
		fresh, want []int64
	}{
		{name: "a batch", platform: "telegram", put: []int64{12, 10, 11, -5}, fresh: []int64{12, 10, 11, -5}, want: []int64{-5, 10, 11, 12}},
		{name: "another platform's ids are its own", platform: "other", put: []int64{10}, fresh: []int64{10}, want: []int64{10}},
		{name: "the batch again, one new", platform: "telegram", put: []int64{10, 11, 12, 13}, fresh: []int64{13}, want: []int64{-5, 10, 11, 12, 13}},
		{name: "two done, then a restart", platform: "telegram", done: []int64{10, 12}, reopen: true, want: []int64{-5, 11, 13}},
		{name: "done ones come again", platform: "telegram", put: []int64{10, 12, 14}, fresh: []int64{14}, want: []int64{-5, 11, 13, 14}},
		{name: "all done, twice", platform: "telegram", done: []int64{-5, 11, 13, 14, 14, 99}, want: nil},
		{name: "the other platform untouched", platform: "other", want: []int64{10}},
	}
	for _, s := range steps {
		fresh, err := st.PutUpdates(s.platform, updates(s.put...))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range s.done {
			if err := st.DoneUpdate(s.platform, id); err != nil {
				t.Fatal(err)
			}
		}
		if s.reopen {
			st.Close()
			if st, err = Open(path, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		pending, err := st.PendingUpdates(s.platform)
		if err != nil {
			t.Fatal(err)
		}
		if got := inboxIDs(fresh); !slices.Equal(got, s.fresh) {
			t.Errorf("%s: fresh %v, want %v", s.name, got, s.fresh)
		}
		if got := inboxIDs(pending); !slices.Equal(got, s.want) {
			t.Errorf("%s: pending %v, want %v", s.name, got, s.want)
		}
	}
	st.Close()
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
