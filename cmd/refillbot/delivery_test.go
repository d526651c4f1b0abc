package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Delivery settings that cannot work end start-up with one clear line.
func TestDeliveryConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"short key":            {map[string]string{"REFILLBOT_SECRET_KEY": "abcd"}, "REFILLBOT_SECRET_KEY must be 64 hex characters or base64 of 32 bytes"},
		"public url no listen": {map[string]string{"REFILLBOT_PUBLIC_URL": "https://bot.example"}, "needs REFILLBOT_LISTEN"},
		"bad hide duration":    {map[string]string{"REFILLBOT_HIDE_CODES_AFTER": "soon"}, "REFILLBOT_HIDE_CODES_AFTER"},
		"bad backup keep":      {map[string]string{"REFILLBOT_BACKUP_KEEP": "0"}, "REFILLBOT_BACKUP_KEEP"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"-db", filepath.Join(t.TempDir(), "x.db")}
			err := run(context.Background(), args, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "abcd") {
				t.Error("the error repeats the key")
			}
		})
	}
}

// The generated key file is refused once others can read it, and a
// database cannot be opened with another key.
func TestKeyFileAndWrongKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	s := start(t, db)
	s.expect(`Welcome`)
	s.quit()
	fi, err := os.Stat(db + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file beside the database: %v, mode %v", err, fi.Mode().Perm())
	}
	args := []string{"-db", db}
	other := strings.Repeat("ab", 32)
	err = run(context.Background(), args, func(k string) string {
		if k == "REFILLBOT_SECRET_KEY" {
			return other
		}
		return ""
	}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "different key") {
		t.Fatalf("opened with another key: %v", err)
	}
	if err := os.Chmod(db+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key file others can read was used: %v", err)
	}
}
