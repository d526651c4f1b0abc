package main

// Commands beside running the bot: `refillbot doctor`, `backup FILE`,
// `restore FILE` and `healthcheck`. Each takes the same flags and
// environment as the bot itself, so it checks or acts on exactly the
// installation the bot would run.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"refillbot/storage"
)

type command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// commands are looked up by the first argument; anything else is the bot's flags.
var commands = map[string]command{
	"doctor":      runDoctor,
	"backup":      runBackup,
	"restore":     runRestore,
	"healthcheck": runHealthcheck,
	"migrate":     runMigrate, // migrate.go
}

// commandHelp is what -help says about each command (apart from the table
// above: -help is printed by the commands' own flag parsing).
var commandHelp = [][2]string{
	{"doctor", "check the configuration, database, Bitrefill, chat tokens and public URL; exit 1 on any failure"},
	{"backup FILE", "write a consistent copy of the database to FILE (the bot must be stopped)"},
	{"restore FILE", "replace the database with the backup FILE (the bot must be stopped); the old file is kept aside"},
	{"migrate", "copy a bbolt shop into PostgreSQL: -from ./refillbot.db -to postgres://… (see migrate -help)"},
	{"healthcheck", "ask the running bot's /healthz on REFILLBOT_METRICS_LISTEN; exit 1 unless it answers (container health checks)"},
}

// commandUsage lists the commands for -help.
func commandUsage(w io.Writer) {
	fmt.Fprintf(w, "\nCommands (each takes the flags above):\n")
	for _, c := range commandHelp {
		fmt.Fprintf(w, "  refillbot %-13s %s\n", c[0], c[1])
	}
}

// oneFile parses a command's flags and its single FILE argument.
func oneFile(name string, args []string, getenv func(string) string, stderr io.Writer) (config, string, error) {
	// The FILE may come first or after the flags.
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	} else if n := len(args); n > 0 && len(args[n-1]) > 0 && args[n-1][0] != '-' {
		file, args = args[n-1], args[:n-1]
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return cfg, "", err
	}
	if file == "" {
		return cfg, "", fmt.Errorf("usage: refillbot %s FILE", name)
	}
	return cfg, file, nil
}

// openForMaintenance opens the database the way the bot would, failing
// fast when the bot holds it.
func openForMaintenance(cfg config) (*storage.Store, error) {
	if _, err := os.Stat(cfg.DB); err != nil {
		return nil, fmt.Errorf("database %s: %w", cfg.DB, err)
	}
	key, source, err := storage.LoadKey(cfg.DB, cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	st, err := storage.Open(cfg.DB, storage.Options{Timeout: time.Second, Key: key})
	switch {
	case errors.Is(err, storage.ErrLocked):
		return nil, fmt.Errorf("database %s is in use by a running refillbot: stop it first (its daily hot backups are in %s)", cfg.DB, cfg.backupDir())
	case errors.Is(err, storage.ErrWrongKey):
		return nil, fmt.Errorf("open database: %w (key from %s)", err, source)
	case err != nil:
		return nil, err
	}
	return st, nil
}

func runBackup(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, file, err := oneFile("backup", args, getenv, stderr)
	if err != nil {
		return err
	}
	st, err := openForMaintenance(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("%s exists: choose a new file name", file)
	}
	n, err := st.BackupFile(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written: %s (%d bytes). Codes in it are encrypted: keep the key (REFILLBOT_SECRET_KEY or %s) too, stored apart.\n", file, n, cfg.DB+storage.KeyFileSuffix)
	return nil
}

func runRestore(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, file, err := oneFile("restore", args, getenv, stderr)
	if err != nil {
		return err
	}
	// The bot must not hold the current database while it is replaced.
	if _, err := os.Stat(cfg.DB); err == nil {
		st, err := storage.Open(cfg.DB, storage.Options{Timeout: time.Second})
		if errors.Is(err, storage.ErrLocked) {
			return fmt.Errorf("database %s is in use by a running refillbot: stop it before restoring", cfg.DB)
		}
		if err == nil {
			st.Close()
		}
	}
	// Check the backup on a copy: it must open with this installation's key.
	dir := filepath.Dir(cfg.DB)
	tmp, err := os.CreateTemp(dir, ".refillbot-restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	src, err := os.Open(file)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("restore: %w", err)
	}
	_, err = io.Copy(tmp, src)
	src.Close()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DB + storage.KeyFileSuffix); cfg.SecretKey == "" && err != nil {
		return fmt.Errorf("the backup's codes are sealed with the key it was made with: set REFILLBOT_SECRET_KEY or put the key file at %s; nothing was changed", cfg.DB+storage.KeyFileSuffix)
	}
	key, source, err := storage.LoadKey(cfg.DB, cfg.SecretKey)
	if err != nil {
		return err
	}
	st, err := storage.Open(tmp.Name(), storage.Options{Timeout: time.Second, Key: key})
	if err != nil {
		if errors.Is(err, storage.ErrWrongKey) {
			return fmt.Errorf("%s does not open with this installation's key (from %s): %w; nothing was changed", file, source, err)
		}
		return fmt.Errorf("%s is not a usable refillbot database: %w; nothing was changed", file, err)
	}
	perr := st.Ping()
	st.Close()
	if perr != nil {
		return fmt.Errorf("%s: %w; nothing was changed", file, perr)
	}
	aside := ""
	if _, err := os.Stat(cfg.DB); err == nil {
		aside = cfg.DB + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(cfg.DB, aside); err != nil {
			return fmt.Errorf("restore: keeping the current database aside: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), cfg.DB); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s from %s", cfg.DB, file)
	if aside != "" {
		fmt.Fprintf(stdout, "; the previous database is kept as %s", aside)
	}
	fmt.Fprintln(stdout)
	return nil
}

func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.MetricsListen == "" {
		return errors.New("healthcheck needs REFILLBOT_METRICS_LISTEN (the address serving /healthz)")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, localURL(cfg.MetricsListen, "/healthz"), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: the bot does not answer on %s", cfg.MetricsListen)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", res.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
