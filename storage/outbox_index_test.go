package storage

import (
	"fmt"
	"refillbot/bot"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/conversation"
)

func ids(list []bot.OutboxRecord) []uint64 {
	out := make([]uint64, len(list))
	for i, r := range list {
		out[i] = r.ID
	}
	return out
}

// A due message is listed however many held-back messages (a user who
// blocked the bot) are older than it; a session's messages come in order,
// and those queued behind a held-back one are not listed at all.
func TestOutboxDueSkipsHeldBackRecords(t *testing.T) {
	s, _ := openTemp(t, Options{NoSync: true})
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	reply := conversation.Reply{Text: []conversation.Span{{Text: "x"}}}
	var recs []bot.OutboxRecord
	for i := range 1500 { // the blocked user's backlog: one held back, the rest behind it
		r := bot.OutboxRecord{ID: uint64(1 + i), Session: key(1), Reply: reply}
		if i == 0 {
			r.Attempts, r.NextTry = 5, now.Add(6*time.Hour)
		}
		recs = append(recs, r)
	}
	recs = append(recs,
		bot.OutboxRecord{ID: 5000, Session: key(2), Reply: reply, Attempts: 1, NextTry: now.Add(-time.Second)},
		bot.OutboxRecord{ID: 5001, Session: key(2), Reply: reply},
		bot.OutboxRecord{ID: 6000, Session: key(3), Reply: reply},
	)
	if err := s.Enqueue(recs); err != nil {
		t.Fatal(err)
	}
	due, err := s.OutboxDue(now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(due)); got != "[6000 5000 5001]" {
		t.Errorf("due = %s, want [6000 5000 5001] (never-tried session first, then by next try; the held-back backlog not at all)", got)
	}
	if err := s.OutboxRetry(5000, 2, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.OutboxDue(now, 10); fmt.Sprint(ids(due)) != "[6000]" {
		t.Errorf("after a retry of key(2)'s head: %v, want [6000]", ids(due))
	}
	// Sending the held-back head lets the rest of its session through.
	if err := s.OutboxDone([]uint64{1, 6000}, nil, nil); err != nil {
		t.Fatal(err)
	}
	due, _ = s.OutboxDue(now, 3)
	if got := fmt.Sprint(ids(due)); got != "[2 3 4]" {
		t.Errorf("after the held-back head was sent: %s, want [2 3 4]", got)
	}
	own, err := s.OutboxSession(key(2), 0)
	if err != nil || fmt.Sprint(ids(own)) != "[5000 5001]" {
		t.Errorf("OutboxSession(key 2) = %v %v", ids(own), err)
	}
	// The next commit may carry marks: the indexes follow.
	if err := s.Commit(bot.Commit{Key: key(2), State: sampleState(2), Done: []uint64{5000, 5001}}); err != nil {
		t.Fatal(err)
	}
	if own, _ := s.OutboxSession(key(2), 0); len(own) != 0 {
		t.Errorf("OutboxSession after done: %v", ids(own))
	}
	if due, _ := s.OutboxDue(now.Add(time.Hour), 0); len(due) != 1499 {
		t.Errorf("due later: %d records, want 1499", len(due))
	}
}

// A file written before the indexes existed gets them at Open.
func TestOutboxIndexesBuiltForOldFiles(t *testing.T) {
	s, path := openTemp(t, Options{NoSync: true})
	reply := conversation.Reply{Text: []conversation.Span{{Text: "x"}}}
	if err := s.Enqueue([]bot.OutboxRecord{{ID: 7, Session: key(1), Reply: reply}, {ID: 8, Session: key(2), Reply: reply}}); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error { // as an older build left it
		for _, name := range outboxIndexes {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(metaOutboxIndexed)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	due, err := s.OutboxDue(time.Now(), 0)
	if err != nil || fmt.Sprint(ids(due)) != "[7 8]" {
		t.Errorf("due after reopening an old file: %v %v", ids(due), err)
	}
}

// Applying a commit twice (db.Batch may) leaves the indexes as once.
func TestOutboxIndexesIdempotent(t *testing.T) {
	s, _ := openTemp(t, Options{NoSync: true})
	reply := conversation.Reply{Text: []conversation.Span{{Text: "x"}}}
	ops, err := s.prepareCommit(bot.Commit{Key: key(1), State: sampleState(1), Outbox: []bot.OutboxRecord{{ID: 1, Session: key(1), Reply: reply}, {ID: 2, Session: key(1), Reply: reply}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := ops.apply(tx); err != nil {
			return err
		}
		return ops.apply(tx)
	}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.OutboxDue(time.Now(), 0); fmt.Sprint(ids(due)) != "[1 2]" {
		t.Errorf("due = %v", ids(due))
	}
	if err := s.OutboxDone([]uint64{1, 2}, nil, nil); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, name := range outboxIndexes {
			if n := tx.Bucket(name).Stats().KeyN; n != 0 {
				t.Errorf("index %s keeps %d keys after the outbox emptied", name, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A scheduled entry that failed moves behind the work due before its retry.
func TestScheduleRetryMovesEntry(t *testing.T) {
	s, _ := openTemp(t, Options{NoSync: true})
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	hide := bot.Scheduled{Due: now.Add(-time.Hour), Name: "hide:a", Kind: "hide", Ref: "1"}
	gift := bot.Scheduled{Due: now.Add(-time.Minute), Name: "giftcard:o1", Kind: "giftcard"}
	if err := s.OutboxDone(nil, nil, []bot.Scheduled{hide, gift}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Due(now, 1); len(due) != 1 || due[0].Name != "hide:a" {
		t.Fatalf("first due %+v", due)
	}
	hide.Attempts = 1
	if err := s.ScheduleRetry(hide, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Due(now, 1); len(due) != 1 || due[0].Name != "giftcard:o1" {
		t.Errorf("after the retry, first due %+v, want the gift-card reminder", due)
	}
	due, _ := s.Due(now.Add(time.Minute), 0)
	if len(due) != 2 || due[1].Name != "hide:a" || due[1].Attempts != 1 || !due[1].Due.Equal(now.Add(time.Minute)) {
		t.Errorf("moved entry: %+v", due)
	}
}
