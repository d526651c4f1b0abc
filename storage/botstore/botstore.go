package botstore

import (
	"time"

	"refillbot/bot"
	"refillbot/conversation"
	"refillbot/storage"
)

// Store adapts *storage.Store to bot.Store.
type Store struct{ *storage.Store }

var _ bot.Store = Store{}

// New wraps st for the shell.
func New(st *storage.Store) Store { return Store{st} }

func (s Store) Commit(c bot.Commit) error {
	sc := storage.Commit{Key: c.Key, State: c.State, Untrack: c.Untrack, Address: c.Address, Done: c.Done}
	for _, t := range c.Track {
		sc.Track = append(sc.Track, storage.TrackedInvoice(t))
	}
	for _, r := range c.Outbox {
		sc.Outbox = append(sc.Outbox, storage.OutboxRecord(r))
	}
	for _, x := range c.Schedule {
		sc.Schedule = append(sc.Schedule, storage.Scheduled(x))
	}
	return s.Store.Commit(sc)
}

func (s Store) Tracked() ([]bot.Tracked, error) {
	list, err := s.Store.Tracked()
	out := make([]bot.Tracked, len(list))
	for i, t := range list {
		out[i] = bot.Tracked(t)
	}
	return out, err
}

func (s Store) TrackedInvoice(id string) (bot.Tracked, bool, error) {
	t, ok, err := s.Store.TrackedInvoice(id)
	return bot.Tracked(t), ok, err
}

func (s Store) UpdateTracked(t bot.Tracked) error {
	return s.Store.UpdateTracked(storage.TrackedInvoice(t))
}

func (s Store) Enqueue(recs []bot.OutboxRecord) error {
	out := make([]storage.OutboxRecord, len(recs))
	for i, r := range recs {
		out[i] = storage.OutboxRecord(r)
	}
	return s.Store.Enqueue(out)
}

func (s Store) OutboxDue(now time.Time, limit int) ([]bot.OutboxRecord, error) {
	return records(s.Store.OutboxDue(now, limit))
}

func (s Store) OutboxSession(key conversation.SessionKey, limit int) ([]bot.OutboxRecord, error) {
	return records(s.Store.OutboxSession(key, limit))
}

func records(list []storage.OutboxRecord, err error) ([]bot.OutboxRecord, error) {
	out := make([]bot.OutboxRecord, len(list))
	for i, r := range list {
		out[i] = bot.OutboxRecord(r)
	}
	return out, err
}

func (s Store) ScheduleRetry(sc bot.Scheduled, next time.Time) error {
	return s.Store.ScheduleRetry(storage.Scheduled(sc), next)
}

func (s Store) OutboxDone(ids []uint64, views []bot.View, hides []bot.Scheduled) error {
	vs := make([]storage.View, len(views))
	for i, v := range views {
		vs[i] = storage.View(v)
	}
	hs := make([]storage.Scheduled, len(hides))
	for i, h := range hides {
		hs[i] = storage.Scheduled(h)
	}
	return s.Store.OutboxDone(ids, vs, hs)
}

func (s Store) InvoiceView(id string) (bot.View, bool, error) {
	v, ok, err := s.Store.InvoiceView(id)
	return bot.View(v), ok, err
}

func (s Store) Due(now time.Time, limit int) ([]bot.Scheduled, error) {
	list, err := s.Store.Due(now, limit)
	out := make([]bot.Scheduled, len(list))
	for i, x := range list {
		out[i] = bot.Scheduled(x)
	}
	return out, err
}

func (s Store) ScheduleDone(done []bot.Scheduled) error {
	out := make([]storage.Scheduled, len(done))
	for i, x := range done {
		out[i] = storage.Scheduled(x)
	}
	return s.Store.ScheduleDone(out)
}

func (s Store) AllSessions() ([]bot.SessionInfo, error) {
	list, err := s.Store.AllSessions()
	out := make([]bot.SessionInfo, len(list))
	for i, x := range list {
		out[i] = bot.SessionInfo(x)
	}
	return out, err
}

func (s Store) Address(key conversation.SessionKey) (conversation.Address, bool, error) {
	return s.Store.Address(key)
}
