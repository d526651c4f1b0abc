package storetest

import (
	"slices"
	"testing"

	"refillbot/bot"
)

// InboxStore is a store that keeps the platforms' inbox too (bot.Inbox):
// its Commit marks Commit.Handled done.
type InboxStore interface {
	bot.Store
	bot.Inbox
}

// RunInbox checks bot.Inbox's contract, and Commit.Handled. open returns a
// new, empty store for each subtest; reopen closes s and opens the same
// data again (a restart), or is nil for a store without one.
func RunInbox(t *testing.T, open func(t *testing.T) InboxStore, reopen func(t *testing.T, s InboxStore) InboxStore) {
	t.Run("contract", func(t *testing.T) { inboxContract(t, open(t), reopen) })
	t.Run("commit marks done", func(t *testing.T) { inboxCommit(t, open(t)) })
}

func inboxUpdates(ids ...int64) []bot.InboxUpdate {
	var out []bot.InboxUpdate
	for _, id := range ids {
		out = append(out, bot.InboxUpdate{ID: id, Raw: []byte(`{"update_id":1}`)})
	}
	return out
}

func inboxIDs(us []bot.InboxUpdate) []int64 {
	var out []int64
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func inboxContract(t *testing.T, s InboxStore, reopen func(t *testing.T, s InboxStore) InboxStore) {
	steps := []struct {
		name        string
		platform    string
		put, done   []int64
		restart     bool
		fresh, want []int64
	}{
		{name: "a batch", platform: "telegram", put: []int64{12, 10, 11, -5}, fresh: []int64{12, 10, 11, -5}, want: []int64{-5, 10, 11, 12}},
		{name: "another platform's ids are its own", platform: "other", put: []int64{10}, fresh: []int64{10}, want: []int64{10}},
		{name: "the batch again, one new", platform: "telegram", put: []int64{10, 11, 12, 13}, fresh: []int64{13}, want: []int64{-5, 10, 11, 12, 13}},
		{name: "two done, then a restart", platform: "telegram", done: []int64{10, 12}, restart: true, want: []int64{-5, 11, 13}},
		{name: "done ones come again", platform: "telegram", put: []int64{10, 12, 14}, fresh: []int64{14}, want: []int64{-5, 11, 13, 14}},
		{name: "all done, one twice, one unknown", platform: "telegram", done: []int64{-5, 11, 13, 14, 14, 99}, want: nil},
		{name: "the other platform untouched", platform: "other", want: []int64{10}},
	}
	for _, st := range steps {
		fresh, err := s.PutUpdates(st.platform, inboxUpdates(st.put...))
		must(t, err)
		for _, id := range st.done {
			must(t, s.DoneUpdate(st.platform, id))
		}
		if st.restart && reopen != nil {
			s = reopen(t, s)
		}
		pending, err := s.PendingUpdates(st.platform)
		must(t, err)
		if got := inboxIDs(fresh); !slices.Equal(got, st.fresh) {
			t.Errorf("%s: fresh %v, want %v", st.name, got, st.fresh)
		}
		if got := inboxIDs(pending); !slices.Equal(got, st.want) {
			t.Errorf("%s: pending %v, want %v", st.name, got, st.want)
		}
		for _, u := range pending {
			if string(u.Raw) != `{"update_id":1}` {
				t.Errorf("%s: update %d came back as %q", st.name, u.ID, u.Raw)
			}
		}
	}
}

func inboxCommit(t *testing.T, s InboxStore) {
	_, err := s.PutUpdates("telegram", inboxUpdates(7, 8))
	must(t, err)
	must(t, s.Commit(bot.Commit{Key: ann, State: state("a"), Handled: &bot.InboxRef{Platform: "telegram", ID: 7}}))
	pending, err := s.PendingUpdates("telegram")
	must(t, err)
	if got := inboxIDs(pending); !slices.Equal(got, []int64{8}) {
		t.Errorf("pending after a commit handling 7: %v, want [8]", got)
	}
	fresh, err := s.PutUpdates("telegram", inboxUpdates(7))
	must(t, err)
	if len(fresh) != 0 {
		t.Errorf("update 7, handled by a commit, came back as fresh")
	}
	if _, found, err := s.Session(ann); err != nil || !found {
		t.Errorf("the commit's session: found %v, err %v", found, err)
	}
}
