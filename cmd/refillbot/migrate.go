package main

// refillbot migrate: moves a shop from its bbolt file to PostgreSQL, so a
// shop that outgrows one machine keeps its customers' sessions, purchases,
// queued messages and secrets.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"refillbot/storage"
	"refillbot/storage/postgres"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("refillbot migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "./refillbot.db", "the bbolt database to copy (the bot must be stopped)")
	to := fs.String("to", getenv("REFILLBOT_DATABASE_URL"), "postgres:// URL of the target database ($REFILLBOT_DATABASE_URL)")
	force := fs.Bool("force", false, "copy into a database that already holds data (records of the same name are overwritten)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "refillbot migrate -from ./refillbot.db -to postgres://…\n\n"+
			"Copies every session, purchase, queued message, timer and secret from the bbolt file into\n"+
			"PostgreSQL. The source key is the key file beside it, else $REFILLBOT_SECRET_KEY; the target\n"+
			"is sealed with $REFILLBOT_SECRET_KEY, else the source's key. Running it again is safe.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return errors.New("migrate: -to must be a postgres:// URL")
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate: -from %s: no such database", *from)
	}
	src, srcKey, keyFrom, err := openSource(*from, getenv("REFILLBOT_SECRET_KEY"))
	if err != nil {
		return err
	}
	defer src.Close()
	d, err := src.Dump()
	if err != nil {
		return fmt.Errorf("migrate: read %s: %w", *from, err)
	}
	dstKey := srcKey
	if env := getenv("REFILLBOT_SECRET_KEY"); env != "" {
		if dstKey, err = storage.ParseKey(env); err != nil {
			return fmt.Errorf("REFILLBOT_SECRET_KEY %w", err)
		}
	}
	octx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dst, err := postgres.Open(octx, *to, postgres.Options{Key: dstKey})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	res, err := dst.Load(octx, d, *force)
	switch {
	case errors.Is(err, postgres.ErrNotEmpty):
		return errors.New("migrate: the target database already holds a shop; give -force to copy into it anyway")
	case err != nil:
		return fmt.Errorf("migrate: %w", err)
	case res.Already:
		fmt.Fprintf(stdout, "migrate: %s was already copied into this database; nothing to do\n", *from)
		return nil
	}
	fmt.Fprintf(stdout, "migrate: copied %d sessions, %d watched invoices, %d queued messages, %d timers, %d checkouts and the webhook secret\n",
		len(d.Sessions), len(d.Tracked), len(d.Outbox), len(d.Timers), len(d.Checkouts))
	if getenv("REFILLBOT_SECRET_KEY") == "" {
		fmt.Fprintf(stdout, "migrate: the database is sealed with the key from %s: start every replica with REFILLBOT_SECRET_KEY set to it\n", keyFrom)
	}
	return nil
}

// openSource opens the bbolt file with the key it was sealed with: the key
// file beside it when there is one, else REFILLBOT_SECRET_KEY.
func openSource(path, envKey string) (*storage.Store, []byte, string, error) {
	type candidate struct {
		key  []byte
		from string
	}
	var cands []candidate
	keyFile := path + storage.KeyFileSuffix
	if _, err := os.Stat(keyFile); err == nil {
		k, _, err := storage.LoadKey(path, "")
		if err != nil {
			return nil, nil, "", fmt.Errorf("migrate: %w", err)
		}
		cands = append(cands, candidate{k, keyFile})
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, "", fmt.Errorf("migrate: %w", err)
	}
	if envKey != "" {
		k, err := storage.ParseKey(envKey)
		if err != nil {
			return nil, nil, "", fmt.Errorf("REFILLBOT_SECRET_KEY %w", err)
		}
		cands = append(cands, candidate{k, "REFILLBOT_SECRET_KEY"})
	}
	if len(cands) == 0 {
		return nil, nil, "", fmt.Errorf("migrate: no key for %s: neither %s nor REFILLBOT_SECRET_KEY", path, keyFile)
	}
	var err error
	for _, c := range cands {
		var st *storage.Store
		st, err = storage.Open(path, storage.Options{Timeout: time.Second, Key: c.key})
		if err == nil {
			return st, c.key, c.from, nil
		}
		if !errors.Is(err, storage.ErrWrongKey) {
			break
		}
	}
	if errors.Is(err, storage.ErrLocked) {
		return nil, nil, "", fmt.Errorf("migrate: %s is in use: stop the bot first", path)
	}
	return nil, nil, "", fmt.Errorf("migrate: %w", err)
}
