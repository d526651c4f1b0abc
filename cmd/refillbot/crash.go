package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"refillbot/bot"
	"refillbot/conversation"
)

// Crash points of a delivery, for the restart tests (REFILLBOT_TEST_CRASH):
// the process dies there, as a power cut would, and the test restarts it on
// the same database. They are decorators around the store and the
// platforms, installed only when the variable is set, so production runs
// none of it.
const (
	crashCommitted = "committed" // a delivery is stored, not yet sent
	crashHeld      = "held"      // its placeholder was accepted, its reference not yet durable (bot.Holder)
	crashSent      = "sent"      // the platform accepted a delivery (a send, or the edit of its placeholder), not yet marked
	crashMarked    = "marked"    // the delivery's mark is durable
)

// crasher makes the process die at one crash point.
type crasher struct {
	point  string
	stderr io.Writer
}

func (c crasher) at(point string) {
	if point == c.point {
		fmt.Fprintln(c.stderr, "refillbot: REFILLBOT_TEST_CRASH: dying at", point)
		os.Exit(86)
	}
}

// platform dies before a delivery (a code message) reaches the platform
// (crashCommitted: the outbox holds it), right after the platform took its
// placeholder (crashHeld) or the delivery itself (crashSent: its mark is
// not written). The platform's abilities are kept: the bot must behave as
// it would without the decorator.
func (c crasher) platform(p bot.Platform) bot.Platform {
	cp := crashingPlatform{p, c}
	ed, canEdit := p.(bot.Editor)
	del, canDelete := p.(bot.Deleter)
	h, canHold := p.(bot.Holder)
	if canEdit {
		ed = crashingEditor{ed, c}
	}
	if canHold {
		h = crashingHolder{h, c}
	}
	switch {
	case canEdit && canDelete && canHold:
		return struct {
			crashingPlatform
			bot.Editor
			bot.Deleter
			bot.Holder
		}{cp, ed, del, h}
	case canEdit && canDelete:
		return struct {
			crashingPlatform
			bot.Editor
			bot.Deleter
		}{cp, ed, del}
	case canEdit && canHold:
		return struct {
			crashingPlatform
			bot.Editor
			bot.Holder
		}{cp, ed, h}
	case canEdit:
		return struct {
			crashingPlatform
			bot.Editor
		}{cp, ed}
	case canDelete:
		return struct {
			crashingPlatform
			bot.Deleter
		}{cp, del}
	}
	return cp // (a Holder that cannot edit is never asked to hold)
}

type crashingPlatform struct {
	bot.Platform
	c crasher
}

func (p crashingPlatform) Send(ctx context.Context, to conversation.Address, r conversation.Reply, png []byte) (string, error) {
	if r.Secret {
		p.c.at(crashCommitted)
	}
	ref, err := p.Platform.Send(ctx, to, r, png)
	if err == nil && r.Secret {
		p.c.at(crashSent)
	}
	return ref, err
}

type crashingHolder struct {
	bot.Holder
	c crasher
}

func (h crashingHolder) Hold(ctx context.Context, to conversation.Address, notice, r conversation.Reply, png []byte) (string, error) {
	h.c.at(crashCommitted)
	ref, err := h.Holder.Hold(ctx, to, notice, r, png)
	if err == nil {
		h.c.at(crashHeld)
	}
	return ref, err
}

type crashingEditor struct {
	bot.Editor
	c crasher
}

func (e crashingEditor) Edit(ctx context.Context, to conversation.Address, ref string, r conversation.Reply, png []byte) error {
	err := e.Editor.Edit(ctx, to, ref, r, png)
	if err == nil && r.Secret {
		e.c.at(crashSent)
	}
	return err
}

// store dies once the "sent" mark of a delivery is durable (crashMarked).
func (c crasher) store(s bot.Store) bot.Store {
	return &crashingStore{Store: s, c: c, secret: map[uint64]bool{}}
}

type crashingStore struct {
	bot.Store
	c      crasher
	mu     sync.Mutex
	secret map[uint64]bool // deliveries stored by this process
}

func (s *crashingStore) remember(recs []bot.OutboxRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if r.Reply.Secret {
			s.secret[r.ID] = true
		}
	}
}

func (s *crashingStore) marked(ids []uint64) {
	s.mu.Lock()
	hit := false
	for _, id := range ids {
		hit = hit || s.secret[id]
	}
	s.mu.Unlock()
	if hit {
		s.c.at(crashMarked)
	}
}

func (s *crashingStore) Commit(c bot.Commit) error {
	s.remember(c.Outbox)
	err := s.Store.Commit(c)
	if err == nil {
		s.marked(c.Done)
	}
	return err
}

func (s *crashingStore) Enqueue(recs []bot.OutboxRecord) error {
	s.remember(recs)
	return s.Store.Enqueue(recs)
}

func (s *crashingStore) OutboxDone(ids []uint64, views []bot.View, hides []bot.Scheduled) error {
	err := s.Store.OutboxDone(ids, views, hides)
	if err == nil {
		s.marked(ids)
	}
	return err
}
