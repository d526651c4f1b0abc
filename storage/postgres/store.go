package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"refillbot/conversation"
	"refillbot/storage/sealed"
	"refillbot/storage/sessioncache"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrWrongKey: the database was sealed with another key, or no key was given.
	ErrWrongKey = sealed.ErrWrongKey
	// ErrVersion: a record or the schema was written by a newer build.
	ErrVersion = errors.New("written by a newer version")
	// ErrCorrupt: a record cannot be read.
	ErrCorrupt = errors.New("corrupt record")
)

//go:embed migrations/*.sql
var migrations embed.FS

// recordVersion is the envelope version of every JSON body.
const recordVersion = 1

// migrationLockID names goose's advisory lock: replicas starting together
// run the migrations one after the other, the second finding nothing to do.
const migrationLockID int64 = 0x7265_6669_6c6c_0001

// Options tunes Open.
type Options struct {
	// Key (32 bytes, required) seals the records that can hold a code.
	Key []byte
	// Replica names this process in outbox claims (for an operator reading
	// the table); empty means a random name.
	Replica string
	// ClaimLease is how long an outbox claim keeps other replicas away from
	// a message being sent; zero means DefaultClaimLease.
	ClaimLease time.Duration
	// MaxConns bounds the pool of queries; zero means pgx's default (4 per
	// CPU, at least 4) raised to 16. Session locks have a pool of their own,
	// twice as large, and each leadership held one connection: a replica
	// uses at most 3×MaxConns+3 connections.
	MaxConns int32
	// LeaderRetry and LeaderCheck tune leadership (Lead); zero means
	// DefaultLeaderRetry and DefaultLeaderCheck.
	LeaderRetry, LeaderCheck time.Duration
	// Logger receives the migrations' progress; nil discards it.
	Logger *slog.Logger
}

// DefaultClaimLease: a send normally takes well under a second; a replica
// killed mid-send delays its messages by at most this much.
const DefaultClaimLease = 30 * time.Second

// Store is the bot's state in PostgreSQL. It is safe for concurrent use, by
// any number of processes.
type Store struct {
	pool    *pgxpool.Pool
	locks   *pgxpool.Pool // session locks only (LockSession)
	seal    *sealed.Sealer
	replica string
	lease   time.Duration

	leaderRetry, leaderCheck time.Duration

	// states holds the sessions this replica just committed, decoded; a
	// read serves one only if the row still holds the bytes it wrote, so
	// another replica's commit is always read (package sessioncache).
	states *sessioncache.Cache

	mu     sync.Mutex
	leases map[*Lease]bool // ended by Close
	done   bool            // Close was called: no new leases
	closed context.CancelFunc
}

// Open connects to url (postgres://…), brings the schema up to date and
// checks the key. It fails at once, with one error, when the server cannot
// be reached, the schema is newer than this build, or the key is wrong.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Key == nil {
		return nil, fmt.Errorf("postgres: %w: REFILLBOT_SECRET_KEY is required with PostgreSQL", ErrWrongKey)
	}
	seal, err := sealed.New(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("postgres: REFILLBOT_DATABASE_URL is not a valid postgres:// URL")
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns="): // the operator's word wins
		cfg.MaxConns = max(cfg.MaxConns, 16)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	// Session locks are held while a step waits on Bitrefill; sessions
	// beyond the pool queue for a connection rather than for a commit.
	lcfg := cfg.Copy()
	lcfg.MaxConns = 2 * cfg.MaxConns
	lcfg.MinConns = 0
	locks, err := pgxpool.NewWithConfig(ctx, lcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	st := &Store{pool: pool, locks: locks, seal: seal, replica: opts.Replica, lease: opts.ClaimLease, states: sessioncache.New(0)}
	if st.replica == "" {
		st.replica = "replica-" + randomToken(6)
	}
	if st.lease <= 0 {
		st.lease = DefaultClaimLease
	}
	st.leaderRetry, st.leaderCheck = opts.LeaderRetry, opts.LeaderCheck
	if st.leaderRetry <= 0 {
		st.leaderRetry = DefaultLeaderRetry
	}
	if st.leaderCheck <= 0 {
		st.leaderCheck = DefaultLeaderCheck
	}
	if err := migrate(ctx, pool, opts.Logger); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.checkKey(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := st.advanceIDs(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("postgres: outbox ids: %w", err)
	}
	alive, err := st.TryLead(ctx, livenessRole+st.replica)
	if err == nil && alive == nil {
		err = fmt.Errorf("replica name %q is in use by another process", st.replica)
	}
	if err == nil {
		err = alive.countIn(ctx)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	life, stop := context.WithCancel(context.Background())
	st.closed = stop
	go st.stayAlive(life, alive)
	return st, nil
}

// migrate runs the embedded migrations under goose's session advisory lock.
func migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 120))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger.With("component", "migrations")))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil && !errors.Is(err, goose.ErrNoMigrations) {
		// A fresh database has no version table yet: Up creates it.
		current = 0
	}
	sources := p.ListSources()
	if len(sources) > 0 && current > sources[len(sources)-1].Version {
		return fmt.Errorf("postgres: %w: schema version %d, this build knows up to %d", ErrVersion, current, sources[len(sources)-1].Version)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	return nil
}

// checkKey records a sealed check value on first use and verifies it after.
func (s *Store) checkKey(ctx context.Context) error {
	for range 2 {
		var stored []byte
		err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = 'keycheck'`).Scan(&stored)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		rec, err := s.seal.Check(stored)
		if err != nil || rec == nil {
			return err
		}
		// Two replicas starting at once may both try: one wins, and the
		// loop checks the other's key against the winner's value.
		if _, err := s.pool.Exec(ctx, `INSERT INTO meta (name, value) VALUES ('keycheck', $1) ON CONFLICT (name) DO NOTHING`, rec); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the pool. Leases held through Lead end with it.
func (s *Store) Close() error {
	if s.closed != nil {
		s.closed()
	}
	s.mu.Lock()
	leases := s.leases
	s.leases, s.done = nil, true
	s.mu.Unlock()
	for l := range leases {
		l.Release()
	}
	s.locks.Close()
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Replica is the name this process claims outbox rows under.
func (s *Store) Replica() string { return s.replica }

// opctx bounds one store call: the shell's interfaces carry no context,
// and a database that stops answering must not hang a session forever.
func opctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func randomToken(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// ---- Encoding ----

// envelope is the versioned JSON body of a record.
type envelope[T any] struct {
	V   int `json:"v"`
	Rec T   `json:"rec"`
}

func encode[T any](rec T) ([]byte, error) {
	return json.Marshal(envelope[T]{V: recordVersion, Rec: rec})
}

// decode reads a versioned body, refusing one from a newer build rather
// than misreading it.
func decode[T any](b []byte) (T, error) {
	var env envelope[T]
	if err := json.Unmarshal(b, &env); err != nil {
		return env.Rec, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	switch {
	case env.V > recordVersion:
		return env.Rec, fmt.Errorf("%w: record version %d, this build reads up to %d", ErrVersion, env.V, recordVersion)
	case env.V < 1:
		return env.Rec, fmt.Errorf("%w: record has no version", ErrCorrupt)
	}
	return env.Rec, nil
}

func (s *Store) encodeSealed(rec any) ([]byte, error) {
	b, err := encode(rec)
	if err != nil {
		return nil, err
	}
	return s.seal.Seal(b), nil
}

func openSealed[T any](s *Store, b []byte) (T, error) {
	plain, err := s.seal.Open(b)
	if err != nil {
		var zero T
		if errors.Is(err, sealed.ErrMalformed) {
			err = fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return zero, err
	}
	return decode[T](plain)
}

func checkSession(k conversation.SessionKey) error {
	if k.Platform == "" || k.User == "" {
		return fmt.Errorf("postgres: invalid session key %q/%q", k.Platform, k.User)
	}
	return nil
}

func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("postgres: invalid %s %q", what, id)
	}
	return nil
}
