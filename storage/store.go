package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"refillbot/bot"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"refillbot/conversation"
	"refillbot/storage/sessioncache"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrLocked: another process (or another Store in this one) holds the file.
	ErrLocked = errors.New("database locked")
	// ErrVersion: the file or a record was written by a newer build.
	ErrVersion = errors.New("written by a newer version")
	// ErrCorrupt: a record or the file layout cannot be read.
	ErrCorrupt = errors.New("corrupt record")
	// ErrCheckoutExists: the checkout already has a different invoice.
	ErrCheckoutExists = bot.ErrCheckoutExists
)

// DefaultTimeout is how long Open waits for the file lock when Options.Timeout is zero.
const DefaultTimeout = time.Second

const (
	// fileVersion is the layout of the file (bucket set, key encodings).
	fileVersion = 1
	// recordVersion is the envelope version of every stored value.
	recordVersion = 1
)

var (
	bucketSessions  = []byte("sessions")
	bucketInvoices  = []byte("invoices")
	bucketSettled   = []byte("settled")
	bucketCheckouts = []byte("checkouts")
	bucketMeta      = []byte("meta")
	bucketOutbox    = []byte("outbox")
	bucketViews     = []byte("views")
	bucketSchedule  = []byte("schedule")
	bucketMarks     = []byte("marks")
	bucketAddrs     = []byte("addrs")
	allBuckets      = append([][]byte{bucketSessions, bucketInvoices, bucketSettled, bucketCheckouts, bucketMeta,
		bucketOutbox, bucketViews, bucketSchedule, bucketMarks, bucketAddrs}, outboxIndexes...)

	metaSchemaKey = []byte("schema")
)

// Options tunes Open.
type Options struct {
	// Timeout bounds the wait for the file lock; zero means DefaultTimeout.
	// bbolt's own zero means "forever", which turns a forgotten second bot
	// into a silent hang at startup.
	Timeout time.Duration
	// NoSync skips fsync on commit. Tests and benchmarks only: a crash can
	// lose or corrupt committed data.
	NoSync bool
	// Key, when set (32 bytes), seals every record that can hold a
	// redemption code (sessions, outbox messages) with AES-256-GCM. See
	// LoadKey. Open refuses a key other than the one the file was sealed with.
	Key []byte
}

// Store is the bot's persistent state. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	mode writeMode
	seal *sealer // nil: records are stored in clear
	// inflight counts writes under way, for modeAdaptive.
	inflight atomic.Int32
	// states holds the sessions just committed, decoded, for Session to
	// hand back without decoding what it wrote (package sessioncache).
	states *sessioncache.Cache
}

// The bbolt store plays every role of the shell's store.
var (
	_ bot.Store     = (*Store)(nil)
	_ bot.Sessions  = (*Store)(nil)
	_ bot.Outbox    = (*Store)(nil)
	_ bot.WatchList = (*Store)(nil)
	_ bot.Timers    = (*Store)(nil)
	_ bot.Upkeep    = (*Store)(nil)
)

// writeMode selects how write transactions are issued; see (*Store).write.
type writeMode int

const (
	modeAdaptive writeMode = iota
	modeUpdate
	modeBatch
)

// batchDelay is how long a batch stays open for others to join. About one
// fsync is enough: the next batch fills while the previous one is being
// written. bbolt's 10ms default made every commit wait for the timer rather
// than the disk: with 50 concurrent sessions it measured ~290µs/op against
// ~90µs/op at 2ms, and a lone batched caller waited ~12ms instead of ~3.5ms.
const batchDelay = 2 * time.Millisecond

// Open opens or creates the database at path (mode 0600) and its buckets.
// A file held by another opener yields an error wrapping ErrLocked after
// opts.Timeout; a file from a newer build yields ErrVersion.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("storage: database %s is in use by another process (no lock after %v): %w", path, timeout, ErrLocked)
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db.MaxBatchDelay = batchDelay
	var seal *sealer
	if opts.Key != nil {
		if seal, err = newSealer(opts.Key); err != nil {
			db.Close()
			return nil, fmt.Errorf("storage: open %s: %w", path, err)
		}
	}
	st := &Store{db: db, path: path, seal: seal, states: sessioncache.New(0)}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(metaSchemaKey)
		if v == nil {
			if err := meta.Put(metaSchemaKey, []byte(strconv.Itoa(fileVersion))); err != nil {
				return err
			}
			if err := checkKey(meta, seal); err != nil {
				return err
			}
			return st.buildOutboxIndexes(tx)
		}
		n, err := strconv.Atoi(string(v))
		switch {
		case err != nil || n < 1:
			return fmt.Errorf("%w: file schema %q", ErrCorrupt, v)
		case n > fileVersion:
			return fmt.Errorf("%w: file schema %d, this build reads up to %d", ErrVersion, n, fileVersion)
		}
		if err := checkKey(meta, seal); err != nil {
			return err
		}
		return st.buildOutboxIndexes(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	return st, nil
}

// Close releases the file. Pending writes have already been committed.
func (s *Store) Close() error { return s.db.Close() }

// write runs fn in a read-write transaction, durable when it returns.
//
// Why adaptive: with 50 sessions committing at once (BenchmarkCommitParallel,
// fsync on, ext4 VM disk) db.Update managed ~550µs/op and db.Batch ~90µs/op,
// since Update pays one fsync per commit while everyone else queues behind it,
// and a batch shares one fsync among all who joined. But a lone Batch caller
// still waits out the batch timer (BenchmarkCommitSerial: ~3.5ms against
// ~0.5ms for Update), and a quiet bot is the common case. So a write with
// nothing else in flight goes straight to Update, and writes that arrive while
// another is under way join a batch: both benchmarks then match the better of
// the two. The cost is that fn must be idempotent, since Batch may run it more
// than once.
func (s *Store) write(fn func(*bolt.Tx) error) error {
	switch s.mode {
	case modeUpdate:
		return s.db.Update(fn)
	case modeBatch:
		return s.db.Batch(fn)
	}
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if n == 1 {
		return s.db.Update(fn)
	}
	return s.db.Batch(fn)
}

// ---- Sessions ----

type sessionRecord struct {
	V     int                `json:"v"`
	State conversation.State `json:"state"`
	// At is when the session last changed, for the idle clean-up.
	At time.Time `json:"at,omitzero"`
}

type trackedRecord struct {
	V         int                     `json:"v"`
	Session   conversation.SessionKey `json:"session"`
	Address   conversation.Address    `json:"address"`
	Status    string                  `json:"status,omitempty"`
	Created   time.Time               `json:"created,omitzero"`
	Expires   time.Time               `json:"expires,omitzero"`
	NextCheck time.Time               `json:"next_check,omitzero"`
}

type settledRecord struct {
	V  int       `json:"v"`
	At time.Time `json:"at"`
}

type checkoutRecord struct {
	V       int    `json:"v"`
	Invoice string `json:"invoice"`
}

// Session returns the stored state for key and true, or the zero State and
// false when the session is new.
func (s *Store) Session(key conversation.SessionKey) (conversation.State, bool, error) {
	k, err := sessionKey(key)
	if err != nil {
		return conversation.State{}, false, err
	}
	var rec sessionRecord
	found := false
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(k)
		if v == nil {
			return nil
		}
		found = true
		if st, ok := s.states.Take(key, v); ok {
			rec.State = st // the bytes this store last wrote: no need to decode them
			return nil
		}
		return s.open(v, &rec) // decoding copies out of the mmap
	})
	if err != nil {
		return conversation.State{}, false, fmt.Errorf("storage: session %s: %w", key, err)
	}
	return rec.State, found, nil
}

// Commit stores c in one durable transaction. The shell calls it after every
// engine step and before sending replies.
func (s *Store) Commit(c bot.Commit) error {
	ops, err := s.prepareCommit(c)
	if err != nil {
		return fmt.Errorf("storage: commit %s: %w", c.Key, err)
	}
	if err := s.write(ops.apply); err != nil {
		return fmt.Errorf("storage: commit %s: %w", c.Key, err)
	}
	s.states.Put(c.Key, ops.session.v, c.State)
	return nil
}

type keyValue struct{ k, v []byte }

// commitOps is a Commit already encoded, so that applying it is a pure
// function of the transaction: safe for db.Batch to run more than once.
type commitOps struct {
	session  keyValue
	addr     []byte
	track    []keyValue
	untrack  [][]byte
	settled  []byte
	outbox   []keyValue
	indexed  []indexEntry
	done     []uint64
	schedule []keyValue
	handled  *bot.InboxRef
	at       time.Time
}

func (s *Store) prepareCommit(c bot.Commit) (*commitOps, error) {
	k, err := sessionKey(c.Key)
	if err != nil {
		return nil, err
	}
	ops := &commitOps{}
	if c.Address.Private {
		if ops.addr, err = json.Marshal(c.Address); err != nil {
			return nil, err
		}
	}
	v, err := s.encodeSession(sessionRecord{V: recordVersion, State: c.State, At: time.Now().UTC()})
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	ops.session = keyValue{k, v}
	for _, r := range c.Outbox {
		kv, err := s.encodeOutbox(r)
		if err != nil {
			return nil, err
		}
		ops.outbox = append(ops.outbox, kv)
		ops.indexed = append(ops.indexed, indexEntry{r.ID, rawSession(r.Session), r.NextTry})
	}
	ops.done = c.Done
	ops.handled, ops.at = c.Handled, time.Now()
	for _, sc := range c.Schedule {
		kv, err := encodeScheduled(sc)
		if err != nil {
			return nil, err
		}
		ops.schedule = append(ops.schedule, kv)
	}
	for _, t := range c.Track {
		if t.Session == (conversation.SessionKey{}) {
			t.Session = c.Key
		}
		kv, err := encodeTracked(t)
		if err != nil {
			return nil, err
		}
		ops.track = append(ops.track, kv)
	}
	if len(c.Untrack) > 0 {
		ops.settled, err = json.Marshal(settledRecord{V: recordVersion, At: time.Now().UTC()})
		if err != nil {
			return nil, err
		}
	}
	for _, id := range c.Untrack {
		k, err := invoiceKey(id)
		if err != nil {
			return nil, err
		}
		ops.untrack = append(ops.untrack, k)
	}
	return ops, nil
}

func (s *Store) encodeSession(r sessionRecord) ([]byte, error) {
	v, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return s.seal.Seal(v), nil
}

func (o *commitOps) apply(tx *bolt.Tx) error {
	if h := o.handled; h != nil {
		if err := markUpdateDone(tx, h.Platform, h.ID, o.at); err != nil { // inbox.go
			return err
		}
	}
	invoices, settled := tx.Bucket(bucketInvoices), tx.Bucket(bucketSettled)
	if err := tx.Bucket(bucketSessions).Put(o.session.k, o.session.v); err != nil {
		return err
	}
	// Only a private address is kept: a group chat is no place for a
	// reminder about someone's eSIM or card. It rarely changes: reading it
	// costs nothing, while a write copies out and rewrites its whole page.
	if o.addr != nil {
		addrs := tx.Bucket(bucketAddrs)
		if !bytes.Equal(addrs.Get(o.session.k), o.addr) {
			if err := addrs.Put(o.session.k, o.addr); err != nil {
				return err
			}
		}
	}
	outbox := tx.Bucket(bucketOutbox)
	for i, r := range o.outbox {
		if err := outbox.Put(r.k, r.v); err != nil {
			return err
		}
		if err := o.indexed[i].put(tx); err != nil {
			return err
		}
	}
	for _, id := range o.done {
		if err := outbox.Delete(outboxKey(id)); err != nil {
			return err
		}
		if err := indexDelete(tx, id); err != nil {
			return err
		}
	}
	sched := tx.Bucket(bucketSchedule)
	for _, r := range o.schedule {
		if sched.Get(r.k) == nil {
			if err := sched.Put(r.k, r.v); err != nil {
				return err
			}
		}
	}
	for _, t := range o.track {
		if err := invoices.Put(t.k, t.v); err != nil {
			return err
		}
		if err := settled.Delete(t.k); err != nil {
			return err
		}
	}
	for _, k := range o.untrack {
		if err := invoices.Delete(k); err != nil {
			return err
		}
		if settled.Get(k) == nil { // keep the first settlement time
			if err := settled.Put(k, o.settled); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sessions counts stored sessions.
func (s *Store) Sessions() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketSessions).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: count sessions: %w", err)
	}
	return n, nil
}

// ---- Tracked invoices ----

// Tracked lists every tracked invoice, oldest Created first. A record that
// cannot be read does not hide the others: they are returned together with an
// error naming each unreadable one.
func (s *Store) Tracked() ([]bot.Tracked, error) {
	var out []bot.Tracked
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInvoices).ForEach(func(k, v []byte) error {
			t, err := decodeTracked(k, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("storage: tracked invoice %q: %w", k, err))
				return nil
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: tracked invoices: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].InvoiceID < out[j].InvoiceID
	})
	return out, errors.Join(errs...)
}

// TrackedInvoice returns one tracked invoice, or false if it is not tracked.
func (s *Store) TrackedInvoice(id string) (bot.Tracked, bool, error) {
	k, err := invoiceKey(id)
	if err != nil {
		return bot.Tracked{}, false, err
	}
	var t bot.Tracked
	found := false
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketInvoices).Get(k)
		if v == nil {
			return nil
		}
		found = true
		var derr error
		t, derr = decodeTracked(k, v)
		return derr
	})
	if err != nil {
		return bot.Tracked{}, false, fmt.Errorf("storage: tracked invoice %q: %w", id, err)
	}
	return t, found, nil
}

// UpdateTracked records the poller's bookkeeping for t.InvoiceID: Status and
// NextCheck only; the other fields belong to Commit. It does nothing (nil
// error) if the invoice is no longer tracked, so a poll racing an Untrack
// cannot resurrect it.
func (s *Store) UpdateTracked(t bot.Tracked) error {
	k, err := invoiceKey(t.InvoiceID)
	if err != nil {
		return err
	}
	err = s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInvoices)
		v := b.Get(k)
		if v == nil {
			return nil
		}
		cur, err := decodeTracked(k, v)
		if err != nil {
			return err
		}
		cur.Status, cur.NextCheck = t.Status, t.NextCheck
		kv, err := encodeTracked(cur)
		if err != nil {
			return err
		}
		return b.Put(kv.k, kv.v)
	})
	if err != nil {
		return fmt.Errorf("storage: update tracked invoice %q: %w", t.InvoiceID, err)
	}
	return nil
}

// Settled reports whether the invoice was untracked as finished, so that a
// late webhook or poll result for it can be ignored.
func (s *Store) Settled(invoiceID string) (bool, error) {
	k, err := invoiceKey(invoiceID)
	if err != nil {
		return false, err
	}
	found := false
	err = s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucketSettled).Get(k) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storage: settled %q: %w", invoiceID, err)
	}
	return found, nil
}

func encodeTracked(t bot.Tracked) (keyValue, error) {
	k, err := invoiceKey(t.InvoiceID)
	if err != nil {
		return keyValue{}, err
	}
	v, err := json.Marshal(trackedRecord{
		V: recordVersion, Session: t.Session, Address: t.Address, Status: t.Status,
		Created: t.Created, Expires: t.Expires, NextCheck: t.NextCheck,
	})
	if err != nil {
		return keyValue{}, fmt.Errorf("encode tracked invoice %q: %w", t.InvoiceID, err)
	}
	return keyValue{k, v}, nil
}

func decodeTracked(k, v []byte) (bot.Tracked, error) {
	var r trackedRecord
	if err := decode(v, &r); err != nil {
		return bot.Tracked{}, err
	}
	return bot.Tracked{
		InvoiceID: string(k), Session: r.Session, Address: r.Address, Status: r.Status,
		Created: r.Created, Expires: r.Expires, NextCheck: r.NextCheck,
	}, nil
}

// ---- Checkouts ----

// CheckoutInvoice returns the invoice already created for a checkout, if any.
func (s *Store) CheckoutInvoice(checkout string) (invoiceID string, ok bool, err error) {
	k, err := checkoutKey(checkout)
	if err != nil {
		return "", false, err
	}
	var r checkoutRecord
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCheckouts).Get(k)
		if v == nil {
			return nil
		}
		ok = true
		return decode(v, &r)
	})
	if err != nil {
		return "", false, fmt.Errorf("storage: checkout %q: %w", checkout, err)
	}
	return r.Invoice, ok, nil
}

// PutCheckoutInvoice records the invoice created for a checkout. The first
// invoice recorded stays: recording another one for the same checkout fails
// with ErrCheckoutExists, since it means two invoices were created.
func (s *Store) PutCheckoutInvoice(checkout, invoiceID string) error {
	k, err := checkoutKey(checkout)
	if err != nil {
		return err
	}
	if _, err := invoiceKey(invoiceID); err != nil {
		return err
	}
	v, err := json.Marshal(checkoutRecord{V: recordVersion, Invoice: invoiceID})
	if err != nil {
		return err
	}
	err = s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckouts)
		if old := b.Get(k); old != nil {
			var r checkoutRecord
			if err := decode(old, &r); err != nil {
				return err
			}
			if r.Invoice == invoiceID {
				return nil
			}
			return fmt.Errorf("%w: %q, not %q", ErrCheckoutExists, r.Invoice, invoiceID)
		}
		return b.Put(k, v)
	})
	if err != nil {
		return fmt.Errorf("storage: checkout %q: %w", checkout, err)
	}
	return nil
}

// ---- Operations ----

// Backup writes a consistent copy of the whole database to w while the store
// stays in use, and returns the number of bytes written. The copy is a valid
// database file that Open accepts.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("storage: backup %s: %w", s.path, err)
	}
	return n, nil
}

// Ping checks that a read transaction succeeds and the buckets are there.
func (s *Store) Ping() error {
	return s.db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("storage: %w: bucket %s missing", ErrCorrupt, name)
			}
		}
		return nil
	})
}

// ---- Encoding ----

// decode reads a versioned JSON envelope into dst (which must have a "v"
// field). It refuses records from a newer build rather than misread them.
// A record type with a version method is read in one pass, its version
// checked afterwards; others (and a record that fails to decode, to tell a
// newer one from a corrupt one) have the envelope read first.
func decode(v []byte, dst any) error {
	if vr, ok := dst.(versioned); ok {
		if err := json.Unmarshal(v, dst); err == nil {
			return checkVersion(vr.version())
		}
	}
	var env struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(v, &env); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := checkVersion(env.V); err != nil {
		return err
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// versioned is a record that reports its "v" once decoded: the records
// read at every step (sessions, outbox messages) are decoded in one pass.
type versioned interface{ version() int }

func (r *sessionRecord) version() int { return r.V }
func (r *outboxValue) version() int   { return r.V }

func checkVersion(v int) error {
	switch {
	case v > recordVersion:
		return fmt.Errorf("%w: record version %d, this build reads up to %d", ErrVersion, v, recordVersion)
	case v < 1:
		return fmt.Errorf("%w: record has no version", ErrCorrupt)
	}
	return nil
}

// sessionKey is platform NUL user: NUL cannot occur in a platform name, so
// the encoding is unambiguous, and a platform's sessions are contiguous.
func sessionKey(k conversation.SessionKey) ([]byte, error) {
	if k.Platform == "" || k.User == "" || bytes.IndexByte([]byte(k.Platform), 0) >= 0 ||
		len(k.Platform)+1+len(k.User) > bolt.MaxKeySize {
		return nil, fmt.Errorf("storage: invalid session key %q/%q", k.Platform, k.User)
	}
	return []byte(k.Platform + "\x00" + k.User), nil
}

func invoiceKey(id string) ([]byte, error) {
	if id == "" || len(id) > bolt.MaxKeySize {
		return nil, fmt.Errorf("storage: invalid invoice id %q", id)
	}
	return []byte(id), nil
}

func checkoutKey(id string) ([]byte, error) {
	if id == "" || len(id) > bolt.MaxKeySize {
		return nil, fmt.Errorf("storage: invalid checkout id %q", id)
	}
	return []byte(id), nil
}
