package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refillbot/bitrefill/bitrefilltest"
	"refillbot/platforms/discord/discordtest"
	"refillbot/platforms/telegram/telegramtest"
	"refillbot/storage"
)

// shop is an installation against the fakes: a database sealed with a key,
// Bitrefill, Telegram and Discord, and a public URL reaching REFILLBOT_LISTEN.
type shop struct {
	env map[string]string
	key string
}

func newShop(t *testing.T) *shop {
	t.Helper()
	_, bsrv := bitrefilltest.NewServer(t, bitrefilltest.Options{})
	tg := telegramtest.NewServer(t, telegramtest.Options{})
	dc := discordtest.New(discordtest.Options{})
	t.Cleanup(dc.Close)
	key := bytes.Repeat([]byte{7}, 32)
	db := filepath.Join(t.TempDir(), "shop.db")
	st, err := storage.Open(db, storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WebhookSecret(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	listen := freeAddr(t)
	return &shop{key: hex.EncodeToString(key), env: map[string]string{
		"REFILLBOT_DB":         db,
		"REFILLBOT_SECRET_KEY": hex.EncodeToString(key),
		"BITREFILL_API_URL":    bsrv.URL + "/v2",
		"BITREFILL_API_KEY":    "test-key",
		"TELEGRAM_BOT_TOKEN":   tg.Token(),
		"TELEGRAM_API_URL":     tg.URL(),
		"DISCORD_BOT_TOKEN":    dc.Token(),
		"DISCORD_APP_ID":       "1",
		"DISCORD_API_URL":      dc.URL(),
		"REFILLBOT_LISTEN":     listen,
		"REFILLBOT_PUBLIC_URL": "http://" + listen,
	}}
}

func (s *shop) doctor(t *testing.T) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), []string{"doctor"}, func(k string) string { return s.env[k] }, nil, &out, &out)
	return out.String(), err
}

// verdicts maps each check to its verdict, from doctor's lines: the
// verdict, two spaces, the check's name padded to 14, its message.
func verdicts(out string) map[string]string {
	v := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if len(line) < 21 {
			continue
		}
		verdict := strings.TrimSpace(line[:4])
		if verdict == "ok" || verdict == "FAIL" || verdict == "note" {
			v[strings.TrimSpace(line[6:20])] = verdict
		}
	}
	return v
}

func TestDoctor(t *testing.T) {
	deadAPI := httptest.NewServer(nil)
	deadURL := deadAPI.URL + "/v2"
	deadAPI.Close()
	for name, tc := range map[string]struct {
		change func(env map[string]string)
		fails  []string // the checks that must fail; every other must not
		says   string   // what the failing line tells the owner to do
	}{
		"all green": {change: func(map[string]string) {}},
		"wrong key": {
			change: func(env map[string]string) { env["REFILLBOT_SECRET_KEY"] = strings.Repeat("ab", 32) },
			fails:  []string{"key"}, says: "the key the database was created with",
		},
		"dead Bitrefill": {
			change: func(env map[string]string) { env["BITREFILL_API_URL"] = deadURL },
			fails:  []string{"bitrefill"}, says: "cannot reach",
		},
		"refused Bitrefill key": {
			change: func(env map[string]string) { env["BITREFILL_API_KEY"] = "sk-not-this-one" },
			fails:  []string{"bitrefill"}, says: "refused the credentials",
		},
		"wrong Telegram token": {
			change: func(env map[string]string) { env["TELEGRAM_BOT_TOKEN"] = "1:AAnot-this-one" },
			fails:  []string{"telegram"}, says: "@BotFather",
		},
		"wrong Discord token": {
			change: func(env map[string]string) { env["DISCORD_BOT_TOKEN"] = "Zm9vYmFyLnRva2Vu.not-this-one" },
			fails:  []string{"discord"}, says: "developer portal",
		},
		"public URL elsewhere": {
			change: func(env map[string]string) {
				other := httptest.NewServer(nil) // answers 404 to everything
				t.Cleanup(other.Close)
				env["REFILLBOT_PUBLIC_URL"] = other.URL
			},
			fails: []string{"public URL"}, says: "forward /webhooks/bitrefill/",
		},
		"bad setting": {
			change: func(env map[string]string) { env["TELEGRAM_MODE"] = "carrier-pigeon" },
			fails:  []string{"configuration"}, says: "TELEGRAM_MODE",
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newShop(t)
			tc.change(s.env)
			out, err := s.doctor(t)
			got := verdicts(out)
			if len(tc.fails) == 0 {
				if err != nil {
					t.Fatalf("doctor failed: %v\n%s", err, out)
				}
				for _, check := range []string{"configuration", "database", "bitrefill", "balance", "limits", "telegram", "discord", "public URL"} {
					if got[check] != "ok" {
						t.Errorf("check %q = %q, want ok\n%s", check, got[check], out)
					}
				}
				return
			}
			if !errors.Is(err, errChecksFailed) {
				t.Fatalf("doctor = %v, want errChecksFailed\n%s", err, out)
			}
			for check, v := range got {
				want := "ok"
				for _, f := range tc.fails {
					if f == check {
						want = "FAIL"
					}
				}
				if (want == "FAIL") != (v == "FAIL") {
					t.Errorf("check %q = %q, want %s\n%s", check, v, want, out)
				}
			}
			for _, f := range tc.fails {
				if got[f] != "FAIL" {
					t.Errorf("check %q = %q, want FAIL\n%s", f, got[f], out)
				}
			}
			if !strings.Contains(out, tc.says) {
				t.Errorf("doctor does not say %q:\n%s", tc.says, out)
			}
			for _, secret := range []string{s.env["TELEGRAM_BOT_TOKEN"], s.env["DISCORD_BOT_TOKEN"], s.env["BITREFILL_API_KEY"], s.key} {
				if len(secret) > 4 && strings.Contains(out, secret) {
					t.Errorf("doctor printed a secret (%q):\n%s", secret, out)
				}
			}
		})
	}
}

// A backup taken with the bot stopped restores the same database; a backup
// that does not open with the installation's key changes nothing.
func TestBackupRestore(t *testing.T) {
	s := newShop(t)
	env := func(k string) string { return s.env[k] }
	db := s.env["REFILLBOT_DB"]
	secret := func() string {
		st, err := storage.Open(db, storage.Options{Key: bytes.Repeat([]byte{7}, 32), Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		sec, err := st.WebhookSecret()
		if err != nil {
			t.Fatal(err)
		}
		return sec
	}
	before := secret()
	file := filepath.Join(t.TempDir(), "copy.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"backup", file}, env, nil, &out, &out); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"backup", file}, env, nil, &out, &out); err == nil {
		t.Fatal("backup overwrote an existing file")
	}

	// The shop's database is lost: a fresh one takes its place.
	st, err := storage.Open(db+".new", storage.Options{Key: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.Rename(db+".new", db); err != nil {
		t.Fatal(err)
	}
	if secret() == before {
		t.Fatal("test setup: the fresh database has the old secret")
	}

	wrongKey := map[string]string{"REFILLBOT_DB": db, "REFILLBOT_SECRET_KEY": strings.Repeat("cd", 32)}
	err = run(context.Background(), []string{"restore", file}, func(k string) string { return wrongKey[k] }, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("restore with the wrong key = %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"restore", file}, env, nil, &out, &out); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "previous database is kept as") {
		t.Errorf("restore did not say where the old file went: %s", out.String())
	}
	if got := secret(); got != before {
		t.Error("restored database differs from the backup")
	}
}
