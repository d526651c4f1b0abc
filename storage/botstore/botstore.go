package botstore

import (
	"refillbot/bot"
	"refillbot/storage"
)

// Store adapts *storage.Store to bot.Store.
type Store struct{ *storage.Store }

var _ bot.Store = Store{}

// New wraps st for the shell.
func New(st *storage.Store) Store { return Store{st} }

func (s Store) Commit(c bot.Commit) error {
	sc := storage.Commit{Key: c.Key, State: c.State, Untrack: c.Untrack}
	for _, t := range c.Track {
		sc.Track = append(sc.Track, storage.TrackedInvoice(t))
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

func (s Store) UpdateTracked(t bot.Tracked) error {
	return s.Store.UpdateTracked(storage.TrackedInvoice(t))
}
