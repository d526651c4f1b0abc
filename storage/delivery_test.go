package storage

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"refillbot/bot"
	"strings"
	"testing"
	"time"

	"refillbot/conversation"
)

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, 32)
	for name, tc := range map[string]struct {
		in string
		ok bool
	}{
		"hex":               {hex.EncodeToString(raw), true},
		"hex upper":         {strings.ToUpper(hex.EncodeToString(raw)), true},
		"hex with newline":  {hex.EncodeToString(raw) + "\n", true},
		"base64":            {base64.StdEncoding.EncodeToString(raw), true},
		"base64 unpadded":   {base64.RawStdEncoding.EncodeToString(raw), true},
		"base64url":         {base64.URLEncoding.EncodeToString(raw), true},
		"short hex":         {hex.EncodeToString(raw[:16]), false},
		"base64 of 16":      {base64.StdEncoding.EncodeToString(raw[:16]), false},
		"passphrase":        {"correct horse battery staple", false},
		"empty":             {"", false},
		"63 hex and a junk": {hex.EncodeToString(raw)[:63] + "g", false},
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParseKey(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseKey: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && !bytes.Equal(k, raw) {
				t.Fatalf("key %x, want %x", k, raw)
			}
			if err != nil && tc.in != "" && strings.Contains(err.Error(), tc.in) {
				t.Fatal("the error repeats the secret")
			}
		})
	}
}

func TestLoadKeyFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	k1, src, err := LoadKey(db, "")
	if err != nil || len(k1) != 32 || !strings.Contains(src, "(new)") {
		t.Fatalf("first LoadKey: %x %q %v", k1, src, err)
	}
	fi, err := os.Stat(db + KeyFileSuffix)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	k2, _, err := LoadKey(db, "")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second LoadKey gave another key (%v)", err)
	}
	if err := os.Chmod(db+KeyFileSuffix, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKey(db, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key file others can read was accepted: %v", err)
	}
	// The environment wins over the file, and is validated.
	if _, _, err := LoadKey(db, "not a key"); err == nil || !strings.Contains(err.Error(), "REFILLBOT_SECRET_KEY") {
		t.Fatalf("bad REFILLBOT_SECRET_KEY: %v", err)
	}
}

func TestWrongKeyRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	s, err := Open(path, Options{Key: k1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(bot.Commit{Key: key(1), State: sampleState(1)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for name, k := range map[string][]byte{"other key": k2, "no key": nil} {
		if s, err := Open(path, Options{Key: k}); !errors.Is(err, ErrWrongKey) {
			if s != nil {
				s.Close()
			}
			t.Errorf("%s: Open = %v, want ErrWrongKey", name, err)
		}
	}
	if _, err := Open(path, Options{Key: k1[:16]}); err == nil {
		t.Error("a 16-byte key was accepted")
	}
	s, err = Open(path, Options{Key: k1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, ok, err := s.Session(key(1)); err != nil || !ok || st.Nonce != sampleState(1).Nonce {
		t.Fatalf("sealed session does not read back: %v %v", ok, err)
	}
}

// Sessions and outbox records are sealed; the codes they hold never reach
// the file in clear.
func TestSealedRecordsHideCodes(t *testing.T) {
	s, path := openTemp(t, Options{Key: bytes.Repeat([]byte{9}, 32)})
	st := sampleState(1) // holds the code ABCD-EFGH-IJKL
	rec := bot.OutboxRecord{ID: 1, Session: key(1), Reply: conversation.Reply{Secret: true, Text: []conversation.Span{{Text: "Code: WXYZ-9876-SECRET", Style: conversation.Code}}}}
	if err := s.Commit(bot.Commit{Key: key(1), State: st, Outbox: []bot.OutboxRecord{rec}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"ABCD-EFGH-IJKL", "WXYZ-9876-SECRET"} {
		if bytes.Contains(raw, []byte(code)) {
			t.Errorf("%s is in the file in clear", code)
		}
	}
	list, err := s.Outbox(0)
	if err != nil || len(list) != 1 || conversation.PlainText(list[0].Reply.Text) != "Code: WXYZ-9876-SECRET" {
		t.Fatalf("outbox read back: %+v %v", list, err)
	}
}

func TestOutboxLifecycle(t *testing.T) {
	s, _ := openTemp(t, Options{NoSync: true})
	reply := func(s string) conversation.Reply { return conversation.Reply{Text: []conversation.Span{{Text: s}}} }
	c := bot.Commit{Key: key(1), State: sampleState(1), Outbox: []bot.OutboxRecord{
		{ID: 10, Session: key(1), Reply: reply("first")},
		{ID: 11, Session: key(1), Reply: reply("second"), Invoice: "inv", View: true},
	}}
	if err := s.Commit(c); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue([]bot.OutboxRecord{{ID: 5, Session: key(2), Reply: reply("reminder")}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Outbox(0)
	if err != nil || len(list) != 3 || list[0].ID != 5 || list[1].ID != 10 || list[2].ID != 11 || !list[2].View {
		t.Fatalf("outbox order: %+v %v", list, err)
	}
	next := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.OutboxRetry(10, 3, next); err != nil {
		t.Fatal(err)
	}
	view := bot.View{InvoiceID: "inv", Address: conversation.Address{Platform: "t", Chat: "c"}, Ref: "42"}
	hide := bot.Scheduled{Due: next, Name: "hide:t:c:42", Kind: "hide", Ref: "42"}
	if err := s.OutboxDone([]uint64{11, 5}, []bot.View{view}, []bot.Scheduled{hide}); err != nil {
		t.Fatal(err)
	}
	list, _ = s.Outbox(0)
	if len(list) != 1 || list[0].ID != 10 || list[0].Attempts != 3 || !list[0].NextTry.Equal(next) {
		t.Fatalf("after done/retry: %+v", list)
	}
	// The next commit may carry the mark instead.
	if err := s.Commit(bot.Commit{Key: key(1), State: sampleState(1), Done: []uint64{10}}); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Outbox(0); len(list) != 0 {
		t.Fatalf("outbox not empty: %+v", list)
	}
	if last, err := s.OutboxLast(); err != nil || last != 11 {
		t.Errorf("OutboxLast = %d, %v; want 11 (ids keep growing after the outbox empties)", last, err)
	}
	if v, ok, err := s.InvoiceView("inv"); err != nil || !ok || v != view {
		t.Errorf("InvoiceView = %+v %v %v", v, ok, err)
	}
	if due, _ := s.Due(next.Add(-time.Second), 0); len(due) != 0 {
		t.Errorf("due early: %+v", due)
	}
	due, err := s.Due(next, 0)
	if err != nil || len(due) != 1 || due[0].Ref != "42" || due[0].Kind != "hide" {
		t.Fatalf("Due = %+v %v", due, err)
	}
	if err := s.ScheduleDone(due); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.Due(next.Add(time.Hour), 0); len(due) != 0 {
		t.Errorf("still due after done: %+v", due)
	}
}

func TestWebhookSecretIsStable(t *testing.T) {
	s, path := openTemp(t, Options{})
	a, err := s.WebhookSecret()
	if err != nil || len(a) < 40 {
		t.Fatalf("secret %q %v: want 32 random bytes", a, err)
	}
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if b, _ := s2.WebhookSecret(); b != a {
		t.Error("the webhook secret changed across a restart: invoices made before would lose their webhooks")
	}
}

func TestMarkOnceAndAddress(t *testing.T) {
	s, _ := openTemp(t, Options{NoSync: true})
	now := time.Now()
	if ok, _ := s.MarkOnce("esim-data:1", now); !ok {
		t.Fatal("first mark not new")
	}
	if ok, _ := s.MarkOnce("esim-data:1", now); ok {
		t.Fatal("second mark new")
	}
	private := conversation.Address{Platform: "telegram", Chat: "100", Private: true}
	group := conversation.Address{Platform: "telegram", Chat: "-200"}
	for _, a := range []conversation.Address{private, group} {
		if err := s.Commit(bot.Commit{Key: key(1), State: sampleState(1), Address: a}); err != nil {
			t.Fatal(err)
		}
	}
	if a, ok, err := s.Address(key(1)); err != nil || !ok || a != private {
		t.Errorf("Address = %+v %v %v, want the private chat (never the group)", a, ok, err)
	}
	if n, err := s.Prune(now.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("Prune = %d, %v; want the one mark", n, err)
	}
}
